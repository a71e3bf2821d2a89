"""Read the channel an assistant thread is viewing, only when both the app and the user may.

Never put content the user cannot see into the prompt: the channel is used only if it is on the
allow-list (when there is one), the app can read it (`conversations.info` succeeds) and the
asking user is a member. Those answers are cached briefly per (channel, user): membership
changes rarely within a minute, and a conversation should not cost a member-list walk per turn.
Any failure means "answer without context" (spec §6: missing context → warn, continue).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from assistant.access_control import AccessPolicy
from assistant.conversation import ChannelContext, ChannelMessage
from assistant.ttl_cache import TTLCache

MAX_CONTEXT_MESSAGES = 20
# conversations.members pages hold up to 1,000 ids; bound the walk for very large channels and
# treat "not found within the bound" as "not a member" (the safe answer).
MAX_MEMBER_PAGES = 10
ACCESS_CACHE_SECONDS = 60
_CONTENT_SUBTYPES = (None, "bot_message", "file_share", "thread_broadcast", "me_message")


def select_context_messages(messages: list[dict[str, Any]]) -> tuple[ChannelMessage, ...]:
    """Human-readable messages from `conversations.history` (newest first), oldest first."""
    selected = [
        ChannelMessage(user=str(m.get("user") or m.get("bot_id") or "unknown"), text=m["text"], ts=str(m.get("ts", "")))
        for m in messages
        if isinstance(m, dict) and isinstance(m.get("text"), str) and m["text"].strip() and m.get("subtype") in _CONTENT_SUBTYPES
    ]
    return tuple(reversed(selected))


async def _user_is_member(client: AsyncWebClient, channel_id: str, user_id: str) -> bool:
    cursor: str | None = None
    for _ in range(MAX_MEMBER_PAGES):
        response = await client.conversations_members(channel=channel_id, limit=1000, cursor=cursor)
        if user_id in response.get("members", []):
            return True
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return False
    return False


class ChannelContextReader:
    def __init__(self, policy: AccessPolicy):
        self._policy = policy
        # (channel, user) -> the channel's info when usable, else None.
        self._access: TTLCache[dict[str, Any] | None] = TTLCache(ACCESS_CACHE_SECONDS)

    async def _usable_channel(
        self, client: AsyncWebClient, channel_id: str, user_id: str, logger: logging.Logger
    ) -> dict[str, Any] | None:
        key = (channel_id, user_id)
        if key in self._access:
            return self._access.get(key)
        info: dict[str, Any] | None = (await client.conversations_info(channel=channel_id))["channel"]
        if info.get("is_im") or info.get("is_mpim"):
            # Someone's DMs are not the bot's to read, even when the user views them.
            info = None
        elif not await _user_is_member(client, channel_id, user_id):
            logger.warning("Not using context %s: user %s is not a member", channel_id, user_id)
            info = None
        self._access.set(key, info)
        return info

    async def load(
        self, client: AsyncWebClient, *, channel_id: str, user_id: str, logger: logging.Logger
    ) -> ChannelContext | None:
        if not self._policy.context_channel_allowed(channel_id):
            logger.info("Not using context %s: not on ALLOWED_CHANNEL_IDS", channel_id)
            return None
        try:
            info = await self._usable_channel(client, channel_id, user_id, logger)
            if info is None:
                return None
            history = await client.conversations_history(channel=channel_id, limit=MAX_CONTEXT_MESSAGES)
        except (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
            logger.warning("Not using context %s: %s", channel_id, error)
            return None
        return ChannelContext(
            channel_id=channel_id,
            name=str(info.get("name") or channel_id),
            topic=str((info.get("topic") or {}).get("value") or "").strip(),
            purpose=str((info.get("purpose") or {}).get("value") or "").strip(),
            messages=select_context_messages(history.get("messages", [])),
        )
