from logging import Logger

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.context.save_thread_context.async_save_thread_context import AsyncSaveThreadContext

from listeners.events.assistant_thread import parse_for_bolt
from listeners._utils.payload_fields import Malformed


async def handle_assistant_context_changed(
    event: dict, save_thread_context: AsyncSaveThreadContext, context: AsyncBoltContext, logger: Logger
) -> None:
    """The user moved to another channel with the assistant open: remember it, say nothing."""
    thread = parse_for_bolt(event, context)
    if isinstance(thread, Malformed):
        logger.warning("Ignoring an assistant_thread_context_changed event: %s", thread)
        return
    if isinstance(thread.context, Malformed):
        # Keep the context saved before rather than overwrite it with a guess.
        logger.warning("Ignoring an assistant_thread_context_changed event: %s", thread.context)
        return
    await save_thread_context(thread.context)
    logger.debug("Thread %s now views %s", thread.thread_ts, thread.context.get("channel_id"))
