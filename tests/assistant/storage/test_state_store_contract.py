"""The `StateStore` contract: one set of tests, run against every backend.

Each test runs once on SQLite (a file in tmp_path) and once on Redis (a real redis-server
started by the `redis_server` fixture, emptied before each test). A backend that passes here
can replace the other without the bot noticing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from assistant.storage.state_store import FeedbackVote, StateStore, TokenBucket, UsageRecord

MakeStore = Callable[[], StateStore]


@pytest.fixture(params=["sqlite", "redis"])
def make_store(request: pytest.FixtureRequest, tmp_path) -> MakeStore:
    """A factory of unopened stores that all share one backend (same file / same server),
    like several processes of the bot would."""
    if request.param == "sqlite":
        from assistant.storage.sqlite_state_store import SqliteStateStore

        path = tmp_path / "assistant.sqlite3"
        return lambda: SqliteStateStore(path)
    from assistant.storage.redis_state_store import RedisStateStore

    # Looked up here, not declared, so the SQLite half never starts a redis-server.
    url = request.getfixturevalue("redis_url")
    return lambda: RedisStateStore(url, key_prefix="test")


@pytest.fixture
async def store(make_store: MakeStore) -> AsyncIterator[StateStore]:
    opened = make_store()
    await opened.open()
    yield opened
    await opened.close()


def vote(user_id: str = "U1", *, message_ts: str = "2.000000", positive: bool = True, voted_at: float = 0.0) -> FeedbackVote:
    return FeedbackVote("T1", "D1", "1.000000", message_ts, user_id, positive, "openai/gpt-4", voted_at)


def usage(recorded_at: float = 0.0, *, outcome: str = "answered", first_token_ms: int | None = 120) -> UsageRecord:
    return UsageRecord(
        team_id="T1",
        channel_id="D1",
        thread_ts="1.000000",
        message_ts="2.000000",
        user_id="U1",
        model="openai/gpt-4",
        outcome=outcome,
        input_tokens=10,
        output_tokens=20,
        latency_ms=900,
        first_token_ms=first_token_ms,
        recorded_at=recorded_at,
    )


# ---------------------------------------------------------------------- thread context


async def test_thread_context_is_saved_overwritten_and_missing_is_none(store: StateStore) -> None:
    assert await store.find_thread_context(channel_id="D1", thread_ts="1.000000") is None

    await store.save_thread_context(channel_id="D1", thread_ts="1.000000", context={"channel_id": "C1", "team_id": "T1"})
    await store.save_thread_context(channel_id="D1", thread_ts="1.000000", context={"channel_id": "C2", "team_id": "T1"})
    await store.save_thread_context(channel_id="D1", thread_ts="3.000000", context={"channel_id": "C9"})

    assert await store.find_thread_context(channel_id="D1", thread_ts="1.000000") == {"channel_id": "C2", "team_id": "T1"}
    assert await store.find_thread_context(channel_id="D1", thread_ts="3.000000") == {"channel_id": "C9"}
    assert await store.find_thread_context(channel_id="D2", thread_ts="1.000000") is None


# ---------------------------------------------------------------------- feedback


async def test_a_later_vote_replaces_the_earlier_one_per_user(store: StateStore) -> None:
    await store.record_vote(vote("U1", positive=True, voted_at=100.0))
    await store.record_vote(vote("U2", positive=True, voted_at=150.0))
    await store.record_vote(vote("U1", positive=False, voted_at=200.0))
    await store.record_vote(vote("U3", message_ts="5.000000", voted_at=120.0))

    votes = await store.votes_for_message(channel_id="D1", message_ts="2.000000")

    assert [(v.user_id, v.positive, v.voted_at) for v in votes] == [("U2", True, 150.0), ("U1", False, 200.0)]
    assert all(v.team_id == "T1" and v.thread_ts == "1.000000" and v.model == "openai/gpt-4" for v in votes)
    assert await store.votes_for_message(channel_id="D1", message_ts="9.000000") == []


async def test_votes_since_filters_and_orders_oldest_first(store: StateStore) -> None:
    await store.record_vote(vote("U1", message_ts="2.000000", voted_at=300.0))
    await store.record_vote(vote("U2", message_ts="3.000000", voted_at=100.0))
    await store.record_vote(vote("U3", message_ts="4.000000", voted_at=200.0))
    await store.record_vote(vote("U4", message_ts="4.000000", voted_at=150.0))
    # Replaced: the vote moves to its new time and is listed once.
    await store.record_vote(vote("U2", message_ts="3.000000", positive=False, voted_at=400.0))

    since = await store.votes_since(150.0)

    assert [(v.user_id, v.message_ts, v.voted_at) for v in since] == [
        ("U4", "4.000000", 150.0),
        ("U3", "4.000000", 200.0),
        ("U1", "2.000000", 300.0),
        ("U2", "3.000000", 400.0),
    ]
    assert since[-1].positive is False
    assert await store.votes_since(1_000.0) == []
    assert len(await store.votes_since(0.0)) == 4


async def test_a_vote_without_a_time_is_stamped_now(store: StateStore) -> None:
    before = time.time()
    await store.record_vote(vote("U1"))
    after = time.time()

    [stored] = await store.votes_for_message(channel_id="D1", message_ts="2.000000")

    assert before <= stored.voted_at <= after
    assert [v.user_id for v in await store.votes_since(before)] == ["U1"]


# ---------------------------------------------------------------------- usage


async def test_usage_is_append_only_filtered_and_oldest_first(store: StateStore) -> None:
    await store.record_usage(usage(30.0, outcome="stopped"))
    await store.record_usage(usage(10.0))
    await store.record_usage(usage(20.0, first_token_ms=None))
    await store.record_usage(usage(20.0, first_token_ms=None))  # an identical record is kept too

    assert [(r.recorded_at, r.outcome) for r in await store.usage_since(15.0)] == [
        (20.0, "answered"),
        (20.0, "answered"),
        (30.0, "stopped"),
    ]
    everything = await store.usage_since(0.0)
    assert everything == [usage(10.0), usage(20.0, first_token_ms=None), usage(20.0, first_token_ms=None), usage(30.0, outcome="stopped")]
    assert await store.usage_since(31.0) == []


async def test_usage_without_a_time_is_stamped_now(store: StateStore) -> None:
    before = time.time()
    await store.record_usage(usage())
    after = time.time()

    [stored] = await store.usage_since(before)

    assert before <= stored.recorded_at <= after
    assert stored.input_tokens == 10 and stored.output_tokens == 20 and stored.latency_ms == 900


# ---------------------------------------------------------------------- idempotency keys


async def test_a_key_is_claimed_once_until_its_ttl_passes(store: StateStore) -> None:
    assert await store.claim_key("event:Ev1", 0.2) is True
    assert await store.claim_key("event:Ev1", 0.2) is False
    assert await store.claim_key("event:Ev2", 0.2) is True

    await asyncio.sleep(0.3)

    assert await store.claim_key("event:Ev1", 60) is True
    assert await store.claim_key("event:Ev1", 60) is False


# ---------------------------------------------------------------------- rate limits


async def test_take_tokens_is_all_or_nothing(store: StateStore) -> None:
    user = TokenBucket("user:U1", per_minute=2)
    channel = TokenBucket("channel:C1", per_minute=2)

    assert await store.take_tokens([user]) == [0.0]
    assert await store.take_tokens([user]) == [0.0]

    user_wait, channel_wait = await store.take_tokens([user, channel])

    assert 25.0 <= user_wait <= 31.0
    assert channel_wait == 0.0
    # The refused call took nothing from the channel: it still has both its tokens.
    assert await store.take_tokens([channel]) == [0.0]
    assert await store.take_tokens([channel]) == [0.0]
    [refused] = await store.take_tokens([channel])
    assert 25.0 <= refused <= 31.0


async def test_concurrent_takes_never_overdraw_a_bucket(store: StateStore) -> None:
    bucket = TokenBucket("channel:C1", per_minute=5)

    results = await asyncio.gather(*(store.take_tokens([bucket]) for _ in range(20)))

    assert sum(1 for [wait] in results if wait == 0.0) == 5
    assert all(wait > 0 for [wait] in results if wait != 0.0)


# ---------------------------------------------------------------------- per-thread lease


async def test_a_lease_has_one_holder_at_a_time(store: StateStore) -> None:
    key = "thread:D1:1.000000"

    assert await store.acquire_lease(key, "A", 30) is True
    assert await store.acquire_lease(key, "B", 30) is False
    assert await store.acquire_lease(key, "A", 30) is True  # the holder may re-acquire
    assert await store.renew_lease(key, "B", 30) is False
    assert await store.renew_lease(key, "A", 30) is True

    await store.release_lease(key, "B")  # not B's: no effect
    assert await store.acquire_lease(key, "B", 30) is False

    await store.release_lease(key, "A")
    assert await store.acquire_lease(key, "B", 30) is True
    assert await store.acquire_lease(key, "A", 30) is False


async def test_an_expired_lease_can_be_taken_and_is_lost_by_its_old_holder(store: StateStore) -> None:
    key = "thread:D1:1.000000"
    assert await store.acquire_lease(key, "A", 0.2) is True

    await asyncio.sleep(0.3)

    assert await store.acquire_lease(key, "B", 30) is True
    assert await store.renew_lease(key, "A", 30) is False
    await store.release_lease(key, "A")
    assert await store.acquire_lease(key, "C", 30) is False  # still B's


# ---------------------------------------------------------------------- newest message


async def test_mark_newest_keeps_the_numerically_newest_ts(store: StateStore) -> None:
    key = "thread:D1:1.000000"
    assert await store.newest(key) is None

    assert await store.mark_newest(key, "9.000001") == "9.000001"
    # As strings "10..." < "9...": the comparison must be numeric.
    assert await store.mark_newest(key, "10.000000") == "10.000000"
    assert await store.mark_newest(key, "9.999999") == "10.000000"
    assert await store.newest(key) == "10.000000"

    other = "thread:D1:5.000000"
    assert await store.mark_newest(other, "1712345678.000200") == "1712345678.000200"
    assert await store.mark_newest(other, "1712345678.000199") == "1712345678.000200"
    assert await store.mark_newest(other, "1712345678.000201") == "1712345678.000201"
    assert await store.newest(other) == "1712345678.000201"
    assert await store.newest(key) == "10.000000"
    assert await store.newest("thread:unknown") is None


# ---------------------------------------------------------------------- sessions

USER_MESSAGE: dict[str, Any] = {"role": "user", "content": "What's the weather?"}
ASSISTANT_MESSAGE: dict[str, Any] = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "status": "completed",
    "content": [{"type": "output_text", "text": "Let me check.", "annotations": []}],
}
FUNCTION_CALL: dict[str, Any] = {
    "id": "fc_1",
    "type": "function_call",
    "call_id": "call_1",
    "name": "get_weather",
    "arguments": '{"city": "Paris"}',
    "status": "completed",
}
FUNCTION_OUTPUT: dict[str, Any] = {"type": "function_call_output", "call_id": "call_1", "output": "Sunny, 21 C"}
CONVERSATION = [USER_MESSAGE, ASSISTANT_MESSAGE, FUNCTION_CALL, FUNCTION_OUTPUT]


async def test_sessions_round_trip_items_and_are_isolated(store: StateStore) -> None:
    first = store.session("D1:1.000000")
    second = store.session("D1:3.000000")

    await first.add_items(CONVERSATION[:2])  # type: ignore[arg-type]
    await first.add_items(CONVERSATION[2:])  # type: ignore[arg-type]
    await second.add_items([{"role": "user", "content": "Another thread"}])

    assert await first.get_items() == CONVERSATION
    assert await first.get_items(limit=2) == [FUNCTION_CALL, FUNCTION_OUTPUT]
    assert await second.get_items() == [{"role": "user", "content": "Another thread"}]
    assert await store.session("D1:9.000000").get_items() == []
    # A fresh session object for the same id reads the same history.
    assert await store.session("D1:1.000000").get_items() == CONVERSATION


async def test_sessions_survive_closing_and_reopening_the_store(make_store: MakeStore) -> None:
    writer = make_store()
    await writer.open()
    await writer.session("D1:1.000000").add_items(CONVERSATION)  # type: ignore[arg-type]
    await writer.close()

    reader = make_store()
    await reader.open()
    try:
        assert await reader.session("D1:1.000000").get_items() == CONVERSATION
    finally:
        await reader.close()


# ---------------------------------------------------------------------- several processes


async def test_two_stores_on_one_backend_share_claims_leases_and_marks(make_store: MakeStore) -> None:
    first, second = make_store(), make_store()
    await first.open()
    await second.open()
    try:
        assert await first.claim_key("event:Ev1", 60) is True
        assert await second.claim_key("event:Ev1", 60) is False

        assert await first.acquire_lease("thread:D1:1.000000", "A", 30) is True
        assert await second.acquire_lease("thread:D1:1.000000", "B", 30) is False
        await first.release_lease("thread:D1:1.000000", "A")
        assert await second.acquire_lease("thread:D1:1.000000", "B", 30) is True

        await second.mark_newest("thread:D1:1.000000", "5.000000")
        assert await first.newest("thread:D1:1.000000") == "5.000000"

        bucket = TokenBucket("user:U1", per_minute=1)
        assert await first.take_tokens([bucket]) == [0.0]
        [wait] = await second.take_tokens([bucket])
        assert wait > 0
    finally:
        await first.close()
        await second.close()
