"""Pure Block Kit builders for what the bot attaches to its messages."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import ContextActionsBlock, FeedbackButtonObject, FeedbackButtonsElement

FEEDBACK_ACTION_ID = "answer_feedback"
_POSITIVE = "positive"
_NEGATIVE = "negative"


def build_feedback_blocks(model: str) -> list[dict]:
    """Thumbs up/down under an answer. The model rides in the button value so a vote records the
    model that actually wrote the answer, even if ASSISTANT_MODEL changed since."""
    element = FeedbackButtonsElement(
        action_id=FEEDBACK_ACTION_ID,
        positive_button=FeedbackButtonObject(
            text="Good answer", accessibility_label="Mark this answer as helpful", value=f"{_POSITIVE}:{model}"
        ),
        negative_button=FeedbackButtonObject(
            text="Bad answer", accessibility_label="Mark this answer as not helpful", value=f"{_NEGATIVE}:{model}"
        ),
    )
    return [ContextActionsBlock(elements=[element]).to_dict()]


def build_markdown_blocks(text: str) -> list[dict]:
    """An answer's text as a markdown block, for messages that are edited instead of streamed
    (`markdown_text` cannot be combined with blocks, and the feedback buttons are blocks)."""
    return [{"type": "markdown", "text": text}]


@dataclass(frozen=True)
class FeedbackValue:
    positive: bool
    model: str


def parse_feedback_value(value: str) -> FeedbackValue | None:
    """Read a feedback button value back; None for anything this bot did not produce."""
    vote, _, model = value.partition(":")
    if vote not in (_POSITIVE, _NEGATIVE):
        return None
    return FeedbackValue(positive=vote == _POSITIVE, model=model or "unknown")
