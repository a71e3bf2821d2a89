"""One budget per rate-limited Slack method, shared by every answer this process streams.

Slack limits the streaming methods per app *per workspace* (chat.appendStream Tier 4, about
100 calls a minute with short bursts; chat.startStream and chat.stopStream Tier 2; chat.update
Tier 3). Answers that each pace themselves still add up to a flood of 429s when many stream at
once. Here every call first takes a slot from its method's budget; slots are handed out in
order of asking (first come, first served), so with N answers streaming, each one's interval
stretches to about N / rate and the text it gathers meanwhile goes out in one call.

The rate is a GCRA (generic cell rate algorithm): a slot every 60/per_minute seconds, with up to
`burst` slots taken at once after a quiet spell, the same shape as Slack's buckets. The budget
runs a little under Slack's published tiers, so clock drift or another caller of the same
token does not tip it over; a 429 that still happens holds the whole method back for its
Retry-After.

Every answer shown while it is written needs one more limited call at its end (chat.stopStream,
Tier 2, or chat.update, Tier 3) to show its exact final text, so the budget also counts the
calls promised to answers under way: an answer only starts on a method whose promised calls
could all be made soon (`can_promise`). With more answers at once than that, the rest are
posted whole when they are done (chat.postMessage is limited per channel, not per workspace):
later, but complete and without a 429.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class MethodRate:
    per_minute: float
    burst: int


TIER_2, TIER_3, TIER_4 = MethodRate(20, 5), MethodRate(50, 10), MethodRate(100, 20)
# Slack's published tiers (docs.slack.dev, rate limits) for the methods the bot calls per answer.
# chat.postMessage is limited per channel (about one a second), not per workspace: not here.
PUBLISHED_RATES: dict[str, MethodRate] = {
    "chat.startStream": TIER_2,
    "chat.appendStream": TIER_4,
    "chat.stopStream": TIER_2,
    "chat.update": TIER_3,
    "chat.postEphemeral": TIER_4,
    "assistant.threads.setStatus": TIER_4,
    "assistant.threads.setTitle": TIER_4,
    "assistant.threads.setSuggestedPrompts": TIER_4,
    "conversations.replies": TIER_3,
    "conversations.history": TIER_3,
    "conversations.info": TIER_3,
    "conversations.members": TIER_4,
    "users.info": TIER_4,
}
# Share of the published rate the bot plans to use.
HEADROOM = 0.9


def with_headroom(rate: MethodRate) -> MethodRate:
    return MethodRate(rate.per_minute * HEADROOM, max(1, int(rate.burst * HEADROOM)))


def parse_rates(raw: str) -> dict[str, MethodRate | None]:
    """`SLACK_RATE_LIMITS`: comma-separated `method=per_minute/burst`, or `method=off`.

    >>> parse_rates("chat.appendStream=100/20, chat.startStream=off")
    {'chat.appendStream': MethodRate(per_minute=100.0, burst=20), 'chat.startStream': None}
    """
    rates: dict[str, MethodRate | None] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        method, sep, value = part.partition("=")
        method, value = method.strip(), value.strip()
        if not sep or "." not in method or " " in method:
            raise ValueError(f"{part!r} is not method=per_minute/burst")
        if value == "off":
            rates[method] = None
            continue
        per_minute, slash, burst = value.partition("/")
        try:
            rate = MethodRate(float(per_minute), int(burst) if slash else 1)
        except ValueError:
            raise ValueError(f"{part!r} is not method=per_minute/burst") from None
        if not (rate.per_minute > 0 and rate.burst >= 1):
            raise ValueError(f"{part!r} needs a rate above 0 and a burst of at least 1")
        rates[method] = rate
    return rates


def reserve(tat: float, now: float, rate: MethodRate) -> tuple[float, float]:
    """One GCRA step: (when the caller may go, the new theoretical arrival time).

    `tat` is when the budget would be back to empty-of-debt; a caller may go once
    `tat - tolerance` has passed, and each call pushes `tat` one interval further.
    """
    interval = 60.0 / rate.per_minute
    tolerance = (rate.burst - 1) * interval
    tat = max(tat, now)
    return max(now, tat - tolerance), tat + interval


class MethodBudget:
    def __init__(self, rate: MethodRate, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self._clock = clock
        self._tat = 0.0

    def wait_estimate(self) -> float:
        """Seconds a caller asking now would wait for its slot."""
        now = self._clock()
        go_at, _ = reserve(self._tat, now, self.rate)
        return go_at - now

    async def acquire(self) -> float:
        """Take the next slot, waiting for it; returns the seconds waited."""
        now = self._clock()
        go_at, self._tat = reserve(self._tat, now, self.rate)
        delay = go_at - now
        if delay > 0:
            await asyncio.sleep(delay)
        return delay

    def hold_off(self, seconds: float) -> None:
        """Slack said 429 anyway: nobody calls this method for `seconds`."""
        interval = 60.0 / self.rate.per_minute
        tolerance = (self.rate.burst - 1) * interval
        self._tat = max(self._tat, self._clock() + seconds + tolerance)


class SlackBudget:
    """The budgets of every limited method; methods without one are not paced here."""

    def __init__(self, rates: Mapping[str, MethodRate | None], clock: Callable[[], float] = time.monotonic):
        self._budgets = {
            method: MethodBudget(with_headroom(rate), clock) for method, rate in rates.items() if rate is not None
        }
        # Calls that answers under way will certainly make (the one closing each of them).
        self._promised: Counter[str] = Counter()

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, MethodRate | None]) -> SlackBudget:
        return cls({**PUBLISHED_RATES, **overrides})

    def wait_estimate(self, method: str) -> float:
        budget = self._budgets.get(method)
        return 0.0 if budget is None else budget.wait_estimate()

    async def acquire(self, method: str) -> float:
        budget = self._budgets.get(method)
        return 0.0 if budget is None else await budget.acquire()

    def hold_off(self, method: str, seconds: float) -> None:
        budget = self._budgets.get(method)
        if budget is not None:
            budget.hold_off(seconds)

    def can_promise(self, method: str, within: float) -> bool:
        """Whether one more call of `method` would still get its slot within `within` seconds
        if every call already promised were made now, before it."""
        budget = self._budgets.get(method)
        if budget is None:
            return True
        interval = 60.0 / budget.rate.per_minute
        return budget.wait_estimate() + self._promised[method] * interval <= within

    def promise(self, method: str) -> None:
        self._promised[method] += 1

    def release(self, method: str) -> None:
        """The promised call was made, or will not be."""
        self._promised[method] -= 1
