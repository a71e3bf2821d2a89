"""Stream one answer into an assistant thread with Slack's chat streaming methods.

Why not `client.chat_stream()`: it holds the first 256 characters before its first call, so the
user stares at "is thinking…" while text already exists, and it flushes by size only. Here the
first words go out with `chat.startStream` the moment they exist; later text is batched by time
(at least `flush_interval` apart, longer when the process-wide `SlackBudget` says other answers
need the method's slots) so a reply costs a handful of `chat.appendStream` calls, each within
Slack's 12,000-character `markdown_text` limit, and many answers at once do not add up to 429s.
A reply longer than one message continues in a new message in the same thread, cut at a
paragraph, line or word boundary.

How an answer reaches Slack is decided at its first words, from the shared budget: streamed
(`chat.startStream`, when a slot is near and the closing `chat.stopStream` is affordable), else
posted and edited (`chat.postMessage` / `chat.update`, when the closing edit is affordable),
else, when more answers are under way than Slack's workspace limits can finish soon, posted
whole once it is complete (`chat.postMessage` only, limited per channel): the user waits
longer for the first words but every answer arrives exact and no call is refused. A stream
that is refused or ends under the answer (Slack expires long-open streams:
`message_not_in_streaming_state`) carries on by editing the message, so the user still gets
every character once, with the feedback buttons.

Nothing is lost or doubled: every Slack call happens under one lock, a piece leaves `_pending`
only once Slack accepted it, and `abort` delivers whatever was not shown together with its notice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from assistant.blocks import build_markdown_blocks
from assistant.conversation import NOTICE_EVENT
from assistant.slack_budget import SlackBudget
from assistant.slack_retries import retry_after_seconds
from assistant.text_split import split_text

# Slack's per-call limit for markdown_text.
MAX_CALL_CHARS = 12_000
# One markdown message holds 12,000 characters; past that the answer continues in a new message.
MAX_MESSAGE_CHARS = 12_000
DEFAULT_FLUSH_INTERVAL = 1.0
# chat.update is Tier 3 (50+/min) where chat.appendStream is Tier 4: edit less often.
UPDATE_FLUSH_INTERVAL = 2.0
# A rate-limited finish or notice waits and tries again this many times before giving up.
MAX_FINISH_ATTEMPTS = 10
DEFAULT_RETRY_AFTER_SECONDS = 1.0
# The first words wait at most this long for a chat.startStream slot; past it they are posted
# (chat.postMessage is limited per channel, not per workspace) and the message is edited on.
MAX_START_WAIT_SECONDS = 0.5
# An answer is shown while written only if its closing call (stopStream or update) would get
# a slot within this long after it ends, counting the closing calls promised to other answers.
MAX_FINAL_WAIT_SECONDS = 10.0
# The stream under the answer is over: continue by editing the message.
STREAM_GONE_ERRORS = frozenset({"message_not_in_streaming_state", "streaming_state_conflict"})
# Streaming is refused here (workspace, channel type or method): post and edit instead.
STREAMING_UNAVAILABLE_ERRORS = frozenset(
    {"not_allowed", "method_not_supported_for_channel_type", "channel_type_not_supported", "unknown_method", "feature_not_enabled"}
)


def _error_of(exc: SlackApiError) -> str:
    return str(exc.response.get("error"))


class AnswerStream:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        channel: str,
        thread_ts: str,
        recipient_team_id: str | None,
        recipient_user_id: str | None,
        logger: logging.Logger,
        budget: SlackBudget | None = None,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        max_message_chars: int = MAX_MESSAGE_CHARS,
    ):
        self._client = client
        self._budget = budget or SlackBudget({})
        self._channel = channel
        self._thread_ts = thread_ts
        self._recipient_team_id = recipient_team_id
        self._recipient_user_id = recipient_user_id
        self._logger = logger
        self._flush_interval = flush_interval
        self._max_message_chars = max_message_chars

        self.text = ""  # everything appended: what the model produced
        self.message_ts: list[str] = []  # every message this answer started, in order
        self.streaming = True  # False once Slack refused or ended streaming: post and edit
        self.whole = False  # posted in one go when complete: nothing is shown while written
        self._decided = False  # how to show this answer is chosen once, at its first words
        self._promised: str | None = None  # the closing call this answer holds a promise for
        self._pending = ""  # appended but not yet accepted by Slack
        self._open_ts: str | None = None  # the message currently being written
        self._open_text = ""  # what Slack holds of that message
        self._last_send = 0.0
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None
        self._timer_sending = False
        self._failure: BaseException | None = None

    @property
    def started(self) -> bool:
        return bool(self.message_ts)

    async def append(self, text: str) -> None:
        """Add model text; it reaches Slack at once if nothing has been shown yet, else batched."""
        self.text += text
        self._pending += text
        self._raise_failure()  # after keeping the text, so that abort() still delivers it
        if not text or self._timer is not None or self.whole:
            return  # a scheduled flush will take this text along
        due = self._last_send + self._interval() - time.monotonic()
        if not self.started or due <= 0:
            await self._flush()
        else:
            self._timer = asyncio.create_task(self._flush_after(due))

    async def finish(self, *, blocks: list[dict[str, Any]] | None = None) -> None:
        """Send what is left and close the last message with `blocks` (the feedback buttons)."""
        await self._stop_timer()
        try:
            async with self._lock:
                self._raise_failure()
                for _ in range(MAX_FINISH_ATTEMPTS):
                    await self._send_pending(keep_last=True)
                    if self.whole or self._open_ts is not None and len(self._pending) <= self._room():
                        break
                    # Rate-limited with more text left than one call can carry: wait it out.
                    await asyncio.sleep(max(self._last_send + self._interval() - time.monotonic(), 0.1))
                if self.whole:
                    await self._post_whole(blocks or [])
                    return
                if self._open_ts is None:
                    raise ValueError("finish() needs an answer: nothing was appended")
                await _retry_rate_limited(lambda: self._close(self._pending, blocks=blocks))
                self._pending = ""
        finally:
            self._release_promise()

    async def abort(self, notice: str) -> None:
        """End the answer with `notice` and whatever text was not shown yet: in the open message
        when Slack still takes it, else posted in the thread.

        Never raises: this runs on error paths, where a second failure must not hide the first.
        """
        try:
            await self._stop_timer()
            async with self._lock:
                unsent, self._pending = self._pending, ""
                tail = f"{unsent}\n\n{notice}"
                if self._open_ts is not None:
                    try:
                        await self._close(tail, blocks=None)
                        return
                    except Exception as exc:
                        self._logger.warning("Could not end message %s with the notice: %s", self._open_ts, _describe(exc))
                        await self._stop_quietly()
                await post_notice(self._client, channel=self._channel, thread_ts=self._thread_ts, text=tail.strip())
        except Exception:
            self._logger.exception("Could not deliver the failure notice in %s", self._channel)
        finally:
            self._release_promise()

    # -- sending -----------------------------------------------------------------------------

    async def _send_pending(self, *, keep_last: bool) -> None:
        """Send pending text, opening and closing messages as they fill.

        With `keep_last`, the final piece that fits the open message stays pending so that
        `finish` can send it together with the closing call.
        """
        while self._pending:
            if self._open_ts is not None and len(self._open_text) >= self._max_message_chars:
                await self._close("", blocks=None)
                continue
            if self._open_ts is None:
                self._choose_how_to_open()
                if self.whole:
                    return  # everything waits for finish()
            method = self._method(opening=self._open_ts is None)
            wait = self._budget.wait_estimate(method)
            if not keep_last and self._open_ts is not None and wait > self._interval():
                # Many answers share this method's slots: rather than queue an in-between
                # update (and push every answer's ending back), gather more text and look again.
                self._reschedule(wait)
                return
            # Wait for the slot before choosing the piece: text that arrives meanwhile goes too.
            await self._budget.acquire(method)
            room = self._max_message_chars - len(self._open_text)
            limit = self._room()
            if keep_last and self._open_ts is not None and len(self._pending) <= limit:
                return
            piece, rest = split_text(self._pending, limit)
            self._last_send = time.monotonic()
            try:
                if self._open_ts is None:
                    await self._open(piece)
                else:
                    await self._extend(piece)
            except SlackApiError as exc:
                if _error_of(exc) != "ratelimited":
                    raise
                # Slack refused this batch for now (after the client's own retries): the text
                # stays pending and goes out, whole, with a later flush.
                self._defer(exc)
                return
            # Only now is the piece shown; append() may have added text behind it meanwhile.
            self._pending = self._pending[len(piece) :]
            if rest and limit == room:
                # The rest does not fit this message: close it and continue in a new one.
                await self._close("", blocks=None)

    def _method(self, *, opening: bool = False, closing: bool = False) -> str:
        """The Web API method the next call of this answer uses."""
        if self.streaming:
            return "chat.startStream" if opening else "chat.stopStream" if closing else "chat.appendStream"
        return "chat.postMessage" if opening else "chat.update"

    def _choose_how_to_open(self) -> None:
        """Stream, post and edit, or post whole: what Slack's workspace limits can carry now."""
        if self._decided:
            return
        self._decided = True
        budget = self._budget
        if (
            self.streaming
            and budget.wait_estimate("chat.startStream") <= MAX_START_WAIT_SECONDS
            and budget.can_promise("chat.stopStream", MAX_FINAL_WAIT_SECONDS)
        ):
            self._promise("chat.stopStream")
            return
        # Many answers are starting at once: show these words now rather than in a queue.
        self.streaming = False
        if budget.can_promise("chat.update", MAX_FINAL_WAIT_SECONDS):
            self._promise("chat.update")
            return
        self._logger.debug("Too many answers under way to edit this one to its end; posting it whole")
        self.whole = True

    def _promise(self, method: str) -> None:
        self._budget.promise(method)
        self._promised = method

    def _release_promise(self) -> None:
        if self._promised is not None:
            self._budget.release(self._promised)
            self._promised = None

    async def _post_whole(self, blocks: list[dict[str, Any]]) -> None:
        """Post the complete answer: one message, or several when it is longer than one holds."""
        if not self._pending.strip():
            raise ValueError("finish() needs an answer: nothing was appended")
        while self._pending:
            piece, rest = split_text(self._pending, self._max_message_chars)
            extra = [] if rest else blocks
            response = await _retry_rate_limited(
                lambda: self._client.chat_postMessage(
                    channel=self._channel, thread_ts=self._thread_ts, text=piece, blocks=build_markdown_blocks(piece) + extra
                )
            )
            self.message_ts.append(str(response["ts"]))
            self._pending = self._pending[len(piece) :]

    async def _open(self, text: str) -> None:
        if self.streaming:
            try:
                response = await self._client.chat_startStream(
                    channel=self._channel,
                    thread_ts=self._thread_ts,
                    recipient_team_id=self._recipient_team_id,
                    recipient_user_id=self._recipient_user_id,
                    markdown_text=text,
                )
            except SlackApiError as exc:
                if _error_of(exc) not in STREAMING_UNAVAILABLE_ERRORS:
                    raise
                self._stop_streaming(exc)
            else:
                self._opened(str(response["ts"]), text)
                return
        response = await self._client.chat_postMessage(channel=self._channel, thread_ts=self._thread_ts, markdown_text=text)
        self._opened(str(response["ts"]), text)

    async def _extend(self, piece: str) -> None:
        if self.streaming:
            try:
                await self._client.chat_appendStream(channel=self._channel, ts=self._open_ts, markdown_text=piece)
            except SlackApiError as exc:
                if _error_of(exc) not in STREAM_GONE_ERRORS:
                    raise
                self._stop_streaming(exc)
            else:
                self._open_text += piece
                return
        await self._client.chat_update(channel=self._channel, ts=self._open_ts, markdown_text=self._open_text + piece)
        self._open_text += piece

    async def _close(self, tail: str, *, blocks: list[dict[str, Any]] | None) -> None:
        """Finish the open message with `tail` (may be empty) and `blocks`."""
        if self.streaming or tail or blocks:
            await self._budget.acquire(self._method(closing=True))
        await self._close_now(tail, blocks=blocks)

    async def _close_now(self, tail: str, *, blocks: list[dict[str, Any]] | None) -> None:
        if self.streaming:
            try:
                await self._client.chat_stopStream(
                    channel=self._channel, ts=self._open_ts, markdown_text=tail or None, blocks=blocks
                )
            except SlackApiError as exc:
                if _error_of(exc) not in STREAM_GONE_ERRORS:
                    raise
                self._stop_streaming(exc)
            else:
                self._closed()
                return
        if tail or blocks:
            full = self._open_text + tail
            await self._client.chat_update(
                channel=self._channel, ts=self._open_ts, text=full, blocks=build_markdown_blocks(full) + (blocks or [])
            )
        self._closed()

    async def _stop_quietly(self) -> None:
        """At least do not leave a stream open; the notice then goes in a message of its own."""
        if self.streaming and self._open_ts is not None:
            try:
                await self._client.chat_stopStream(channel=self._channel, ts=self._open_ts)
            except Exception as exc:
                self._logger.warning("Could not stop stream %s: %s", self._open_ts, _describe(exc))
        self._closed()

    def _opened(self, ts: str, text: str) -> None:
        self._open_ts, self._open_text = ts, text
        self.message_ts.append(ts)

    def _closed(self) -> None:
        self._open_ts, self._open_text = None, ""

    def _stop_streaming(self, exc: SlackApiError) -> None:
        self._logger.warning("Streaming unavailable (%s); continuing by posting and editing the message", _error_of(exc))
        self.streaming = False

    def _room(self) -> int:
        return min(self._max_message_chars - len(self._open_text), MAX_CALL_CHARS)

    def _interval(self) -> float:
        return self._flush_interval if self.streaming else max(self._flush_interval, UPDATE_FLUSH_INTERVAL)

    # -- timing ------------------------------------------------------------------------------

    def _reschedule(self, delay: float) -> None:
        self._last_send = time.monotonic() + delay - self._interval()
        if self._timer is None or self._timer is asyncio.current_task():
            self._timer = asyncio.create_task(self._flush_after(delay))

    def _defer(self, exc: SlackApiError) -> None:
        delay = retry_after_seconds(exc, DEFAULT_RETRY_AFTER_SECONDS)
        self._logger.info("Rate-limited; holding %d characters for %.1fs", len(self._pending), delay)
        self._reschedule(delay)

    async def _flush_after(self, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            # From here on the flush is not cancelled: `_stop_timer` waits for it instead, so a
            # send is never cut between Slack accepting text and this object recording it.
            self._timer_sending = True
            await self._flush()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # raised to the caller by the next append()/finish()
            self._failure = exc
        finally:
            self._timer_sending = False
            if self._timer is asyncio.current_task():
                self._timer = None

    async def _stop_timer(self) -> None:
        timer = self._timer
        if timer is None:
            return
        if not self._timer_sending:
            timer.cancel()
        # asyncio.wait neither raises the timer's outcome nor hides a cancellation of our own task.
        await asyncio.wait([timer])
        self._timer = None

    def _raise_failure(self) -> None:
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    async def _flush(self) -> None:
        async with self._lock:
            await self._send_pending(keep_last=False)


async def _retry_rate_limited(call: Callable[[], Awaitable[Any]], *, other_errors: int = 0) -> Any:
    """Run `call`, waiting out rate limits (a refused call did nothing, so resending is safe) and
    retrying up to `other_errors` times on other Slack errors."""
    for attempt in range(MAX_FINISH_ATTEMPTS):
        try:
            return await call()
        except SlackApiError as exc:
            last = attempt == MAX_FINISH_ATTEMPTS - 1
            if _error_of(exc) == "ratelimited" and not last:
                await asyncio.sleep(retry_after_seconds(exc, DEFAULT_RETRY_AFTER_SECONDS))
            elif other_errors > 0 and not last:
                other_errors -= 1
            else:
                raise
    raise AssertionError("unreachable")


async def post_notice(client: AsyncWebClient, *, channel: str, thread_ts: str, text: str) -> None:
    """A message from the bot that is not an answer: marked so it never enters the history.

    Notices end failures, so silence would be the worst outcome: a refused post is retried, and
    so is one that failed otherwise, once (a duplicate notice beats none).
    """
    await _retry_rate_limited(
        lambda: client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=text, metadata={"event_type": NOTICE_EVENT, "event_payload": {}}
        ),
        other_errors=1,
    )


def _describe(exc: Exception) -> str:
    return _error_of(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
