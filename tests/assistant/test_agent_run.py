import asyncio
import logging
import random

import litellm
import pytest
from agents import Agent, ModelSettings
from agents.testing import ModelStep, ScriptedModel, assistant_message
from agents.usage import Usage
from openai.types.responses import ResponseTextDeltaEvent

from assistant.agent_run import BACKOFF_CAP_SECONDS, MAX_RETRIES, Timeouts, backoff_delay, stream_agent_answer
from assistant.errors import AnswerTimeout, FailureKind, describe_failure
from tests.support.scripted_replies import streamed_reply

LOGGER = logging.getLogger("test")


def _agent(model: ScriptedModel) -> Agent:
    return Agent(name="t", instructions="be brief", model=model, model_settings=ModelSettings(include_usage=True))


def _delta(text: str) -> ResponseTextDeltaEvent:
    return ResponseTextDeltaEvent(
        type="response.output_text.delta", item_id="m", output_index=0, content_index=0,
        delta=text, sequence_number=0, logprobs=[],
    )


def _partial_then_fail(error: Exception):
    async def events(_call):
        yield _delta("Half an ans")
        raise error

    return ModelStep.stream(events)


@pytest.fixture(autouse=True)
def instant_backoff(monkeypatch):
    # Backoff timing is covered by test_backoff_*; retries here should not sleep for real.
    monkeypatch.setattr("assistant.agent_run.BACKOFF_BASE_SECONDS", 0.001)


async def _collect(agent: Agent, *, timeout: float = 5.0, first_token: float = 5.0, idle: float = 5.0):
    pieces: list[str] = []

    async def on_text(text: str) -> None:
        pieces.append(text)

    stats = await stream_agent_answer(
        agent, [{"role": "user", "content": "hi"}], on_text, timeouts=Timeouts(timeout, first_token, idle), logger=LOGGER
    )
    return "".join(pieces), stats


async def test_streams_text_and_reports_usage():
    model = ScriptedModel([ModelStep(output=[assistant_message("Hello there")], usage=Usage(requests=1, input_tokens=12, output_tokens=3, total_tokens=15))])
    text, stats = await _collect(_agent(model))
    assert text == "Hello there"
    assert (stats.input_tokens, stats.output_tokens, stats.attempts) == (12, 3, 1)
    assert stats.first_token_seconds is not None
    assert model.first_call.system_instructions == "be brief"


async def test_transient_failures_before_the_first_token_are_retried():
    model = ScriptedModel(
        [
            litellm.exceptions.RateLimitError("busy", "litellm_proxy", "m"),
            litellm.exceptions.InternalServerError("down", "litellm_proxy", "m"),
            ModelStep(output=[assistant_message("finally")]),
        ]
    )
    text, stats = await _collect(_agent(model))
    assert text == "finally" and stats.attempts == 3


async def test_retries_are_bounded():
    model = ScriptedModel([litellm.exceptions.RateLimitError("busy", "litellm_proxy", "m")] * (MAX_RETRIES + 2))
    with pytest.raises(litellm.exceptions.RateLimitError):
        await _collect(_agent(model))
    assert len(model.calls) == MAX_RETRIES + 1


async def test_permanent_failures_are_not_retried():
    model = ScriptedModel([litellm.exceptions.AuthenticationError("bad key", "litellm_proxy", "m"), ModelStep(output=[assistant_message("never")])])
    with pytest.raises(litellm.exceptions.AuthenticationError):
        await _collect(_agent(model))
    assert len(model.calls) == 1


async def test_no_retry_once_text_has_been_shown():
    model = ScriptedModel(
        [_partial_then_fail(litellm.exceptions.InternalServerError("cut", "litellm_proxy", "m")), ModelStep(output=[assistant_message("again")])]
    )
    shown: list[str] = []

    async def on_text(text: str) -> None:
        shown.append(text)

    with pytest.raises(litellm.exceptions.InternalServerError):
        await stream_agent_answer(
            _agent(model), [{"role": "user", "content": "hi"}], on_text, timeouts=Timeouts(5, 5, 5), logger=LOGGER
        )
    assert shown == ["Half an ans"] and len(model.calls) == 1


