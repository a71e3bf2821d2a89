import asyncio

from assistant.keyed_locks import KeyedLocks


async def test_same_key_runs_one_at_a_time_other_keys_in_parallel():
    locks = KeyedLocks()
    order: list[str] = []

    async def work(key: str, name: str) -> None:
        async with locks.hold(key):
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            order.append(f"{name} out")

    await asyncio.gather(work("t1", "a"), work("t1", "b"), work("t2", "c"))
    assert order.index("a out") < order.index("b in")
    assert order.index("c in") < order.index("a out")
    assert len(locks) == 0, "unused locks are forgotten"


async def test_a_failing_holder_releases_the_key():
    locks = KeyedLocks()
    try:
        async with locks.hold("t"):
            raise RuntimeError
    except RuntimeError:
        pass
    async with locks.hold("t"):
        pass
    assert len(locks) == 0
