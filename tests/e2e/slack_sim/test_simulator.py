"""Proves the simulator against the real slack_sdk / slack_bolt clients the bot uses."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp, AsyncAssistant
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.models.messages.chunk import MarkdownTextChunk, TaskUpdateChunk
from slack_sdk.web.async_client import AsyncWebClient

from . import RateLimit, SlackSimulator

# Small enough that a dropped connection is noticed quickly, large enough for localhost pongs (heartbeat/2).
PING_INTERVAL = 0.5

FEEDBACK_BLOCK: dict[str, Any] = {
    "type": "context_actions",
    "elements": [
        {
            "type": "feedback_buttons",
            "action_id": "answer_feedback",
            "positive_button": {"text": {"type": "plain_text", "text": "👍"}, "value": "good"},
            "negative_button": {"text": {"type": "plain_text", "text": "👎"}, "value": "bad"},
        }
    ],
}


@pytest.fixture
def client(slack_sim: SlackSimulator) -> AsyncWebClient:
    return AsyncWebClient(token=slack_sim.workspace.bot_token, base_url=slack_sim.api_url)


@pytest.fixture
def bolt_app(slack_sim: SlackSimulator) -> AsyncApp:
    # The client carries base_url; passing token= as well only makes Bolt log that it ignores it.
    return AsyncApp(client=AsyncWebClient(token=slack_sim.workspace.bot_token, base_url=slack_sim.api_url))


@pytest.fixture
async def socket_handler(slack_sim: SlackSimulator, bolt_app: AsyncApp) -> AsyncIterator[AsyncSocketModeHandler]:
    # No web_client argument: the handler falls back to app.client, so apps.connections.open reaches the simulator.
    handler = AsyncSocketModeHandler(bolt_app, app_token=slack_sim.workspace.app_token, ping_interval=PING_INTERVAL)
    try:
        yield handler
    finally:
        await handler.close_async()


async def _api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value


async def _error(call: Any) -> str:
    return str((await _api_error(call)).response["error"])


# ---------------------------------------------------------------------- Web API


async def test_auth_test_and_token_checks(slack_sim: SlackSimulator, client: AsyncWebClient) -> None:
    ws = slack_sim.workspace
    me = await client.auth_test()
    assert (me["user_id"], me["bot_id"], me["team_id"]) == (ws.bot_user_id, ws.bot_id, ws.team_id)

    base = slack_sim.api_url
    assert await _error(AsyncWebClient(token="xoxb-wrong", base_url=base).auth_test()) == "invalid_auth"
    assert await _error(AsyncWebClient(base_url=base).auth_test()) == "not_authed"
    assert await _error(AsyncWebClient(token=ws.app_token, base_url=base).auth_test()) == "not_allowed_token_type"
    assert await _error(client.apps_connections_open(app_token=ws.bot_token)) == "not_allowed_token_type"
    opened = await client.apps_connections_open(app_token=ws.app_token)
    assert opened["url"].startswith(slack_sim.base_url.replace("http://", "ws://") + "/link/?ticket=")


async def test_json_form_and_query_bodies_are_all_understood(slack_sim: SlackSimulator, client: AsyncWebClient) -> None:
    alice = slack_sim.add_user(name="alice")
    channel = slack_sim.add_channel("general", members=[alice.id])
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]

    as_json = await client.chat_postMessage(channel=channel, text="json", blocks=blocks)
    # Form post: slack_sdk's `data=` sends blocks as a JSON string, which Slack decodes.
    as_form = await client.api_call(
        "chat.postMessage", data={"channel": channel, "text": "form", "blocks": json.dumps(blocks)}
    )
    # reactions.add sends its params in the query string of a POST.
    await client.reactions_add(channel=channel, name="eyes", timestamp=as_form["ts"])
    ephemeral = await client.chat_postEphemeral(channel=channel, user=alice.id, text="only for alice")

    for response in (as_json, as_form):
        stored = slack_sim.state.message(channel, response["ts"])
        assert stored is not None
        assert stored["blocks"][0]["text"] == blocks[0]["text"]
        assert stored["blocks"][0]["block_id"], "Slack fills in block ids"
        assert stored["bot_id"] == slack_sim.workspace.bot_id
    reacted = slack_sim.state.message(channel, as_form["ts"])
    assert reacted is not None and reacted["reactions"] == [
        {"name": "eyes", "users": [slack_sim.workspace.bot_user_id], "count": 1}
    ]
    [only_alice] = slack_sim.state.ephemeral_messages()
    assert (only_alice.user, only_alice.message["ts"]) == (alice.id, ephemeral["message_ts"])
    assert slack_sim.state.message(channel, ephemeral["message_ts"]) is None, "ephemeral messages stay out of history"
    assert [c.method for c in slack_sim.state.calls()] == [
        "chat.postMessage",
        "chat.postMessage",
        "reactions.add",
        "chat.postEphemeral",
    ]
    assert isinstance(slack_sim.state.calls("chat.postMessage")[1].params["blocks"], list)


async def test_replies_and_history_tell_the_truth(slack_sim: SlackSimulator, client: AsyncWebClient) -> None:
    alice = slack_sim.add_user(name="alice")
    channel = slack_sim.add_channel("general", members=[alice.id], messages=[(alice.id, "first")])
    question_ts = slack_sim.add_channel_message(channel, alice.id, "q?")
    metadata = {"event_type": "assistant_thread_context", "event_payload": {"channel_id": "C1"}}
    await client.chat_postMessage(channel=channel, thread_ts=question_ts, text="answer", metadata=metadata)

    plain = await client.conversations_replies(channel=channel, ts=question_ts)
    assert [m["text"] for m in plain["messages"]] == ["q?", "answer"]
    assert plain["messages"][0]["reply_count"] == 1
    assert "metadata" not in plain["messages"][1]
    # Bolt's default thread-context store reads this way: oldest=thread_ts still returns the parent first.
    full = await client.conversations_replies(
        channel=channel, ts=question_ts, oldest=question_ts, include_all_metadata=True, limit=4
    )
    assert full["messages"][1]["metadata"] == metadata

    history = await client.conversations_history(channel=channel)
    assert [m["text"] for m in history["messages"]] == ["q?", "first"]  # newest first, replies left out


async def test_channel_access_errors(slack_sim: SlackSimulator, client: AsyncWebClient) -> None:
    hidden = slack_sim.add_channel("secret", is_private=True, readable=False)
    outside = slack_sim.add_channel("random", bot_is_member=False)

    assert await _error(client.conversations_info(channel=hidden)) == "channel_not_found"
    assert await _error(client.conversations_history(channel=hidden)) == "channel_not_found"
    assert (await client.conversations_info(channel=outside))["channel"]["is_member"] is False
    assert await _error(client.conversations_history(channel=outside)) == "not_in_channel"
    assert await _error(client.chat_postMessage(channel=outside, text="x")) == "not_in_channel"

    slack_sim.remove_scopes("channels:read")
    missing = (await _api_error(client.conversations_info(channel=outside))).response
    assert (missing["error"], missing["needed"]) == ("missing_scope", "channels:read")


async def test_members_pagination_and_users(slack_sim: SlackSimulator, client: AsyncWebClient) -> None:
    users = [slack_sim.add_user(name=f"user{i}") for i in range(5)]
    guest = slack_sim.add_user(name="guest", is_restricted=True, is_ultra_restricted=True)
    channel = slack_sim.add_channel("big", members=[u.id for u in users])

    pages = [page["members"] async for page in await client.conversations_members(channel=channel, limit=2)]
    assert [len(p) for p in pages] == [2, 2, 2]
    assert sum(pages, []) == [*(u.id for u in users), slack_sim.workspace.bot_user_id]

    info = (await client.users_info(user=guest.id))["user"]
    assert (info["is_restricted"], info["is_ultra_restricted"]) == (True, True)
    assert await _error(client.users_info(user="U_NOBODY")) == "user_not_found"


async def test_injected_429_carries_retry_after_and_slack_sdk_honours_all_of_it(
    slack_sim: SlackSimulator, client: AsyncWebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack_sim.fail_next("auth.test", retry_after=7)
    error = await _api_error(client.auth_test())
    assert error.response.status_code == 429
    assert (error.response["error"], error.response.headers["Retry-After"]) == ("ratelimited", "7")

    # slack-sdk 3.47 wraps header values in lists before `[0]`, so "10" means 10 s (no first-character
    # truncation). The handler's sleep is recorded instead of awaited to keep the test fast.
    slept: list[float] = []

    async def record_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(builtin_async_handlers, "asyncio", SimpleNamespace(sleep=record_sleep))
    retrying = AsyncWebClient(
        token=slack_sim.workspace.bot_token,
        base_url=slack_sim.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack_sim.fail_next("auth.test", retry_after=10)
    assert (await retrying.auth_test())["ok"]
    assert len(slept) == 1 and 10.0 <= slept[0] < 11.0
    assert [c.http_status for c in slack_sim.state.calls("auth.test")] == [429, 429, 200]


async def test_token_bucket_rate_limits_and_delays(slack_sim: SlackSimulator, client: AsyncWebClient) -> None:
    alice = slack_sim.add_user(name="alice")
    slack_sim.enable_rate_limits({"users.info": RateLimit(per_minute=60, burst=2)})
    await client.users_info(user=alice.id)
    await client.users_info(user=alice.id)
    limited = (await _api_error(client.users_info(user=alice.id))).response
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1")
    assert (await client.auth_test())["ok"], "limits are per method"
    slack_sim.disable_rate_limits()
    assert (await client.users_info(user=alice.id))["ok"]

    slack_sim.delay_next("auth.test", 1, 0.3)
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started >= 0.3


async def test_chat_stream_is_recorded_with_text_chunks_and_blocks(
    slack_sim: SlackSimulator, client: AsyncWebClient
) -> None:
    alice = slack_sim.add_user(name="alice")
    channel = slack_sim.add_channel("general", members=[alice.id])
    question_ts = slack_sim.add_channel_message(channel, alice.id, "explain?")

    streamer = await client.chat_stream(
        channel=channel,
        thread_ts=question_ts,
        recipient_user_id=alice.id,
        recipient_team_id=slack_sim.workspace.team_id,
        buffer_size=10,
    )
    await streamer.append(markdown_text="Hello")  # buffered: no call yet
    await streamer.append(markdown_text=" world, ")  # flush -> chat.startStream
    await streamer.append(chunks=[TaskUpdateChunk(id="t1", title="Search", status="complete")])  # appendStream
    await streamer.append(markdown_text="bye")
    await streamer.stop(blocks=[FEEDBACK_BLOCK])  # stopStream with the buffered "bye"
    assert streamer.ts is not None

    record = slack_sim.state.stream(streamer.ts)
    assert record is not None
    assert (record.text, record.state, record.thread_ts) == ("Hello world, bye", "stopped", question_ts)
    assert [c["type"] for c in record.chunks] == ["markdown_text", "task_update", "markdown_text"]
    assert record.blocks[0]["type"] == "context_actions" and record.blocks[0]["block_id"]
    assert [c.method for c in slack_sim.state.calls()] == ["chat.startStream", "chat.appendStream", "chat.stopStream"]

    replies = (await client.conversations_replies(channel=channel, ts=question_ts))["messages"]
    assert replies[-1]["text"] == "Hello world, bye"
    assert replies[-1]["blocks"][-1]["type"] == "context_actions"


async def test_stream_errors_follow_slack(slack_sim: SlackSimulator, client: AsyncWebClient) -> None:
    alice = slack_sim.add_user(name="alice")
    channel = slack_sim.add_channel("general", members=[alice.id])
    thread_ts = slack_sim.add_channel_message(channel, alice.id, "hi")
    recipient = {"recipient_user_id": alice.id, "recipient_team_id": slack_sim.workspace.team_id}

    start = client.chat_startStream
    assert await _error(start(channel=channel, thread_ts=thread_ts, markdown_text="x")) == "missing_recipient_user_id"
    chunk = MarkdownTextChunk(text="y")
    both = start(channel=channel, thread_ts=thread_ts, markdown_text="x", chunks=[chunk], **recipient)
    assert await _error(both) == "cannot_provide_both_markdown_text_and_chunks"

    ts = (await start(channel=channel, thread_ts=thread_ts, markdown_text="a", **recipient))["ts"]
    chunked = client.chat_appendStream(channel=channel, ts=ts, chunks=[chunk])
    assert await _error(chunked) == "streaming_mode_mismatch"
    slack_sim.expire_stream(ts)
    assert await _error(client.chat_appendStream(channel=channel, ts=ts, markdown_text="b")) == (
        "message_not_in_streaming_state"
    )
    # A message that never streamed is not in a streaming state either.
    assert await _error(client.chat_stopStream(channel=channel, ts=thread_ts)) == "message_not_in_streaming_state"


# ---------------------------------------------------------------------- Socket Mode, raw client


async def _open_socket(
    client: AsyncWebClient, session: aiohttp.ClientSession, app_token: str
) -> aiohttp.ClientWebSocketResponse:
    url = (await client.apps_connections_open(app_token=app_token))["url"]
    ws = await session.ws_connect(url, autoping=False)
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await session.ws_connect(url)  # a ticket opens one connection only
    return ws


async def _next_json(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), timeout=5)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)


async def test_socket_mode_protocol(slack_sim: SlackSimulator, client: AsyncWebClient) -> None:
    app_token = slack_sim.workspace.app_token
    async with aiohttp.ClientSession() as session:
        first = await _open_socket(client, session, app_token)
        hello = await _next_json(first)
        assert (hello["type"], hello["num_connections"], hello["connection_info"]["app_id"]) == (
            "hello",
            1,
            slack_sim.workspace.app_id,
        )
        second = await _open_socket(client, session, app_token)
        assert (await _next_json(second))["num_connections"] == 2

        # Round-robin: four envelopes, two per connection, each delivered exactly once.
        sent = [await slack_sim.send_event({"type": "app_mention", "text": str(i)}) for i in range(4)]
        received = [await _next_json(ws) for ws in (first, second, first, second)]
        assert [r["envelope_id"] for r in received] == sent
        assert received[0]["payload"]["type"] == "event_callback"
        assert (received[0]["retry_attempt"], received[0]["accepts_response_payload"]) == (0, False)

        await first.send_json({"envelope_id": sent[0]})
        acked = await slack_sim.wait_for_ack(sent[0])
        assert acked.ack_latency is not None and acked.ack_latency >= 0

        retry_id = await slack_sim.redeliver(sent[1], reason="timeout")
        retried = await _next_json(first)
        assert (retried["envelope_id"], retried["retry_attempt"], retried["retry_reason"]) == (retry_id, 1, "timeout")
        assert retried["payload"]["event_id"] == received[1]["payload"]["event_id"]
        assert [e.retry_attempt for e in slack_sim.state.envelope_records()] == [0, 0, 0, 0, 1]

        # Ping frames come back as pongs with the same data; slack_sdk's liveness check depends on it.
        await first.ping(b"sdk-ping-pong:1")
        pong = await asyncio.wait_for(first.receive(), timeout=5)
        assert (pong.type, pong.data) == (aiohttp.WSMsgType.PONG, b"sdk-ping-pong:1")
        await first.send_json({"type": "ping", "id": 7})
        assert await _next_json(first) == {"type": "pong", "reply_to": 7}

        await slack_sim.request_refresh()
        assert await _next_json(first) == {
            "type": "disconnect",
            "reason": "refresh_requested",
            "debug_info": {"host": "applink-sim-1"},
        }
        await first.close()
        await second.close()
    await slack_sim.wait_for(lambda: not slack_sim.state.open_connections(), 5, "connections closed")
    with pytest.raises(TimeoutError):
        await slack_sim.wait_for_ack(sent[3], timeout=0.1)


async def test_envelopes_can_target_one_connection(slack_sim: SlackSimulator, client: AsyncWebClient) -> None:
    alice = slack_sim.add_user(name="alice")
    async with aiohttp.ClientSession() as session:
        first = await _open_socket(client, session, slack_sim.workspace.app_token)
        await _next_json(first)  # hello
        second = await _open_socket(client, session, slack_sim.workspace.app_token)
        await _next_json(second)
        first_id, second_id = (c.connection_id for c in await slack_sim.wait_for_connections(2))

        thread = await slack_sim.start_assistant_thread(alice.id)  # round-robin: the first connection's turn
        assert (await _next_json(first))["envelope_id"] == thread.envelope_id

        # Aimed: every envelope goes to the named connection, whatever the round-robin turn.
        aimed = [await slack_sim.send_event({"type": "app_mention", "text": str(i)}, connection_id=second_id) for i in range(3)]
        assert [(await _next_json(second))["envelope_id"] for _ in aimed] == aimed
        said = await slack_sim.user_says(thread, "to the first", connection_id=first_id)
        received = await _next_json(first)
        assert (received["envelope_id"], received["payload"]["event"]["text"]) == (said.envelope_id, "to the first")
        assert [slack_sim.state.envelope(e).connection_id for e in [*aimed, said.envelope_id]] == [second_id] * 3 + [first_id]

        # Aiming does not move the round-robin turn: the default goes on with the second connection.
        unaimed = [await slack_sim.send_event({"type": "app_mention", "text": "rr"}) for _ in range(2)]
        assert [(await _next_json(ws))["envelope_id"] for ws in (second, first)] == unaimed

        await second.close()
        await slack_sim.wait_for(lambda: len(slack_sim.state.open_connections()) == 1, 5, "one connection closed")
        with pytest.raises(LookupError):
            await slack_sim.send_event({"type": "app_mention", "text": "lost"}, connection_id=second_id)
        assert len(slack_sim.state.envelope_records()) == 7, "nothing recorded for an envelope that could not be sent"
        await first.close()


# ---------------------------------------------------------------------- Socket Mode, real Bolt app


async def test_bolt_receives_an_event_and_acks(
    slack_sim: SlackSimulator, bolt_app: AsyncApp, socket_handler: AsyncSocketModeHandler
) -> None:
    seen: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    @bolt_app.event("app_mention")
    async def on_mention(event: dict[str, Any]) -> None:
        await seen.put(event)

    await socket_handler.connect_async()
    mention = {"type": "app_mention", "text": f"<@{slack_sim.workspace.bot_user_id}> hi", "user": "U1"}
    envelope_id = await slack_sim.send_event(mention)
    assert (await slack_sim.wait_for_ack(envelope_id)).ack_latency is not None
    assert (await asyncio.wait_for(seen.get(), timeout=5))["text"].endswith("hi")


async def test_bolt_reconnects_after_disconnect_and_after_a_drop(
    slack_sim: SlackSimulator, bolt_app: AsyncApp, socket_handler: AsyncSocketModeHandler
) -> None:
    @bolt_app.event("app_mention")
    async def on_mention() -> None:
        return None

    await socket_handler.connect_async()
    [first] = await slack_sim.wait_for_connections(1)

    await slack_sim.request_refresh()
    await slack_sim.wait_for(
        lambda: len(slack_sim.state.connection_records()) == 2 and len(slack_sim.state.open_connections()) == 1,
        5,
        "the app to replace its connection after `disconnect`",
    )
    # slack_sdk closes the old connection itself, before it even opens the new one (break-before-make).
    assert slack_sim.state.connection_records()[0].close_reason == "client_closed"
    await slack_sim.wait_for_ack(await slack_sim.send_event({"type": "app_mention", "text": "after refresh"}))

    dropped = await slack_sim.drop_connection()
    await slack_sim.wait_for(
        lambda: [c.connection_id for c in slack_sim.state.open_connections()] not in ([], [dropped]),
        5,
        "the app to reconnect after an abrupt drop",
    )
    assert first.connection_id != dropped
    assert [c.close_reason for c in slack_sim.state.connection_records()][:2] == ["client_closed", "dropped"]
    await slack_sim.wait_for_ack(await slack_sim.send_event({"type": "app_mention", "text": "after drop"}))


async def test_assistant_thread_round_trip_with_bolt(
    slack_sim: SlackSimulator, bolt_app: AsyncApp, socket_handler: AsyncSocketModeHandler
) -> None:
    alice = slack_sim.add_user(name="alice")
    context_channel = slack_sim.add_channel("project", members=[alice.id])
    later_channel = slack_sim.add_channel("design", members=[alice.id])
    assistant = AsyncAssistant()
    contexts: asyncio.Queue[Any] = asyncio.Queue()
    feedback: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    @assistant.thread_started
    async def started(say: Any, set_suggested_prompts: Any, set_title: Any) -> None:
        await say("Hi! Ask me anything.")
        await set_suggested_prompts(prompts=[{"title": "Summarize", "message": "Summarize the channel"}])
        await set_title("Alice's questions")

    @assistant.user_message
    async def answer(set_status: Any, get_thread_context: Any, say_stream: Any) -> None:
        await contexts.put(await get_thread_context())
        await set_status(status="is thinking...", loading_messages=["Reading…"])
        streamer = await say_stream(buffer_size=5)
        await streamer.append(markdown_text="The answer is 42.")
        await streamer.stop(blocks=[FEEDBACK_BLOCK])

    @bolt_app.action("answer_feedback")
    async def on_feedback(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await respond(text="Thanks for the feedback!", replace_original=False)
        await feedback.put(body)

    bolt_app.use(assistant)
    await socket_handler.connect_async()

    thread = await slack_sim.start_assistant_thread(alice.id, context_channel=context_channel)
    state = slack_sim.state
    await slack_sim.wait_for(lambda: state.titles(thread.channel_id, thread.thread_ts), 5, "thread title")
    assert state.prompts(thread.channel_id, thread.thread_ts)[0].prompts[0]["title"] == "Summarize"
    [greeting] = state.bot_replies(thread.channel_id, thread.thread_ts)
    assert greeting["metadata"]["event_payload"]["channel_id"] == context_channel

    # Bolt's default context_changed handler re-saves the context into the greeting's metadata (chat.update).
    await slack_sim.wait_for_ack(await slack_sim.change_context(thread, later_channel))
    await slack_sim.wait_for(lambda: state.calls("chat.update"), 5, "the context to be saved")
    updated = state.message(thread.channel_id, greeting["ts"])
    assert updated is not None and updated["metadata"]["event_payload"]["channel_id"] == later_channel

    question = await slack_sim.user_says(thread, "What is the answer?")
    await slack_sim.wait_for_ack(question.envelope_id)
    # The context comes back from the greeting's metadata via conversations.replies.
    assert (await asyncio.wait_for(contexts.get(), timeout=5))["channel_id"] == later_channel
    streams = await slack_sim.wait_for(
        lambda: [s for s in state.stream_records() if s.state == "stopped"], 5, "the streamed answer"
    )
    assert (streams[0].text, streams[0].thread_ts) == ("The answer is 42.", thread.thread_ts)
    statuses = state.statuses(thread.channel_id, thread.thread_ts)
    assert [(s.status, s.cleared_by_reply) for s in statuses] == [("is thinking...", False), ("", True)]
    assert state.current_status(thread.channel_id, thread.thread_ts) == ""
    assert [m["text"] for m in state.thread_messages(thread.channel_id, thread.thread_ts)][1:] == [
        "Hi! Ask me anything.",
        "What is the answer?",
        "The answer is 42.",
    ]

    click = await slack_sim.click_feedback(streams[0].ts, alice.id, "bad")
    await slack_sim.wait_for_ack(click)
    body = await asyncio.wait_for(feedback.get(), timeout=5)
    assert (body["actions"][0]["type"], body["actions"][0]["value"]) == ("feedback_buttons", "bad")
    assert (body["message"]["ts"], body["container"]["thread_ts"]) == (streams[0].ts, thread.thread_ts)
    [response] = await slack_sim.wait_for(state.response_posts, 5, "the response_url post")
    assert (response.response_url, response.body["text"]) == (body["response_url"], "Thanks for the feedback!")
