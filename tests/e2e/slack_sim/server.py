"""Runs an aiohttp application on 127.0.0.1 in a background thread with its own event loop.

The simulator must keep serving while a test's event loop is blocked in its own awaits, and a sync
pytest fixture must be able to start and stop it; a dedicated thread gives both. Coroutines that
touch server-side objects (WebSockets) are submitted to that loop with `run_coroutine_threadsafe`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")

START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0


class ServerThread:
    def __init__(self, app: web.Application, name: str) -> None:
        self._app = app
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    def start(self) -> None:
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
            raise failure[0]

    async def _bind(self) -> None:
        self._runner = web.AppRunner(self._app, shutdown_timeout=1.0)
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

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._runner is not None and self._loop.is_running():
            self.submit(self._runner.cleanup()).result(STOP_TIMEOUT_SECONDS)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(STOP_TIMEOUT_SECONDS)
        self._loop = None
        self._thread = None
