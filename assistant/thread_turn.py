"""Who answers in a thread right now, across every instance of the bot.

An answer holds the thread's lease (in the state store, with an expiry, so a crashed instance
blocks a thread for at most one lease time) while it runs, renewing it as it goes. Every
incoming message first marks itself as the thread's newest; the running answer watches that
mark and stops as soon as a newer message exists, wherever that message was delivered. A message
that finds a newer one already marked while it waits is superseded and not answered: the newer
message is, and answers never interleave.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from assistant.storage.state_store import StateStore, ts_order

POLL_SECONDS = 0.2
# The watcher ends on a flag, not by cancellation; its last store call is bounded by the
# client's own timeouts, this is the backstop.
WATCHER_STOP_SECONDS = 10.0


class Superseded(Exception):
    """A newer message arrived in the thread before this one's answer started."""


class ThreadBusy(Exception):
    """The thread's lease could not be taken in time."""


@dataclass
class ThreadTurn:
    """The held lease of one answer; `stop_reason` is set when the answer must stop."""

    key: str
    owner: str
    message_ts: str
    stop_reason: str | None = None
    # Set by the answer: once it is complete in Slack a stop changes nothing; once it is ending
    # after a stop, the stop has been received.
    answered: bool = False
    stopping: bool = False
    _on_stop: list[Callable[[], object]] = field(default_factory=list)

    @property
    def must_stop(self) -> bool:
        """A stop was asked for and the answer has neither finished nor started ending."""
        return self.stop_reason is not None and not self.answered and not self.stopping

    def on_stop(self, callback: Callable[[], object]) -> None:
        """Call `callback` when the answer must stop (at once, if it already must)."""
        if self.stop_reason is not None:
            callback()
        else:
            self._on_stop.append(callback)

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
            for callback in self._on_stop:
                callback()


def is_newer(newest: str | None, message_ts: str) -> bool:
    return newest is not None and ts_order(newest) > ts_order(message_ts)


@asynccontextmanager
async def hold_thread(
    store: StateStore,
    *,
    key: str,
    owner: str,
    message_ts: str,
    lease_seconds: float,
    wait_seconds: float,
    logger: logging.Logger,
) -> AsyncIterator[ThreadTurn]:
    """Wait for the thread's lease, hold it while the body runs, release it after.

    Raises Superseded when a newer message is marked before the lease is taken, ThreadBusy when
    it is not taken within `wait_seconds`.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        if is_newer(await store.newest(key), message_ts):
            raise Superseded(key)
        if await store.acquire_lease(key, owner, lease_seconds):
            break
        if time.monotonic() >= deadline:
            raise ThreadBusy(key)
        await asyncio.sleep(POLL_SECONDS)
    turn = ThreadTurn(key, owner, message_ts)
    released = asyncio.Event()
    watcher = asyncio.create_task(_watch(store, turn, lease_seconds, released, logger))
    try:
        # The newer message may have been marked between the check and the lease.
        if is_newer(await store.newest(key), message_ts):
            raise Superseded(key)
        yield turn
    finally:
        # Not watcher.cancel(): on Python 3.11 a cancel that lands as a store call completes
        # inside asyncio.wait_for (redis-py wraps every send in one) is lost, and the watcher
        # would renew the lease forever. Seen under load in the two-instance test.
        released.set()
        await asyncio.wait([watcher], timeout=WATCHER_STOP_SECONDS)
        if not watcher.done():
            logger.warning("Lease watcher of thread %s did not stop; cancelling it", key)
            watcher.cancel()
        try:
            await asyncio.shield(store.release_lease(key, owner))
        except Exception as exc:
            # It expires on its own; the next message waits at most one lease time.
            logger.warning("Could not release the lease of thread %s: %s", key, type(exc).__name__)


async def _watch(
    store: StateStore, turn: ThreadTurn, lease_seconds: float, released: asyncio.Event, logger: logging.Logger
) -> None:
    """Renew the lease and look for a newer message until `released`. A stopped answer still
    holds the thread while it cleans up, so renewal goes on after the stop."""
    renewed_at = time.monotonic()
    while not released.is_set():
        try:
            await asyncio.wait_for(released.wait(), POLL_SECONDS)
            return
        except TimeoutError:
            pass
        try:
            if turn.stop_reason is None and is_newer(await store.newest(turn.key), turn.message_ts):
                turn.stop("newer_message")
            if time.monotonic() - renewed_at >= lease_seconds / 3:
                if not await store.renew_lease(turn.key, turn.owner, lease_seconds):
                    turn.stop("lease_lost")
                    return
                renewed_at = time.monotonic()
        except Exception as exc:
            logger.warning("Thread lease check failed for %s: %s", turn.key, type(exc).__name__)
        if time.monotonic() - renewed_at >= lease_seconds:
            # Another instance may hold the thread by now; answering on would interleave.
            turn.stop("lease_lost")
            return
