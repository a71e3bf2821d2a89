"""A restart keeps what the bot knows: the thread's memory and the feedback votes live in the
state store (SQLite under DATA_DIR by default), not in the process, and the restarted bot does not
rebuild the memory from Slack."""

import sqlite3
import time

from tests.support.fake_openai import Reply
from tests.support.slack_waits import answers_in, feedback_elements, greeted_thread


def _chat_requests(upstream):
    return [r.json for r in upstream.requests if r.path.endswith("/chat/completions")]


def _votes(data_dir):
    with sqlite3.connect(data_dir / "assistant.sqlite3") as db:
        return db.execute("SELECT user_id, message_ts, positive, model FROM feedback").fetchall()


async def _answers(slack_sim, thread, count):
    def finished():
        records = sorted(answers_in(slack_sim, thread), key=lambda r: r.started_at)
        return records if len(records) >= count and all(r.state == "stopped" for r in records) else None

    return await slack_sim.wait_for(finished, timeout=15, description=f"{count} stopped answer stream(s)")


async def test_memory_and_votes_survive_a_restart(slack_sim, upstream, run_bot, tmp_path):
    alice = slack_sim.add_user(name="alice")
    data_dir = tmp_path / "kept-data"
    question, reply = "What is the capital of France?", "Paris."
    follow_up, follow_up_reply = "And how many people live there?", "About 2.1 million."
    upstream.enqueue(
        Reply(text=reply, when_last_user_says=question), Reply(text=follow_up_reply, when_last_user_says=follow_up)
    )

    first = await run_bot(DATA_DIR=str(data_dir))
    thread = await greeted_thread(slack_sim, alice.id)
    await slack_sim.user_says(thread, question)
    [answer] = await _answers(slack_sim, thread, 1)
    await first.wait_for_log("Answered thread=")
    [buttons] = feedback_elements(answer)
    await slack_sim.wait_for_ack(await slack_sim.click_feedback(answer.ts, alice.id, buttons["negative_button"]["value"]))
    await slack_sim.wait_for(lambda: slack_sim.state.ephemeral_messages() or None, description="the thanks for the vote")
    assert await first.terminate() == 0
    replies_before = len(slack_sim.state.calls("conversations.replies"))
    restarted_at = time.monotonic()

    second = await run_bot(DATA_DIR=str(data_dir))
    assert second.connection_id != first.connection_id
    await slack_sim.user_says(thread, follow_up)
    answers = await _answers(slack_sim, thread, 2)
    await second.wait_for_log("Answered thread=")

    assert [a.text for a in answers] == [reply, follow_up_reply]
    [request] = [r for r in _chat_requests(upstream) if r["messages"][-1]["content"] == follow_up]
    assert request["messages"][1:] == [
        {"role": "user", "content": question},
        {"role": "assistant", "content": reply},
        {"role": "user", "content": follow_up},
    ]
    # Memory came from the store: the first run read the (new) thread from Slack once, the
    # restarted one not at all.
    # (A thread the bot saw starting is not read from Slack at all, before or after.)
    after = [c for c in slack_sim.state.calls("conversations.replies") if c.at >= restarted_at]
    assert after == [], f"the restarted bot read the thread from Slack: {after}"
    assert "Rebuilt the memory" not in second.log()
    assert "history_items=2" in second.log()

    assert await second.terminate() == 0
    assert _votes(data_dir) == [(alice.id, answer.ts, 0, "openai/gpt-4")]
    print(
        f"RESTART: follow-up after restart saw {len(request['messages']) - 2} earlier items from the store; "
        f"conversations.replies calls: {replies_before} before restart, {len(after)} after; vote kept: {_votes(data_dir)}"
    )
