"""Proof that the harness reproduces the company proxy path, and a record of
what the bot's client libraries see in each failure.

Every test goes client -> real LiteLLM proxy -> fake OpenAI upstream.  The
assertions on exception classes and upstream request counts pin LiteLLM's
behaviour at the installed version: if an upgrade changes it, these fail
before the bot's own tests become confusing.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import litellm
import openai
import pytest
from agents import (
    Agent,
    ModelSettings,
    RawResponsesStreamEvent,
    Runner,
    function_tool,
    set_tracing_disabled,
)
from agents.extensions.models.litellm_model import LitellmModel
from openai.types.responses import ResponseCompletedEvent, ResponseTextDeltaEvent

from tests.support.fake_openai import FakeOpenAIServer, Reply, split_tokens
from tests.support.litellm_proxy import UPSTREAM_API_KEY, LiteLLMProxy

pytestmark = pytest.mark.asyncio

# Offline and silent: otherwise the Agents SDK exports traces (prompts
# included) to OpenAI, or logs a warning per trace when no key is set.
set_tracing_disabled(True)

NO_RETRIES: dict[str, Any] = {"num_retries": 0}
"""The litellm client retries 429/5xx/timeouts twice by default; tests that count
upstream requests or bound a wait turn that off explicitly."""

USER_MESSAGE = "What is the capital of France?"


def litellm_model(
    proxy: LiteLLMProxy, model: str = "openai/gpt-4", api_key: str | None = None
) -> LitellmModel:
    """The bot's way to reach the company proxy: the ``litellm_proxy/`` prefix is required."""
    return LitellmModel(
        model=f"litellm_proxy/{model}",
        base_url=proxy.url,
        api_key=api_key if api_key is not None else proxy.master_key,
    )


async def stream_agent(
    model: LitellmModel, extra_args: dict[str, Any] | None = None
) -> tuple[list[str], list[object]]:
    """Run one streamed turn; return the text deltas and all raw response events."""
    agent = Agent(
        name="assistant",
        instructions="You are terse.",
        model=model,
        model_settings=ModelSettings(extra_args=extra_args),
    )
    result = Runner.run_streamed(agent, USER_MESSAGE)
    deltas: list[str] = []
    raw_events: list[object] = []
    async for event in result.stream_events():
        if isinstance(event, RawResponsesStreamEvent):
            raw_events.append(event.data)
            if isinstance(event.data, ResponseTextDeltaEvent):
                deltas.append(event.data.delta)
    return deltas, raw_events


async def test_litellm_streams_through_proxy_with_usage(
    litellm_proxy: LiteLLMProxy, upstream: FakeOpenAIServer
) -> None:
    text = "Paris is the capital of France."
    upstream.enqueue(Reply(text=text))
    messages = [{"role": "user", "content": USER_MESSAGE}]

    stream = await litellm.acompletion(
        model="litellm_proxy/anthropic/claude-3-sonnet-20240229",
        api_base=litellm_proxy.url,
        api_key=litellm_proxy.master_key,
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
    )
    contents: list[str] = []
    finish_reasons: list[str] = []
    usage: Any = None
    async for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                contents.append(choice.delta.content)
            if choice.finish_reason:
                finish_reasons.append(choice.finish_reason)
        usage = getattr(chunk, "usage", None) or usage

    assert "".join(contents) == text
    assert finish_reasons == ["stop"]
    assert usage is not None
    assert usage.completion_tokens == len(split_tokens(text))
    assert usage.prompt_tokens == len(split_tokens(USER_MESSAGE))

    [request] = upstream.requests
    assert request.path == "/v1/chat/completions"
    # The proxy strips its provider prefix: the upstream sees the deployment's model id.
    assert request.json["model"] == "claude-3-sonnet-20240229"
    assert request.json["messages"] == messages
    assert request.json["stream"] is True
    assert request.json["stream_options"] == {"include_usage": True}
    # The proxy authenticates upstream with its own key, never the caller's.
    assert request.headers["Authorization"] == f"Bearer {UPSTREAM_API_KEY}"


async def test_agents_sdk_streams_one_delta_per_upstream_token(
    litellm_proxy: LiteLLMProxy, upstream: FakeOpenAIServer
) -> None:
    text = "Paris, on the Seine, is the capital."
    upstream.enqueue(Reply(text=text, token_delay=0.01))

    deltas, raw_events = await stream_agent(litellm_model(litellm_proxy))

    assert deltas == split_tokens(text)
    assert isinstance(raw_events[-1], ResponseCompletedEvent)
    [request] = upstream.requests
    assert request.json["model"] == "gpt-4"
    assert request.json["messages"][-1] == {"role": "user", "content": USER_MESSAGE}


