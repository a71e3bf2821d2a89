"""ScriptedModel steps that stream like a real model: text in several deltas, optional pauses,
optionally failing after part of the text (what a proxy error mid-stream looks like)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from agents.testing import ModelCall, ModelStep, ScriptedModel, assistant_message
from agents.usage import Usage
from openai.types.responses import ResponseTextDeltaEvent


def streamed_reply(
    *pieces: str,
    pause: float = 0.0,
    fail_with: Exception | None = None,
    usage: Usage | None = None,
) -> ModelStep:
    """A reply whose text arrives as `pieces`, `pause` seconds apart; with `fail_with`, the
    stream raises it after the last piece instead of completing."""
    text = "".join(pieces)

    async def events(call: ModelCall) -> AsyncIterator:
        # Let ScriptedModel build the full, valid event sequence, then split its one text delta.
        whole = ScriptedModel([ModelStep(output=[assistant_message(text)], usage=usage or Usage())])
        async for event in whole.stream_response(
            call.system_instructions,
            call.input,
            call.model_settings,
            call.tools,
            call.output_schema,
            call.handoffs,
            call.tracing,
            previous_response_id=call.previous_response_id,
            conversation_id=call.conversation_id,
            prompt=call.prompt,
        ):
            if not isinstance(event, ResponseTextDeltaEvent):
                yield event
                continue
            for index, piece in enumerate(pieces):
                if index and pause:
                    await asyncio.sleep(pause)
                yield event.model_copy(update={"delta": piece})
            if fail_with is not None:
                # The SDK surfaces a model error as soon as it happens and drops deltas still
                # queued; pause so the text counts as shown, as with a real stream cut later.
                await asyncio.sleep(max(pause, 0.05))
                raise fail_with

    return ModelStep.stream(events)


def transcript(items: list) -> list[tuple[str, str]]:
    """A model input as (role, text) pairs, whatever shape each item has: plain chat messages
    from Slack history, or the Responses-style message items the Agents SDK keeps in memory."""
    pairs = []
    for item in items:
        content = item.get("content")
        if isinstance(content, list):
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        pairs.append((item.get("role") or item.get("type", ""), content or ""))
    return pairs
