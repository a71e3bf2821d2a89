import asyncio
import logging

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from assistant.answer_stream import AnswerStream
from assistant.slack_budget import MethodRate, SlackBudget

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


def _budget(**per_minute: float) -> SlackBudget:
    """Published tiers, with single methods' rates replaced (`chat_update=50` → chat.update)."""
    return SlackBudget.from_overrides({m.replace("_", ".", 1): MethodRate(r, 1) for m, r in per_minute.items()})


async def test_an_answer_streams_while_its_closing_call_is_affordable_and_releases_the_promise(slack_sim, thread):
    budget = _budget()
    stream = _stream(slack_sim, thread, budget=budget)
    await stream.append("Hello")
    assert stream.streaming and not budget.can_promise("chat.stopStream", 0)
    await stream.finish()
    assert budget.can_promise("chat.stopStream", 0), "the promise ends with the answer"


async def test_when_closing_streams_are_all_promised_the_answer_is_posted_and_edited(slack_sim, thread):
    budget = _budget(chat_stopStream=6)  # one call every 10 s / 0.9: no second one within 10 s
    budget.promise("chat.stopStream")
    stream = _stream(slack_sim, thread, budget=budget, flush_interval=0.01)
    await stream.append("Hello ")
    await stream.append("world.")
    await stream.finish(blocks=[{"type": "divider"}])
    assert not stream.streaming and slack_sim.state.calls("chat.startStream") == []
    [ts] = stream.message_ts
    assert slack_sim.state.message(thread[1], ts)["text"] == "Hello world."
    assert slack_sim.state.calls("chat.update"), "posted early, edited to its end"


async def test_when_no_closing_call_is_affordable_the_answer_is_posted_whole_when_done(slack_sim, thread):
    budget = _budget(chat_stopStream=6, chat_update=6)
    budget.promise("chat.stopStream")
    budget.promise("chat.update")
    stream = _stream(slack_sim, thread, budget=budget, max_message_chars=20)
    words = [f"word{i} " for i in range(8)]
    for word in words:
        await stream.append(word)
    assert stream.whole and slack_sim.state.calls("chat.postMessage") == [], "nothing shown while written"
    await stream.finish(blocks=[{"type": "divider"}])
    messages = [slack_sim.state.message(thread[1], ts) for ts in stream.message_ts]
    assert "".join(m["text"] for m in messages) == "".join(words) and len(messages) == 3
    assert [m["blocks"][-1]["type"] for m in messages] == ["markdown", "markdown", "divider"]
    assert {c.method for c in slack_sim.state.calls()} == {"chat.postMessage"}
    assert budget.can_promise("chat.update", 10) is False, "another answer's promise is kept"


async def test_a_whole_answer_stopped_midway_delivers_its_text_with_the_notice(slack_sim, thread):
    budget = _budget(chat_stopStream=6, chat_update=6)
    budget.promise("chat.stopStream")
    budget.promise("chat.update")
    stream = _stream(slack_sim, thread, budget=budget)
    await stream.append("half an answer")
    await stream.abort("Stopped.")
    [post] = slack_sim.state.calls("chat.postMessage")
    assert post.params["text"] == "half an answer\n\nStopped."
