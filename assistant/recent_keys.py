"""Remember keys for a while: the first claim of a key wins, repeats within the TTL lose.

Slack redelivers an event when its ack was late or the connection dropped (`retry_attempt` > 0)
and can deliver the same event twice; a question must still be answered exactly once. Keys are
the message's identity, not the delivery's, so a retry whose first delivery never arrived is
still answered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

from assistant.ttl_cache import TTLCache

DEFAULT_TTL_SECONDS = 15 * 60


class RecentKeys:
    def __init__(self, ttl_seconds: float = DEFAULT_TTL_SECONDS, clock: Callable[[], float] = time.monotonic):
        self._seen: TTLCache[bool] = TTLCache(ttl_seconds, clock=clock)

    def claim(self, key: Hashable) -> bool:
        if key in self._seen:
            return False
        self._seen.set(key, True)
        return True

    def __len__(self) -> int:
        return len(self._seen)
