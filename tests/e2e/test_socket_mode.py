"""Socket Mode as Slack really behaves: refreshes, dropped connections, redeliveries and several
users at once, with the real app.py process."""

import asyncio

import pytest

from tests.support.fake_openai import Reply
from tests.support.slack_waits import answers_in, greeted_thread, wait_for_answers

RECONNECT_TIMEOUT_SECONDS = 60
# Slack redelivers an envelope that is not acknowledged within 3 seconds; a protocol bound, not
# a speed target: the answer itself takes longer than the acknowledgement.
SLACK_ACK_DEADLINE_SECONDS = 3.0


async def _reconnected(slack_sim, old_connection_id):
    def new_connection():
        return [c for c in slack_sim.state.open_connections() if c.connection_id != old_connection_id] or None

    return await slack_sim.wait_for(new_connection, timeout=RECONNECT_TIMEOUT_SECONDS, description="a new connection")


@pytest.mark.parametrize("interruption", ["refresh_requested", "abrupt_drop"])
async def test_after_the_connection_is_interrupted_the_next_message_is_answered(slack_sim, upstream, run_bot, interruption):
    alice = slack_sim.add_user(name="alice")
    upstream.enqueue(Reply(text=f"Still here after the {interruption}."))
    await run_bot()
    thread = await greeted_thread(slack_sim, alice.id)
    old = await (slack_sim.request_refresh() if interruption == "refresh_requested" else slack_sim.drop_connection())
    await _reconnected(slack_sim, old)
    await slack_sim.user_says(thread, "Are you there?")
    [answer] = await wait_for_answers(slack_sim, thread)
    assert answer.text == f"Still here after the {interruption}."


async def test_a_redelivered_envelope_is_answered_once(slack_sim, upstream, run_bot):
    alice = slack_sim.add_user(name="alice")
    upstream.enqueue(Reply(text="Answered once.", token_delay=0.05), Reply(text="Answered twice!"))
    bot = await run_bot()
    thread = await greeted_thread(slack_sim, alice.id)
    sent = await slack_sim.user_says(thread, "Once, please")
    retry = await slack_sim.redeliver(sent.envelope_id, reason="timeout")
    assert slack_sim.state.envelope(retry).retry_attempt == 1
    await slack_sim.wait_for_ack(retry)
    [answer] = await wait_for_answers(slack_sim, thread)
    await asyncio.sleep(1.0)  # room for a wrongly started second answer to show up
    assert [a.text for a in answers_in(slack_sim, thread)] == ["Answered once."]
    assert len([r for r in upstream.requests if r.path.endswith("/chat/completions")]) == 1
    await bot.wait_for_log("repeated delivery")


async def test_two_users_at_once_each_get_their_own_answer(slack_sim, upstream, run_bot):
    alice = slack_sim.add_user(name="alice")
    bob = slack_sim.add_user(name="bob")
    upstream.enqueue(
        Reply(text="Alice, here is your answer.", token_delay=0.03, when_last_user_says="alice asks"),
        Reply(text="Bob, here is yours.", token_delay=0.03, when_last_user_says="bob asks"),
    )
    await run_bot()
    threads = await asyncio.gather(greeted_thread(slack_sim, alice.id), greeted_thread(slack_sim, bob.id))
    sent = await asyncio.gather(slack_sim.user_says(threads[0], "alice asks"), slack_sim.user_says(threads[1], "bob asks"))
    answers = await asyncio.gather(*(wait_for_answers(slack_sim, t) for t in threads))
    for message, [answer] in zip(sent, answers):
        acked = await slack_sim.wait_for_ack(message.envelope_id)
        assert acked.ack_latency < SLACK_ACK_DEADLINE_SECONDS
        assert acked.acked_at < answer.stopped_at, "acknowledged before answering, not after"
    assert [a[0].text for a in answers] == ["Alice, here is your answer.", "Bob, here is yours."]
    starts = {c.params["recipient_user_id"] for c in slack_sim.state.calls("chat.startStream")}
    assert starts == {alice.id, bob.id}
