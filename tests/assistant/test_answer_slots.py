import asyncio

import pytest
from agents.testing import ScriptedModel

from assistant.answer_pipeline import QUEUED_STATUS
from assistant.answer_slots import AnswerSlots
from tests.support.assistant_fixtures import scripted_agent
from tests.support.scripted_replies import streamed_reply
from tests.support.slack_waits import final_answer, greeted_thread


async def test_at_most_limit_answers_run_and_the_rest_go_in_arrival_order():
    slots = AnswerSlots(2)
    running, most, order = 0, 0, []

    async def answer(n: int) -> None:
        nonlocal running, most
        async with slots.hold():
            order.append(n)
            running += 1
            most = max(most, running)
            await asyncio.sleep(0.01)
            running -= 1

    tasks = []
    for n in range(8):
        tasks.append(asyncio.create_task(answer(n)))
        await asyncio.sleep(0)  # arrive one after another
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert most == 2 and order == list(range(8))
    assert not slots.full and slots.waiting == 0


async def test_a_waiting_question_that_is_cancelled_gives_nothing_away():
    slots = AnswerSlots(1)
    release = asyncio.Event()

    async def hold_until_released() -> None:
        async with slots.hold():
            await release.wait()

    first = asyncio.create_task(hold_until_released())
    await asyncio.sleep(0)
    waiting = asyncio.create_task(hold_until_released())
    await asyncio.sleep(0)
    assert slots.full and slots.waiting == 1
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert slots.waiting == 0
    release.set()
    await asyncio.wait_for(first, 5)
    assert not slots.full
    async with slots.hold():  # the slot came back
        pass


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError):
        AnswerSlots(0)


async def test_questions_over_the_limit_wait_their_turn_and_every_answer_arrives(slack_sim, connect_assistant):
    questions = 5
    texts = [" ".join(f"a{n}w{i}" for i in range(6)) for n in range(questions)]
    model = ScriptedModel([streamed_reply(*[w + " " for w in t.split(" ")[:-1]], t.split(" ")[-1], pause=0.05) for t in texts])
    users = [slack_sim.add_user(name=f"user{n}") for n in range(questions)]
    async with connect_assistant(agent=scripted_agent(model), MAX_CONCURRENT_ANSWERS="2"):
        threads = [await greeted_thread(slack_sim, user.id) for user in users]
        await asyncio.gather(*(slack_sim.user_says(thread, f"question {n}") for n, thread in enumerate(threads)))
        finals = await slack_sim.wait_for(
            lambda: [a for a in (final_answer(slack_sim, t) for t in threads) if a] if all(final_answer(slack_sim, t) for t in threads) else None,
            timeout=30,
            description="every answer finished",
        )
    assert sorted(finals) == sorted(texts)
    streams = slack_sim.state.stream_records()
    opened = sorted([(s.started_at, +1) for s in streams] + [(s.stopped_at, -1) for s in streams])
    running = [sum(step for _, step in opened[: i + 1]) for i in range(len(opened))]
    assert max(running) == 2, "two answers written at once, never more"
    queued = [t for t in threads if QUEUED_STATUS in [s.status for s in slack_sim.state.statuses(t.channel_id, t.thread_ts)]]
    assert len(queued) == questions - 2, "the waiting questions said so"
