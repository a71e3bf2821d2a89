"""Socket Mode as Slack speaks it (https://docs.slack.dev/apis/events-api/using-socket-mode).

* apps.connections.open hands out `ws://…/link/?ticket=…&app_id=…`; each ticket opens one connection.
* Every connection first receives `hello`; envelopes go round-robin to open connections, one each.
* The app acknowledges with `{"envelope_id": …}` (optionally with `payload`); acks are recorded with latency.
* `request_refresh` sends `{"type": "disconnect", "reason": "refresh_requested"}` and closes the
  connection after a grace period if the app has not moved on; `drop` aborts the TCP connection
  without a close frame, as a network failure would.
* WebSocket ping frames are answered with pongs carrying the same data (aiohttp's autoping); slack_sdk
  relies on that echo to decide its session is alive.

Everything here runs on the simulator's own event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from . import payloads
from .models import ConnectionRecord, EnvelopeRecord
from .state import SimState

logger = logging.getLogger(__name__)

APPLINK_HOST = "applink-sim-1"
# Slack refreshes Socket Mode connections every few hours; hello announces it in seconds.
REFRESH_AFTER_SECONDS = 18_060
CLOSE_TIMEOUT_SECONDS = 2.0


@dataclass
class _Connection:
    connection_id: str
    ws: web.WebSocketResponse
    request: web.Request
    draining: bool = False  # a disconnect was sent: no new envelopes go here
    close_reason: str | None = None  # set when the simulator itself ends the connection
    # Envelopes leave one frame at a time (see `deliver`).
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class SocketModeHub:
    def __init__(self, state: SimState, disconnect_grace: float) -> None:
        self._state = state
        self._disconnect_grace = disconnect_grace
        self._tickets: set[str] = set()
        self._connections: dict[str, _Connection] = {}
        self._round_robin = 0
        self._ids = itertools.count(1)
        self._background: set[asyncio.Task[None]] = set()

    def issue_url(self, host: str) -> str:
        """A fresh one-time WebSocket URL on the host the app reached the Web API through."""
        ticket = str(uuid.uuid4())
        self._tickets.add(ticket)
        return f"ws://{host}/link/?ticket={ticket}&app_id={self._state.workspace.app_id}"

    # ------------------------------------------------------------------ connections

    async def handle_ws(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid or already used ticket")
        self._tickets.discard(ticket)
        # A short close-handshake timeout keeps stop() quick even when a client has vanished.
        ws = web.WebSocketResponse(autoping=True, timeout=CLOSE_TIMEOUT_SECONDS)
        await ws.prepare(request)
        conn = _Connection(f"conn-{next(self._ids)}", ws, request)
        hello = payloads.hello(
            num_connections=len(self._open()) + 1,
            app_id=self._state.workspace.app_id,
            host=APPLINK_HOST,
            refresh_after_seconds=REFRESH_AFTER_SECONDS,
        )
        await ws.send_json(hello)
        # Only now may envelopes be routed here: hello is always a connection's first frame.
        self._connections[conn.connection_id] = conn
        with self._state.mutate():
            self._state.connections[conn.connection_id] = ConnectionRecord(
                conn.connection_id, time.monotonic(), hello
            )
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._on_text(conn, message.data)
        finally:
            self._connections.pop(conn.connection_id, None)
            with self._state.mutate():
                record = self._state.connections[conn.connection_id]
                record.closed_at = time.monotonic()
                record.close_reason = conn.close_reason or "client_closed"
        return ws

    async def _on_text(self, conn: _Connection, data: str) -> None:
        try:
            message = json.loads(data)
        except json.JSONDecodeError:
            logger.warning("non-JSON frame on %s: %r", conn.connection_id, data)
            return
        if "envelope_id" in message:
            self._record_ack(message)
        elif message.get("type") == "ping":
            # Application-level ping (RTM-style); answer so a client using it never thinks the link is dead.
            await conn.ws.send_json({"type": "pong", "reply_to": message.get("id")})
        else:
            logger.warning("unexpected frame on %s: %r", conn.connection_id, message)

    def _record_ack(self, message: dict[str, Any]) -> None:
        with self._state.mutate():
            record = self._state.envelopes.get(str(message["envelope_id"]))
            if record is None:
                logger.warning("ack for unknown envelope %s", message["envelope_id"])
            elif record.acked_at is None:
                record.acked_at = time.monotonic()
                record.ack_payload = message.get("payload")

    def _open(self) -> list[_Connection]:
        return [c for c in self._connections.values() if not c.ws.closed]

    def _eligible(self) -> list[_Connection]:
        return [c for c in self._open() if not c.draining]

    def _pick(self, connection_id: str | None) -> _Connection:
        if connection_id is None:
            candidates = self._eligible()
            if not candidates:
                raise LookupError("no open Socket Mode connection")
            return candidates[0]
        return self._connections[connection_id]

    # ------------------------------------------------------------------ delivery

    async def deliver(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool,
        retry_attempt: int,
        retry_reason: str,
        connect_timeout: float,
        connection_id: str | None = None,
    ) -> str:
        """Send one envelope to exactly one open connection, waiting (bounded) for one to exist.

        With `connection_id`, to that connection only (a test aiming at one app instance); it must
        be open and not draining, else LookupError. The round-robin turn is not advanced then.
        """
        envelope_id = str(uuid.uuid4())
        frame = payloads.envelope(
            envelope_id=envelope_id,
            envelope_type=envelope_type,
            payload=payload,
            accepts_response_payload=accepts_response_payload,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )
        while True:
            if connection_id is not None:
                conn = self._pick(connection_id)
                if conn.ws.closed or conn.draining:
                    raise LookupError(f"Socket Mode connection {connection_id} is closed or draining")
            else:
                candidates = await self._state.wait_for(self._eligible, connect_timeout, "an open Socket Mode connection")
                conn = candidates[self._round_robin % len(candidates)]
                self._round_robin += 1
            try:
                async with conn.send_lock:
                    # Recorded before sending so that an ack can never arrive for an envelope we do not know yet.
                    with self._state.mutate():
                        self._state.envelopes[envelope_id] = EnvelopeRecord(
                            envelope_id,
                            envelope_type,
                            payload,
                            conn.connection_id,
                            time.monotonic(),
                            accepts_response_payload,
                            retry_attempt,
                            retry_reason,
                        )
                    await conn.ws.send_json(frame)
                    # One frame per loop turn, so the acks of a burst are read as they come in.
                    # Written all at once, every ack of a burst would wait until the simulator had
                    # sent the whole burst, charging its own sending to the app's ack latency.
                    await asyncio.sleep(0)
                return envelope_id
            except ConnectionError:
                # The connection died between choosing and sending: Slack would use another one.
                conn.draining = True
                if connection_id is not None:
                    with self._state.mutate():
                        del self._state.envelopes[envelope_id]  # never sent
                    raise LookupError(f"Socket Mode connection {connection_id} died while sending") from None

    async def redeliver(self, envelope_id: str, reason: str, connect_timeout: float) -> str:
        """Slack's retry of an envelope: same payload, new envelope id, retry_attempt + 1."""
        original = self._state.envelope(envelope_id)
        if original is None:
            raise KeyError(envelope_id)
        return await self.deliver(
            original.type,
            original.payload,
            accepts_response_payload=original.accepts_response_payload,
            retry_attempt=original.retry_attempt + 1,
            retry_reason=reason,
            connect_timeout=connect_timeout,
        )

    # ------------------------------------------------------------------ server-initiated endings

    async def request_refresh(self, connection_id: str | None, reason: str) -> str:
        conn = self._pick(connection_id)
        conn.draining = True
        await conn.ws.send_json(payloads.disconnect(reason=reason, host=APPLINK_HOST))
        task = asyncio.create_task(self._close_after_grace(conn))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return conn.connection_id

    async def _close_after_grace(self, conn: _Connection) -> None:
        await asyncio.sleep(self._disconnect_grace)
        if not conn.ws.closed:
            conn.close_reason = "closed_after_disconnect"
            await conn.ws.close()

    async def drop(self, connection_id: str | None) -> str:
        conn = self._pick(connection_id)
        conn.close_reason = "dropped"
        transport = conn.request.transport
        if transport is not None:
            transport.abort()
        return conn.connection_id

    async def close_all(self) -> None:
        for task in list(self._background):
            task.cancel()
        for conn in list(self._connections.values()):
            conn.close_reason = conn.close_reason or "server_stopped"
            await conn.ws.close(code=1001, message=b"server stopped")
