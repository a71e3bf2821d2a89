from slack_bolt.async_app import AsyncApp, AsyncAssistant

from listeners.events.assistant_context_changed import handle_assistant_context_changed
from listeners.events.assistant_thread_started import handle_assistant_thread_started
from listeners.events.assistant_user_message import handle_assistant_user_message
from listeners.events.ignored_message import handle_ignored_message


def register(app: AsyncApp, assistant: AsyncAssistant) -> None:
    assistant.thread_started(handle_assistant_thread_started)
    assistant.thread_context_changed(handle_assistant_context_changed)
    assistant.user_message(handle_assistant_user_message)
    # The bot's own answers and other messages arrive as events too; acknowledge them quietly so
    # they neither loop back into the model nor log "unhandled request" warnings.
    assistant.bot_message(handle_ignored_message)
    app.event("message")(handle_ignored_message)
