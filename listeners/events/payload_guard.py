"""A global middleware that acknowledges events Bolt's own routing would raise on.

Before any listener runs, Bolt's assistant middleware inspects the event without type checks:
it builds its say / save_thread_context helpers from `event["assistant_thread"]` (a ValueError
quoting the whole payload when channel_id or thread_ts is missing there), and calls `.get` on a
message event's `message`, `previous_message` and `assistant_thread`. Each such failure is logged
at ERROR with a traceback and the event is not acknowledged, so Slack redelivers it three times.
None of these events could be answered or remembered anyway: log one line naming the field and
acknowledge them.
"""

from collections.abc import Awaitable, Callable
from logging import Logger
from typing import Any

from slack_bolt.response import BoltResponse

from listeners.events.assistant_thread import parse_assistant_thread
from listeners._utils.payload_fields import Malformed, read_id, read_object

ASSISTANT_THREAD_EVENTS = ("assistant_thread_started", "assistant_thread_context_changed")
# Objects Bolt reads from a message event with `.get`.
_MESSAGE_OBJECTS = ("message", "previous_message", "assistant_thread")


def unroutable(event: dict[str, Any]) -> Malformed | None:
    """Why Bolt would raise on this event before reaching a listener, or None."""
    if event.get("type") in ASSISTANT_THREAD_EVENTS:
        thread = parse_assistant_thread(event)
        return thread if isinstance(thread, Malformed) else None
    if event.get("type") == "message":
        channel = read_id(event, "channel", "event.channel")
        if isinstance(channel, Malformed):
            return channel
        for key in _MESSAGE_OBJECTS:
            if event.get(key) is not None and isinstance(problem := read_object(event[key], f"event.{key}"), Malformed):
                return problem
    return None


async def ignore_unroutable_events(
    body: dict[str, Any], logger: Logger, next: Callable[[], Awaitable[None]]
) -> BoltResponse | None:
    event = body.get("event") if body.get("type") == "event_callback" else None
    problem = unroutable(event) if isinstance(event, dict) else None
    if problem is not None:
        logger.warning("Ignoring an unusable %s event: %s", event.get("type"), problem)
        return BoltResponse(status=200, body="")
    await next()
    return None
