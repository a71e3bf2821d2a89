"""Run the real `app.py` as a subprocess against the Slack simulator and the LiteLLM proxy."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NETWORK_AUDIT_DIR = Path(__file__).resolve().parent / "network_audit"
STOP_WAIT_SECONDS = 15


@dataclass
class BotProcess:
    process: subprocess.Popen
    log_path: Path
    network_log: Path
    # The simulator's id of the Socket Mode connection this process opened (set by `run_bot`).
    connection_id: str | None = None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def wait_for_log(self, text: str, timeout: float = 10.0) -> str:
        """The log once it contains `text` (polled; the bot writes it from another process)."""
        deadline = time.monotonic() + timeout
        while text not in (log := self.log()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not in the bot's log after {timeout}s:\n{log[-2000:]}")
            await asyncio.sleep(0.05)
        return log

    def connections(self) -> list[dict[str, Any]]:
        if not self.network_log.exists():
            return []
        return [json.loads(line) for line in self.network_log.read_text().splitlines() if line.strip()]

    async def terminate(self, timeout: float = STOP_WAIT_SECONDS) -> int:
        """SIGTERM, then wait (without blocking the event loop) for the process to exit."""
        self.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot did not exit within {timeout}s of SIGTERM:\n{self.log()[-2000:]}")
            await asyncio.sleep(0.05)
        return self.process.returncode

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_WAIT_SECONDS)
        return self.process.returncode


def start_bot(env: dict[str, str], workdir: Path) -> BotProcess:
    """Start `python app.py` from the repository root, as the README says, with only `env` as
    configuration (nothing inherited that configures Slack, LiteLLM or the assistant)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LITELLM_", "ASSISTANT_", "OPENAI_"))}
    log_path = workdir / "bot.log"
    network_log = workdir / "network.jsonl"
    full_env = {
        **inherited,
        **env,
        "PYTHONPATH": str(NETWORK_AUDIT_DIR),
        "NETWORK_AUDIT_LOG": str(network_log),
        "PYTHONUNBUFFERED": "1",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
    return BotProcess(process, log_path, network_log)
