"""Socket Mode handler that acknowledges Events API envelopes the moment they arrive.

Bolt acknowledges an event only once its middleware chain (authorization, the assistant
middleware, ours) has reached the listener. When hundreds of messages arrive at once, those
chains interleave on one event loop and every ack waits for all of them (500 questions at
once: ack p99 95–130 ms with Bolt's handler, 54–59 ms with this one; specs/003). An Events API
ack carries nothing (Bolt auto-acknowledges events before running the listener anyway), so it
is sent first and Bolt's own response to the envelope is dropped. Envelopes whose ack can
carry a payload (interactivity, slash commands) keep Bolt's path.
"""

from __future__ import annotations

import asyncio

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

EVENTS_API = "events_api"


class EarlyAckSocketModeHandler(AsyncSocketModeHandler):
    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        if req.type != EVENTS_API:
            await super().handle(client, req)  # type: ignore[arg-type]
            return
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        await asyncio.sleep(0)
        response = await run_async_bolt_app(self.app, req)
        if response.status != 200:
            # What Bolt would have answered instead of the ack (404: no listener for the event).
            client.logger.debug("Event envelope %s: Bolt answered HTTP %d", req.envelope_id, response.status)