async def test_the_whole_run_is_bounded_and_cancelled():
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def hang(_call):
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        yield _delta("never")

    with pytest.raises(AnswerTimeout) as caught:
        await _collect(_agent(ScriptedModel([ModelStep.stream(hang)])), timeout=0.3)
    assert caught.value.phase == "first_token", "no text yet: just too slow"
    assert started.is_set()
    await asyncio.wait_for(cancelled.wait(), 2)


async def test_no_first_token_in_time_is_a_plain_timeout():
    async def silent(_call):
        await asyncio.sleep(30)
        yield _delta("never")

    with pytest.raises(AnswerTimeout) as caught:
        await _collect(_agent(ScriptedModel([ModelStep.stream(silent)])), timeout=5, first_token=0.2)
    assert (caught.value.phase, caught.value.seconds) == ("first_token", 0.2)
    assert describe_failure(caught.value).kind is FailureKind.TIMEOUT


async def test_a_stall_after_text_is_an_idle_timeout_that_says_cut_off():
    shown: list[str] = []

    async def on_text(text: str) -> None:
        shown.append(text)

    model = ScriptedModel([streamed_reply("Part one. ", "Part two.", pause=2)])
    with pytest.raises(AnswerTimeout) as caught:
        await stream_agent_answer(_agent(model), [{"role": "user", "content": "hi"}], on_text, timeouts=Timeouts(10, 5, 0.3), logger=LOGGER)
    assert caught.value.phase == "idle" and shown == ["Part one. "]
    assert describe_failure(caught.value).kind is FailureKind.STALLED


async def test_a_long_good_answer_is_not_cut_by_the_idle_timeout_and_the_cap_says_so():
    pieces = [f"w{i} " for i in range(30)]
    text, _ = await _collect(_agent(ScriptedModel([streamed_reply(*pieces, pause=0.02)])), timeout=5, idle=0.3)
    assert text == "".join(pieces), "steady text never trips the idle timeout"
    with pytest.raises(AnswerTimeout) as caught:
        await _collect(_agent(ScriptedModel([streamed_reply(*pieces, pause=0.05)])), timeout=0.3, idle=1)
    assert caught.value.phase == "overall"
    assert describe_failure(caught.value).kind is FailureKind.CAPPED


def test_backoff_grows_is_capped_jittered_and_honours_retry_after():
    rng = random.Random(1)
    delays = [backoff_delay(attempt, None, rng) for attempt in range(8)]
    assert delays[0] <= 1.0 and delays[2] > delays[0]
    assert max(delays) <= BACKOFF_CAP_SECONDS
    assert backoff_delay(0, 3.0, rng) == 3.0
    assert backoff_delay(0, 600.0, rng) == BACKOFF_CAP_SECONDS


async def test_no_trace_is_recorded_even_with_an_openai_key(monkeypatch):
    from agents.tracing import TracingProcessor, get_trace_provider, set_trace_processors

    class Recorder(TracingProcessor):
        def __init__(self):
            self.traces = []

        def on_trace_start(self, trace):
            self.traces.append(trace)

        def on_trace_end(self, trace): ...
        def on_span_start(self, span): ...
        def on_span_end(self, span): ...
        def shutdown(self): ...
        def force_flush(self): ...

    monkeypatch.setenv("OPENAI_API_KEY", "sk-would-upload-prompts")
    recorder = Recorder()
    saved = list(get_trace_provider()._multi_processor._processors)
    set_trace_processors([recorder])  # in place of the exporter that would upload to OpenAI
    try:
        await _collect(_agent(ScriptedModel([ModelStep(output=[assistant_message("hi")])])))
    finally:
        set_trace_processors(saved)
    assert recorder.traces == []
