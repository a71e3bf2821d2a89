"""A stream cut between the bot and the proxy must not pass for a complete answer."""

import pytest
from agents import RunConfig, Runner
from openai.types.responses import ResponseTextDeltaEvent

from assistant.errors import CutStreamError
from listeners._utils.agent_factory import create_assistant_agent
from tests.support.cutting_relay import CuttingRelay
from tests.support.fake_openai import Reply


@pytest.fixture
def relay(litellm_proxy):
    with CuttingRelay(litellm_proxy.url) as running:
        yield running


async def _run(agent) -> str:
    result = Runner.run_streamed(agent, "hi", run_config=RunConfig(tracing_disabled=True))
    text = ""
    async for event in result.stream_events():
        if event.type == "raw_response_event" and isinstance(event.data, ResponseTextDeltaEvent):
            text += event.data.delta
    return text


async def test_a_complete_stream_passes(litellm_proxy, relay, upstream):
    upstream.enqueue(Reply(text="one two three four"))
    agent = create_assistant_agent(api_key=litellm_proxy.master_key, proxy_url=relay.url, timeout_seconds=10)
    assert await _run(agent) == "one two three four"


async def test_a_stream_cut_before_its_finish_reason_raises(litellm_proxy, relay, upstream):
    upstream.enqueue(Reply(text="one two three four five six", token_delay=0.01))
    relay.cut_next_stream_after(3)
    agent = create_assistant_agent(api_key=litellm_proxy.master_key, proxy_url=relay.url, timeout_seconds=10)
    with pytest.raises(CutStreamError):
        await _run(agent)
    assert relay.cuts_made == 1
