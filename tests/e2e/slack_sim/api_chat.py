"""chat.postMessage, chat.update, chat.postEphemeral and reactions.add."""

from __future__ import annotations

import copy
from typing import Any

from . import payloads
from .api_context import ApiError, CallContext, Handler
from .models import Channel, EphemeralMessage


def post_bot_message(
    ctx: CallContext,
    channel: Channel,
    *,
    text: str,
    blocks: list[dict[str, Any]] | None,
    thread_ts: str | None,
    metadata: dict[str, Any] | None,
) -> dict[str, Any]:
    """Store a new message from the app and return it (the stored dict, to be copied before handing out)."""
    parent = ctx.state.find_message(channel.id, thread_ts) if thread_ts else None
    message = payloads.bot_message(
        ctx.workspace,
        ts=ctx.state.next_ts(),
        text=text,
        blocks=blocks,
        thread_ts=thread_ts,
        parent_user_id=None if parent is None else parent.get("user"),
        metadata=metadata,
    )
    channel.messages.append(message)
    ctx.state.clear_status_for_reply(channel.id, thread_ts, ctx.now)
    return message


def _message_content(ctx: CallContext) -> tuple[str, list[dict[str, Any]] | None]:
    """Text and blocks of a post: Slack wants at least one of text, blocks or markdown_text (else `no_text`)."""
    blocks = ctx.dict_list("blocks", error="invalid_blocks")
    text = ctx.optional("markdown_text") or ctx.optional("text")
    if text is None and not blocks:
        raise ApiError("no_text")
    return text or "", blocks


def post_message(ctx: CallContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/chat.postMessage"""
    ctx.require_scope("chat:write")
    channel = ctx.member_channel(ctx.optional("channel"))
    text, blocks = _message_content(ctx)
    message = post_bot_message(
        ctx,
        channel,
        text=text,
        blocks=blocks,
        thread_ts=ctx.optional("thread_ts"),
        metadata=ctx.json_object("metadata", error="invalid_metadata_format"),
    )
    return {"channel": channel.id, "ts": message["ts"], "message": copy.deepcopy(message)}


def update(ctx: CallContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/chat.update"""
    ctx.require_scope("chat:write")
    channel = ctx.channel(ctx.optional("channel"))
    message = ctx.state.find_message(channel.id, ctx.require("ts", error="message_not_found"))
    if message is None:
        raise ApiError("message_not_found")
    if message.get("bot_id") != ctx.workspace.bot_id:
        raise ApiError("cant_update_message")
    text, blocks = _message_content(ctx)
    message["text"] = text
    # Slack rebuilds the blocks from the new text unless the update brings its own blocks.
    message["blocks"] = payloads.with_block_ids(blocks) if blocks else payloads.rich_text_blocks(text)
    metadata = ctx.json_object("metadata", error="invalid_metadata_format")
    if metadata is not None:
        message["metadata"] = metadata
    message["edited"] = {"user": ctx.workspace.bot_user_id, "ts": ctx.state.next_ts()}
    return {"channel": channel.id, "ts": message["ts"], "text": text, "message": copy.deepcopy(message)}


def post_ephemeral(ctx: CallContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/chat.postEphemeral: visible to `user` only, never in history."""
    ctx.require_scope("chat:write")
    channel = ctx.member_channel(ctx.optional("channel"))
    user = ctx.require("user", error="user_not_found")
    if user not in channel.members:
        raise ApiError("user_not_in_channel")
    text, blocks = _message_content(ctx)
    message = payloads.bot_message(
        ctx.workspace,
        ts=ctx.state.next_ts(),
        text=text,
        blocks=blocks,
        thread_ts=ctx.optional("thread_ts"),
        parent_user_id=None,
        metadata=None,
    )
    ctx.state.ephemerals.append(EphemeralMessage(channel.id, user, message, ctx.now))
    return {"message_ts": message["ts"]}


def reactions_add(ctx: CallContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/reactions.add"""
    ctx.require_scope("reactions:write")
    channel = ctx.channel(ctx.optional("channel"))
    name = ctx.require("name", error="invalid_name")
    message = ctx.state.find_message(channel.id, ctx.require("timestamp", error="message_not_found"))
    if message is None:
        raise ApiError("message_not_found")
    reactions: list[dict[str, Any]] = message.setdefault("reactions", [])
    reaction = next((r for r in reactions if r["name"] == name), None)
    if reaction is None:
        reaction = {"name": name, "users": [], "count": 0}
        reactions.append(reaction)
    if ctx.workspace.bot_user_id in reaction["users"]:
        raise ApiError("already_reacted")
    reaction["users"].append(ctx.workspace.bot_user_id)
    reaction["count"] += 1
    return {}


HANDLERS: dict[str, Handler] = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.postEphemeral": post_ephemeral,
    "reactions.add": reactions_add,
}
