"""An Agents SDK session kept in the bot's own SQLite file.

The SDK's `SQLiteSession` opens its own connections and creates its schema in the constructor,
on the event loop; one per message would block it. This one is the same idea on the shared
`SqliteDatabase` worker thread: constructing it costs nothing, and a turn's items are written
in one transaction, so a turn is stored whole or not at all.
"""

from __future__ import annotations

import json
import sqlite3
import time

from agents.items import TResponseInputItem
from agents.memory import SessionABC, SessionSettings
from agents.memory.session_settings import resolve_session_limit

from assistant.storage.sqlite_database import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS session_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    item_json TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS session_items_by_session ON session_items (session_id, id)
"""


class SqliteSession(SessionABC):
    def __init__(self, session_id: str, database: SqliteDatabase, session_settings: SessionSettings | None = None):
        self.session_id = session_id
        self.session_settings = session_settings or SessionSettings()
        self._db = database

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        limit = resolve_session_limit(limit, self.session_settings)
        if limit is None:
            rows = await self._db.fetchall(
                "SELECT item_json FROM session_items WHERE session_id = ? ORDER BY id", (self.session_id,)
            )
        else:
            rows = await self._db.fetchall(
                "SELECT item_json FROM (SELECT id, item_json FROM session_items WHERE session_id = ? "
                "ORDER BY id DESC LIMIT ?) ORDER BY id",
                (self.session_id, max(limit, 0)),
            )
        return [json.loads(item_json) for (item_json,) in rows]

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        if not items:
            return
        now = time.time()
        rows = [(self.session_id, json.dumps(item, ensure_ascii=False), now) for item in items]

        def insert(connection: sqlite3.Connection) -> None:
            connection.executemany("INSERT INTO session_items (session_id, item_json, created_at) VALUES (?, ?, ?)", rows)

        await self._db.transaction(insert)

    async def pop_item(self) -> TResponseInputItem | None:
        def pop(connection: sqlite3.Connection) -> str | None:
            row = connection.execute(
                "SELECT id, item_json FROM session_items WHERE session_id = ? ORDER BY id DESC LIMIT 1",
                (self.session_id,),
            ).fetchone()
            if row is None:
                return None
            connection.execute("DELETE FROM session_items WHERE id = ?", (row[0],))
            return row[1]

        item_json = await self._db.transaction(pop)
        return None if item_json is None else json.loads(item_json)

    async def clear_session(self) -> None:
        await self._db.execute("DELETE FROM session_items WHERE session_id = ?", (self.session_id,))
