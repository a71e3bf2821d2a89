from dataclasses import replace
from logging import Logger

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.context.get_thread_context.async_get_thread_context import AsyncGetThreadContext
from slack_sdk.web.async_client import AsyncWebClient

from assistant.answer_pipeline import Question, answer_question
from assistant.conversation import BotIdentity
from assistant.services import SERVICES_CONTEXT_KEY


def build_question(event: dict, *, team_id: str | None, enterprise_id: str | None, bot_user_id: str | None) -> Question | None:
    """The question in a user's message event, or None for messages that need no answer."""
    text = (event.get("text") or "").strip()
    user = event.get("user")
    if not text or not user or user == bot_user_id or event.get("bot_id"):
        return None
    return Question(
        channel_id=event["channel"],
        thread_ts=event["thread_ts"],
        message_ts=event["ts"],
        user_id=user,
        team_id=event.get("team") or team_id,
        enterprise_id=enterprise_id,
        text=text,
    )


async def handle_assistant_user_message(
    event: dict,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    get_thread_context: AsyncGetThreadContext,
    logger: Logger,
) -> None:
    """A question typed or clicked in an assistant thread: hand it to the answer pipeline."""
    question = build_question(
        event, team_id=context.team_id, enterprise_id=context.enterprise_id, bot_user_id=context.bot_user_id
    )
    if question is None:
        return
    thread_context = await get_thread_context()
    if thread_context is not None:
        question = replace(question, context_channel_id=thread_context.channel_id)
    await answer_question(
        question,
        client=client,
        services=context[SERVICES_CONTEXT_KEY],
        bot=BotIdentity(user_id=context.bot_user_id or "", bot_id=context.bot_id or ""),
        logger=logger,
    )
