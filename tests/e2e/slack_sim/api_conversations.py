"""Read methods: conversations.replies / history / info / members and users.info.

Pagination follows https://docs.slack.dev/apis/web-api/pagination: `limit`, an opaque `cursor`,
and `response_metadata.next_cursor` that is "" on the last page.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from typing import Any, TypeVar

from .api_context import ApiError, CallContext, Handler

T = TypeVar("T")

_CURSOR_PREFIX = "offset:"


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"{_CURSOR_PREFIX}{offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        decoded = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError("invalid_cursor") from None
    if not decoded.startswith(_CURSOR_PREFIX) or not decoded[len(_CURSOR_PREFIX) :].isdigit():
        raise ApiError("invalid_cursor")
    return int(decoded[len(_CURSOR_PREFIX) :])


def _paginate(ctx: CallContext, items: list[T], default_limit: int) -> tuple[list[T], dict[str, Any]]:
    limit = ctx.integer("limit", default_limit, error="invalid_limit")
    if limit < 1:
        raise ApiError("invalid_limit")
    cursor = ctx.optional("cursor")
    offset = 0 if cursor is None else _decode_cursor(cursor)
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return page, {
        "has_more": more,
        "response_metadata": {"next_cursor": _encode_cursor(offset + limit) if more else ""},
    }


def _ts_bound(ctx: CallContext, name: str, default: float) -> float:
    value = ctx.optional(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise ApiError(f"invalid_ts_{name}") from None


def _time_window(ctx: CallContext) -> Callable[[str], bool]:
    """The `oldest`/`latest`/`inclusive` filter shared by conversations.history and .replies."""
    oldest = _ts_bound(ctx, "oldest", 0.0)
    latest = _ts_bound(ctx, "latest", math.inf)
    if ctx.flag("inclusive"):
        return lambda ts: oldest <= float(ts) <= latest
    return lambda ts: oldest < float(ts) < latest


def _for_reader(ctx: CallContext, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Slack only returns message metadata to callers that pass `include_all_metadata`."""
    if ctx.flag("include_all_metadata"):
        return messages
    return [{k: v for k, v in m.items() if k != "metadata"} for m in messages]


def replies(ctx: CallContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.replies

    The parent message always comes first, whatever `oldest`/`latest` say; Bolt's default
    thread-context store relies on that when it reads with `oldest=thread_ts`.
    """
    channel = ctx.member_channel(ctx.optional("channel"), "history")
    thread = ctx.state.thread_view(channel.id, ctx.require("ts", error="thread_not_found"))
    if not thread:
        raise ApiError("thread_not_found")
    in_window = _time_window(ctx)
    parent, rest = thread[0], [m for m in thread[1:] if in_window(m["ts"])]
    page, paging = _paginate(ctx, [parent, *rest], default_limit=1000)
    return {"messages": _for_reader(ctx, page), **paging}


def history(ctx: CallContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.history: top-level messages, newest first."""
    channel = ctx.member_channel(ctx.optional("channel"), "history")
    in_window = _time_window(ctx)
    top_level = [m for m in reversed(channel.messages) if m.get("thread_ts") in (None, m["ts"]) and in_window(m["ts"])]
    # Thread parents come back with their reply counters, as in conversations.replies.
    decorated = [ctx.state.thread_view(channel.id, m["ts"])[0] for m in top_level]
    page, paging = _paginate(ctx, decorated, default_limit=100)
    return {"messages": _for_reader(ctx, page), "pin_count": 0, **paging}


def info(ctx: CallContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.info"""
    channel = ctx.channel(ctx.optional("channel"), "read")
    return {"channel": channel.to_api(ctx.workspace.bot_user_id)}


def members(ctx: CallContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.members"""
    channel = ctx.channel(ctx.optional("channel"), "read")
    page, paging = _paginate(ctx, list(channel.members), default_limit=100)
    # conversations.members reports the cursor only, without has_more.
    return {"members": page, "response_metadata": paging["response_metadata"]}


def users_info(ctx: CallContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/users.info"""
    ctx.require_scope("users:read")
    user = ctx.state.users.get(ctx.require("user", error="user_not_found"))
    if user is None:
        raise ApiError("user_not_found")
    return {"user": user.to_api()}


HANDLERS: dict[str, Handler] = {
    "conversations.replies": replies,
    "conversations.history": history,
    "conversations.info": info,
    "conversations.members": members,
    "users.info": users_info,
}
