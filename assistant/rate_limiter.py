"""Per-user and per-channel question limits: a shared model budget must survive one eager user.

Token buckets live in the state store, so every instance of the bot draws from the same ones.
Each bucket holds up to a minute's allowance, so short bursts pass and a sustained flood is held
to the configured rate per minute.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.storage.state_store import StateStore, TokenBucket


@dataclass(frozen=True)
class LimitDecision:
    allowed: bool
    retry_after_seconds: float = 0.0
    scope: str = ""  # "user" or "channel" when refused


class QuestionLimits:
    """Both limits together: a question must fit the user's and the channel's bucket."""

    def __init__(self, store: StateStore, user_per_minute: int, channel_per_minute: int):
        self._store = store
        self.user_per_minute = user_per_minute
        self.channel_per_minute = channel_per_minute

    async def check(self, user_id: str, channel_id: str) -> LimitDecision:
        user_wait, channel_wait = await self._store.take_tokens(
            [
                TokenBucket(f"limit:user:{user_id}", self.user_per_minute),
                TokenBucket(f"limit:channel:{channel_id}", self.channel_per_minute),
            ]
        )
        if not (user_wait or channel_wait):
            return LimitDecision(True)
        scope = "user" if user_wait >= channel_wait else "channel"
        return LimitDecision(False, max(user_wait, channel_wait), scope)
