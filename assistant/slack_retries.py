"""How Web API calls are retried, in one place.

- 429: after Retry-After (a refused call was not applied, so a retry duplicates nothing).
- Connection errors: once (slack_sdk's default).
- 500/503: once, except for calls that add text. A 5xx can come after Slack applied the call;
  re-sending an append or a post could show the user the same words twice, and the stream
  writer already turns a failed send into a clean ending with its text kept.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from typing import Optional

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
    async_default_handlers,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

ADDS_TEXT = frozenset({"chat.startStream", "chat.appendStream", "chat.postMessage", "chat.postEphemeral"})
MAX_RATE_LIMIT_RETRIES = 2


def method_of(request: HttpRequest) -> str:
    return request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class ServerErrorRetryUnlessAddingText(AsyncServerErrorRetryHandler):
    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: Optional[HttpResponse] = None,
        error: Optional[Exception] = None,
    ) -> bool:
        if method_of(request) in ADDS_TEXT:
            return False
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


def build_retry_handlers() -> list[AsyncRetryHandler]:
    return [
        *async_default_handlers(),
        AsyncRateLimitErrorRetryHandler(max_retry_count=MAX_RATE_LIMIT_RETRIES),
        ServerErrorRetryUnlessAddingText(),
    ]


def retry_after_seconds(exc: SlackApiError, default: float = 1.0) -> float:
    """The Retry-After of a refused call, in seconds (`default` when Slack sent none)."""
    try:
        return float(exc.response.headers.get("Retry-After", default))
    except (TypeError, ValueError, AttributeError):
        return default
