"""The bot as a subprocess of the benchmark, and what /proc says about it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.lifecycle import die_with_parent

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STOP_WAIT_SECONDS = 30
SNAPSHOT_WAIT_SECONDS = 15
# Variables that configure Slack, LiteLLM or the assistant are never inherited (as in tests/e2e).
NOT_INHERITED = ("SLACK_", "LITELLM_", "ASSISTANT_", "OPENAI_", "BENCH_", "RATE_LIMIT_", "REDIS_")


def bot_environment(
    *, slack_api_url: str, bot_token: str, app_token: str, llm_url: str, llm_key: str, data_dir: Path, **extra: str
) -> dict[str, str]:
    """What `tests.support.assistant_fixtures.sim_environment` gives the e2e tests, plus the
    benchmark's settings (the bot's own per-user/channel question limits out of the way)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(NOT_INHERITED)}
    return {
        **inherited,
        "SLACK_BOT_TOKEN": bot_token,
        "SLACK_APP_TOKEN": app_token,
        "SLACK_API_URL": slack_api_url,
        "LITELLM_API_KEY": llm_key,
        "LITELLM_PROXY_URL": llm_url,
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_USER_PER_MINUTE": "10000",
        "RATE_LIMIT_CHANNEL_PER_MINUTE": "10000",
        # Every benchmark user is a new user: without this each first question costs a
        # users.info (Tier 4, fail-closed) call, which is not what is measured here.
        "ALLOW_GUESTS": "true",
        # Answers still running when a level's time is up are interrupted quickly.
        "SHUTDOWN_GRACE_SECONDS": "2",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def code_fingerprint() -> str:
    """A short hash of the bot's source as it is on disk now (app.py, assistant/, listeners/):
    which version a bot started now runs, even when the tree changes during a run."""
    digest = hashlib.sha1()
    files = [ROOT / "app.py", *sorted((ROOT / "assistant").rglob("*.py")), *sorted((ROOT / "listeners").rglob("*.py"))]
    for path in files:
        try:
            content = path.read_bytes()
        except OSError:
            continue
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + content + b"\0")
    return digest.hexdigest()[:10]


@dataclass
class BotProcess:
    process: subprocess.Popen[bytes]
    log_path: Path
    stats_path: Path | None
    spawned_at: float
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def spawn(cls, argv: list[str], env: dict[str, str], workdir: Path, stats_path: Path | None = None) -> BotProcess:
        workdir.mkdir(parents=True, exist_ok=True)
        log_path = workdir / "bot.log"
        with log_path.open("wb") as log:
            spawned_at = time.monotonic()
            process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        return cls(process, log_path, stats_path, spawned_at)

    @classmethod
    def runner(cls, env: dict[str, str], workdir: Path, profile_path: Path | None = None) -> BotProcess:
        """`python -m bench.bot_runner` (app.main() with the benchmark's hooks); with
        `profile_path`, under cProfile (its stats are written there when the bot exits)."""
        stats_path = workdir / "stats.json"
        env = {**env, "BENCH_STATS_FILE": str(stats_path)}
        profiler = ["-m", "cProfile", "-o", str(profile_path)] if profile_path is not None else []
        return cls.spawn([sys.executable, *profiler, "-m", "bench.bot_runner"], env, workdir, stats_path)

    @classmethod
    def app(cls, env: dict[str, str], workdir: Path) -> BotProcess:
        """Plain `python app.py`, as the README starts it."""
        return cls.spawn([sys.executable, "app.py"], env, workdir)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return "<no log>"

    # -- /proc ---------------------------------------------------------------------------------

    def cpu_seconds(self) -> float | None:
        """utime + stime of the bot process so far (/proc/<pid>/stat)."""
        try:
            raw = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return None
        fields = raw.rsplit(")", 1)[1].split()  # fields[0] is field 3 (state)
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def status_kb(self, key: str) -> int | None:
        """A `kB` line of /proc/<pid>/status, e.g. VmHWM (peak RSS) or VmRSS."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(f"{key}:"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None

    # -- progress and stats (bench.bot_runner) ------------------------------------------------

    def progress(self) -> dict[str, Any]:
        if self.stats_path is None:
            return {}
        try:
            return json.loads(Path(f"{self.stats_path}.progress").read_text())
        except (OSError, ValueError):
            return {}

    async def snapshot_stats(self) -> dict[str, Any] | None:
        """Ask the runner for its stats now (SIGUSR1) and read them; None if it does not answer."""
        if self.stats_path is None or not self.alive():
            return None
        self.stats_path.unlink(missing_ok=True)
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + SNAPSHOT_WAIT_SECONDS
        while time.monotonic() < deadline:
            if self.stats_path.exists():
                try:
                    return json.loads(self.stats_path.read_text())
                except ValueError:
                    pass
            await asyncio.sleep(0.05)
        return None

    async def dump_stacks(self, wait: float = 1.0) -> str:
        """Every thread's Python stack (SIGUSR2, faulthandler in bench.bot_runner), read back
        from the bot's log; works while its event loop is stuck."""
        if not self.alive():
            return ""
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.process.send_signal(signal.SIGUSR2)
        await asyncio.sleep(wait)
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read(20_000).decode("utf-8", errors="replace")

    def final_stats(self) -> dict[str, Any] | None:
        if self.stats_path is None:
            return None
        try:
            return json.loads(self.stats_path.read_text())
        except (OSError, ValueError):
            return None

    # -- ending --------------------------------------------------------------------------------

    async def stop(self, timeout: float = STOP_WAIT_SECONDS) -> int | None:
        """SIGTERM (the bot's graceful shutdown), then SIGKILL after `timeout`."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        if self.alive():
            self.process.kill()
            await asyncio.to_thread(self.process.wait, 10)
        return self.process.returncode

    def kill_now(self) -> None:
        if self.alive():
            self.process.kill()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                pass
