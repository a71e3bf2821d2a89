from logging import Logger

from slack_bolt.context.save_thread_context.async_save_thread_context import AsyncSaveThreadContext


async def handle_assistant_context_changed(event: dict, save_thread_context: AsyncSaveThreadContext, logger: Logger) -> None:
    """The user moved to another channel with the assistant open: remember it, say nothing."""
    new_context = event["assistant_thread"].get("context") or {}
    await save_thread_context(new_context)
    logger.debug("Thread %s now views %s", event["assistant_thread"].get("thread_ts"), new_context.get("channel_id"))
