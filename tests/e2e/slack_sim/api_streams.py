"""chat.startStream / chat.appendStream / chat.stopStream.

Argument rules and error names come from the method reference pages
(https://docs.slack.dev/reference/methods/chat.startStream, …/chat.appendStream, …/chat.stopStream):
`markdown_text` or `chunks` but never both in one call; the mode a stream started with must be kept
(`streaming_mode_mismatch`); outside DMs the recipient must be named; a stopped or expired stream
answers `message_not_in_streaming_state`.
"""

from __future__ import annotations

import copy
from typing import Any

from . import payloads
from .api_chat import post_bot_message
from .api_context import ApiError, CallContext, Handler
from .models import StreamRecord

# Documented per-call limit of markdown text. Slack's error name for exceeding it is not documented
# for the streaming methods; `msg_too_long` is what chat.postMessage uses for the same condition.
MAX_MARKDOWN_CHARS = 12_000
MARKDOWN_CHUNK_TYPES = ("markdown_text", "markdown")


def _content(ctx: CallContext, *, required: bool) -> tuple[str | None, list[dict[str, Any]]]:
    """The call's mode ("markdown_text" / "chunks" / None) and its content as chunks."""
    markdown_text = ctx.optional("markdown_text")
    chunks = ctx.dict_list("chunks", error="invalid_chunks") or []
    if markdown_text is not None and chunks:
        raise ApiError("cannot_provide_both_markdown_text_and_chunks")
    if any("type" not in chunk for chunk in chunks):
        raise ApiError("invalid_chunks")
    if markdown_text is not None:
        mode, chunks = "markdown_text", [{"type": "markdown_text", "text": markdown_text}]
    elif chunks:
        mode = "chunks"
    elif required:
        raise ApiError("markdown_text_or_chunks_required")
    else:
        mode = None
    markdown_chars = sum(len(str(c.get("text", ""))) for c in chunks if c["type"] in MARKDOWN_CHUNK_TYPES)
    if markdown_chars > MAX_MARKDOWN_CHARS:
        raise ApiError("msg_too_long")
    return mode, chunks


def _add_content(record: StreamRecord, mode: str | None, chunks: list[dict[str, Any]]) -> None:
    if mode is not None and record.mode is not None and mode != record.mode:
        raise ApiError("streaming_mode_mismatch")
    record.mode = record.mode or mode
    record.chunks.extend(chunks)


def _streaming_record(ctx: CallContext) -> StreamRecord:
    channel = ctx.member_channel(ctx.optional("channel"))
    ts = ctx.require("ts", error="message_not_found")
    record = ctx.state.streams.get(ts)
    if record is None or record.channel != channel.id:
        # A normal message exists but was never streamed: it is simply not in a streaming state.
        if ctx.state.find_message(channel.id, ts) is not None:
            raise ApiError("message_not_in_streaming_state")
        raise ApiError("message_not_found")
    if record.state == "streaming" and ctx.now - record.started_at > ctx.state.stream_ttl:
        record.state = "expired"
    if record.state != "streaming":
        raise ApiError("message_not_in_streaming_state")
    return record


def _sync_message(ctx: CallContext, record: StreamRecord) -> dict[str, Any]:
    """Keep the stored message (what conversations.replies shows) in step with the stream."""
    message = ctx.state.find_message(record.channel, record.ts)
    assert message is not None, "a stream's message is stored when the stream starts"
    message["text"] = record.text
    # Blocks passed to chat.stopStream render below the streamed text.
    message["blocks"] = payloads.rich_text_blocks(record.text) + record.blocks
    if record.metadata is not None:
        message["metadata"] = record.metadata
    return message


def start_stream(ctx: CallContext) -> dict[str, Any]:
    ctx.require_scope("chat:write")
    channel = ctx.member_channel(ctx.optional("channel"))
    thread_ts = ctx.require("thread_ts", error="invalid_thread_ts")
    if not channel.is_im:
        ctx.require("recipient_user_id", error="missing_recipient_user_id")
        ctx.require("recipient_team_id", error="missing_recipient_team_id")
    mode, chunks = _content(ctx, required=False)
    message = post_bot_message(ctx, channel, text="", blocks=None, thread_ts=thread_ts, metadata=None)
    record = StreamRecord(ts=message["ts"], channel=channel.id, thread_ts=thread_ts, started_at=ctx.now)
    _add_content(record, mode, chunks)
    ctx.state.streams[record.ts] = record
    _sync_message(ctx, record)
    return {"channel": channel.id, "ts": record.ts}


def append_stream(ctx: CallContext) -> dict[str, Any]:
    ctx.require_scope("chat:write")
    record = _streaming_record(ctx)
    mode, chunks = _content(ctx, required=True)
    _add_content(record, mode, chunks)
    _sync_message(ctx, record)
    return {"channel": record.channel, "ts": record.ts}


def stop_stream(ctx: CallContext) -> dict[str, Any]:
    ctx.require_scope("chat:write")
    record = _streaming_record(ctx)
    mode, chunks = _content(ctx, required=False)
    blocks = ctx.dict_list("blocks", error="invalid_blocks")
    metadata = ctx.json_object("metadata", error="invalid_metadata_format")
    _add_content(record, mode, chunks)
    record.blocks = payloads.with_block_ids(blocks or [])
    record.metadata = metadata
    record.state = "stopped"
    record.stopped_at = ctx.now
    message = _sync_message(ctx, record)
    return {"channel": record.channel, "ts": record.ts, "message": copy.deepcopy(message)}


HANDLERS: dict[str, Handler] = {
    "chat.startStream": start_stream,
    "chat.appendStream": append_stream,
    "chat.stopStream": stop_stream,
}
