"""Run a throwaway `redis-server` on 127.0.0.1 for the Redis state store's tests.

Why a real server and not a fake: the store's atomicity lives in Lua scripts, `SET NX PX` and
`TIME`, i.e. in Redis itself; only the real server tells whether those scripts are right.
Nothing is persisted (`--save ""`, no AOF) and the data directory is a temp dir, so each run
starts empty and leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

import redis

from tests.support.lifecycle import StartStop, die_with_parent, free_port

_STARTUP_TIMEOUT_S = 10.0
"""redis-server answers within milliseconds; 10 s absorbs a loaded CI machine."""
_POLL_INTERVAL_S = 0.05
_STOP_GRACE_S = 5.0
_LOG_TAIL_LINES = 40
_FALLBACK_DIRS = ("/usr/bin", "/usr/local/bin")
_INSTALL_HINT = "install it with `apt-get install -y redis-server` (.ci/run does this in CI)"


class RedisServerError(RuntimeError):
    """redis-server is missing or did not start; the message says which and what to do."""


def find_redis_server() -> str:
    """The redis-server binary's path; raises (never skips) when Redis is not installed."""
    found = shutil.which("redis-server")
    if found:
        return found
    for directory in _FALLBACK_DIRS:
        candidate = Path(directory) / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise RedisServerError(f"redis-server not found on PATH or in {', '.join(_FALLBACK_DIRS)}; {_INSTALL_HINT}")


class RedisServer(StartStop):
    """A `redis-server` subprocess on a free port of 127.0.0.1; `url` is its database 0."""

    def __init__(self) -> None:
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._log_file: IO[bytes] | None = None
        self.log_path: Path | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("RedisServer is not running")
        return self._port

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("RedisServer already started")
        executable = find_redis_server()
        self._workdir = tempfile.TemporaryDirectory(prefix="redis-test-")
        self.log_path = Path(self._workdir.name) / "redis.log"
        self._port = free_port()
        command = [
            executable,
            "--port", str(self._port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--protected-mode", "yes",
            "--dir", self._workdir.name,
        ]  # fmt: skip
        self._log_file = self.log_path.open("wb")
        self._process = subprocess.Popen(
            command,
            cwd=self._workdir.name,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        try:
            self._wait_until_ready(time.monotonic() + _STARTUP_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within the grace period."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=_STOP_GRACE_S)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None
        self._port = None

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "<no redis log>"
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def _wait_until_ready(self, deadline: float) -> None:
        assert self._process is not None
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1.0, socket_connect_timeout=1.0)
        try:
            while time.monotonic() < deadline:
                returncode = self._process.poll()
                if returncode is not None:
                    raise RedisServerError(
                        f"redis-server exited with code {returncode} during startup; log:\n{self.log_tail()}"
                    )
                try:
                    if client.ping():
                        return
                except redis.exceptions.RedisError:
                    pass  # not listening yet, or still loading
                time.sleep(_POLL_INTERVAL_S)
        finally:
            client.close()
        raise RedisServerError(f"redis-server did not answer PING within {_STARTUP_TIMEOUT_S:.0f} s; log:\n{self.log_tail()}")
