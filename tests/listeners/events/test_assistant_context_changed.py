import asyncio

from agents.testing import ScriptedModel

from tests.support.assistant_fixtures import scripted_agent


async def test_context_changes_are_remembered_quietly(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    first = slack_sim.add_channel("first", members=[alice.id])
    second = slack_sim.add_channel("second", members=[alice.id])
    async with connect_assistant(agent=scripted_agent(ScriptedModel())) as services:
        thread = await slack_sim.start_assistant_thread(alice.id, context_channel=first)
        await slack_sim.wait_for(lambda: slack_sim.state.bot_replies(thread.channel_id, thread.thread_ts))
        posted_before = len(slack_sim.state.calls("chat.postMessage"))
        envelope = await slack_sim.change_context(thread, second)
        await slack_sim.wait_for_ack(envelope)

        async def saved_channel():
            found = await services.thread_context_store.find(channel_id=thread.channel_id, thread_ts=thread.thread_ts)
            return found.channel_id if found else None

        # The listener runs after the ack; poll the store a bounded number of times.
        for _ in range(50):
            if await saved_channel() == second:
                break
            await asyncio.sleep(0.05)
        assert await saved_channel() == second
    assert len(slack_sim.state.calls("chat.postMessage")) == posted_before, "context changes must not post"
