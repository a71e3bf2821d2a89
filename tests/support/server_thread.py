"""Runs an aiohttp application on 127.0.0.1 in a background thread with its own event loop.

A fake server must keep serving while a test's event loop is blocked in its own awaits, and a sync
(possibly session-scoped) pytest fixture must be able to start and stop it while each async test
runs on its own loop; a dedicated thread gives both. Coroutines that touch server-side objects
(WebSockets, events handlers wait on) are submitted to that loop with `run_coroutine_threadsafe`.

Work that must happen on the loop before stop waits for in-flight handlers (closing WebSockets,
waking handlers that would otherwise hang) belongs in the app's `on_shutdown` signals: aiohttp runs
them after the listening sockets close and before the runner's `shutdown_timeout` grace.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")

START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0
DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = 1.0
"""aiohttp's wait for in-flight handlers on stop; `on_shutdown` hooks should make them end sooner."""


class ServerThread:
    def __init__(
        self,
        app: web.Application,
        name: str,
        *,
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT_SECONDS,
        **runner_options: Any,
    ) -> None:
        """`runner_options` go to `web.AppRunner` (e.g. `handler_cancellation=True`, `access_log=None`).

        An application binds to the first loop that runs it, so build a new one (and a new
        ServerThread) to serve again after `stop()`.
        """
        self._app = app
        self._name = name
        self._runner_options: dict[str, Any] = {"shutdown_timeout": shutdown_timeout, **runner_options}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self._name} already started")
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._bind())
            except BaseException as e:  # handed to the starting thread, which re-raises it
                failure.append(e)
                started.set()
                loop.close()
                return
            started.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name=self._name, daemon=True)
        self._thread.start()
        if not started.wait(START_TIMEOUT_SECONDS):
            raise TimeoutError(f"{self._name} did not start within {START_TIMEOUT_SECONDS}s")
        if failure:
            self._thread.join(STOP_TIMEOUT_SECONDS)
            self._loop = None
            self._thread = None
            raise failure[0]

    async def _bind(self) -> None:
        self._runner = web.AppRunner(self._app, **self._runner_options)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        if self._loop is None or not self._loop.is_running():
            coro.close()
            raise RuntimeError(f"{self._name} is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the server loop and await its result from any other event loop."""
        return await asyncio.wrap_future(self.submit(coro))

    def call_soon(self, callback: Callable[[], object]) -> None:
        """Schedule a plain callback on the server loop from any thread; a no-op when not running."""
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(callback)

    def stop(self) -> None:
        """Clean up the runner (bounded by its `shutdown_timeout`), then end the loop and join the thread."""
        if self._loop is None or self._thread is None:
            return
        try:
            if self._runner is not None and self._loop.is_running():
                self.submit(self._runner.cleanup()).result(STOP_TIMEOUT_SECONDS)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(STOP_TIMEOUT_SECONDS)
            self._loop = None
            self._thread = None
            self._runner = None
