from logging import Logger

from slack_bolt.async_app import AsyncBoltContext, AsyncSay, AsyncSetSuggestedPrompts
from slack_bolt.context.save_thread_context.async_save_thread_context import AsyncSaveThreadContext
from slack_sdk.errors import SlackApiError

from assistant.answer_pipeline import remember_new_thread, thread_key
from assistant.conversation import GREETING_EVENT
from assistant.paced_client import SkippedUnderLoad
from assistant.services import SERVICES_CONTEXT_KEY, Services
from listeners.events.assistant_thread import parse_for_bolt
from listeners._utils.payload_fields import Malformed, as_id


async def handle_assistant_thread_started(
    event: dict,
    say: AsyncSay,
    set_suggested_prompts: AsyncSetSuggestedPrompts,
    save_thread_context: AsyncSaveThreadContext,
    context: AsyncBoltContext,
    logger: Logger,
) -> None:
    """Greet a new assistant thread, offer the configured prompts, remember what the user views."""
    thread = parse_for_bolt(event, context)
    if isinstance(thread, Malformed):
        logger.warning("Ignoring an assistant_thread_started event: %s", thread)
        return
    services: Services = context[SERVICES_CONTEXT_KEY]
    if isinstance(thread.context, Malformed):
        # The greeting does not depend on the context: greet anyway, just remember nothing.
        logger.warning("Not saving the context of assistant_thread_started: %s", thread.context)
    elif thread.context.get("channel_id"):
        await save_thread_context(thread.context)
    team_id = as_id(context.team_id) or as_id(context.enterprise_id)
    await remember_new_thread(services, thread_key(team_id, thread.channel_id, thread.thread_ts), logger)
    try:
        await say(text=services.settings.greeting, metadata={"event_type": GREETING_EVENT, "event_payload": {}})
        await set_suggested_prompts(
            prompts=[prompt.as_slack() for prompt in services.settings.suggested_prompts],
            title="Try one of these:",
        )
    except SkippedUnderLoad as exc:
        logger.info("Greeted assistant thread %s without prompts: %s", thread.thread_ts, exc)
    except SlackApiError as exc:
        # E.g. the thread is gone (channel_not_found) or still rate-limited after the client's
        # retries: nothing to answer, so one line instead of a traceback.
        logger.warning("Could not greet assistant thread %s: %s", thread.thread_ts, exc.response.get("error"))
