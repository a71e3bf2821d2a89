"""What the bot remembers between messages, behind one protocol with one backend per file.

Everything that must hold when two copies of the bot answer the same workspace lives here, not
in process memory: conversation sessions, thread context, feedback votes, per-answer usage,
idempotency keys (one answer per Slack message), rate-limit buckets, and the per-thread lease
and "newest message" marker that keep answers in one thread from interleaving and let a newer
message stop an older answer wherever it runs.

Backends: `sqlite_state_store.SqliteStateStore` (embedded, the default, one file under
DATA_DIR) and `redis_state_store.RedisStateStore` (when REDIS_URL is set). Both pass the same
contract tests in `tests/assistant/storage/test_state_store_contract.py`. Times are wall-clock
epoch seconds, since they are compared across processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

from agents.memory import Session


@dataclass(frozen=True)
class FeedbackVote:
    team_id: str
    channel_id: str
    thread_ts: str
    message_ts: str
    user_id: str
    positive: bool
    model: str
    voted_at: float = 0.0  # 0: the store stamps the current time


@dataclass(frozen=True)
class UsageRecord:
    """One answer attempt: what it cost, how long it took and how it ended."""

    team_id: str
    channel_id: str
    thread_ts: str
    message_ts: str  # the question's ts; answers are joined to votes through the thread
    user_id: str
    model: str
    outcome: str  # "answered", "stopped", "interrupted", or a FailureKind value
    input_tokens: int
    output_tokens: int
    latency_ms: int
    first_token_ms: int | None
    recorded_at: float = 0.0  # 0: the store stamps the current time


@dataclass(frozen=True)
class TokenBucket:
    """One rate-limit bucket: holds up to `per_minute` tokens, refilled at `per_minute` a minute."""

    key: str
    per_minute: int


def refill(tokens: float, updated_at: float, now: float, per_minute: int) -> float:
    """A bucket's tokens at `now`; the one definition every backend's bucket follows."""
    elapsed = max(0.0, now - updated_at)
    return min(float(per_minute), tokens + elapsed * per_minute / 60.0)


def wait_for_token(tokens: float, per_minute: int) -> float:
    """Seconds until a bucket holding `tokens` has a whole token (0 when it has one now)."""
    return 0.0 if tokens >= 1 else (1 - tokens) * 60.0 / per_minute


def ts_order(ts: str) -> Decimal:
    """Slack message timestamps ("1712345678.000200") compared as numbers, not strings."""
    try:
        return Decimal(ts)
    except (InvalidOperation, TypeError):
        return Decimal(0)


class StateStore(Protocol):
    """Every backend implements all of this; see the module docstring."""

    async def open(self) -> None:
        """Connect and bring the schema up to date (idempotent; raises OSError-like errors when
        the backend is unusable, so start-up can report it)."""

    async def close(self) -> None: ...

    # Conversation memory: one Agents SDK session per assistant thread.
    def session(self, session_id: str) -> Session: ...

    # Thread context (the channel the user is viewing), from assistant_thread_* events.
    async def save_thread_context(self, *, channel_id: str, thread_ts: str, context: dict[str, str]) -> None: ...

    async def find_thread_context(self, *, channel_id: str, thread_ts: str) -> dict[str, str] | None: ...

    # Feedback: one vote per (message, user); a later vote replaces the earlier one.
    async def record_vote(self, vote: FeedbackVote) -> None: ...

    async def votes_for_message(self, *, channel_id: str, message_ts: str) -> list[FeedbackVote]: ...

    async def votes_since(self, since: float) -> list[FeedbackVote]:
        """Votes with voted_at >= since, oldest first."""

    # Usage: append-only.
    async def record_usage(self, record: UsageRecord) -> None: ...

    async def usage_since(self, since: float) -> list[UsageRecord]:
        """Records with recorded_at >= since, oldest first."""

    # Idempotency keys.
    async def claim_key(self, key: str, ttl_seconds: float) -> bool:
        """True for the first claim of `key` within `ttl_seconds`, False for every repeat."""

    # Rate limits.
    async def take_tokens(self, buckets: list[TokenBucket]) -> list[float]:
        """All or nothing: when every bucket has a token, take one from each and return zeros;
        otherwise take none and return each bucket's wait in seconds (0 for those with one)."""

    # Per-thread lease: who may answer in a thread right now.
    async def acquire_lease(self, key: str, owner: str, ttl_seconds: float) -> bool:
        """Take the lease when it is free or expired (or already `owner`'s); True if held."""

    async def renew_lease(self, key: str, owner: str, ttl_seconds: float) -> bool:
        """Extend `owner`'s lease; False when it is no longer theirs (expired and taken)."""

    async def release_lease(self, key: str, owner: str) -> None:
        """Free the lease if `owner` still holds it."""

    # The newest message seen in a thread: an answer to an older one stops.
    async def mark_newest(self, key: str, message_ts: str) -> str:
        """Record `message_ts` unless a newer one is recorded; returns the newest."""

    async def newest(self, key: str) -> str | None: ...
