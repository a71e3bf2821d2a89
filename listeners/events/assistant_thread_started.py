from logging import Logger

from slack_bolt.async_app import AsyncBoltContext, AsyncSay, AsyncSetSuggestedPrompts
from slack_bolt.context.save_thread_context.async_save_thread_context import AsyncSaveThreadContext

from assistant.conversation import GREETING_EVENT
from assistant.services import SERVICES_CONTEXT_KEY, Services


async def handle_assistant_thread_started(
    event: dict,
    say: AsyncSay,
    set_suggested_prompts: AsyncSetSuggestedPrompts,
    save_thread_context: AsyncSaveThreadContext,
    context: AsyncBoltContext,
    logger: Logger,
) -> None:
    """Greet a new assistant thread, offer the configured prompts, remember what the user views."""
    services: Services = context[SERVICES_CONTEXT_KEY]
    thread_context = event["assistant_thread"].get("context") or {}
    if thread_context.get("channel_id"):
        await save_thread_context(thread_context)
    await say(text=services.settings.greeting, metadata={"event_type": GREETING_EVENT, "event_payload": {}})
    await set_suggested_prompts(
        prompts=[prompt.as_slack() for prompt in services.settings.suggested_prompts],
        title="Try one of these:",
    )
