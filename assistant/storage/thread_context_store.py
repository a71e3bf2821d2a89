"""Where each assistant thread's context (the channel the user is viewing) is kept.

Slack has no API to read an assistant thread's context back (the spec's
`client.assistant.threads.retrieve` does not exist): it only arrives in
`assistant_thread_started` and `assistant_thread_context_changed`. Bolt's default store hides it
in the metadata of the bot's first reply, which fails before the bot has posted and costs two
Web API calls per read; this store keeps it in the bot's own SQLite file instead, so it
survives restarts and costs nothing in Slack rate limits.
"""

from __future__ import annotations

import json
import time
from typing import Dict, Optional

from slack_bolt.context.assistant.thread_context import AssistantThreadContext
from slack_bolt.context.assistant.thread_context_store.async_store import AsyncAssistantThreadContextStore

from assistant.storage.sqlite_database import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS thread_context (
    channel_id TEXT NOT NULL,
    thread_ts TEXT NOT NULL,
    context_json TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (channel_id, thread_ts)
);
"""


class SqliteThreadContextStore(AsyncAssistantThreadContextStore):
    def __init__(self, database: SqliteDatabase):
        self._db = database

    async def create_tables(self) -> None:
        await self._db.create_tables(SCHEMA)

    async def save(self, *, channel_id: str, thread_ts: str, context: Dict[str, str]) -> None:
        await self._db.execute(
            "INSERT INTO thread_context (channel_id, thread_ts, context_json, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (channel_id, thread_ts) DO UPDATE SET "
            "context_json = excluded.context_json, updated_at = excluded.updated_at",
            (channel_id, thread_ts, json.dumps(dict(context)), time.time()),
        )

    async def find(self, *, channel_id: str, thread_ts: str) -> Optional[AssistantThreadContext]:
        row = await self._db.fetchone(
            "SELECT context_json FROM thread_context WHERE channel_id = ? AND thread_ts = ?",
            (channel_id, thread_ts),
        )
        if row is None:
            return None
        context = json.loads(row[0])
        # A thread opened outside any channel has no channel_id; Bolt's type requires one.
        return AssistantThreadContext(context) if context.get("channel_id") else None
