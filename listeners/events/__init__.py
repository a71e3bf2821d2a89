from slack_bolt.async_app import AsyncApp, AsyncAssistant

from listeners.events.assistant_context_changed import handle_assistant_context_changed
from listeners.events.assistant_thread_started import handle_assistant_thread_started
from listeners.events.assistant_user_message import handle_assistant_user_message
from listeners.events.ignored_message import handle_ignored_message
from listeners.events.payload_guard import ignore_unroutable_events


def register(app: AsyncApp, assistant: AsyncAssistant) -> None:
    # Registered before the assistant middleware (listeners.register adds it after this), which
    # would otherwise raise on malformed events before any listener could log and ignore them.
    app.middleware(ignore_unroutable_events)
    assistant.thread_started(handle_assistant_thread_started)
    assistant.thread_context_changed(handle_assistant_context_changed)
    assistant.user_message(handle_assistant_user_message)
    # The bot's own answers and other messages arrive as events too; acknowledge them quietly so
    # they neither loop back into the model nor log "unhandled request" warnings.
    assistant.bot_message(handle_ignored_message)
    app.event("message")(handle_ignored_message)
