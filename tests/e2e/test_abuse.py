"""One user flooding the assistant cannot spend the shared model budget or crowd others out."""

import asyncio

from assistant.answer_pipeline import STOPPED_NOTICE, SUPERSEDED_NOTICE
from tests.support.slack_waits import answers_in, feedback_elements, greeted_thread, wait_for_answers

FLOOD_MESSAGES = 100
FLOOD_SECONDS = 10
USER_LIMIT = 10


async def test_a_flood_gets_answers_up_to_the_limit_then_one_clear_notice(slack_sim, upstream, run_bot):
    alice = slack_sim.add_user(name="alice")
    bob = slack_sim.add_user(name="bob")
    await run_bot(RATE_LIMIT_USER_PER_MINUTE=str(USER_LIMIT), RATE_LIMIT_CHANNEL_PER_MINUTE="1000")
    flood_thread = await greeted_thread(slack_sim, alice.id)
    bob_thread = await greeted_thread(slack_sim, bob.id)

    for i in range(FLOOD_MESSAGES):
        await slack_sim.user_says(flood_thread, f"question number {i}")
        if i == FLOOD_MESSAGES // 2:
            await slack_sim.user_says(bob_thread, "Just one question from Bob")
        await asyncio.sleep(FLOOD_SECONDS / FLOOD_MESSAGES)

    [bob_answer] = await wait_for_answers(slack_sim, bob_thread)

    def handled():
        """Each message let through ends one visible way: answered, stopped by the next one
        (a stream or a note), or skipped because a newer one came before it started."""
        replies = slack_sim.state.bot_replies(flood_thread.channel_id, flood_thread.thread_ts)
        notes = [m for m in replies if STOPPED_NOTICE in m.get("text", "") or SUPERSEDED_NOTICE in m.get("text", "")]
        streams = answers_in(slack_sim, flood_thread)
        done = streams and all(s.state == "stopped" for s in streams) and STOPPED_NOTICE not in streams[-1].text
        return (streams, notes) if done and len(streams) + len(notes) >= USER_LIMIT else None

    streams, notes = await slack_sim.wait_for(handled, timeout=20, description="the allowed flood messages handled")
    await asyncio.sleep(1.0)  # room for any wrongly started extra answer to show up
    limit_notices = [
        m["text"] for m in slack_sim.state.bot_replies(flood_thread.channel_id, flood_thread.thread_ts) if "questions per minute" in m.get("text", "")
    ]
    allowed = len(answers_in(slack_sim, flood_thread)) + len(notes)
    # A full bucket, plus what refills at USER_LIMIT per minute while the flood lasts (~10 s).
    assert USER_LIMIT <= allowed <= USER_LIMIT + 2
    assert len(limit_notices) == 1 and "try again in" in limit_notices[0]
    assert feedback_elements(streams[-1]), "the newest allowed message got a whole answer"
    assert bob_answer.state == "stopped" and bob_answer.text
    chat = [r for r in upstream.requests if r.path.endswith("/chat/completions")]
    assert len(chat) <= allowed + 1, "the model was not called over the limit"
