from logging import Logger

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from assistant.blocks import parse_feedback_value
from assistant.services import SERVICES_CONTEXT_KEY, Services
from assistant.storage.feedback_store import FeedbackVote

THANKS_POSITIVE = "Thanks for the feedback! Glad that helped. :slightly_smiling_face:"
THANKS_NEGATIVE = "Thanks for the feedback. I'll take note so answers like this can improve."
THANKS_FAILED = "Sorry, I couldn't record your feedback just now. Please try again later."


def build_feedback_vote(body: dict, *, fallback_team_id: str | None) -> FeedbackVote | None:
    """The vote in a `block_actions` payload from our feedback buttons, or None if malformed."""
    actions = body.get("actions") or []
    value = parse_feedback_value(str(actions[0].get("value", ""))) if actions else None
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel_id = (body.get("channel") or {}).get("id") or container.get("channel_id")
    message_ts = message.get("ts") or container.get("message_ts")
    user_id = (body.get("user") or {}).get("id")
    if value is None or not channel_id or not message_ts or not user_id:
        return None
    return FeedbackVote(
        team_id=(body.get("team") or {}).get("id") or fallback_team_id or "",
        channel_id=channel_id,
        thread_ts=message.get("thread_ts") or container.get("thread_ts") or message_ts,
        message_ts=message_ts,
        user_id=user_id,
        positive=value.positive,
        model=value.model,
    )


async def handle_feedback_buttons(
    ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext, logger: Logger
) -> None:
    """Thumbs up/down under an answer: record the vote (a repeat click updates it), thank the user."""
    await ack()
    vote = build_feedback_vote(body, fallback_team_id=context.team_id)
    if vote is None:
        logger.warning("Ignoring a feedback click with an unexpected payload shape")
        return
    services: Services = context[SERVICES_CONTEXT_KEY]
    try:
        await services.feedback_store.record(vote)
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
