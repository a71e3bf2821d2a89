"""The one answer pipeline every surface that asks a question goes through:

once per message → access (allow-lists, guests) → rate limits → status → thread history +
channel context (readable and member only) → redaction and prompt budget → agent run → stream
to Slack → feedback buttons, follow-up prompts and a usage log line; or, on failure, one
friendly notice, stream closed and status cleared. Listeners only translate Slack payloads into
a `Question`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from assistant.agent_run import Timeouts, stream_agent_answer
from assistant.answer_stream import AnswerStream, post_notice
from assistant.blocks import build_feedback_blocks
from assistant.conversation import BotIdentity, ChannelContext, build_agent_input, build_history, redact_for_model
from assistant.prompt_budget import fit_to_budget, truncate_question
from assistant.errors import EmptyAnswerError, FailureKind, describe_failure
from assistant.followups import build_followup_prompts
from assistant.services import Services

THINKING_STATUS = "is thinking…"
LOADING_MESSAGES = ["Reading the thread…", "Asking the model…", "Writing the answer…"]
MAX_TITLE_CHARS = 60
INTERRUPTED_NOTICE = ":warning: The assistant was interrupted (restarting). Please ask again in a moment."
# conversations.replies returns the oldest messages first, 200 a page at most; a thread longer
# than this many pages is read up to here and its newest turns are then missing (budgeting the
# history is a later issue), so the bound is generous.
REPLIES_PAGE_SIZE = 200
MAX_REPLIES_PAGES = 10
# Cleanup after a cancellation must finish even though the task is being torn down.
CLEANUP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Question:
    """A user's message in an assistant thread, as the pipeline needs it."""

    channel_id: str  # the assistant DM
    thread_ts: str
    message_ts: str
    user_id: str
    team_id: str | None
    enterprise_id: str | None
    text: str
    context_channel_id: str | None = None  # the channel the user is viewing, if any


