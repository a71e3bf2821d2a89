"""A local Slack (Web API + Socket Mode) for end-to-end tests of the assistant bot. See simulator.py."""

from .models import (
    ApiCall,
    AssistantThread,
    ConnectionRecord,
    EnvelopeRecord,
    PromptsUpdate,
    SentMessage,
    StatusUpdate,
    StreamRecord,
    TitleUpdate,
    User,
    Workspace,
)
from .rate_limits import RateLimit
from .simulator import SlackSimulator

__all__ = [
    "ApiCall",
    "AssistantThread",
    "ConnectionRecord",
    "EnvelopeRecord",
    "PromptsUpdate",
    "RateLimit",
    "SentMessage",
    "SlackSimulator",
    "StatusUpdate",
    "StreamRecord",
    "TitleUpdate",
    "User",
    "Workspace",
]
