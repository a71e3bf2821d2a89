"""Slack-like Web API rate limits: a token bucket per (workspace, method), off until a test switches it on.

Tiers and per-method assignments follow https://docs.slack.dev/apis/web-api/rate-limits and each
method's reference page. Slack enforces per app, per workspace, per method, and "allows short bursts":
a bucket holds `burst` requests and refills at `per_minute / 60` per second. When it is empty the
caller gets HTTP 429 with `Retry-After` = whole seconds until the next request would be allowed.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    per_minute: float
    burst: int


TIER_1 = RateLimit(per_minute=1, burst=1)
TIER_2 = RateLimit(per_minute=20, burst=5)
TIER_3 = RateLimit(per_minute=50, burst=10)
TIER_4 = RateLimit(per_minute=100, burst=20)
# chat.postMessage is "special": about one message per second per channel, short bursts allowed.
POST_MESSAGE = RateLimit(per_minute=60, burst=5)
# Methods whose bucket is per (workspace, channel) rather than per workspace.
PER_CHANNEL_METHODS = frozenset({"chat.postMessage"})

METHOD_LIMITS: dict[str, RateLimit] = {
    "apps.connections.open": TIER_1,
    "auth.test": TIER_4,
    "chat.postMessage": POST_MESSAGE,
    "chat.update": TIER_3,
    "chat.postEphemeral": TIER_4,
    "chat.startStream": TIER_2,
    "chat.appendStream": TIER_4,
    "chat.stopStream": TIER_2,
    "assistant.threads.setStatus": TIER_4,
    "assistant.threads.setSuggestedPrompts": TIER_4,
    "assistant.threads.setTitle": TIER_4,
    "conversations.replies": TIER_3,
    "conversations.history": TIER_3,
    "conversations.info": TIER_3,
    "conversations.members": TIER_4,
    "users.info": TIER_4,
    "reactions.add": TIER_3,
}


@dataclass
class _Bucket:
    tokens: float
    updated_at: float


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._limits: dict[str, RateLimit] | None = None  # None: limits are off
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def enable(self, overrides: Mapping[str, RateLimit] | None = None) -> None:
        """Switch limits on with the Slack tiers, `overrides` replacing single methods' limits."""
        with self._lock:
            self._limits = {**METHOD_LIMITS, **(overrides or {})}
            self._buckets.clear()

    def disable(self) -> None:
        with self._lock:
            self._limits = None
            self._buckets.clear()

    def acquire(self, team_id: str, method: str) -> int | None:
        """Take one request from the bucket of (`team_id`, `method`) — `team_id` may carry a
        channel for per-channel methods; return None if allowed, else the Retry-After seconds."""
        with self._lock:
            if self._limits is None or method not in self._limits:
                return None
            limit = self._limits[method]
            now = self._clock()
            refill_per_second = limit.per_minute / 60.0
            bucket = self._buckets.setdefault((team_id, method), _Bucket(float(limit.burst), now))
            bucket.tokens = min(float(limit.burst), bucket.tokens + (now - bucket.updated_at) * refill_per_second)
            bucket.updated_at = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - bucket.tokens) / refill_per_second))
