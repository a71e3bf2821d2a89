"""Plain records the simulator keeps. Every record carries `at`, a `time.monotonic()` stamp.

Records are handed to tests as copies, so a test can inspect them without holding the state lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Scopes a freshly installed bot of this project would hold; tests remove some to provoke `missing_scope`.
DEFAULT_BOT_SCOPES: frozenset[str] = frozenset(
    {
        "assistant:write",
        "chat:write",
        "channels:history",
        "channels:read",
        "groups:history",
        "groups:read",
        "im:history",
        "im:read",
        "mpim:history",
        "mpim:read",
        "reactions:write",
        "users:read",
    }
)


@dataclass
class Workspace:
    """The one workspace and app installation the simulator plays. Tokens are what the bot must present."""

    team_id: str = "T0SIMTEAM1"
    team_domain: str = "sim-workspace"
    team_name: str = "Simulated Workspace"
    enterprise_id: str | None = None
    app_id: str = "A0SIMAPP01"
    bot_id: str = "B0SIMBOT01"
    bot_user_id: str = "U0SIMBOT01"
    bot_name: str = "sim-assistant"
    bot_token: str = "xoxb-sim-bot-token"
    app_token: str = "xapp-1-sim-app-token"
    verification_token: str = "sim-verification-token"
    scopes: set[str] = field(default_factory=lambda: set(DEFAULT_BOT_SCOPES))


@dataclass
class User:
    id: str
    name: str
    real_name: str
    team_id: str
    is_bot: bool = False
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    deleted: bool = False
    tz: str = "Europe/Berlin"

    def to_api(self) -> dict[str, Any]:
        """The `user` object of users.info (https://docs.slack.dev/reference/methods/users.info)."""
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "is_admin": False,
            "is_owner": False,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "tz": self.tz,
            "profile": {"real_name": self.real_name, "display_name": self.name, "team": self.team_id},
        }


@dataclass
class Channel:
    """A conversation. `readable=False` models a channel the app cannot see at all (Slack: channel_not_found)."""

    id: str
    name: str
    created: int
    members: list[str] = field(default_factory=list)
    readable: bool = True
    is_private: bool = False
    im_user: str | None = None  # set for DMs ("D…" ids)
    is_archived: bool = False
    # Slack-shaped message dicts, kept sorted by ts; thread replies live here too, marked by thread_ts.
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_im(self) -> bool:
        return self.im_user is not None

    @property
    def kind(self) -> str:
        """Which scope family guards this conversation: channels / groups / im."""
        if self.is_im:
            return "im"
        return "groups" if self.is_private else "channels"

    def to_api(self, bot_user_id: str) -> dict[str, Any]:
        """The `channel` object of conversations.info (https://docs.slack.dev/reference/methods/conversations.info)."""
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "created": self.created,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": bot_user_id in self.members,
            "num_members": len(self.members),
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as received, with its outcome."""

    method: str
    params: dict[str, Any]
    token: str | None
    at: float
    http_status: int
    error: str | None
    # The client's address and port: calls over one kept-alive connection share it.
    peer: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class StreamRecord:
    """One message streamed with chat.startStream / appendStream / stopStream."""

    ts: str
    channel: str
    thread_ts: str | None
    started_at: float
    # Every chunk in arrival order; a bare `markdown_text` argument is recorded as a markdown_text chunk.
    chunks: list[dict[str, Any]] = field(default_factory=list)
    # "markdown_text" or "chunks": Slack rejects switching modes within one stream (streaming_mode_mismatch).
    mode: str | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    state: str = "streaming"  # streaming -> stopped | expired
    stopped_at: float | None = None

    @property
    def text(self) -> str:
        return "".join(
            str(chunk.get("text", "")) for chunk in self.chunks if chunk.get("type") in ("markdown_text", "markdown")
        )


@dataclass(frozen=True)
class StatusUpdate:
    channel_id: str
    thread_ts: str
    status: str
    loading_messages: tuple[str, ...]
    at: float
    # Slack clears the status itself when the app replies; such clears are recorded with this flag.
    cleared_by_reply: bool = False


@dataclass(frozen=True)
class PromptsUpdate:
    channel_id: str
    thread_ts: str | None
    prompts: tuple[dict[str, str], ...]
    title: str | None
    at: float


@dataclass(frozen=True)
class TitleUpdate:
    channel_id: str
    thread_ts: str
    title: str
    at: float


@dataclass(frozen=True)
class EphemeralMessage:
    channel: str
    user: str
    message: dict[str, Any]
    at: float


@dataclass(frozen=True)
class ResponseUrlPost:
    """A POST the app made to a `response_url` handed out in an interactive payload."""

    response_url: str
    body: dict[str, Any]
    at: float


@dataclass
class EnvelopeRecord:
    """One Socket Mode envelope sent to the app, and its acknowledgement once it arrives."""

    envelope_id: str
    type: str
    payload: dict[str, Any]
    connection_id: str
    sent_at: float
    accepts_response_payload: bool
    retry_attempt: int
    retry_reason: str
    acked_at: float | None = None
    ack_payload: dict[str, Any] | None = None

    @property
    def acked(self) -> bool:
        return self.acked_at is not None

    @property
    def ack_latency(self) -> float | None:
        return None if self.acked_at is None else self.acked_at - self.sent_at


@dataclass
class ConnectionRecord:
    connection_id: str
    opened_at: float
    hello: dict[str, Any]
    closed_at: float | None = None
    # client_closed | refresh_requested (closed by us after a disconnect message) | dropped | server_stopped
    close_reason: str | None = None

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class AssistantThread:
    """An assistant thread in the user's DM with the app, as the test API created it."""

    user_id: str
    channel_id: str
    thread_ts: str
    context_channel_id: str | None
    envelope_id: str


@dataclass(frozen=True)
class SentMessage:
    """A user message the simulator posted, and the envelope that announced it to the app."""

    channel_id: str
    ts: str
    envelope_id: str
