"""A single SQLite connection driven from one worker thread.

sqlite3 calls block, and the bot is asyncio throughout: every statement runs on a dedicated
one-thread executor, which also serialises writers without SQLite lock contention.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

T = TypeVar("T")


class SqliteDatabase:
    def __init__(self, path: Path):
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._connection: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def open(self) -> None:
        def connect() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            self._connection = connection

        await self._run(connect)

    async def create_tables(self, schema: str) -> None:
        """Run idempotent `CREATE TABLE IF NOT EXISTS ...` statements of one store."""

        def run() -> None:
            connection = self._require()
            connection.executescript(schema)
            connection.commit()

        await self._run(run)

    def _require(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError(f"database {self.path} is not open")
        return self._connection

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        def run() -> None:
            connection = self._require()
            connection.execute(sql, params)
            connection.commit()

        await self._run(run)

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
