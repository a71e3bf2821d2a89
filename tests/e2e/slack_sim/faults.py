"""One-shot fault injection for Web API methods: fail or delay the next N calls of a method."""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Failure:
    error: str
    status: int
    retry_after: int | None


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: defaultdict[str, deque[Failure]] = defaultdict(deque)
        self._delays: defaultdict[str, deque[float]] = defaultdict(deque)

    def fail_next(self, method: str, n: int, error: str, status: int, retry_after: int | None) -> None:
        with self._lock:
            self._failures[method].extend(Failure(error, status, retry_after) for _ in range(n))

    def delay_next(self, method: str, n: int, seconds: float) -> None:
        with self._lock:
            self._delays[method].extend(seconds for _ in range(n))

    def take_failure(self, method: str) -> Failure | None:
        with self._lock:
            queue = self._failures[method]
            return queue.popleft() if queue else None

    def take_delay(self, method: str) -> float:
        with self._lock:
            queue = self._delays[method]
            return queue.popleft() if queue else 0.0
