from slack_sdk.web.async_client import AsyncWebClient

from assistant.slack_retries import build_retry_handlers


async def _client(slack_sim):
    return AsyncWebClient(token=slack_sim.workspace.bot_token, base_url=slack_sim.api_url, retry_handlers=build_retry_handlers())


async def test_server_errors_are_retried_for_calls_that_add_no_text(slack_sim):
    alice = slack_sim.add_user(name="alice")
    dm = slack_sim._dm_channel(alice.id)
    ts = slack_sim.add_channel_message(dm.id, alice.id, "question")
    client = await _client(slack_sim)
    slack_sim.fail_next("assistant.threads.setStatus", 1, error="internal_error", status=500)
    await client.assistant_threads_setStatus(channel_id=dm.id, thread_ts=ts, status="is thinking…")
    assert [c.ok for c in slack_sim.state.calls("assistant.threads.setStatus")] == [False, True]


async def test_calls_that_add_text_are_not_resent_after_a_server_error(slack_sim):
    alice = slack_sim.add_user(name="alice")
    dm = slack_sim._dm_channel(alice.id)
    ts = slack_sim.add_channel_message(dm.id, alice.id, "question")
    client = await _client(slack_sim)
    slack_sim.fail_next("chat.postMessage", 1, error="internal_error", status=500)
    try:
        await client.chat_postMessage(channel=dm.id, thread_ts=ts, text="once")
    except Exception:
        pass
    assert len(slack_sim.state.calls("chat.postMessage")) == 1


async def test_rate_limits_are_retried_after_retry_after(slack_sim):
    alice = slack_sim.add_user(name="alice")
    dm = slack_sim._dm_channel(alice.id)
    ts = slack_sim.add_channel_message(dm.id, alice.id, "question")
    client = await _client(slack_sim)
    slack_sim.fail_next("chat.postMessage", 1, error="ratelimited", status=429, retry_after=1)
    await client.chat_postMessage(channel=dm.id, thread_ts=ts, text="after the limit")
    calls = slack_sim.state.calls("chat.postMessage")
    assert [c.ok for c in calls] == [False, True] and calls[1].at - calls[0].at >= 1.0
