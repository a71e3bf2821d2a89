import pytest
from slack_sdk.web.async_client import AsyncWebClient

from assistant.slack_retries import build_retry_handlers


@pytest.fixture
def dm_thread(slack_sim):
    """A client with the bot's retry policy, and a thread in a DM to act in."""
    alice = slack_sim.add_user(name="alice")
    dm = slack_sim._dm_channel(alice.id)
    ts = slack_sim.add_channel_message(dm.id, alice.id, "question")
    client = AsyncWebClient(token=slack_sim.workspace.bot_token, base_url=slack_sim.api_url, retry_handlers=build_retry_handlers())
    return client, dm.id, ts


async def test_server_errors_are_retried_for_calls_that_add_no_text(slack_sim, dm_thread):
    client, channel, ts = dm_thread
    slack_sim.fail_next("assistant.threads.setStatus", 1, error="internal_error", status=500)
    await client.assistant_threads_setStatus(channel_id=channel, thread_ts=ts, status="is thinking…")
    assert [c.ok for c in slack_sim.state.calls("assistant.threads.setStatus")] == [False, True]


async def test_calls_that_add_text_are_not_resent_after_a_server_error(slack_sim, dm_thread):
    client, channel, ts = dm_thread
    slack_sim.fail_next("chat.postMessage", 1, error="internal_error", status=500)
    with pytest.raises(Exception):
        await client.chat_postMessage(channel=channel, thread_ts=ts, text="once")
    assert len(slack_sim.state.calls("chat.postMessage")) == 1


async def test_rate_limits_are_retried_after_retry_after(slack_sim, dm_thread):
    client, channel, ts = dm_thread
    slack_sim.fail_next("chat.postMessage", 1, error="ratelimited", status=429, retry_after=1)
    await client.chat_postMessage(channel=channel, thread_ts=ts, text="after the limit")
    calls = slack_sim.state.calls("chat.postMessage")
    assert [c.ok for c in calls] == [False, True] and calls[1].at - calls[0].at >= 1.0
