"""Events are acknowledged on arrival, however long Bolt takes to reach the listener;
interactive envelopes still get Bolt's ack with its payload."""

import asyncio

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from assistant.early_ack_handler import EarlyAckSocketModeHandler

SLOW_MIDDLEWARE_SECONDS = 1.0


async def test_events_are_acked_before_a_slow_middleware_and_still_reach_the_listener(slack_sim):
    app = AsyncApp(client=AsyncWebClient(token=slack_sim.workspace.bot_token, base_url=slack_sim.api_url))
    heard: list[str] = []

    @app.middleware
    async def slow(next):
        await asyncio.sleep(SLOW_MIDDLEWARE_SECONDS)
        await next()

    @app.event("app_mention")
    async def on_mention(event):
        heard.append(event["text"])

    @app.shortcut("do_it")
    async def on_shortcut(ack):
        await ack()

    handler = EarlyAckSocketModeHandler(app, app_token=slack_sim.workspace.app_token)
    await handler.connect_async()
    try:
        await slack_sim.wait_for_connections(1)
        user = slack_sim.add_user(name="alice")
        event_id = await slack_sim.send_event({"type": "app_mention", "user": user.id, "text": "hi", "channel": "C1", "ts": "1.1"})
        record = await slack_sim.wait_for_ack(event_id, timeout=5)
        assert record.ack_latency < SLOW_MIDDLEWARE_SECONDS / 2
        await slack_sim.wait_for(lambda: heard or None, timeout=5, description="the listener ran")
        assert heard == ["hi"]

        shortcut_id = await slack_sim.deliver(
            "interactive",
            {"type": "shortcut", "callback_id": "do_it", "trigger_id": "t", "user": {"id": user.id}, "team": {"id": slack_sim.workspace.team_id}},
            accepts_response_payload=True,
        )
        record = await slack_sim.wait_for_ack(shortcut_id, timeout=5)
        assert record.ack_latency >= SLOW_MIDDLEWARE_SECONDS, "interactive envelopes keep Bolt's own ack"
    finally:
        await handler.close_async()
