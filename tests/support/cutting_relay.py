"""An HTTP relay on 127.0.0.1 in front of the LiteLLM proxy that can cut a streamed response.

It stands for the network between the bot and the proxy: `cut_next_stream_after(n)` makes the
next streamed response lose its connection right after its n-th SSE event, as a dropped
connection or a crashed proxy would (LiteLLM's proxy itself hides a cut between it and the
provider behind a normal-looking ending, so this is where a cut is observable).
"""

from __future__ import annotations

import threading

import aiohttp
from aiohttp import web

from tests.support.lifecycle import StartStop
from tests.support.server_thread import ServerThread

_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection"}


class CuttingRelay(StartStop):
    def __init__(self, target_url: str) -> None:
        self.target_url = target_url.rstrip("/")
        self._lock = threading.Lock()
        self._cuts: list[int] = []
        self.cuts_made = 0
        self._server: ServerThread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("CuttingRelay is not running")
        return f"http://127.0.0.1:{self._server.port}"

    def cut_next_stream_after(self, events: int) -> None:
        with self._lock:
            self._cuts.append(events)

    def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._relay)
        self._server = ServerThread(app, "cutting-relay")
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    async def _relay(self, request: web.Request) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        body = await request.read()
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session:
            async with session.request(request.method, self.target_url + request.rel_url.path_qs, headers=headers, data=body) as upstream:
                response = web.StreamResponse(
                    status=upstream.status,
                    headers={k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP},
                )
                await response.prepare(request)
                streaming = upstream.headers.get("content-type", "").startswith("text/event-stream")
                with self._lock:
                    cut_after = self._cuts.pop(0) if streaming and self._cuts else None
                events = 0
                async for line in upstream.content:
                    await response.write(line)
                    if cut_after is not None and line.startswith(b"data:"):
                        events += 1
                        if events >= cut_after:
                            await response.write(b"\n")
                            self.cuts_made += 1
                            if request.transport is not None:
                                request.transport.abort()
                            return response
                await response.write_eof()
                return response
