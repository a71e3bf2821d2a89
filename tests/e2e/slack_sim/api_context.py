"""What a Web API method handler sees: decoded params, the state (lock already held), and Slack's error vocabulary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .models import Channel, Workspace
from .state import SimState


class ApiError(Exception):
    """A Slack error response: `{"ok": false, "error": error, **extra}` with `status` (200 unless rate limited)."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        retry_after: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.retry_after = retry_after
        self.extra = extra or {}


@dataclass
class CallContext:
    state: SimState
    params: dict[str, Any]
    now: float  # monotonic time the request arrived
    issue_socket_url: Callable[[], str]

    @property
    def workspace(self) -> Workspace:
        return self.state.workspace

    # ------------------------------------------------------------------ params

    def optional(self, name: str) -> str | None:
        value = self.params.get(name)
        return None if value is None or value == "" else str(value)

    def require(self, name: str, error: str = "invalid_arguments") -> str:
        value = self.optional(name)
        if value is None:
            raise ApiError(error)
        return value

    def flag(self, name: str) -> bool:
        # slack_sdk turns Python bools into "1"/"0" for query/form params; JSON bodies keep real booleans.
        return str(self.params.get(name, "")).lower() in ("1", "true")

    def integer(self, name: str, default: int, error: str = "invalid_arguments") -> int:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(error) from None

    def dict_list(self, name: str, error: str = "invalid_arguments") -> list[dict[str, Any]] | None:
        value = self.params.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise ApiError(error)
        return value

    def json_object(self, name: str, error: str = "invalid_arguments") -> dict[str, Any] | None:
        value = self.params.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ApiError(error)
        return value

    # ------------------------------------------------------------------ permissions

    def require_scope(self, scope: str) -> None:
        scopes = self.workspace.scopes
        if scope not in scopes:
            raise ApiError("missing_scope", extra={"needed": scope, "provided": ",".join(sorted(scopes))})

    def channel(self, channel_id: str | None, scope_suffix: str | None = None) -> Channel:
        """A conversation the app can see; `scope_suffix` ("history"/"read") checks e.g. `groups:history`."""
        channel = self.state.channels.get(channel_id or "")
        if channel is None or not channel.readable:
            raise ApiError("channel_not_found")
        if scope_suffix is not None:
            self.require_scope(f"{channel.kind}:{scope_suffix}")
        return channel

    def member_channel(self, channel_id: str | None, scope_suffix: str | None = None) -> Channel:
        """A conversation the bot is in: Slack answers `not_in_channel` to bots outside it."""
        channel = self.channel(channel_id, scope_suffix)
        if self.workspace.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")
        return channel


Handler = Callable[[CallContext], dict[str, Any]]
