from slack_bolt.async_app import AsyncApp

from assistant.blocks import FEEDBACK_ACTION_ID
from listeners.actions.feedback_buttons import handle_feedback_buttons


def register(app: AsyncApp) -> None:
    app.action(FEEDBACK_ACTION_ID)(handle_feedback_buttons)
