"""The thread lease and newest-message stop, on the real SQLite store (the contract tests run the
store operations on Redis too; the multi-instance e2e test runs this across processes)."""

import asyncio
import logging

import pytest

from assistant.thread_turn import Superseded, ThreadBusy, hold_thread, is_newer

LOGGER = logging.getLogger("test")




def _hold(sqlite_store, message_ts, *, owner=None, lease=5.0, wait=3.0):
    return hold_thread(
        sqlite_store, key="T:D1:1.0", owner=owner or f"me/{message_ts}", message_ts=message_ts, lease_seconds=lease, wait_seconds=wait, logger=LOGGER
    )


def test_newer_compares_slack_timestamps_as_numbers():
    assert is_newer("10.000001", "9.999999") and not is_newer("9.999999", "10.000001")
    assert not is_newer(None, "1.0") and not is_newer("1.000100", "1.0001")


async def test_a_newer_message_stops_the_running_turn_and_then_gets_the_thread(sqlite_store):
    order = []

    async def first():
        await sqlite_store.mark_newest("T:D1:1.0", "2.000000")
        async with _hold(sqlite_store, "2.000000") as turn:
            stopped = asyncio.Event()
            turn.on_stop(stopped.set)
            order.append("first started")
            await asyncio.wait_for(stopped.wait(), 5)
            order.append(f"first stopped: {turn.stop_reason}")
            await asyncio.sleep(0.3)  # cleanup still holds the thread
            order.append("first released")

    async def second():
        await asyncio.sleep(0.3)
        await sqlite_store.mark_newest("T:D1:1.0", "3.000000")
        async with _hold(sqlite_store, "3.000000") as turn:
            order.append("second started")
            assert turn.stop_reason is None

    await asyncio.wait_for(asyncio.gather(first(), second()), 10)
    assert order == ["first started", "first stopped: newer_message", "first released", "second started"]


async def test_a_message_overtaken_while_waiting_is_superseded(sqlite_store):
    await sqlite_store.mark_newest("T:D1:1.0", "2.0")
    async with _hold(sqlite_store, "2.0"):
        await sqlite_store.mark_newest("T:D1:1.0", "3.0")
        await sqlite_store.mark_newest("T:D1:1.0", "4.0")
        with pytest.raises(Superseded):
            async with _hold(sqlite_store, "3.0"):
                pass


async def test_a_lease_left_by_a_crashed_holder_expires(sqlite_store):
    assert await sqlite_store.acquire_lease("T:D1:1.0", "crashed/1.0", 0.5)
    await sqlite_store.mark_newest("T:D1:1.0", "5.0")
    started = asyncio.get_running_loop().time()
    async with _hold(sqlite_store, "5.0", wait=3.0):
        waited = asyncio.get_running_loop().time() - started
    assert 0.3 <= waited < 2.0


async def test_a_thread_held_too_long_is_reported_busy(sqlite_store):
    assert await sqlite_store.acquire_lease("T:D1:1.0", "other/1.0", 30)
    await sqlite_store.mark_newest("T:D1:1.0", "5.0")
    with pytest.raises(ThreadBusy):
        async with _hold(sqlite_store, "5.0", wait=0.5):
            pass


async def test_a_held_turn_renews_its_lease_past_the_lease_time(sqlite_store):
    await sqlite_store.mark_newest("T:D1:1.0", "2.0")
    async with _hold(sqlite_store, "2.0", lease=1.0) as turn:
        await asyncio.sleep(1.5)
        assert turn.stop_reason is None
        assert not await sqlite_store.acquire_lease("T:D1:1.0", "intruder", 1.0), "still held"
    assert await sqlite_store.acquire_lease("T:D1:1.0", "intruder", 1.0), "released at the end"
