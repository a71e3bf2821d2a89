from logging import Logger
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from assistant.blocks import parse_feedback_value
from assistant.services import SERVICES_CONTEXT_KEY, Services
from assistant.storage.state_store import FeedbackVote
from listeners._utils.payload_fields import Malformed, as_id, is_encodable, optional_id, optional_ts, read_object

THANKS_POSITIVE = "Thanks for the feedback! Glad that helped. :slightly_smiling_face:"
THANKS_NEGATIVE = "Thanks for the feedback. I'll take note so answers like this can improve."
THANKS_FAILED = "Sorry, I couldn't record your feedback just now. Please try again later."


def parse_feedback_vote(body: Any, *, fallback_team_id: str | None) -> FeedbackVote | Malformed:
    """The vote in a `block_actions` payload from our feedback buttons, or what is wrong with it.

    Slack names the clicked message in two places (`channel`/`message` and `container`); either will do.
    """
    body = read_object(body, "body")
    if isinstance(body, Malformed):
        return body
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        return Malformed("actions", "is not a non-empty list")
    action = read_object(actions[0], "actions[0]")
    if isinstance(action, Malformed):
        return action
    raw_value = action.get("value")
    # Our buttons carry "positive:<model>" / "negative:<model>"; a value that is not valid
    # Unicode was not made by us and could not be stored.
    value = parse_feedback_value(raw_value) if isinstance(raw_value, str) and is_encodable(raw_value) else None
    if value is None:
        return Malformed("actions[0].value", "is not a feedback button value")
    container, message = body.get("container"), body.get("message")
    channel_id = optional_id(body.get("channel"), "id") or optional_id(container, "channel_id")
    if channel_id is None:
        return Malformed("channel.id", "and container.channel_id are missing or not Slack ids")
    message_ts = optional_ts(message, "ts") or optional_ts(container, "message_ts")
    if message_ts is None:
        return Malformed("message.ts", "and container.message_ts are missing or not Slack timestamps")
    user_id = optional_id(body.get("user"), "id")
    if user_id is None:
        return Malformed("user.id", "is missing or not a Slack id")
    return FeedbackVote(
        team_id=optional_id(body.get("team"), "id") or as_id(fallback_team_id) or "",
        channel_id=channel_id,
        thread_ts=optional_ts(message, "thread_ts") or optional_ts(container, "thread_ts") or message_ts,
        message_ts=message_ts,
        user_id=user_id,
        positive=value.positive,
        model=value.model,
    )


def build_feedback_vote(body: Any, *, fallback_team_id: str | None) -> FeedbackVote | None:
    """The vote in a `block_actions` payload from our feedback buttons, or None if malformed."""
    vote = parse_feedback_vote(body, fallback_team_id=fallback_team_id)
    return vote if isinstance(vote, FeedbackVote) else None


async def handle_feedback_buttons(
    ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext, logger: Logger
) -> None:
    """Thumbs up/down under an answer: record the vote (a repeat click updates it), thank the user."""
    await ack()
    vote = parse_feedback_vote(body, fallback_team_id=context.team_id)
    if isinstance(vote, Malformed):
        logger.warning("Ignoring a feedback click (block_actions): %s", vote)
        return
    services: Services = context[SERVICES_CONTEXT_KEY]
    try:
        await services.store.record_vote(vote)
    except Exception:
        logger.exception("Could not record feedback on message=%s", vote.message_ts)
        await _tell(client, vote, THANKS_FAILED, logger)
        return
    logger.info(
        "Feedback %s on message=%s thread=%s model=%s",
        "positive" if vote.positive else "negative",
        vote.message_ts,
        vote.thread_ts,
        vote.model,
    )
    await _tell(client, vote, THANKS_POSITIVE if vote.positive else THANKS_NEGATIVE, logger)


async def _tell(client: AsyncWebClient, vote: FeedbackVote, text: str, logger: Logger) -> None:
    try:
        await client.chat_postEphemeral(channel=vote.channel_id, user=vote.user_id, thread_ts=vote.thread_ts, text=text)
    except SlackApiError as exc:
        logger.warning("Could not answer the feedback click: %s", exc.response.get("error"))
