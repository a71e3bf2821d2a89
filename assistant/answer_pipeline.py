"""The one answer pipeline every surface that asks a question goes through:

once per message (idempotency key) → access (allow-lists, guests) → rate limits → the thread's
turn (a newer message stops an older answer; answers never interleave, across instances) →
status → conversation memory (the thread's session, rebuilt once from Slack when empty) +
channel context (readable and member only) → redaction and prompt budget → agent run → stream
to Slack → feedback buttons, follow-up prompts, the turn saved to memory, a usage record; or,
on failure, one friendly notice, stream closed and status cleared, nothing half-saved.
Listeners only translate Slack payloads into a `Question`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from assistant.agent_run import RunStats, Timeouts, stream_agent_answer
from assistant.answer_stream import AnswerStream, post_notice
from assistant.blocks import build_feedback_blocks
from agents.memory import Session

from assistant.conversation import (
    BotIdentity,
    ChannelContext,
    build_agent_input,
    build_history,
    redact_for_model,
    redact_turns,
)
from assistant.errors import EmptyAnswerError, FailureKind, describe_failure
from assistant.followups import build_followup_prompts
from assistant.paced_client import SkippedUnderLoad
from assistant.prompt_budget import fit_to_budget, truncate_question
from assistant.services import Services
from assistant.session_history import Item, has_user_turn, last_turns, stopped_turn, user_item
from assistant.storage.state_store import UsageRecord
from assistant.thread_turn import Superseded, ThreadBusy, ThreadTurn, hold_thread

THINKING_STATUS = "is thinking…"
# Shown while a question waits for one of the process's answer slots.
QUEUED_STATUS = "is answering other questions first…"
LOADING_MESSAGES = ["Reading the thread…", "Asking the model…", "Writing the answer…"]
MAX_TITLE_CHARS = 60
INTERRUPTED_NOTICE = ":warning: The assistant was interrupted (restarting). Please ask again in a moment."
STOPPED_NOTICE = ":black_square_for_stop: Stopped here to answer your newer message."
# The lease could not be renewed in time (the bot or its store overloaded): another answer may
# own the thread now, so this one stops rather than interleave.
LEASE_LOST_NOTICE = ":warning: Stopped here: I was too busy to keep this answer going. Please ask again."
SUPERSEDED_NOTICE = ":fast_forward: Skipped: you sent a newer message before I started on this one."
BUSY_NOTICE = ":hourglass: I'm still finishing another answer in this thread. Please ask again in a moment."
STORE_FAILED_NOTICE = ":warning: I can't reach my memory store right now, so I can't answer. Please try again in a moment."
# Slack redelivers an unacknowledged event within minutes; a day covers every retry.
QUESTION_KEY_SECONDS = 24 * 3600
# Users already told they are over the limit are not told again for this long: one notice, not 90.
LIMIT_NOTICE_SECONDS = 60
# How long a thread seen starting counts as new (memory is not rebuilt from Slack for it).
NEW_THREAD_SECONDS = 24 * 3600
# Session items fetched per remembered turn: a question, its answer and room for tool calls.
ITEMS_PER_TURN = 10
# conversations.replies returns the oldest messages first, 200 a page at most; a thread longer
# than this many pages is read up to here and its newest turns are then missing (budgeting the
# history is a later issue), so the bound is generous.
REPLIES_PAGE_SIZE = 200
MAX_REPLIES_PAGES = 10
# Cleanup after a cancellation must finish even though the task is being torn down.
CLEANUP_TIMEOUT_SECONDS = 10
# A newer message waits this long beyond one lease time for the thread (a stopped answer still
# has to finish its cleanup; a crashed instance's lease runs out).
TURN_WAIT_MARGIN_SECONDS = CLEANUP_TIMEOUT_SECONDS + 5
RECANCEL_SECONDS = 0.5


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


def thread_key(team_id: str | None, channel_id: str, thread_ts: str) -> str:
    """One assistant thread, workspace-wide: the key of its session, lease and newest mark."""
    return f"{team_id or '-'}:{channel_id}:{thread_ts}"


def question_thread_key(question: Question) -> str:
    return thread_key(question.team_id or question.enterprise_id, question.channel_id, question.thread_ts)


async def remember_new_thread(services: Services, key: str, logger: logging.Logger) -> None:
    """A thread seen starting has nothing in Slack to rebuild memory from: its first question
    skips the conversations.replies read (a Tier 3 call per new conversation)."""
    await _best_effort("new-thread mark", services.store.claim_key(f"new-thread:{key}", NEW_THREAD_SECONDS), logger)


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
    except SkippedUnderLoad as exc:
        logger.info("%s", exc)
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
    task = asyncio.current_task()
    if task is not None:
        services.inflight.add(task)
    try:
        if not await services.store.claim_key(f"question:{question.channel_id}:{question.message_ts}", QUESTION_KEY_SECONDS):
            logger.info("Ignoring a repeated delivery of message %s", question.message_ts)
            return
        question = await _with_saved_context(question, services)
        if await _refused(question, client=client, services=services, logger=logger):
            return
        await _take_turn(question, client=client, services=services, bot=bot, logger=logger)
    except Superseded:
        logger.info("Not answering message %s: a newer message in the thread is answered instead", question.message_ts)
        await _notify(client, question, SUPERSEDED_NOTICE, logger)
    except ThreadBusy:
        logger.warning("Thread %s stayed busy; message %s not answered", question.thread_ts, question.message_ts)
        await _notify(client, question, BUSY_NOTICE, logger)
    except Exception as exc:
        # The answer itself handles its own failures; what reaches here is the state store.
        logger.error("State store failed before answering message %s: %s: %s", question.message_ts, type(exc).__name__, exc)
        await _notify(client, question, STORE_FAILED_NOTICE, logger)
    finally:
        services.inflight.discard(task)


async def _with_saved_context(question: Question, services: Services) -> Question:
    """The channel the user is viewing, as the thread's context events stored it. Read by the
    question's validated ids rather than through Bolt's get_thread_context, which re-reads the
    raw event: it raises on a malformed `assistant_thread` field and trusts a well-formed one
    over the stored context."""
    saved = await services.thread_context_store.find(channel_id=question.channel_id, thread_ts=question.thread_ts)
    return question if saved is None else replace(question, context_channel_id=saved.channel_id)


async def _notify(client: AsyncWebClient, question: Question, text: str, logger: logging.Logger) -> None:
    await _best_effort(
        "chat.postMessage", post_notice(client, channel=question.channel_id, thread_ts=question.thread_ts, text=text), logger
    )


async def _refused(question: Question, *, client: AsyncWebClient, services: Services, logger: logging.Logger) -> bool:
    """Access and rate limits, checked before anything costs a model call."""
    refusal = await services.access.refusal(
        client, team_id=question.team_id, enterprise_id=question.enterprise_id, user_id=question.user_id, logger=logger
    )
    if refusal is None:
        decision = await services.limits.check(question.user_id, question.context_channel_id or question.channel_id)
        if decision.allowed:
            return False
        logger.info("Rate limit (%s) for user %s: retry in %.0fs", decision.scope, question.user_id, decision.retry_after_seconds)
        if not await services.store.claim_key(f"limit-notice:{question.user_id}", LIMIT_NOTICE_SECONDS):
            return True  # told once already; more notices would only add to the flood
        per_minute = services.limits.user_per_minute if decision.scope == "user" else services.limits.channel_per_minute
        refusal = limit_message(per_minute, decision.scope, decision.retry_after_seconds)
    else:
        logger.info("Refused user %s (team %s)", question.user_id, question.team_id)
    await _notify(client, question, refusal, logger)
    return True


async def _take_turn(
    question: Question, *, client: AsyncWebClient, services: Services, bot: BotIdentity, logger: logging.Logger
) -> None:
    """Stop any older answer in the thread, wait for a free answer slot, then for the thread,
    and answer; a newer message stops this answer in turn (the stop is expected, so it ends here
    rather than cancelling the caller)."""
    await services.store.mark_newest(question_thread_key(question), question.message_ts)
    slots = services.answer_slots
    if slots.full:
        logger.info("%d answers under way; message %s waits its turn (%d waiting)", slots.limit, question.message_ts, slots.waiting)
        await _best_effort(
            "assistant.threads.setStatus",
            client.assistant_threads_setStatus(channel_id=question.channel_id, thread_ts=question.thread_ts, status=QUEUED_STATUS),
            logger,
        )
    admitted = False
    try:
        async with slots.hold():
            admitted = True
            await _answer_in_turn(question, client=client, services=services, bot=bot, logger=logger)
    except asyncio.CancelledError:
        if not admitted:  # shutting down before its turn came: say so rather than go quiet
            await asyncio.shield(asyncio.wait_for(_notify(client, question, INTERRUPTED_NOTICE, logger), CLEANUP_TIMEOUT_SECONDS))
        raise


async def _answer_in_turn(
    question: Question, *, client: AsyncWebClient, services: Services, bot: BotIdentity, logger: logging.Logger
) -> None:
    store, key = services.store, question_thread_key(question)
    async with hold_thread(
        store,
        key=key,
        owner=f"{services.instance_id}/{question.message_ts}",
        message_ts=question.message_ts,
        lease_seconds=services.settings.thread_lease_seconds,
        wait_seconds=services.settings.thread_lease_seconds + TURN_WAIT_MARGIN_SECONDS,
        logger=logger,
    ) as turn:
        answer = asyncio.create_task(_answer(question, client=client, services=services, bot=bot, turn=turn, logger=logger))
        turn.on_stop(lambda: turn.must_stop and answer.cancel())
        try:
            while not (await asyncio.wait([answer], timeout=RECANCEL_SECONDS))[0]:
                if turn.must_stop:
                    # Python 3.11 loses a cancel that lands as an awaited call completes inside
                    # asyncio.wait_for (the store's clients use it); until the answer shows it
                    # is ending, ask again.
                    answer.cancel()
        except asyncio.CancelledError:
            # Shutting down: asyncio.wait does not pass the cancel on by itself.
            answer.cancel()
            await asyncio.wait([answer])
            raise
        if not answer.cancelled():
            answer.result()


async def _load_history(
    session: Session, client: AsyncWebClient, question: Question, services: Services, bot: BotIdentity, logger: logging.Logger
) -> list[Item]:
    """The thread's remembered turns, newest `history_max_turns` of them.

    An empty session for a thread that has messages in Slack (a new or deleted store, a thread
    from before memory) is rebuilt from conversations.replies once, then kept.
    """
    max_turns = services.settings.history_max_turns
    items: list[Item] = await session.get_items(limit=max_turns * ITEMS_PER_TURN)
    if not items and await services.store.claim_key(f"new-thread:{session.session_id}", NEW_THREAD_SECONDS):
        messages = await _thread_messages(client, question, logger)
        seed = redact_turns(build_history(messages, bot=bot, question_ts=question.message_ts), pii=services.settings.redact_pii)
        if seed:
            await session.add_items(seed)
            logger.info("Rebuilt the memory of thread %s from Slack: %d messages", question.thread_ts, len(seed))
            items = seed
    return last_turns(items, max_turns)


async def _record_usage(
    services: Services,
    question: Question,
    *,
    outcome: str,
    stats: RunStats | None,
    started: float,
    logger: logging.Logger,
) -> None:
    record = UsageRecord(
        team_id=question.team_id or question.enterprise_id or "",
        channel_id=question.channel_id,
        thread_ts=question.thread_ts,
        message_ts=question.message_ts,
        user_id=question.user_id,
        model=services.settings.assistant_model,
        outcome=outcome,
        input_tokens=stats.input_tokens if stats else 0,
        output_tokens=stats.output_tokens if stats else 0,
        latency_ms=round((time.monotonic() - started) * 1000),
        first_token_ms=None if stats is None or stats.first_token_seconds is None else round(stats.first_token_seconds * 1000),
    )
    await _best_effort("usage record", services.store.record_usage(record), logger)


async def _answer(
    question: Question,
    *,
    client: AsyncWebClient,
    services: Services,
    bot: BotIdentity,
    turn: ThreadTurn,
    logger: logging.Logger,
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
        budget=services.slack_budget,
    )
    session = services.store.session(turn.key)
    title_task: asyncio.Task[None] | None = None
    asked = truncate_question(question.text, settings.max_question_chars)
    question_text: str | None = None  # the question as the model saw it, once redacted
    try:
        if asked.truncated:
            await _notify(client, question, truncation_note(len(asked.text), asked.original_chars), logger)
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
        history, context = await asyncio.gather(
            _load_history(session, client, question, services, bot, logger),
            _context_for(client, services, question, logger),
        )
        context, question_text = redact_for_model(context, asked.text, pii=settings.redact_pii)
        history, context = fit_to_budget(
            system_prompt=settings.system_prompt,
            history=history,
            context=context,
            question=question_text,
            budget_chars=settings.prompt_budget_chars,
        )
        if not has_user_turn(history):
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
        turn.answered = True  # shown whole: a newer message no longer stops anything here
    except asyncio.CancelledError:
        turn.stopping = True
        stopped = turn.stop_reason is not None
        if stopped:
            logger.info("Answer stopped thread=%s (%s)", question.thread_ts, turn.stop_reason)
        else:
            logger.warning("Answer interrupted thread=%s (shutting down)", question.thread_ts)

        async def clean_up() -> None:
            notice = INTERRUPTED_NOTICE if not stopped else LEASE_LOST_NOTICE if turn.stop_reason == "lease_lost" else STOPPED_NOTICE
            await _end_after_failure(client, question, stream, notice, logger)
            if question_text is not None and stream.text.strip():
                # The user saw these words; the next turn must know they were cut short.
                await _best_effort("session write", session.add_items(stopped_turn(question_text, stream.text)), logger)
            await _record_usage(
                services, question, outcome="stopped" if stopped else "interrupted", stats=None, started=started, logger=logger
            )

        await asyncio.shield(asyncio.wait_for(clean_up(), CLEANUP_TIMEOUT_SECONDS))
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
        # Nothing of a failed turn goes to memory: the next question must not follow a
        # question that has no answer.
        await _record_usage(services, question, outcome=failure.kind.value, stats=None, started=started, logger=logger)
        return
    finally:
        if title_task is not None:
            await asyncio.wait([title_task])

    # Written whole, after the answer: a turn is in memory complete or not at all.
    await _best_effort("session write", session.add_items([user_item(question_text), *stats.output_items]), logger)
    await _record_usage(services, question, outcome="answered", stats=stats, started=started, logger=logger)
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
        "first_token_ms=%s total_ms=%d chars=%d messages=%d context=%s history_items=%d",
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
        len(history),
    )
