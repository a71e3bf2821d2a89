"""Thumbs up/down votes on answers, one row per (message, user): a second click updates it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from assistant.storage.sqlite_database import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    team_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    thread_ts TEXT NOT NULL,
    message_ts TEXT NOT NULL,
    user_id TEXT NOT NULL,
    positive INTEGER NOT NULL,
    model TEXT NOT NULL,
    voted_at REAL NOT NULL,
    PRIMARY KEY (team_id, channel_id, message_ts, user_id)
);
"""


@dataclass(frozen=True)
class FeedbackVote:
    team_id: str
    channel_id: str
    thread_ts: str
    message_ts: str
    user_id: str
    positive: bool
    model: str
    voted_at: float = 0.0


class FeedbackStore:
    def __init__(self, database: SqliteDatabase):
        self._db = database

    async def create_tables(self) -> None:
        await self._db.create_tables(SCHEMA)

    async def record(self, vote: FeedbackVote) -> None:
        await self._db.execute(
            "INSERT INTO feedback (team_id, channel_id, thread_ts, message_ts, user_id, positive, model, voted_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (team_id, channel_id, message_ts, user_id) DO UPDATE SET "
            "positive = excluded.positive, model = excluded.model, voted_at = excluded.voted_at",
            (
                vote.team_id,
                vote.channel_id,
                vote.thread_ts,
                vote.message_ts,
                vote.user_id,
                int(vote.positive),
                vote.model,
                vote.voted_at or time.time(),
            ),
        )

    async def votes_for_message(self, *, channel_id: str, message_ts: str) -> list[FeedbackVote]:
        rows = await self._db.fetchall(
            "SELECT team_id, channel_id, thread_ts, message_ts, user_id, positive, model, voted_at "
            "FROM feedback WHERE channel_id = ? AND message_ts = ? ORDER BY voted_at",
            (channel_id, message_ts),
        )
        return [
            FeedbackVote(team, channel, thread, message, user, bool(positive), model, voted_at)
            for team, channel, thread, message, user, positive, model, voted_at in rows
        ]
