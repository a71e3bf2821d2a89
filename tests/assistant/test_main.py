"""`python -m assistant export`, run as a real subprocess against a real store."""

import asyncio
import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.export import iso_utc
from assistant.settings import DEFAULT_REDIS_KEY_PREFIX
from assistant.storage.open_store import DATABASE_FILE
from assistant.storage.state_store import FeedbackVote, StateStore, UsageRecord

REPO = Path(__file__).resolve().parents[2]
NOW = time.time()
DAY = 86_400

VOTES = [
    FeedbackVote("T1", "D1", "100.0", "100.5", "U1", True, "openai/gpt-4", NOW - 10 * DAY),
    FeedbackVote("T1", "D1", "100.0", "101.5", "U2", False, "openai/gpt-4o-mini", NOW - 2 * DAY),
    FeedbackVote("T1", "D2", "200.0", "200.5", "U1", True, "openai/gpt-4", NOW - 3600),
]
USAGE = [
    UsageRecord("T1", "D1", "100.0", "100.1", "U1", "openai/gpt-4", "answered", 12, 345, 1_800, 250, NOW - 10 * DAY),
    UsageRecord("T1", "D2", "200.0", "200.1", "U1", "openai/gpt-4", "timeout", 7, 0, 60_000, None, NOW - 3600),
]


async def _seed(store: StateStore) -> None:
    await store.open()
    try:
        for vote in VOTES:
            await store.record_vote(vote)
        for record in USAGE:
            await store.record_usage(record)
    finally:
        await store.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    from assistant.storage.sqlite_state_store import SqliteStateStore

    asyncio.run(_seed(SqliteStateStore(tmp_path / DATABASE_FILE)))
    return tmp_path


