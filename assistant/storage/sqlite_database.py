"""A single SQLite connection driven from one worker thread, with versioned migrations.

sqlite3 calls block, and the bot is asyncio throughout: every statement runs on a dedicated
one-thread executor, which also serialises this process's writers. Read-modify-write steps run
in `BEGIN IMMEDIATE` transactions so they stay correct if a second process opens the same file
(WAL mode lets readers go on meanwhile; the busy timeout makes writers queue, not fail).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

T = TypeVar("T")

BUSY_TIMEOUT_SECONDS = 5.0


class SqliteDatabase:
    def __init__(self, path: Path):
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._connection: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def open(self, migrations: Sequence[str] = ()) -> None:
        """Connect, then apply the `migrations` this file has not had yet.

        `migrations[i]` brings the schema from version i to i+1; the file's version is kept in
        `PRAGMA user_version`, so each script runs once per file, in order, in one transaction.
        """

        def connect() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: no implicit transactions; the explicit ones below are the
            # only ones, so a read never holds a lock longer than its statement.
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                _migrate(connection, migrations)
            except BaseException:
                connection.close()
                raise
            self._connection = connection

        await self._run(connect)

    def _require(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError(f"database {self.path} is not open")
        return self._connection

    async def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` inside one write transaction; rolled back if it raises."""

        def run() -> T:
            connection = self._require()
            connection.execute("BEGIN IMMEDIATE")
            try:
                result = fn(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return result

        return await self._run(run)

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        await self._run(lambda: self._require().execute(sql, params))

    async def fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        return await self._run(lambda: self._require().execute(sql, params).fetchone())

    async def fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return await self._run(lambda: self._require().execute(sql, params).fetchall())

    async def close(self) -> None:
        def close() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        await self._run(close)
        self._executor.shutdown(wait=True)


def _migrate(connection: sqlite3.Connection, migrations: Sequence[str]) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > len(migrations):
            raise sqlite3.DatabaseError(
                f"{version=} is newer than this bot knows ({len(migrations)}); was the file written by a newer release?"
            )
        for number, script in enumerate(migrations[version:], start=version + 1):
            for statement in filter(str.strip, script.split(";")):
                connection.execute(statement)
            # PRAGMA does not take parameters; `number` is an int from enumerate.
            connection.execute(f"PRAGMA user_version = {number:d}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