async def test_agents_sdk_runs_a_streamed_tool_call(
    litellm_proxy: LiteLLMProxy, upstream: FakeOpenAIServer
) -> None:
    calls: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """Weather for a city."""
        calls.append(city)
        return "sunny"

    upstream.enqueue(
        Reply(tool_call=("get_weather", json.dumps({"city": "Paris"}))),
        Reply(text="It is sunny in Paris."),
    )
    agent = Agent(name="assistant", model=litellm_model(litellm_proxy), tools=[get_weather])

    result = Runner.run_streamed(agent, "Weather in Paris?")
    async for _ in result.stream_events():
        pass

    assert calls == ["Paris"]
    assert result.final_output == "It is sunny in Paris."
    first, second = upstream.requests
    assert [tool["function"]["name"] for tool in first.json["tools"]] == ["get_weather"]
    tool_message = second.json["messages"][-1]
    assert tool_message["role"] == "tool"
    assert tool_message["content"] == "sunny"


async def test_proxy_lists_its_model_names(litellm_proxy: LiteLLMProxy) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.get(
            f"{litellm_proxy.url}/v1/models",
            headers={"Authorization": f"Bearer {litellm_proxy.master_key}"},
        )
    response.raise_for_status()
    assert [model["id"] for model in response.json()["data"]] == litellm_proxy.model_names


async def test_wrong_key_is_authentication_error_401(
    litellm_proxy: LiteLLMProxy, upstream: FakeOpenAIServer
) -> None:
    with pytest.raises(litellm.exceptions.AuthenticationError) as caught:
        await stream_agent(litellm_model(litellm_proxy, api_key="sk-not-a-real-key"))

    assert caught.value.status_code == 401
    assert upstream.requests == []


async def test_unknown_model_is_bad_request_400(
    litellm_proxy: LiteLLMProxy, upstream: FakeOpenAIServer
) -> None:
    with pytest.raises(litellm.exceptions.BadRequestError) as caught:
        await stream_agent(litellm_model(litellm_proxy, model="openai/gpt-5"))

    assert caught.value.status_code == 400
    assert "Invalid model name" in str(caught.value)
    assert upstream.requests == []


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (401, litellm.exceptions.AuthenticationError),
        (404, litellm.exceptions.NotFoundError),
        (429, litellm.exceptions.RateLimitError),
        (500, litellm.exceptions.InternalServerError),
    ],
)
async def test_upstream_error_status_maps_to_litellm_exception(
    litellm_proxy: LiteLLMProxy,
    upstream: FakeOpenAIServer,
    status: int,
    exception: type[openai.APIStatusError],
) -> None:
    upstream.enqueue(Reply(status=status, retry_after="7"))

    with pytest.raises(exception) as caught:
        await stream_agent(litellm_model(litellm_proxy), extra_args=NO_RETRIES)

    assert caught.value.status_code == status
    # The proxy does not relay the provider's Retry-After to its client.
    assert "retry-after" not in caught.value.response.headers
    assert len(upstream.requests) == 1
    # No cooldown: the same model group answers right after the failure.
    deltas, _ = await stream_agent(litellm_model(litellm_proxy))
    assert "".join(deltas) == upstream.default_text


async def test_client_retries_twice_by_default_and_proxy_never(
    litellm_proxy: LiteLLMProxy, upstream: FakeOpenAIServer
) -> None:
    upstream.enqueue(*[Reply(status=429, retry_after="30")] * 3)

    with pytest.raises(litellm.exceptions.RateLimitError):
        await stream_agent(litellm_model(litellm_proxy))

    # With client retries off the upstream sees exactly one request (see the
    # parametrized test above), so these three attempts are all the client's.
    requests = upstream.requests
    assert len(requests) == 3
    # The client backs off ~0.5-1 s on its own schedule, not the 30 s the
    # provider asked for: the proxy never passed the Retry-After on.
    assert requests[-1].time - requests[0].time < 5


async def test_hang_is_bounded_by_per_call_timeout(
    litellm_proxy: LiteLLMProxy, upstream: FakeOpenAIServer
) -> None:
    upstream.enqueue(Reply(hang=True))
    started = time.monotonic()

    with pytest.raises(litellm.exceptions.Timeout) as caught:
        await stream_agent(litellm_model(litellm_proxy), extra_args={"timeout": 2, **NO_RETRIES})

    assert 2 <= time.monotonic() - started < 4
    assert caught.value.status_code == 408
    assert len(upstream.requests) == 1


async def test_cut_stream_ends_as_if_complete(
    litellm_proxy: LiteLLMProxy, upstream: FakeOpenAIServer
) -> None:
    """Documents a trap: a dropped upstream stream raises nothing anywhere.

    The proxy ends its own stream cleanly, litellm synthesises
    ``finish_reason="stop"`` and the Agents SDK emits ``ResponseCompletedEvent``;
    the text is silently truncated (how much of the sent prefix survives varies
    with timing, often nothing).
    """
    text = "one two three four five six"
    upstream.enqueue(Reply(text=text, cut_after_tokens=3))

    deltas, raw_events = await stream_agent(litellm_model(litellm_proxy))

    sent_before_cut = "".join(split_tokens(text)[:3])
    assert sent_before_cut.startswith("".join(deltas))
    assert isinstance(raw_events[-1], ResponseCompletedEvent)
    assert len(upstream.requests) == 1
