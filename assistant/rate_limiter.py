"""Token buckets per key (user, channel): a shared model budget must survive one eager user.

Each bucket holds up to a minute's allowance, so short bursts pass and a sustained flood is held
to the configured rate per minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

MAX_TRACKED_KEYS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[Hashable, _Bucket] = {}

    def _refill(self, key: Hashable, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.per_minute), now)
        bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        return bucket

    def wait_seconds(self, key: Hashable) -> float:
        """0 when `key` may go now, else how long until it may."""
        bucket = self._refill(key, self._clock())
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / self._rate

    def take(self, key: Hashable) -> None:
        now = self._clock()
        self._refill(key, now).tokens -= 1
        if len(self._buckets) > MAX_TRACKED_KEYS:
            # A full bucket is the same as no bucket: forget those so the map stays small.
            for other in list(self._buckets):
                if self._refill(other, now).tokens >= self.per_minute:
                    del self._buckets[other]


@dataclass(frozen=True)
class LimitDecision:
    allowed: bool
    retry_after_seconds: float = 0.0
    scope: str = ""  # "user" or "channel" when refused


class QuestionLimits:
    """Both limits together: a question must fit the user's and the channel's bucket."""

    def __init__(self, user_per_minute: int, channel_per_minute: int, *, clock: Callable[[], float] = time.monotonic):
        self._user = RateLimiter(user_per_minute, clock=clock)
        self._channel = RateLimiter(channel_per_minute, clock=clock)

    def check(self, user_key: Hashable, channel_key: Hashable) -> LimitDecision:
        user_wait = self._user.wait_seconds(user_key)
        channel_wait = self._channel.wait_seconds(channel_key)
        if user_wait or channel_wait:
            scope = "user" if user_wait >= channel_wait else "channel"
            return LimitDecision(False, max(user_wait, channel_wait), scope)
        self._user.take(user_key)
        self._channel.take(channel_key)
        return LimitDecision(True)
