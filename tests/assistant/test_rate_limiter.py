"""QuestionLimits over the real SQLite state store (the bucket math itself is in the store's
contract tests, which also run it on Redis)."""

from assistant.rate_limiter import QuestionLimits
from assistant.storage.sqlite_state_store import SqliteStateStore


async def test_both_user_and_channel_limits_apply_and_a_refusal_costs_nothing(sqlite_store):
    limits = QuestionLimits(sqlite_store, user_per_minute=2, channel_per_minute=3)
    assert (await limits.check("U1", "C1")).allowed and (await limits.check("U1", "C1")).allowed
    refused = await limits.check("U1", "C1")
    assert not refused.allowed and refused.scope == "user" and 29 < refused.retry_after_seconds <= 30
    assert (await limits.check("U2", "C1")).allowed, "the refusal took no channel token"
    channel_full = await limits.check("U3", "C1")
    assert not channel_full.allowed and channel_full.scope == "channel"


async def test_two_instances_on_one_store_share_the_buckets(sqlite_store):
    other = SqliteStateStore(sqlite_store.path)
    await other.open()
    try:
        first, second = QuestionLimits(sqlite_store, 2, 100), QuestionLimits(other, 2, 100)
        assert (await first.check("U1", "C1")).allowed and (await second.check("U1", "C1")).allowed
        assert not (await first.check("U1", "C1")).allowed
        assert not (await second.check("U1", "C1")).allowed
    finally:
        await other.close()
