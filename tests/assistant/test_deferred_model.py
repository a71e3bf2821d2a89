"""The deferred model is the real LitellmModel, built late: answers come through it unchanged."""

from concurrent.futures import ThreadPoolExecutor

from agents import RunConfig, Runner
from openai.types.responses import ResponseTextDeltaEvent

from assistant.deferred_model import DeferredProxyModel
from assistant.proxy_model import ProxyLitellmModel
from listeners._utils.agent_factory import create_assistant_agent
from tests.support.fake_openai import FakeOpenAIServer, Reply

NO_TRACING = RunConfig(tracing_disabled=True)


def _agent_on(upstream: FakeOpenAIServer):
    # The fake upstream answers `/chat/completions` itself, as the proxy would.
    return create_assistant_agent(
        api_key="sk-direct", proxy_url=upstream.base_url.removesuffix("/v1") + "/", timeout_seconds=10
    )


async def test_a_streamed_answer_comes_through_the_litellm_model(upstream):
    upstream.enqueue(Reply(text="one two three four", token_delay=0.01))
    agent = _agent_on(upstream)
    assert isinstance(agent.model, DeferredProxyModel)

    result = Runner.run_streamed(agent, "hi", run_config=NO_TRACING)
    deltas = [
        event.data.delta
        async for event in result.stream_events()
        if event.type == "raw_response_event" and isinstance(event.data, ResponseTextDeltaEvent)
    ]

    assert "".join(deltas) == "one two three four"
    assert len(deltas) > 1, "the answer must arrive as it streams, not in one piece"
    assert result.context_wrapper.usage.output_tokens > 0, "usage (include_usage) must pass through"
    [request] = upstream.requests
    assert request.json["stream"] is True and request.json["model"] == "openai/gpt-4"
    assert isinstance(agent.model.resolve(), ProxyLitellmModel)


async def test_a_whole_response_comes_through_too(upstream):
    upstream.enqueue(Reply(text="all at once"))
    result = await Runner.run(_agent_on(upstream), "hi", run_config=NO_TRACING)
    assert result.final_output == "all at once"


def test_threads_that_ask_together_get_one_real_model():
    model = DeferredProxyModel("litellm_proxy/openai/gpt-4", api_key="sk-test", base_url="http://127.0.0.1:9/")
    with ThreadPoolExecutor(max_workers=8) as pool:
        built = list(pool.map(lambda _: model.resolve(), range(8)))
    assert all(real is built[0] for real in built)
