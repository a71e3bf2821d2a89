"""Run the agent with streaming, retrying transient failures only before any text was shown.

This is the one place that owns the model retry policy: litellm's client retries are switched
off in the agent factory (the test proxy runs with its own retries off too; a production proxy
may add its own, which the bot cannot see). Once text has streamed to Slack a retry would show
the user the same words twice, so failures after the first token are raised as they are.

Three clocks bound an answer without cutting good ones: the first token must come within
`first_token_timeout`, then no gap between events may exceed `idle_timeout`, and the whole run,
retries included, ends at `timeout`. On expiry the run is cancelled, which cancels the request
to the proxy.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import assistant.offline  # noqa: F401  (must run before agents is imported)

from agents import Agent, RunConfig, Runner
from openai.types.responses import ResponseTextDeltaEvent

from assistant.errors import AnswerTimeout, describe_failure, retry_after_seconds

MAX_RETRIES = 2
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 8.0


@dataclass(frozen=True)
class RunStats:
    input_tokens: int
    output_tokens: int
    attempts: int
    first_token_seconds: float | None
    # What the run added to the conversation (messages, tool calls and results), ready for memory.
    output_items: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Timeouts:
    overall: float
    first_token: float
    idle: float


def backoff_delay(attempt: int, retry_after: float | None, rng: random.Random) -> float:
    """Exponential backoff with jitter; a server's Retry-After wins when it is given."""
    if retry_after is not None:
        return min(retry_after, BACKOFF_CAP_SECONDS)
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt) * (0.5 + rng.random() / 2)


async def stream_agent_answer(
    agent: Agent,
    agent_input: list[dict[str, Any]],
    on_text: Callable[[str], Awaitable[None]],
    *,
    timeouts: Timeouts,
    logger: logging.Logger,
    rng: random.Random | None = None,
) -> RunStats:
    """Stream the agent's text deltas into `on_text`."""
    rng = rng or random.Random()
    started = time.monotonic()
    first_token: float | None = None
    attempt = 0
    try:
        async with asyncio.timeout(timeouts.overall):
            while True:
                # Tracing would upload prompts to OpenAI whenever OPENAI_API_KEY is set; every
                # run the bot makes goes through here, so this is the one switch.
                result = Runner.run_streamed(agent, agent_input, run_config=RunConfig(tracing_disabled=True))
                events = result.stream_events().__aiter__()
                try:
                    while True:
                        if first_token is None:
                            phase, wait = "first_token", started + timeouts.first_token - time.monotonic()
                        else:
                            phase, wait = "idle", timeouts.idle
                        try:
                            event = await asyncio.wait_for(anext(events), max(wait, 0))
                        except StopAsyncIteration:
                            break
                        except TimeoutError:
                            raise AnswerTimeout(phase, timeouts.first_token if phase == "first_token" else timeouts.idle) from None
                        if event.type == "raw_response_event" and isinstance(event.data, ResponseTextDeltaEvent):
                            if first_token is None:
                                first_token = time.monotonic() - started
                            await on_text(event.data.delta)
                    usage = result.context_wrapper.usage
                    items = [item.to_input_item() for item in result.new_items]
                    return RunStats(usage.input_tokens, usage.output_tokens, attempt + 1, first_token, items)
                except AnswerTimeout:
                    raise
                except Exception as exc:
                    failure = describe_failure(exc)
                    if first_token is not None or not failure.retryable or attempt >= MAX_RETRIES:
                        raise
                    delay = backoff_delay(attempt, retry_after_seconds(exc), rng)
                    logger.warning(
                        "Model call failed (%s: %s); retry %d/%d in %.1fs",
                        failure.kind.value,
                        failure.detail,
                        attempt + 1,
                        MAX_RETRIES,
                        delay,
                    )
                    await asyncio.sleep(delay)
                    attempt += 1
                finally:
                    result.cancel()
    except TimeoutError as exc:
        if isinstance(exc, AnswerTimeout):
            raise
        # Before any text, the cap is just "too slow"; after, the answer was cut by it.
        raise AnswerTimeout("overall" if first_token is not None else "first_token", timeouts.overall) from None
