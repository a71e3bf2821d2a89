import csv
import io
import json
from dataclasses import fields

import pytest

from assistant.export import iso_utc, parse_since, rows_for, write_csv, write_json
from assistant.storage.state_store import FeedbackVote, UsageRecord

NOW = 1_790_000_000.0  # 2026-09-21T14:13:20Z
NOV_1 = 1_793_491_200.0  # 2026-11-01T00:00:00Z

VOTES = [
    FeedbackVote("T1", "D1", "1.0", "2.0", "U1", True, "openai/gpt-4", NOV_1 + 0.25),
    FeedbackVote("T1", "D1", "1.0", "3.0", "U2", False, "openai/gpt-4o-mini", NOV_1 + 3600),
]
USAGE = [
    UsageRecord("T1", "D1", "1.0", "1.5", "U1", "openai/gpt-4", "answered", 12, 345, 1_800, 250, NOV_1),
    UsageRecord("T1", "C9", "4.0", "4.5", "U2", "openai/gpt-4", "timeout", 7, 0, 60_000, None, NOV_1 + 60),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01", NOV_1),
        ("2026-11-01T12:00:00", NOV_1 + 12 * 3600),
        ("2026-11-01T12:00:00Z", NOV_1 + 12 * 3600),
        ("2026-11-01T12:00:00+02:00", NOV_1 + 10 * 3600),
        ("2026-11-01T12:00:00.500-01:30", NOV_1 + 13.5 * 3600 + 0.5),
        ("  2026-11-01 ", NOV_1),
        ("30m", NOW - 30 * 60),
        ("12h", NOW - 12 * 3600),
        ("7d", NOW - 7 * 86_400),
        ("2w", NOW - 14 * 86_400),
        ("0d", NOW),
        ("9999999w", 0.0),  # clamped: nothing is older than the epoch
        ("1900-01-01", 0.0),
    ],
)
def test_parse_since_accepts_iso_times_and_durations(text, expected):
    assert parse_since(text, NOW) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "yesterday", "7", "7 days", "-3d", "3y", "1.5h", "7D", "2026-13-01", "11/01/2026", "1" + "0" * 400 + "w"])
def test_parse_since_rejects_anything_else_with_a_readable_message(text):
    with pytest.raises(ValueError) as caught:
        parse_since(text, NOW)
    message = str(caught.value)
    assert repr(text) in message
    assert "2026-11-01" in message and "7d" in message
    assert "\n" not in message


def test_feedback_rows_follow_the_dataclass_with_an_iso_column_after_the_epoch():
    names, rows = rows_for("feedback", VOTES)
    plain = [field.name for field in fields(FeedbackVote)]
    assert names == plain[: plain.index("voted_at") + 1] + ["voted_at_iso"] + plain[plain.index("voted_at") + 1 :]
    assert rows[0] == {
        "team_id": "T1",
        "channel_id": "D1",
        "thread_ts": "1.0",
        "message_ts": "2.0",
        "user_id": "U1",
        "positive": True,
        "model": "openai/gpt-4",
        "voted_at": NOV_1 + 0.25,
        "voted_at_iso": "2026-11-01T00:00:00Z",
    }
    assert [row["positive"] for row in rows] == [True, False]
    assert all(list(row) == names for row in rows)


def test_usage_rows_follow_the_dataclass_with_an_iso_column_after_the_epoch():
    names, rows = rows_for("usage", USAGE)
    assert names == [field.name for field in fields(UsageRecord)] + ["recorded_at_iso"]
    assert rows[1]["first_token_ms"] is None
    assert rows[1]["recorded_at_iso"] == "2026-11-01T00:01:00Z"
    assert rows[0]["input_tokens"] == 12 and rows[0]["outcome"] == "answered"


def test_no_records_still_give_the_columns():
    names, rows = rows_for("usage", [])
    assert rows == [] and "recorded_at_iso" in names


def test_unknown_kinds_and_mismatched_records_are_refused():
    with pytest.raises(ValueError, match="feedback, usage"):
        rows_for("votes", VOTES)
    with pytest.raises(TypeError, match="UsageRecord"):
        rows_for("usage", VOTES)


@pytest.mark.parametrize(("what", "records"), [("feedback", VOTES), ("usage", USAGE)])
def test_csv_round_trips_with_lower_case_booleans_and_empty_nulls(what, records):
    names, rows = rows_for(what, records)
    stream = io.StringIO(newline="")
    write_csv(names, rows, stream)
    read = list(csv.DictReader(io.StringIO(stream.getvalue(), newline="")))
    expected = [
        {k: ("true" if v is True else "false" if v is False else "" if v is None else str(v)) for k, v in row.items()}
        for row in rows
    ]
    assert read == expected
    if what == "feedback":
        assert [row["positive"] for row in read] == ["true", "false"]
    else:
        assert read[1]["first_token_ms"] == ""


def test_csv_of_nothing_is_just_the_header():
    names, rows = rows_for("feedback", [])
    stream = io.StringIO(newline="")
    write_csv(names, rows, stream)
    assert stream.getvalue().splitlines() == [",".join(names)]


@pytest.mark.parametrize(("what", "records"), [("feedback", VOTES), ("usage", USAGE)])
def test_json_round_trips_as_a_list_of_objects(what, records):
    _, rows = rows_for(what, records)
    stream = io.StringIO()
    write_json(rows, stream)
    text = stream.getvalue()
    assert text.endswith("]\n") and text.startswith("[\n  {")
    assert json.loads(text) == rows


def test_json_keeps_non_ascii_text_readable():
    vote = FeedbackVote("T1", "D1", "1.0", "2.0", "U1", True, "modèle/ünïcode", NOV_1)
    stream = io.StringIO()
    write_json(rows_for("feedback", [vote])[1], stream)
    assert "modèle/ünïcode" in stream.getvalue()


def test_iso_utc_is_whole_seconds_with_a_z():
    assert iso_utc(NOV_1 + 0.999) == "2026-11-01T00:00:00Z"
    assert iso_utc(0) == "1970-01-01T00:00:00Z"
