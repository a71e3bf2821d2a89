"""Run a real LiteLLM proxy process in front of the fake OpenAI upstream.

Why a real proxy and not a mock of it: the bot talks to the company's LiteLLM
proxy, and what the bot sees (model-name handling, error mapping, dropped
headers, streaming chunk shapes) is decided by LiteLLM's own code.  Running the
same ``litellm`` CLI the company runs, offline and on 127.0.0.1, keeps the
tests honest about that behaviour.

The proxy is configured to be *predictable* rather than resilient: no retries
(so a test can count upstream requests exactly), no cooldowns (so an upstream
401/404 in one test cannot turn the next test's call into a 429 "No
deployments available"), and no database.  Wrong keys still get the 401 a
production proxy (with a key database) returns, through ``proxy_auth.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import httpx

from tests.support.lifecycle import StartStop, die_with_parent, free_port

DEFAULT_MODELS: Mapping[str, str] = {
    "openai/gpt-4": "gpt-4",
    "openai/gpt-4o-mini": "gpt-4o-mini",
    "anthropic/claude-3-sonnet-20240229": "claude-3-sonnet-20240229",
}
"""Public model name (what clients ask the proxy for) -> model id the upstream receives."""

DEFAULT_MASTER_KEY = "sk-test-master-key"
UPSTREAM_API_KEY = "fake-upstream-key"

_STARTUP_TIMEOUT_S = 60.0
"""Proxy startup is ~5-10 s here (importing litellm's proxy dominates); 60 s absorbs a
loaded CI machine while still failing a wedged start within one test run."""
_POLL_INTERVAL_S = 0.1
_STOP_GRACE_S = 5.0
"""uvicorn waits for in-flight requests on SIGTERM with no limit of its own; after
this grace the process group is killed."""
_LOG_TAIL_LINES = 60
_AUTH_MODULE = Path(__file__).with_name("proxy_auth.py")

# Variables that would make LiteLLM connect to Postgres/Redis or take another
# master key; the test proxy must use none of them.
_SCRUBBED_ENV_PREFIXES = (
    "DATABASE_",
    "DIRECT_URL",
    "REDIS_",
    "STORE_MODEL_IN_DB",
    "LITELLM_MASTER_KEY",
)


class ProxyStartError(RuntimeError):
    """The proxy did not become ready; the message carries its log's tail."""


class LiteLLMProxy(StartStop):
    """A ``litellm --config ...`` subprocess bound to 127.0.0.1 on a free port.

    ``workdir`` receives ``config.yaml``, the copied ``proxy_auth.py`` and
    ``proxy.log`` (stdout+stderr); pass a pytest ``tmp_path`` so the log
    survives the run for debugging.
    """

    def __init__(
        self,
        upstream_base_url: str,
        workdir: Path,
        models: Mapping[str, str] = DEFAULT_MODELS,
        master_key: str = DEFAULT_MASTER_KEY,
    ) -> None:
        self.upstream_base_url = upstream_base_url
        self.workdir = workdir
        self.models: dict[str, str] = dict(models)
        self.master_key = master_key
        """The only key the proxy accepts (see ``proxy_auth.py``); others get 401."""
        self.log_path = workdir / "proxy.log"
        self.config_path = workdir / "config.yaml"
        self.startup_seconds: float | None = None
        """Wall time from spawning the process to the first successful liveness probe."""
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def model_names(self) -> list[str]:
        """The public model names the proxy serves (``GET /v1/models``)."""
        return list(self.models)

    @property
    def url(self) -> str:
        """Base URL for clients, e.g. ``LitellmModel(base_url=proxy.url)``."""
        if self._port is None:
            raise RuntimeError("LiteLLMProxy is not running")
        return f"http://127.0.0.1:{self._port}"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Spawn the proxy and block until ``/health/liveliness`` answers.

        The liveness route only answers once uvicorn has run the app's startup
        (config loaded, router built), so a 200 means requests can be served.
        """
        if self._process is not None:
            raise RuntimeError("LiteLLMProxy already started")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self._port = free_port()
        executable = Path(sys.executable).parent / "litellm"
        command = [
            str(executable),
            "--config", str(self.config_path),
            "--host", "127.0.0.1",
            "--port", str(self._port),
            "--telemetry", "False",
        ]  # fmt: skip
        self._log_file = self.log_path.open("wb")
        started = time.monotonic()
        self._process = subprocess.Popen(
            command,
            cwd=self.workdir,
            env=self._environment(),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            # Own process group, so stop() can signal anything the CLI spawns.
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        try:
            self._wait_until_live(deadline=started + _STARTUP_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started

    def stop(self) -> None:
        """SIGTERM the proxy's process group, SIGKILL it after a grace period."""
        process = self._process
        if process is not None:
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
                try:
                    process.wait(timeout=_STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    _signal_group(process, signal.SIGKILL)
                    process.wait(timeout=_STOP_GRACE_S)
            else:
                # The leader is gone; reap anything it left in its group.
                _signal_group(process, signal.SIGKILL)
        if self._log_file is not None:
            self._log_file.close()
        self._process = None
        self._log_file = None
        self._port = None

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines of the proxy's log, for failure messages."""
        if not self.log_path.exists():
            return "<no proxy log>"
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # ------------------------------------------------------------------ internals

    def _config(self) -> dict[str, Any]:
        model_list = [
            {
                "model_name": public_name,
                "litellm_params": {
                    "model": f"openai/{upstream_id}",
                    "api_base": self.upstream_base_url,
                    "api_key": UPSTREAM_API_KEY,
                },
            }
            for public_name, upstream_id in self.models.items()
        ]
        return {
            "model_list": model_list,
            "litellm_settings": {"num_retries": 0},
            "router_settings": {"num_retries": 0, "disable_cooldowns": True},
            "general_settings": {
                "master_key": self.master_key,
                # Module path relative to this config file's directory.
                "custom_auth": f"{_AUTH_MODULE.stem}.user_api_key_auth",
            },
        }

    def _write_config(self) -> None:
        # JSON is valid YAML, and avoids depending on a YAML writer.
        self.config_path.write_text(json.dumps(self._config(), indent=2), encoding="utf-8")
        shutil.copyfile(_AUTH_MODULE, self.workdir / _AUTH_MODULE.name)

    def _environment(self) -> dict[str, str]:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.upper().startswith(_SCRUBBED_ENV_PREFIXES)
        }
        env.update(
            {
                # No price-map download at import; no load_dotenv() of a stray .env.
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                "LITELLM_MODE": "PRODUCTION",
                # Upstream is on loopback: never route it through an HTTP proxy.
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def _wait_until_live(self, deadline: float) -> None:
        assert self._process is not None
        probe_url = f"{self.url}/health/liveliness"
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                returncode = self._process.poll()
                if returncode is not None:
                    raise ProxyStartError(
                        f"litellm proxy exited with code {returncode} during startup; "
                        f"log {self.log_path}:\n{self.log_tail()}"
                    )
                try:
                    if client.get(probe_url).status_code == 200:
                        return
                except httpx.TransportError:
                    pass  # not listening yet
                time.sleep(_POLL_INTERVAL_S)
        raise ProxyStartError(
            f"litellm proxy not live after {_STARTUP_TIMEOUT_S:.0f} s; "
            f"log {self.log_path}:\n{self.log_tail()}"
        )


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass

