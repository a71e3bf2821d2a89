"""A small in-memory cache whose entries expire after a fixed time."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")
_MISSING = object()


class TTLCache(Generic[V]):
    def __init__(self, ttl_seconds: float, *, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()

    def _expire(self, now: float) -> None:
        # Entries are kept in insertion order, so the oldest expire first.
        while self._entries and (next(iter(self._entries.values()))[0] <= now or len(self._entries) > self._max):
            self._entries.popitem(last=False)

    def get(self, key: Hashable, default: V | None = None) -> V | None:
        self._expire(self._clock())
        entry = self._entries.get(key)
        return default if entry is None else entry[1]

    def __contains__(self, key: Hashable) -> bool:
        return self.get(key, _MISSING) is not _MISSING  # type: ignore[arg-type]

    def set(self, key: Hashable, value: V) -> None:
        now = self._clock()
        self._entries.pop(key, None)
        self._entries[key] = (now + self._ttl, value)
        self._expire(now)

    def __len__(self) -> int:
        self._expire(self._clock())
        return len(self._entries)
