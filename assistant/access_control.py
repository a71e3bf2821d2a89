"""Who may ask, and whose channels may be read as context.

Optional allow-lists of teams, users and context channels narrow the audience; guests
(restricted and ultra-restricted accounts, from `users.info`) are refused unless ALLOW_GUESTS is
set, because a guest must not reach an assistant that can summarise the workspace's channels.
Lookups are cached for a short time so a conversation costs one `users.info`, not one per turn.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from assistant.settings import Settings
from assistant.ttl_cache import TTLCache

NOT_ALLOWED = ":no_entry: Sorry, this assistant isn't available to you. Ask your workspace admin for access."
NO_GUESTS = ":no_entry: Sorry, this assistant isn't available to guest accounts."
UNVERIFIED = ":warning: I couldn't verify your account just now. Please try again in a moment."
USER_CACHE_SECONDS = 10 * 60


@dataclass(frozen=True)
class AccessPolicy:
    allowed_team_ids: frozenset[str]
    allowed_user_ids: frozenset[str]
    allowed_channel_ids: frozenset[str]
    allow_guests: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessPolicy:
        return cls(settings.allowed_team_ids, settings.allowed_user_ids, settings.allowed_channel_ids, settings.allow_guests)

    def listed_refusal(self, *, team_id: str | None, enterprise_id: str | None, user_id: str) -> str | None:
        """The allow-lists alone (no Slack call): a refusal message, or None."""
        if self.allowed_team_ids and not ({team_id, enterprise_id} & self.allowed_team_ids):
            return NOT_ALLOWED
        if self.allowed_user_ids and user_id not in self.allowed_user_ids:
            return NOT_ALLOWED
        return None

    def context_channel_allowed(self, channel_id: str) -> bool:
        return not self.allowed_channel_ids or channel_id in self.allowed_channel_ids


def is_guest(user: dict) -> bool:
    return bool(user.get("is_restricted") or user.get("is_ultra_restricted"))


class AccessControl:
    def __init__(self, policy: AccessPolicy):
        self.policy = policy
        self._guests: TTLCache[bool] = TTLCache(USER_CACHE_SECONDS)

    async def refusal(
        self, client: AsyncWebClient, *, team_id: str | None, enterprise_id: str | None, user_id: str, logger: logging.Logger
    ) -> str | None:
        listed = self.policy.listed_refusal(team_id=team_id, enterprise_id=enterprise_id, user_id=user_id)
        if listed or self.policy.allow_guests:
            return listed
        guest = self._guests.get(user_id)
        if guest is None:
            try:
                guest = is_guest((await client.users_info(user=user_id)).get("user") or {})
            except (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
                # Fail closed: an unknown account could be a guest.
                error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
                logger.warning("users.info failed for %s (%s); refusing for now", user_id, error)
                return UNVERIFIED
            self._guests.set(user_id, guest)
        return NO_GUESTS if guest else None
