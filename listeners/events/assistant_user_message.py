from logging import Logger
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from assistant.answer_pipeline import Question, answer_question
from assistant.conversation import BotIdentity
from assistant.services import SERVICES_CONTEXT_KEY, Services
from listeners._utils.payload_fields import (
    Malformed,
    as_id,
    encodable,
    has_visible_text,
    optional_id,
    read_id,
    read_object,
    read_optional_str,
    read_ts,
)


def parse_question(
    event: Any, *, team_id: str | None, enterprise_id: str | None, bot_user_id: str | None
) -> Question | Malformed | None:
    """The question in a user's message event; None for messages that need no answer; Malformed
    when a field the answer needs is missing or has the wrong type."""
    event = read_object(event, "event")
    if isinstance(event, Malformed):
        return event
    # Answering a bot (this one included) is how reply loops start, and a message with another
    # subtype (edits, deletions, ones Slack adds later) is not a question typed in the thread. A
    # file shared with a comment is: its text is answered (the file itself is not read).
    if event.get("bot_id") is not None or event.get("subtype") not in (None, "file_share"):
        return None
    user = read_id(event, "user", "event.user")
    if isinstance(user, Malformed):
        return user
    if user == bot_user_id:
        return None
    text = read_optional_str(event, "text", "event.text")
    if isinstance(text, Malformed):
        return text
    if text is None or not has_visible_text(text):
        return None  # e.g. an attachment-only message: nothing to answer, nothing wrong
    channel_id = read_id(event, "channel", "event.channel")
    thread_ts = read_ts(event, "thread_ts", "event.thread_ts")
    message_ts = read_ts(event, "ts", "event.ts")
    for value in (channel_id, thread_ts, message_ts):
        if isinstance(value, Malformed):
            return value
    if not channel_id.startswith("D"):
        # Assistant threads live in the user's DM with the app; Bolt routes only `im` messages here.
        return Malformed("event.channel", "is not a direct-message channel")
    return Question(
        channel_id=channel_id,
        thread_ts=thread_ts,
        message_ts=message_ts,
        user_id=user,
        team_id=optional_id(event, "team") or as_id(team_id),
        enterprise_id=as_id(enterprise_id),
        # Only the ends are trimmed: mentions (<@U…>), channel links (<#C…|name>) and URLs
        # (<https://…|label>) reach the model exactly as Slack sent them. Lone surrogates (which
        # JSON can carry but UTF-8 cannot) become U+FFFD so the text can be sent on at all.
        text=encodable(text.strip()),
    )


def build_question(event: Any, *, team_id: str | None, enterprise_id: str | None, bot_user_id: str | None) -> Question | None:
    """The question in a user's message event, or None for messages that need no answer or are malformed."""
    question = parse_question(event, team_id=team_id, enterprise_id=enterprise_id, bot_user_id=bot_user_id)
    return question if isinstance(question, Question) else None


async def handle_assistant_user_message(
    event: dict,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    logger: Logger,
) -> None:
    """A question typed or clicked in an assistant thread: hand it to the answer pipeline."""
    question = parse_question(
        event, team_id=context.team_id, enterprise_id=context.enterprise_id, bot_user_id=context.bot_user_id
    )
    if isinstance(question, Malformed):
        logger.warning("Ignoring a message event in an assistant thread: %s", question)
        return
    if question is None:
        return
    services: Services = context[SERVICES_CONTEXT_KEY]
    await answer_question(
        question,
        client=client,
        services=services,
        bot=BotIdentity(user_id=context.bot_user_id or "", bot_id=context.bot_id or ""),
        logger=logger,
    )
