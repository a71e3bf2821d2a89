"""Many answers at once under Slack's per-workspace limits (the simulator enforces the tiers):
the shared budget paces every call, so nothing is refused, and every answer arrives whole."""

import asyncio

from agents.testing import ScriptedModel

from tests.e2e.slack_sim.rate_limits import RateLimit
from tests.support.assistant_fixtures import scripted_agent
from tests.support.scripted_replies import streamed_reply
from tests.support.slack_waits import final_answer, greeted_thread

THREADS = 12
APPEND_LIMIT = "chat.appendStream=30/3"


async def test_concurrent_answers_stay_inside_slacks_limits_and_arrive_whole(slack_sim, connect_assistant):
    texts = [" ".join(f"a{n}w{i}" for i in range(30)) for n in range(THREADS)]
    model = ScriptedModel([streamed_reply(*[w + " " for w in text.split(" ")[:-1]], text.split(" ")[-1], pause=0.05) for text in texts])
    users = [slack_sim.add_user(name=f"user{n}") for n in range(THREADS)]
    async with connect_assistant(agent=scripted_agent(model), SLACK_RATE_LIMITS=APPEND_LIMIT):
        threads = [await greeted_thread(slack_sim, user.id) for user in users]
        # Slack's tiers from here on (chat.startStream/stopStream Tier 2, chat.update Tier 3…),
        # with appends cut to 30 a minute so the answers must share them.
        slack_sim.enable_rate_limits({"chat.appendStream": RateLimit(per_minute=30, burst=3)})
        await asyncio.gather(*(slack_sim.user_says(thread, f"question {n}") for n, thread in enumerate(threads)))
        finals = await slack_sim.wait_for(
            lambda: [a for a in (final_answer(slack_sim, t) for t in threads) if a] if all(final_answer(slack_sim, t) for t in threads) else None,
            timeout=60,
            description="every answer finished",
        )
    refused = [(c.method, c.error) for c in slack_sim.state.calls() if c.error == "ratelimited"]
    assert refused == []
    assert sorted(finals) == sorted(texts), "every answer whole, character for character"


async def test_listeners_get_a_paced_client_not_bolts_plain_one(slack_sim, connect_assistant):
    # Bolt builds a plain AsyncWebClient per request; the status, title and prompts calls a
    # listener makes must still take their slots. With setStatus booked far ahead, it is skipped.
    model = ScriptedModel([streamed_reply("Hi.")])
    alice = slack_sim.add_user(name="alice")
    async with connect_assistant(agent=scripted_agent(model), SLACK_RATE_LIMITS="assistant.threads.setStatus=1/1") as services:
        thread = await greeted_thread(slack_sim, alice.id)
        await services.slack_budget.acquire("assistant.threads.setStatus")  # the one slot of this minute
        await slack_sim.user_says(thread, "Hello")
        await slack_sim.wait_for(lambda: final_answer(slack_sim, thread), timeout=10, description="the answer")
    assert slack_sim.state.statuses(thread.channel_id, thread.thread_ts) == [] or all(
        s.cleared_by_reply for s in slack_sim.state.statuses(thread.channel_id, thread.thread_ts)
    ), "the status call was skipped, not sent"
