"""Bolt's assistant thread context store, backed by the bot's state store.

Slack has no API to read an assistant thread's context back (the spec's
`client.assistant.threads.retrieve` does not exist): it only arrives in
`assistant_thread_started` and `assistant_thread_context_changed`. Bolt's default store hides it
in the metadata of the bot's first reply, which fails before the bot has posted and costs two
Web API calls per read; this one keeps it in the state store instead (SQLite or Redis), so it
survives restarts, is shared by every instance, and costs nothing in Slack rate limits.
"""

from __future__ import annotations

from typing import Dict, Optional

from slack_bolt.context.assistant.thread_context import AssistantThreadContext
from slack_bolt.context.assistant.thread_context_store.async_store import AsyncAssistantThreadContextStore

from assistant.storage.state_store import StateStore


class StateThreadContextStore(AsyncAssistantThreadContextStore):
    def __init__(self, store: StateStore):
        self._store = store

    async def save(self, *, channel_id: str, thread_ts: str, context: Dict[str, str]) -> None:
        await self._store.save_thread_context(channel_id=channel_id, thread_ts=thread_ts, context=dict(context))

    async def find(self, *, channel_id: str, thread_ts: str) -> Optional[AssistantThreadContext]:
        context = await self._store.find_thread_context(channel_id=channel_id, thread_ts=thread_ts)
        # A thread opened outside any channel has no channel_id; Bolt's type requires one.
        return AssistantThreadContext(context) if context and context.get("channel_id") else None
