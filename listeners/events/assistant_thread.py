"""What the thread-started and context-changed listeners read from `event["assistant_thread"]`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncBoltContext

from listeners._utils.payload_fields import Malformed, read_id, read_object, read_optional_id, read_ts

# The keys of Bolt's AssistantThreadContext. Other keys are dropped: the store persists what it is
# given and nothing reads them back.
CONTEXT_KEYS = ("channel_id", "team_id", "enterprise_id")


@dataclass(frozen=True)
class AssistantThread:
    channel_id: str
    thread_ts: str
    # What the user is viewing ({} for nothing: a thread opened outside any channel), or why the
    # `context` field is unusable; the thread itself is still usable then.
    context: dict[str, str] | Malformed


def parse_assistant_thread(event: Any) -> AssistantThread | Malformed:
    event = read_object(event, "event")
    if isinstance(event, Malformed):
        return event
    thread = read_object(event.get("assistant_thread"), "assistant_thread")
    if isinstance(thread, Malformed):
        return thread
    channel_id = read_id(thread, "channel_id", "assistant_thread.channel_id")
    if isinstance(channel_id, Malformed):
        return channel_id
    thread_ts = read_ts(thread, "thread_ts", "assistant_thread.thread_ts")
    if isinstance(thread_ts, Malformed):
        return thread_ts
    return AssistantThread(channel_id, thread_ts, _read_context(thread.get("context")))


def _read_context(value: Any) -> dict[str, str] | Malformed:
    if value is None:
        return {}
    context = read_object(value, "assistant_thread.context")
    if isinstance(context, Malformed):
        return context
    kept: dict[str, str] = {}
    for key in CONTEXT_KEYS:
        item = read_optional_id(context, key, f"assistant_thread.context.{key}")
        if isinstance(item, Malformed):
            return item
        if item:
            kept[key] = item
    return kept


def parse_for_bolt(event: Any, context: AsyncBoltContext) -> AssistantThread | Malformed:
    """The thread, provided Bolt's helpers target the same one.

    Bolt's say / save_thread_context / set_suggested_prompts act on the channel and thread Bolt
    found in the event, and it looks at top-level `channel` / `thread_ts` before
    `assistant_thread`: acting on a payload where the two disagree could post into, or overwrite
    the context of, another thread.
    """
    thread = parse_assistant_thread(event)
    if isinstance(thread, AssistantThread) and (context.channel_id, context.thread_ts) != (thread.channel_id, thread.thread_ts):
        return Malformed("event.channel/thread_ts", "disagree with assistant_thread")
    return thread


def build_assistant_thread(event: Any) -> AssistantThread | None:
    thread = parse_assistant_thread(event)
    return thread if isinstance(thread, AssistantThread) else None


def build_thread_context(event: Any) -> dict[str, str] | None:
    """The context to store for the thread, or None when the thread or its context is unusable."""
    thread = build_assistant_thread(event)
    return thread.context if thread is not None and not isinstance(thread.context, Malformed) else None
