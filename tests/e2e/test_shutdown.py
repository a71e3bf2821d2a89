"""SIGTERM with answers under way: stop taking events, finish within the grace period, else end
the answer with a short note; always exit 0."""

from tests.support.fake_openai import Reply
from tests.support.slack_waits import answers_in, greeted_thread, wait_for_answers, wait_for_explicit_status_clear


async def _answer_under_way(slack_sim, thread):
    await slack_sim.wait_for(lambda: answers_in(slack_sim, thread) or None, description="the answer to start streaming")


async def test_an_answer_under_way_finishes_within_the_grace_period(slack_sim, upstream, run_bot):
    alice = slack_sim.add_user(name="alice")
    text = " ".join(f"w{i}" for i in range(40))
    upstream.enqueue(Reply(text=text, token_delay=0.05))
    bot = await run_bot(SHUTDOWN_GRACE_SECONDS="15")
    thread = await greeted_thread(slack_sim, alice.id)
    await slack_sim.user_says(thread, "A slow one")
    await _answer_under_way(slack_sim, thread)
    assert await bot.terminate(timeout=30) == 0
    [answer] = await wait_for_answers(slack_sim, thread)
    assert answer.text == text
    assert not slack_sim.state.open_connections(), "no more events are taken"


async def test_past_the_grace_period_the_answer_ends_with_a_note(slack_sim, upstream, run_bot):
    alice = slack_sim.add_user(name="alice")
    upstream.enqueue(Reply(text=" ".join(f"w{i}" for i in range(200)), token_delay=0.1))
    bot = await run_bot(SHUTDOWN_GRACE_SECONDS="1")
    thread = await greeted_thread(slack_sim, alice.id)
    await slack_sim.user_says(thread, "A very slow one")
    await _answer_under_way(slack_sim, thread)
    assert await bot.terminate(timeout=30) == 0
    [answer] = await wait_for_answers(slack_sim, thread)
    await wait_for_explicit_status_clear(slack_sim, thread)
    shown, _, note = answer.text.partition("\n\n")
    assert shown.startswith("w0 w1") and "interrupted" in note
