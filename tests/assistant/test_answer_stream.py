import asyncio
import logging

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from assistant.answer_stream import AnswerStream

LOGGER = logging.getLogger("test")


@pytest.fixture
def thread(slack_sim):
    alice = slack_sim.add_user(name="alice")
    dm = slack_sim._dm_channel(alice.id)
    return alice, dm.id, slack_sim.add_channel_message(dm.id, alice.id, "question")


def _stream(slack_sim, thread, **options) -> AnswerStream:
    alice, channel, thread_ts = thread
    client = AsyncWebClient(token=slack_sim.workspace.bot_token, base_url=slack_sim.api_url)
    return AnswerStream(
        client,
        channel=channel,
        thread_ts=thread_ts,
        recipient_team_id=slack_sim.workspace.team_id,
        recipient_user_id=alice.id,
        logger=LOGGER,
        **options,
    )


async def test_buffered_text_is_sent_after_a_pause_without_waiting_for_more(slack_sim, thread):
    stream = _stream(slack_sim, thread, flush_interval=0.2)
    await stream.append("first ")
    await stream.append("second")
    assert [c.method for c in slack_sim.state.calls() if "Stream" in c.method] == ["chat.startStream"]
    await slack_sim.wait_for(lambda: slack_sim.state.calls("chat.appendStream") or None, timeout=2)
    assert slack_sim.state.stream(stream.message_ts[0]).text == "first second"
    await stream.finish(blocks=None)
    assert slack_sim.state.stream(stream.message_ts[0]).state == "stopped"


async def test_abort_before_any_text_posts_the_notice(slack_sim, thread):
    stream = _stream(slack_sim, thread)
    await stream.abort("Sorry!")
    [post] = slack_sim.state.calls("chat.postMessage")
    assert post.params["text"] == "Sorry!" and post.params["thread_ts"] == thread[2]
    assert slack_sim.state.calls("chat.startStream") == []


async def test_abort_after_text_appends_unsent_text_and_the_notice(slack_sim, thread):
    stream = _stream(slack_sim, thread, flush_interval=60)
    await stream.append("shown ")
    await stream.append("not yet shown")
    await stream.abort("Sorry!")
    record = slack_sim.state.stream(stream.message_ts[0])
    assert record.state == "stopped" and record.text == "shown not yet shown\n\nSorry!"


async def test_abort_edits_the_message_when_the_stream_is_gone(slack_sim, thread):
    stream = _stream(slack_sim, thread, flush_interval=60)
    await stream.append("shown ")
    await stream.append("pending")
    slack_sim.expire_stream(stream.message_ts[0])
    await stream.abort("Sorry!")
    assert slack_sim.state.calls("chat.postMessage") == []
    assert slack_sim.state.message(thread[1], stream.message_ts[0])["text"] == "shown pending\n\nSorry!"


async def test_abort_posts_the_notice_when_the_message_cannot_be_ended(slack_sim, thread):
    stream = _stream(slack_sim, thread, flush_interval=60)
    await stream.append("shown ")
    await stream.append("pending")
    slack_sim.fail_next("chat.stopStream", 1, error="internal_error", status=200)
    await stream.abort("Sorry!")
    [post] = slack_sim.state.calls("chat.postMessage")
    assert post.params["text"] == "pending\n\nSorry!"
    assert slack_sim.state.stream(stream.message_ts[0]).state == "stopped", "the stream is not left open"


async def test_an_expired_stream_continues_by_editing_with_every_character_and_the_buttons(slack_sim, thread):
    stream = _stream(slack_sim, thread, flush_interval=0.01)
    await stream.append("first part, ")
    slack_sim.expire_stream(stream.message_ts[0])
    await asyncio.sleep(0.05)
    await stream.append("second part, ")
    await asyncio.sleep(0.05)
    await stream.append("the end.")
    await stream.finish(blocks=[{"type": "divider"}])
    message = slack_sim.state.message(thread[1], stream.message_ts[0])
    assert message["text"] == "first part, second part, the end."
    assert [b["type"] for b in message["blocks"]] == ["markdown", "divider"]
    assert not stream.streaming and slack_sim.state.calls("chat.update")


async def test_when_streaming_is_refused_the_answer_is_posted_and_edited(slack_sim, thread):
    slack_sim.fail_next("chat.startStream", 1, error="not_allowed", status=200)
    stream = _stream(slack_sim, thread, flush_interval=0.01)
    await stream.append("Hello ")
    await asyncio.sleep(0.05)
    await stream.append("world.")
    await stream.finish(blocks=[{"type": "divider"}])
    [ts] = stream.message_ts
    message = slack_sim.state.message(thread[1], ts)
    assert message["text"] == "Hello world." and message["blocks"][-1]["type"] == "divider"
    assert slack_sim.state.calls("chat.appendStream") == []


async def test_finish_needs_an_answer(slack_sim, thread):
    with pytest.raises(ValueError):
        await _stream(slack_sim, thread).finish()


async def test_a_failed_background_flush_is_raised_to_the_caller(slack_sim, thread):
    stream = _stream(slack_sim, thread, flush_interval=0.1)
    await stream.append("first ")
    slack_sim.fail_next("chat.appendStream", 1, error="channel_not_found", status=200)
    await stream.append("second")
    await asyncio.sleep(0.4)
    with pytest.raises(SlackApiError):
        await stream.finish()


async def test_abort_during_a_slow_background_flush_waits_for_it_and_closes_the_stream(slack_sim, thread):
    stream = _stream(slack_sim, thread, flush_interval=0.05)
    await stream.append("first ")
    slack_sim.delay_next("chat.appendStream", 1, 0.5)
    await stream.append("second ")
    await slack_sim.wait_for(lambda: slack_sim.state.calls("chat.appendStream") or None, timeout=2)
    await stream.abort("Sorry!")
    record = slack_sim.state.stream(stream.message_ts[0])
    assert record.state == "stopped"
    assert record.text == "first second \n\nSorry!"
    assert slack_sim.state.calls("chat.postMessage") == []


async def test_text_of_a_failed_background_flush_is_not_lost(slack_sim, thread):
    stream = _stream(slack_sim, thread, flush_interval=0.05)
    await stream.append("shown ")
    slack_sim.fail_next("chat.appendStream", 1, error="internal_error", status=200)
    await stream.append("lost? ")
    await asyncio.sleep(0.3)
    with pytest.raises(SlackApiError):
        await stream.append("more")
    await stream.abort("Sorry!")
    record = slack_sim.state.stream(stream.message_ts[0])
    assert record.text == "shown lost? more\n\nSorry!"


async def test_rate_limited_appends_are_held_and_sent_later_without_loss(slack_sim, thread):
    stream = _stream(slack_sim, thread, flush_interval=0.05)
    slack_sim.fail_next("chat.appendStream", 3, error="ratelimited", status=429, retry_after=1)
    pieces = [f"piece{i} " for i in range(30)]
    await stream.append(pieces[0])
    for piece in pieces[1:]:
        await stream.append(piece)
        await asyncio.sleep(0.01)
    await stream.finish()
    record = slack_sim.state.stream(stream.message_ts[0])
    assert record.state == "stopped" and record.text == "".join(pieces)
    assert any(not c.ok for c in slack_sim.state.calls("chat.appendStream")), "the limit was hit"
