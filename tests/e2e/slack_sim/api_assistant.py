"""assistant.threads.setStatus / setSuggestedPrompts / setTitle."""

from __future__ import annotations

from typing import Any

from .api_context import ApiError, CallContext, Handler
from .models import Channel, PromptsUpdate, StatusUpdate, TitleUpdate

# https://docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts: up to four prompts.
MAX_PROMPTS = 4
# https://docs.slack.dev/reference/methods/assistant.threads.setStatus: at most ten loading messages.
MAX_LOADING_MESSAGES = 10


def _thread_root(ctx: CallContext, channel: Channel, thread_ts: str) -> dict[str, Any]:
    root = ctx.state.find_message(channel.id, thread_ts)
    if root is None:
        raise ApiError("invalid_thread_ts")
    return root


def set_status(ctx: CallContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/assistant.threads.setStatus (an empty status clears it)."""
    ctx.require_scope("chat:write")
    channel = ctx.channel(ctx.optional("channel_id"))
    thread_ts = ctx.require("thread_ts", error="invalid_thread_ts")
    _thread_root(ctx, channel, thread_ts)
    if "status" not in ctx.params:
        raise ApiError("invalid_arguments")
    loading = ctx.params.get("loading_messages") or []
    if not isinstance(loading, list) or len(loading) > MAX_LOADING_MESSAGES:
        raise ApiError("invalid_arguments")
    status = str(ctx.params["status"])
    ctx.state.status_updates.append(
        StatusUpdate(channel.id, thread_ts, status, tuple(str(m) for m in loading), ctx.now)
    )
    return {}


def set_suggested_prompts(ctx: CallContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts"""
    ctx.require_scope("assistant:write")
    channel = ctx.channel(ctx.optional("channel_id"))
    # Without thread_ts Slack applies the prompts to the channel's latest thread.
    thread_ts = ctx.optional("thread_ts")
    if thread_ts is not None:
        _thread_root(ctx, channel, thread_ts)
    prompts = ctx.dict_list("prompts") or []
    if not prompts or len(prompts) > MAX_PROMPTS or not all(p.get("title") and p.get("message") for p in prompts):
        raise ApiError("invalid_arguments")
    ctx.state.prompt_updates.append(
        PromptsUpdate(
            channel.id,
            thread_ts,
            tuple({"title": str(p["title"]), "message": str(p["message"])} for p in prompts),
            ctx.optional("title"),
            ctx.now,
        )
    )
    return {}


def set_title(ctx: CallContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/assistant.threads.setTitle: renames the thread's root message."""
    ctx.require_scope("assistant:write")
    channel = ctx.channel(ctx.optional("channel_id"))
    thread_ts = ctx.require("thread_ts", error="invalid_thread_ts")
    root = _thread_root(ctx, channel, thread_ts)
    title = ctx.require("title")
    if "assistant_app_thread" in root:
        root["assistant_app_thread"]["title"] = title
    ctx.state.title_updates.append(TitleUpdate(channel.id, thread_ts, title, ctx.now))
    return {}


HANDLERS: dict[str, Handler] = {
    "assistant.threads.setStatus": set_status,
    "assistant.threads.setSuggestedPrompts": set_suggested_prompts,
    "assistant.threads.setTitle": set_title,
}
