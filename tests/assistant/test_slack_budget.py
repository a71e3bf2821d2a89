import asyncio

import pytest

from assistant.slack_budget import MethodBudget, MethodRate, SlackBudget, parse_rates, reserve, with_headroom


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_burst_goes_at_once_then_one_slot_per_interval():
    rate = MethodRate(per_minute=60, burst=3)  # a slot a second
    tat, times = 0.0, []
    for _ in range(5):
        go_at, tat = reserve(tat, 10.0, rate)
        times.append(go_at)
    assert times == [10.0, 10.0, 10.0, 11.0, 12.0]


def test_after_a_quiet_spell_the_burst_is_back_and_no_more():
    rate = MethodRate(per_minute=60, burst=3)
    tat = 0.0
    for _ in range(5):
        _, tat = reserve(tat, 10.0, rate)
    waits = []
    for _ in range(4):
        go_at, tat = reserve(tat, 100.0, rate)
        waits.append(go_at - 100.0)
    assert waits == [0.0, 0.0, 0.0, 1.0]


def test_callers_are_served_in_the_order_they_asked():
    budget = MethodBudget(MethodRate(per_minute=600, burst=1))  # a slot every 0.1 s
    order = []

    async def caller(name):
        await budget.acquire()
        order.append(name)

    async def run():
        await asyncio.gather(*(caller(i) for i in range(5)))

    asyncio.run(asyncio.wait_for(run(), 5))
    assert order == [0, 1, 2, 3, 4]


def test_the_wait_stretches_with_the_number_of_callers():
    rate = MethodRate(per_minute=60, burst=2)
    tat = 0.0
    for _ in range(12):
        _, tat = reserve(tat, 50.0, rate)
    go_at, _ = reserve(tat, 50.0, rate)
    assert go_at - 50.0 == pytest.approx(11.0), "the 13th caller waits for the 11 slots after the burst"


def test_a_429_holds_the_method_back_for_its_retry_after():
    clock = Clock()
    budget = MethodBudget(MethodRate(per_minute=600, burst=20), clock)
    budget.hold_off(7.0)
    assert budget.wait_estimate() == pytest.approx(7.0)


def test_rates_run_a_little_under_slacks_and_unlisted_methods_are_not_paced():
    budget = SlackBudget.from_overrides({"chat.update": None})
    assert with_headroom(MethodRate(100, 20)) == MethodRate(90, 18)
    assert budget.wait_estimate("chat.update") == 0 and budget.wait_estimate("users.info") == 0
    assert asyncio.run(budget.acquire("chat.postMessage")) == 0


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("", {}),
        ("chat.appendStream=100/20", {"chat.appendStream": MethodRate(100, 20)}),
        (" chat.startStream = 30 , chat.update=off", {"chat.startStream": MethodRate(30, 1), "chat.update": None}),
    ],
)
def test_rate_overrides_parse(raw, expected):
    assert parse_rates(raw) == expected


@pytest.mark.parametrize("raw", ["appendStream=100/20", "chat.update", "chat.update=fast", "chat.update=0/5", "chat.update=10/0"])
def test_bad_rate_overrides_are_refused(raw):
    with pytest.raises(ValueError):
        parse_rates(raw)


def test_promises_count_against_a_method_until_released():
    clock = Clock()
    budget = SlackBudget({"chat.update": MethodRate(per_minute=54, burst=1)}, clock)  # 0.9 × 54: a slot every 1.23 s
    assert budget.can_promise("chat.update", within=5)
    for _ in range(4):
        budget.promise("chat.update")
    assert budget.can_promise("chat.update", within=5)  # 4 × 1.23 s = 4.9 s
    budget.promise("chat.update")
    assert not budget.can_promise("chat.update", within=5)
    budget.release("chat.update")
    assert budget.can_promise("chat.update", within=5)
    assert budget.can_promise("chat.postMessage", within=0), "a method without a budget is always affordable"


def test_a_method_held_back_counts_with_the_promises():
    clock = Clock()
    budget = SlackBudget({"chat.update": MethodRate(per_minute=54, burst=1)}, clock)
    budget.hold_off("chat.update", 3.0)
    assert budget.can_promise("chat.update", within=3.0)
    assert not budget.can_promise("chat.update", within=2.9)
