"""Bounded waits for what the assistant does in a simulated assistant thread."""

import dataclasses

from assistant.conversation import GREETING_EVENT


def answers_in(sim, thread):
    return [r for r in sim.state.stream_records() if r.channel == thread.channel_id and r.thread_ts == thread.thread_ts]


async def wait_for_answers(sim, thread, count: int = 1):
    """The thread's streamed messages once `count` of them exist and all are stopped."""

    def finished():
        records = answers_in(sim, thread)
        return records if len(records) >= count and all(r.state == "stopped" for r in records) else None

    return await sim.wait_for(finished, timeout=10, description=f"{count} stopped answer stream(s)")


async def wait_for_notice(sim, thread):
    def notice():
        return [
            m
            for m in sim.state.bot_replies(thread.channel_id, thread.thread_ts)
            if (m.get("metadata") or {}).get("event_type") == "assistant_notice"
        ] or None

    return (await sim.wait_for(notice, timeout=10, description="a failure notice"))[-1]


def feedback_elements(record):
    return [e for block in record.blocks if block["type"] == "context_actions" for e in block["elements"]]


async def greeted_thread(sim, user_id, context_channel=None):
    thread = await sim.start_assistant_thread(user_id, context_channel=context_channel)
    await sim.wait_for(lambda: sim.state.bot_replies(thread.channel_id, thread.thread_ts))
    return thread


async def unannounced_thread(sim, user_id):
    """A thread in the user's assistant DM whose start the bot never saw (opened before this
    store existed, or on another deployment): its memory must come from Slack."""
    greeted = await greeted_thread(sim, user_id)
    root_ts = sim.add_channel_message(greeted.channel_id, user_id, "An older conversation")
    return dataclasses.replace(greeted, thread_ts=root_ts)


async def wait_for_explicit_status_clear(sim, thread):
    """Until the bot itself set the status to "" (Slack's own clear-on-reply does not count)."""

    def cleared():
        explicit = [s for s in sim.state.statuses(thread.channel_id, thread.thread_ts) if not s.cleared_by_reply]
        return explicit[-1] if explicit and explicit[-1].status == "" else None

    return await sim.wait_for(cleared, timeout=10, description="the bot clearing the status")


def final_answer(slack_sim, thread) -> str | None:
    """The thread's answer once it is complete (its last reply carries the feedback buttons)."""
    replies = [
        m
        for m in slack_sim.state.bot_replies(thread.channel_id, thread.thread_ts)
        if (m.get("metadata") or {}).get("event_type") != GREETING_EVENT
    ]
    done = replies and any(b.get("type") == "context_actions" for b in replies[-1].get("blocks") or [])
    return replies[-1]["text"] if done else None
