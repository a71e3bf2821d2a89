"""The naive streaming strategy of Slack's official AI-assistant template, for comparison.

`client.chat_stream(buffer_size=256)` (slack_sdk's `AsyncChatStream`): nothing reaches Slack
until 256 characters are buffered, then one chat.startStream / chat.appendStream per 256
characters, and chat.stopStream at the end. No shared budget and no 429 handling beyond what
the app's Web API client already does (its retry handlers wait out a 429 a couple of times).

It stands in for `assistant.answer_pipeline.AnswerStream` (see `bench/bot_runner.py`), so it
exposes what the pipeline uses: the constructor's keyword arguments, `text`, `message_ts`,
`started`, `append`, `finish(blocks=...)` and `abort(notice)`.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

BUFFER_SIZE = 256  # slack_sdk's default, as the template uses it


class BaselineStream:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        channel: str,
        thread_ts: str,
        recipient_team_id: str | None,
        recipient_user_id: str | None,
        logger: logging.Logger,
        **_ignored: Any,  # e.g. our strategy's shared budget: the baseline has none
    ):
        self._client = client
        self._channel = channel
        self._thread_ts = thread_ts
        self._recipient_team_id = recipient_team_id
        self._recipient_user_id = recipient_user_id
        self._logger = logger
        self._streamer: AsyncChatStream | None = None
        self.text = ""
        self.message_ts: list[str] = []

    @property
    def started(self) -> bool:
        return bool(self.message_ts)

    async def _stream(self) -> AsyncChatStream:
        if self._streamer is None:
            self._streamer = await self._client.chat_stream(
                channel=self._channel,
                thread_ts=self._thread_ts,
                recipient_team_id=self._recipient_team_id,
                recipient_user_id=self._recipient_user_id,
                buffer_size=BUFFER_SIZE,
            )
        return self._streamer

    def _note_ts(self) -> None:
        ts = None if self._streamer is None else self._streamer.ts
        if ts and ts not in self.message_ts:
            self.message_ts.append(str(ts))

    async def append(self, text: str) -> None:
        self.text += text
        streamer = await self._stream()
        try:
            await streamer.append(markdown_text=text)
        finally:
            self._note_ts()

    async def finish(self, *, blocks: list[dict[str, Any]] | None = None) -> None:
        streamer = await self._stream()
        try:
            await streamer.stop(blocks=blocks)
        finally:
            self._note_ts()

    async def abort(self, notice: str) -> None:
        """Stop the stream with the notice (and whatever is still buffered); never raises."""
        try:
            streamer = await self._stream()
            await streamer.stop(markdown_text=f"\n\n{notice}")
        except Exception as exc:
            self._logger.warning("Baseline stream could not end with the notice: %s", type(exc).__name__)
        finally:
            self._note_ts()