def build_title(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_TITLE_CHARS else line[: MAX_TITLE_CHARS - 1].rstrip() + "…"


async def _thread_messages(client: AsyncWebClient, question: Question, logger: logging.Logger) -> list[dict[str, Any]]:
    """The thread so far; on failure the question is answered without history (spec §6)."""
    messages: list[dict[str, Any]] = []
    cursor: str | None = None
    try:
        for _ in range(MAX_REPLIES_PAGES):
            response = await client.conversations_replies(
                channel=question.channel_id,
                ts=question.thread_ts,
                include_all_metadata=True,
                limit=REPLIES_PAGE_SIZE,
                cursor=cursor,
            )
            messages += response.get("messages", [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        logger.warning("Answering without history of thread %s: %s", question.thread_ts, error)
        return []
    return messages


async def _context_for(
    client: AsyncWebClient, services: Services, question: Question, logger: logging.Logger
) -> ChannelContext | None:
    if question.context_channel_id is None:
        return None
    return await services.context_reader.load(
        client, channel_id=question.context_channel_id, user_id=question.user_id, logger=logger
    )


def limit_message(per_minute: int, scope: str, wait_seconds: float) -> str:
    who = "you are" if scope == "user" else "this channel is"
    return (
        f":hourglass: Slow down a little: {who} over the limit of {per_minute} questions per minute. "
        f"Please try again in {max(1, round(wait_seconds))} seconds."
    )


def truncation_note(kept: int, original: int) -> str:
    return (
        f":scissors: Your message was long ({original:,} characters), so I read only the first {kept:,}. "
        "For more, split it into several messages."
    )


async def _best_effort(call: str, awaitable: Awaitable[Any], logger: logging.Logger) -> None:
    """Cosmetic calls (status, title, prompts) must not turn a good answer into a failure."""
    try:
        await awaitable
    except Exception as exc:
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        logger.warning("%s failed: %s", call, error)


async def _end_after_failure(
    client: AsyncWebClient, question: Question, stream: AnswerStream, notice: str, logger: logging.Logger
) -> None:
    await stream.abort(notice)
    # A failure that posted nothing would leave "is thinking…" up forever; clear it explicitly.
    await _best_effort(
        "assistant.threads.setStatus",
        client.assistant_threads_setStatus(channel_id=question.channel_id, thread_ts=question.thread_ts, status=""),
        logger,
    )


async def answer_question(
    question: Question,
    *,
    client: AsyncWebClient,
    services: Services,
    bot: BotIdentity,
    logger: logging.Logger,
) -> None:
    if not services.recent_questions.claim((question.channel_id, question.message_ts)):
        logger.info("Ignoring a repeated delivery of message %s", question.message_ts)
        return
    task = asyncio.current_task()
    if task is not None:
        services.inflight.add(task)
    try:
        if await _refused(question, client=client, services=services, logger=logger):
            return
        async with services.thread_locks.hold((question.channel_id, question.thread_ts)):
            await _answer(question, client=client, services=services, bot=bot, logger=logger)
    finally:
        services.inflight.discard(task)


async def _refused(question: Question, *, client: AsyncWebClient, services: Services, logger: logging.Logger) -> bool:
    """Access and rate limits, checked before anything costs a model call."""
    refusal = await services.access.refusal(
        client, team_id=question.team_id, enterprise_id=question.enterprise_id, user_id=question.user_id, logger=logger
    )
    if refusal is None:
        channel_key = question.context_channel_id or question.channel_id
        decision = services.limits.check(question.user_id, channel_key)
        if decision.allowed:
            return False
        logger.info("Rate limit (%s) for user %s: retry in %.0fs", decision.scope, question.user_id, decision.retry_after_seconds)
        if question.user_id in services.limit_notices:
            return True  # told once already; more notices would only add to the flood
        services.limit_notices.set(question.user_id, True)
        per_minute = services.settings.user_per_minute if decision.scope == "user" else services.settings.channel_per_minute
        refusal = limit_message(per_minute, decision.scope, decision.retry_after_seconds)
    else:
        logger.info("Refused user %s (team %s)", question.user_id, question.team_id)
    await _best_effort(
        "chat.postMessage", post_notice(client, channel=question.channel_id, thread_ts=question.thread_ts, text=refusal), logger
    )
    return True


async def _answer(
    question: Question, *, client: AsyncWebClient, services: Services, bot: BotIdentity, logger: logging.Logger
) -> None:
    settings = services.settings
    started = time.monotonic()
    stream = AnswerStream(
        client,
        channel=question.channel_id,
        thread_ts=question.thread_ts,
        recipient_team_id=question.team_id or question.enterprise_id,
        recipient_user_id=question.user_id,
        logger=logger,
    )
    title_task: asyncio.Task[None] | None = None
    asked = truncate_question(question.text, settings.max_question_chars)
    try:
        if asked.truncated:
            await _best_effort(
                "chat.postMessage",
                post_notice(
                    client,
                    channel=question.channel_id,
                    thread_ts=question.thread_ts,
                    text=truncation_note(len(asked.text), asked.original_chars),
                ),
                logger,
            )
        await _best_effort(
            "assistant.threads.setStatus",
            client.assistant_threads_setStatus(
                channel_id=question.channel_id,
                thread_ts=question.thread_ts,
                status=THINKING_STATUS,
                loading_messages=LOADING_MESSAGES,
            ),
            logger,
        )
        messages, context = await asyncio.gather(
            _thread_messages(client, question, logger), _context_for(client, services, question, logger)
        )
        history, context, question_text = redact_for_model(
            build_history(messages, bot=bot, question_ts=question.message_ts),
            context,
            asked.text,
            pii=settings.redact_pii,
        )
        history, context = fit_to_budget(
            system_prompt=settings.system_prompt,
            history=history,
            context=context,
            question=question_text,
            budget_chars=settings.prompt_budget_chars,
        )
        if not any(turn["role"] == "user" for turn in history):
            title_task = asyncio.create_task(
                _best_effort(
                    "assistant.threads.setTitle",
                    client.assistant_threads_setTitle(
                        channel_id=question.channel_id, thread_ts=question.thread_ts, title=build_title(question.text)
                    ),
                    logger,
                )
            )
        stats = await stream_agent_answer(
            services.agent,
            build_agent_input(history, question_text, context),
            stream.append,
            timeouts=Timeouts(settings.timeout_seconds, settings.first_token_timeout_seconds, settings.idle_timeout_seconds),
            logger=logger,
        )
        if not stream.text.strip():
            raise EmptyAnswerError("the model finished without any text")
        await stream.finish(blocks=build_feedback_blocks(settings.assistant_model))
    except asyncio.CancelledError:
        logger.warning("Answer interrupted thread=%s (shutting down)", question.thread_ts)
        cleanup = _end_after_failure(client, question, stream, INTERRUPTED_NOTICE, logger)
        await asyncio.shield(asyncio.wait_for(cleanup, CLEANUP_TIMEOUT_SECONDS))
        raise
    except Exception as exc:
        failure = describe_failure(exc)
        logger.log(
            failure.log_level,
            "Answer failed thread=%s kind=%s after %dms: %s",
            question.thread_ts,
            failure.kind.value,
            round((time.monotonic() - started) * 1000),
            failure.detail,
            exc_info=failure.kind is FailureKind.UNEXPECTED,
        )
        await _end_after_failure(client, question, stream, failure.user_message, logger)
        return
    finally:
        if title_task is not None:
            await asyncio.wait([title_task])

    await _best_effort(
        "assistant.threads.setSuggestedPrompts",
        client.assistant_threads_setSuggestedPrompts(
            channel_id=question.channel_id,
            thread_ts=question.thread_ts,
            prompts=[p.as_slack() for p in build_followup_prompts(question.text)],
        ),
        logger,
    )
    logger.info(
        "Answered thread=%s model=%s input_tokens=%d output_tokens=%d attempts=%d "
        "first_token_ms=%s total_ms=%d chars=%d messages=%d context=%s",
        question.thread_ts,
        settings.assistant_model,
        stats.input_tokens,
        stats.output_tokens,
        stats.attempts,
        "-" if stats.first_token_seconds is None else round(stats.first_token_seconds * 1000),
        round((time.monotonic() - started) * 1000),
        len(stream.text),
        len(stream.message_ts),
        "yes" if context else "no",
    )