def run_cli(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ.get("PATH", ""),
        "DATA_DIR": str(data_dir),
        # Set even when empty: load_dotenv(override=False) must not let a developer's .env point
        # the export at their own Redis or key prefix.
        "REDIS_URL": "",
        "REDIS_KEY_PREFIX": DEFAULT_REDIS_KEY_PREFIX,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _export(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli("export", *args, data_dir=data_dir, **env)


def test_feedback_as_csv(data_dir: Path):
    result = _export("--what", "feedback", "--format", "csv", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert [(r["message_ts"], r["user_id"], r["positive"], r["model"]) for r in rows] == [
        ("100.5", "U1", "true", "openai/gpt-4"),
        ("101.5", "U2", "false", "openai/gpt-4o-mini"),
        ("200.5", "U1", "true", "openai/gpt-4"),
    ]
    assert [float(r["voted_at"]) for r in rows] == [v.voted_at for v in VOTES]
    assert [r["voted_at_iso"] for r in rows] == [iso_utc(v.voted_at) for v in VOTES]
    assert list(rows[0])[7:9] == ["voted_at", "voted_at_iso"]
    assert result.stderr.strip() == "Exported 3 feedback votes since the beginning"


def test_usage_as_json(data_dir: Path):
    result = _export("--what", "usage", "--format", "json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    exported = json.loads(result.stdout)
    assert exported == [
        {
            "team_id": r.team_id,
            "channel_id": r.channel_id,
            "thread_ts": r.thread_ts,
            "message_ts": r.message_ts,
            "user_id": r.user_id,
            "model": r.model,
            "outcome": r.outcome,
            "input_tokens": r.input_tokens,
            "output_tokens": r.output_tokens,
            "latency_ms": r.latency_ms,
            "first_token_ms": r.first_token_ms,
            "recorded_at": r.recorded_at,
            "recorded_at_iso": iso_utc(r.recorded_at),
        }
        for r in USAGE
    ]
    assert exported[1]["first_token_ms"] is None
    assert result.stdout.endswith("]\n")
    assert "Exported 2 usage records since the beginning" in result.stderr


def test_since_a_duration_filters(data_dir: Path):
    result = _export("--what", "feedback", "--format", "json", "--since", "7d", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert [vote["message_ts"] for vote in json.loads(result.stdout)] == ["101.5", "200.5"]
    assert result.stderr.startswith("Exported 2 feedback votes since 20")


def test_since_an_iso_datetime_filters(data_dir: Path):
    since = iso_utc(NOW - DAY).removesuffix("Z")  # naive: read as UTC
    result = _export("--what", "usage", "--format", "csv", "--since", since, data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert [(r["outcome"], r["first_token_ms"]) for r in rows] == [("timeout", "")]
    assert result.stderr.strip() == f"Exported 1 usage record since {since}Z"


def test_output_goes_to_the_file_and_nothing_else_is_left(data_dir: Path, tmp_path: Path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "votes.json"
    target.write_text("stale")
    result = _export("--what", "feedback", "--format", "json", "--output", str(target), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert [vote["user_id"] for vote in json.loads(target.read_text(encoding="utf-8"))] == ["U1", "U2", "U1"]
    assert os.listdir(out_dir) == ["votes.json"], "the temp file was renamed, not left behind"


def test_an_unwritable_output_is_one_line_not_a_traceback(data_dir: Path, tmp_path: Path):
    target = tmp_path / "missing-dir" / "votes.csv"
    result = _export("--what", "feedback", "--format", "csv", "--output", str(target), data_dir=data_dir)
    assert result.returncode == 1
    assert result.stderr.strip() == f"Cannot write {target}: No such file or directory"


def test_a_missing_database_is_reported_and_not_created(tmp_path: Path):
    empty = tmp_path / "never-used"
    result = _export("--what", "feedback", "--format", "csv", data_dir=empty)
    assert result.returncode == 1
    assert result.stderr.strip() == f"No data yet: {empty / DATABASE_FILE} does not exist"
    assert result.stdout == ""
    assert not empty.exists()


def test_an_unreadable_database_exits_3_without_a_traceback(tmp_path: Path):
    (tmp_path / DATABASE_FILE).write_bytes(b"this is not a database, it is a text file" * 100)
    result = _export("--what", "usage", "--format", "json", data_dir=tmp_path)
    assert result.returncode == 3
    assert result.stderr.startswith(f"Cannot open the sqlite store at {tmp_path}: DatabaseError: ")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("since", ["yesterday", "7 days", "-1d"])
def test_a_bad_since_exits_2_with_one_line(data_dir: Path, since: str):
    # `--since=` form: argparse would take a bare "-1d" for an option.
    result = _export("--what", "feedback", "--format", "csv", f"--since={since}", data_dir=data_dir)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--since" in lines[0] and repr(since) in lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("export",),
        ("export", "--what", "votes", "--format", "csv"),
        ("export", "--what", "feedback", "--format", "xml"),
    ],
)
def test_usage_errors_exit_2(data_dir: Path, args: tuple[str, ...]):
    result = run_cli(*args, data_dir=data_dir)
    assert result.returncode == 2
    assert "usage: python -m assistant" in result.stderr


def test_a_bad_redis_url_shows_the_settings_message(data_dir: Path):
    result = _export("--what", "feedback", "--format", "csv", data_dir=data_dir, REDIS_URL="http://x")
    assert result.returncode == 2
    assert "Configuration error" in result.stderr
    assert "REDIS_URL must look like redis://host:6379/0" in result.stderr
    assert "http://x" not in result.stderr, "REDIS_URL may hold a password and is never echoed"


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_redis_exits_3_without_its_password(tmp_path: Path):
    port = _unused_port()
    url = f"redis://:s3cret-pw@127.0.0.1:{port}/0"
    result = _export("--what", "usage", "--format", "csv", data_dir=tmp_path, REDIS_URL=url)
    assert result.returncode == 3
    assert result.stderr.startswith(f"Cannot open the redis store at redis://127.0.0.1:{port}/0: ")
    assert "s3cret-pw" not in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / DATABASE_FILE).exists()


def test_export_from_redis(redis_url: str, tmp_path: Path):
    from assistant.storage.redis_state_store import RedisStateStore

    asyncio.run(_seed(RedisStateStore(redis_url, key_prefix=DEFAULT_REDIS_KEY_PREFIX)))
    votes = _export("--what", "feedback", "--format", "json", "--since", "3d", data_dir=tmp_path, REDIS_URL=redis_url)
    assert votes.returncode == 0, votes.stderr
    assert [(v["user_id"], v["positive"]) for v in json.loads(votes.stdout)] == [("U2", False), ("U1", True)]
    usage = _export("--what", "usage", "--format", "csv", data_dir=tmp_path, REDIS_URL=redis_url)
    assert usage.returncode == 0, usage.stderr
    rows = list(csv.DictReader(io.StringIO(usage.stdout, newline="")))
    assert [(r["outcome"], r["recorded_at_iso"]) for r in rows] == [(u.outcome, iso_utc(u.recorded_at)) for u in USAGE]
    assert not (tmp_path / DATABASE_FILE).exists(), "with REDIS_URL set, SQLite is not touched"
