"""How many answers this process writes at once; the rest wait their turn, in arrival order.

Streaming an answer costs the process about a millisecond of CPU per token (litellm's chunk
handling and the Agents SDK's events; BENCHMARKS.md), so a few dozen answers at 30 tokens/s
fill a core. Past that the event loop falls behind: Socket Mode acks are late, thread leases
are not renewed in time and every answer suffers. A question over the limit waits here, before
it takes its thread's lease (a waiting question holds nothing another instance needs), and is
answered as soon as a running answer ends. More throughput means more instances, not more
answers per process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class AnswerSlots:
    def __init__(self, limit: int):
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.waiting = 0
        # asyncio.Semaphore wakes its waiters in the order they came (Python ≥ 3.11.1).
        self._semaphore = asyncio.Semaphore(limit)

    @property
    def full(self) -> bool:
        return self._semaphore.locked()

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        self.waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._semaphore.release()
