"""The embedded default: everything the bot remembers in one SQLite file under DATA_DIR.

Right for one process (and correct, if slower, for several processes on one host sharing the
file: every read-modify-write is one `BEGIN IMMEDIATE` transaction). Teams running instances on
several hosts set REDIS_URL instead.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from agents.memory import Session

from assistant.storage.sqlite_database import SqliteDatabase
from assistant.storage.sqlite_session import SCHEMA as SESSION_SCHEMA
from assistant.storage.sqlite_session import SqliteSession
from assistant.storage.state_store import (
    FeedbackVote,
    TokenBucket,
    UsageRecord,
    refill,
    ts_order,
    wait_for_token,
)

# Version 1 is the schema of the first release (thread context and votes); files it wrote are
# upgraded in place. Append new versions; never edit a released one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS thread_context (
        channel_id TEXT NOT NULL,
        thread_ts TEXT NOT NULL,
        context_json TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (channel_id, thread_ts)
    );
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
    )
    """,
    SESSION_SCHEMA
    + """;
    CREATE INDEX IF NOT EXISTS feedback_by_time ON feedback (voted_at);
    CREATE TABLE IF NOT EXISTS usage (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        team_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        thread_ts TEXT NOT NULL,
        message_ts TEXT NOT NULL,
        user_id TEXT NOT NULL,
        model TEXT NOT NULL,
        outcome TEXT NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        latency_ms INTEGER NOT NULL,
        first_token_ms INTEGER,
        recorded_at REAL NOT NULL
    );
    CREATE INDEX IF NOT EXISTS usage_by_time ON usage (recorded_at);
    CREATE TABLE IF NOT EXISTS claimed_keys (key TEXT PRIMARY KEY, expires_at REAL NOT NULL);
    CREATE TABLE IF NOT EXISTS rate_buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, updated_at REAL NOT NULL);
    CREATE TABLE IF NOT EXISTS thread_leases (key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL);
    CREATE TABLE IF NOT EXISTS thread_newest (key TEXT PRIMARY KEY, message_ts TEXT NOT NULL, updated_at REAL NOT NULL)
    """,
)

# Expired keys and idle buckets are swept every this many claims, so the tables stay small
# without a background task.
SWEEP_EVERY = 500
NEWEST_KEEP_SECONDS = 24 * 3600

_VOTE_COLUMNS = "team_id, channel_id, thread_ts, message_ts, user_id, positive, model, voted_at"
_USAGE_COLUMNS = (
    "team_id, channel_id, thread_ts, message_ts, user_id, model, outcome, "
    "input_tokens, output_tokens, latency_ms, first_token_ms, recorded_at"
)


def _vote(row: tuple) -> FeedbackVote:
    team, channel, thread, message, user, positive, model, voted_at = row
    return FeedbackVote(team, channel, thread, message, user, bool(positive), model, voted_at)


