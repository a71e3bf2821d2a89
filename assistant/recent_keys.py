"""Remember keys for a while: the first claim of a key wins, repeats within the TTL lose.

Slack redelivers an event when its ack was late or the connection dropped (`retry_attempt` > 0)
and can deliver the same event twice; a question must still be answered exactly once. Keys are
the message's identity, not the delivery's, so a retry whose first delivery never arrived is
still answered.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

DEFAULT_TTL_SECONDS = 15 * 60


class RecentKeys:
    def __init__(self, ttl_seconds: float = DEFAULT_TTL_SECONDS, clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl_seconds
        self._clock = clock
        self._seen: OrderedDict[Hashable, float] = OrderedDict()

    def claim(self, key: Hashable) -> bool:
        now = self._clock()
        while self._seen and next(iter(self._seen.values())) <= now - self._ttl:
            self._seen.popitem(last=False)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True

    def __len__(self) -> int:
        return len(self._seen)
