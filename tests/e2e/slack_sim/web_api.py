"""HTTP side of the Web API: parse a request the way Slack does, authenticate, inject faults and limits, dispatch.

slack_sdk sends three shapes, all of which Slack accepts and so must we:
* JSON bodies (chat.*, assistant.threads.setStatus/setSuggestedPrompts),
* query-string params even on POST (auth.test, reactions.add, assistant.threads.setTitle,
  apps.connections.open: `api_call(params=…)` puts them in the URL),
* form bodies (`api_call(data=…)`), where structured fields such as `blocks` arrive JSON-encoded as strings.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from . import api_assistant, api_auth, api_chat, api_conversations, api_streams
from .api_context import ApiError, CallContext, Handler
from .faults import FaultInjector
from .models import ApiCall, ResponseUrlPost
from .rate_limits import PER_CHANNEL_METHODS, RateLimiter
from .state import SimState

logger = logging.getLogger(__name__)

HANDLERS: dict[str, Handler] = {
    **api_auth.HANDLERS,
    **api_chat.HANDLERS,
    **api_streams.HANDLERS,
    **api_conversations.HANDLERS,
    **api_assistant.HANDLERS,
}
# Methods that take the app-level token (xapp-…); every other method wants the bot token.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
# Fields Slack accepts as JSON-encoded strings in form and query posts.
JSON_ENCODED_FIELDS = frozenset({"blocks", "attachments", "chunks", "prompts", "metadata", "loading_messages"})


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                raise ApiError("invalid_json")
            params.update(body)
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    for name in JSON_ENCODED_FIELDS & params.keys():
        if isinstance(params[name], str):
            try:
                params[name] = json.loads(params[name])
            except json.JSONDecodeError:
                # Slack's names for this are invalid_blocks, invalid_chunks, …
                raise ApiError(f"invalid_{name}") from None
    return params


def _bearer_token(request: web.Request, params: dict[str, Any]) -> str | None:
    """Slack takes the token from the Authorization header, or else from a `token` param."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer ") :].strip() or None
    token = params.pop("token", None)
    return None if token is None else str(token)


class WebApi:
    def __init__(
        self,
        state: SimState,
        limiter: RateLimiter,
        faults: FaultInjector,
        issue_socket_url: Callable[[str], str],
    ) -> None:
        self._state = state
        self._limiter = limiter
        self._faults = faults
        self._issue_socket_url = issue_socket_url

    def _authenticate(self, token: str | None, method: str) -> None:
        ws = self._state.workspace
        if token is None:
            raise ApiError("not_authed")
        if token not in (ws.bot_token, ws.app_token):
            raise ApiError("invalid_auth")
        if (token == ws.app_token) != (method in APP_TOKEN_METHODS):
            raise ApiError("not_allowed_token_type")

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        received_at = time.monotonic()
        params: dict[str, Any] = {}
        token: str | None = None
        status = 200
        headers: dict[str, str] = {}
        try:
            params = await _read_params(request)
            token = _bearer_token(request, params)
            # A delay models a slow Slack: it holds this request only, never the server.
            delay = self._faults.take_delay(method)
            if delay:
                await asyncio.sleep(delay)
            handler = HANDLERS.get(method)
            if handler is None:
                raise ApiError("unknown_method")
            self._authenticate(token, method)
            failure = self._faults.take_failure(method)
            if failure is not None:
                raise ApiError(failure.error, status=failure.status, retry_after=failure.retry_after)
            # chat.postMessage is limited per channel (about one a second), the rest per workspace.
            scope = f"{self._state.workspace.team_id}/{params.get('channel')}" if method in PER_CHANNEL_METHODS else self._state.workspace.team_id
            retry_after = self._limiter.acquire(scope, method)
            if retry_after is not None:
                raise ApiError("ratelimited", status=429, retry_after=retry_after)
            # apps.connections.open hands out a WebSocket URL on the host the app reached us through.
            issue_socket_url = functools.partial(self._issue_socket_url, request.host)
            ctx = CallContext(self._state, params, received_at, issue_socket_url)
            # Each call is atomic with respect to tests and to concurrent calls.
            with self._state.mutate():
                body: dict[str, Any] = {"ok": True, **handler(ctx)}
            error = None
        except ApiError as e:
            body = {"ok": False, "error": e.error, **e.extra}
            status, error = e.status, e.error
            if e.retry_after is not None:
                headers["Retry-After"] = str(e.retry_after)
        with self._state.mutate():
            peer = request.transport.get_extra_info("peername") if request.transport is not None else None
            self._state.api_calls.append(ApiCall(method, params, token, received_at, status, error, peer and f"{peer[0]}:{peer[1]}"))
        if error is not None:
            logger.debug("%s -> %s (%s)", method, error, status)
        return web.json_response(body, status=status, headers=headers)

    async def handle_response_url(self, request: web.Request) -> web.Response:
        """Records what the app posts to a `response_url` from an interactive payload."""
        body = await request.json() if request.content_type == "application/json" else dict(await request.post())
        with self._state.mutate():
            self._state.response_url_posts.append(ResponseUrlPost(str(request.url), body, time.monotonic()))
        return web.json_response({"ok": True})