class SqliteStateStore:
    def __init__(self, path: Path):
        self.path = path
        self._db = SqliteDatabase(path)
        self._claims = 0

    async def open(self) -> None:
        await self._db.open(MIGRATIONS)

    async def close(self) -> None:
        await self._db.close()

    def session(self, session_id: str) -> Session:
        return SqliteSession(session_id, self._db)

    async def save_thread_context(self, *, channel_id: str, thread_ts: str, context: dict[str, str]) -> None:
        await self._db.execute(
            "INSERT INTO thread_context (channel_id, thread_ts, context_json, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (channel_id, thread_ts) DO UPDATE SET "
            "context_json = excluded.context_json, updated_at = excluded.updated_at",
            (channel_id, thread_ts, json.dumps(dict(context)), time.time()),
        )

    async def find_thread_context(self, *, channel_id: str, thread_ts: str) -> dict[str, str] | None:
        row = await self._db.fetchone(
            "SELECT context_json FROM thread_context WHERE channel_id = ? AND thread_ts = ?", (channel_id, thread_ts)
        )
        return None if row is None else json.loads(row[0])

    async def record_vote(self, vote: FeedbackVote) -> None:
        await self._db.execute(
            f"INSERT INTO feedback ({_VOTE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
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
            f"SELECT {_VOTE_COLUMNS} FROM feedback WHERE channel_id = ? AND message_ts = ? ORDER BY voted_at",
            (channel_id, message_ts),
        )
        return [_vote(row) for row in rows]

    async def votes_since(self, since: float) -> list[FeedbackVote]:
        rows = await self._db.fetchall(
            f"SELECT {_VOTE_COLUMNS} FROM feedback WHERE voted_at >= ? ORDER BY voted_at", (since,)
        )
        return [_vote(row) for row in rows]

    async def record_usage(self, record: UsageRecord) -> None:
        await self._db.execute(
            f"INSERT INTO usage ({_USAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.team_id,
                record.channel_id,
                record.thread_ts,
                record.message_ts,
                record.user_id,
                record.model,
                record.outcome,
                record.input_tokens,
                record.output_tokens,
                record.latency_ms,
                record.first_token_ms,
                record.recorded_at or time.time(),
            ),
        )

    async def usage_since(self, since: float) -> list[UsageRecord]:
        rows = await self._db.fetchall(
            f"SELECT {_USAGE_COLUMNS} FROM usage WHERE recorded_at >= ? ORDER BY recorded_at, id", (since,)
        )
        return [UsageRecord(*row) for row in rows]

    async def claim_key(self, key: str, ttl_seconds: float) -> bool:
        self._claims += 1
        sweep = self._claims % SWEEP_EVERY == 0

        def claim(connection: sqlite3.Connection) -> bool:
            now = time.time()
            if sweep:
                connection.execute("DELETE FROM claimed_keys WHERE expires_at <= ?", (now,))
                connection.execute("DELETE FROM thread_newest WHERE updated_at <= ?", (now - NEWEST_KEEP_SECONDS,))
            cursor = connection.execute(
                "INSERT INTO claimed_keys (key, expires_at) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE claimed_keys.expires_at <= ?",
                (key, now + ttl_seconds, now),
            )
            return cursor.rowcount == 1

        return await self._db.transaction(claim)

    async def take_tokens(self, buckets: list[TokenBucket]) -> list[float]:
        def take(connection: sqlite3.Connection) -> list[float]:
            now = time.time()
            levels = []
            for bucket in buckets:
                row = connection.execute(
                    "SELECT tokens, updated_at FROM rate_buckets WHERE key = ?", (bucket.key,)
                ).fetchone()
                tokens = float(bucket.per_minute) if row is None else refill(row[0], row[1], now, bucket.per_minute)
                levels.append(tokens)
            waits = [wait_for_token(tokens, bucket.per_minute) for tokens, bucket in zip(levels, buckets)]
            if any(waits):
                return waits
            connection.executemany(
                "INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at",
                [(bucket.key, tokens - 1, now) for tokens, bucket in zip(levels, buckets)],
            )
            return waits

        return await self._db.transaction(take)

    async def acquire_lease(self, key: str, owner: str, ttl_seconds: float) -> bool:
        def acquire(connection: sqlite3.Connection) -> bool:
            now = time.time()
            cursor = connection.execute(
                "INSERT INTO thread_leases (key, owner, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at "
                "WHERE thread_leases.owner = excluded.owner OR thread_leases.expires_at <= ?",
                (key, owner, now + ttl_seconds, now),
            )
            return cursor.rowcount == 1

        return await self._db.transaction(acquire)

    async def renew_lease(self, key: str, owner: str, ttl_seconds: float) -> bool:
        def renew(connection: sqlite3.Connection) -> bool:
            now = time.time()
            cursor = connection.execute(
                "UPDATE thread_leases SET expires_at = ? WHERE key = ? AND owner = ? AND expires_at > ?",
                (now + ttl_seconds, key, owner, now),
            )
            return cursor.rowcount == 1

        return await self._db.transaction(renew)

    async def release_lease(self, key: str, owner: str) -> None:
        await self._db.execute("DELETE FROM thread_leases WHERE key = ? AND owner = ?", (key, owner))

    async def mark_newest(self, key: str, message_ts: str) -> str:
        def mark(connection: sqlite3.Connection) -> str:
            row = connection.execute("SELECT message_ts FROM thread_newest WHERE key = ?", (key,)).fetchone()
            if row is not None and ts_order(row[0]) >= ts_order(message_ts):
                return row[0]
            connection.execute(
                "INSERT INTO thread_newest (key, message_ts, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET message_ts = excluded.message_ts, updated_at = excluded.updated_at",
                (key, message_ts, time.time()),
            )
            return message_ts

        return await self._db.transaction(mark)

    async def newest(self, key: str) -> str | None:
        row = await self._db.fetchone("SELECT message_ts FROM thread_newest WHERE key = ?", (key,))
        return None if row is None else row[0]
