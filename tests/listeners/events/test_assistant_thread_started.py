import json

from assistant.conversation import GREETING_EVENT
from assistant.settings import DEFAULT_GREETING, DEFAULT_SUGGESTED_PROMPTS
from tests.support.assistant_fixtures import scripted_agent
from agents.testing import ScriptedModel


async def test_a_new_thread_gets_a_greeting_and_the_default_prompts(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    general = slack_sim.add_channel("general", members=[alice.id])
    model = ScriptedModel()
    async with connect_assistant(agent=scripted_agent(model)) as services:
        thread = await slack_sim.start_assistant_thread(alice.id, context_channel=general)
        replies = await slack_sim.wait_for(lambda: slack_sim.state.bot_replies(thread.channel_id, thread.thread_ts))
        prompts = await slack_sim.wait_for(lambda: slack_sim.state.prompts(thread.channel_id, thread.thread_ts))
        saved = await services.thread_context_store.find(channel_id=thread.channel_id, thread_ts=thread.thread_ts)

    assert replies[0]["text"] == DEFAULT_GREETING
    assert replies[0]["metadata"]["event_type"] == GREETING_EVENT
    assert list(prompts[-1].prompts) == [p.as_slack() for p in DEFAULT_SUGGESTED_PROMPTS]
    assert saved is not None and saved.channel_id == general
    assert model.calls == (), "greeting a thread must not cost a model call"


async def test_prompts_and_greeting_come_from_configuration(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    configured = [{"title": "Standup", "message": "Write my standup update"}]
    env = {"ASSISTANT_SUGGESTED_PROMPTS": json.dumps(configured), "ASSISTANT_GREETING": "Hello platform team!"}
    async with connect_assistant(agent=scripted_agent(ScriptedModel()), **env):
        thread = await slack_sim.start_assistant_thread(alice.id)
        replies = await slack_sim.wait_for(lambda: slack_sim.state.bot_replies(thread.channel_id, thread.thread_ts))
        prompts = await slack_sim.wait_for(lambda: slack_sim.state.prompts(thread.channel_id, thread.thread_ts))
    assert replies[0]["text"] == "Hello platform team!"
    assert list(prompts[-1].prompts) == configured
