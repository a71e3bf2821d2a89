"""Map whatever went wrong while answering to one short user message and one log line.

litellm's exceptions subclass the openai SDK's, so the openai base classes and the HTTP status
are enough to classify them without importing litellm here. The user never sees exception text
from the proxy (it can echo request fragments); the log gets the class, status and a trimmed
message, never a body or key.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from enum import Enum

import openai


class FailureKind(str, Enum):
    AUTH = "auth"
    MODEL_NOT_FOUND = "model_not_found"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    STALLED = "stalled"
    CAPPED = "capped"
    CUT_OFF = "cut_off"
    TOO_LONG = "too_long"
    INVALID_RESPONSE = "invalid_response"
    UNEXPECTED = "unexpected"


class EmptyAnswerError(Exception):
    """The model finished without producing any text."""


class CutStreamError(Exception):
    """The model's stream ended without a finish reason: the answer is incomplete."""


class AnswerTimeout(TimeoutError):
    """A time limit of the answer expired: before the first token, between tokens, or overall."""

    def __init__(self, phase: str, seconds: float):
        self.phase = phase  # "first_token" | "idle" | "overall"
        self.seconds = seconds
        super().__init__(f"{phase} timeout after {seconds:g}s")


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    user_message: str
    log_level: int
    retryable: bool
    detail: str


USER_MESSAGES: dict[FailureKind, str] = {
    FailureKind.AUTH: (
        ":warning: I couldn't sign in to the AI service. An admin needs to check the LiteLLM proxy key "
        "(`LITELLM_API_KEY`)."
    ),
    FailureKind.MODEL_NOT_FOUND: (
        ":warning: The configured AI model isn't available on the proxy. An admin needs to check `ASSISTANT_MODEL`."
    ),
    FailureKind.RATE_LIMITED: ":hourglass: The AI service is busy right now (rate limited). Please try again in a minute.",
    FailureKind.UNAVAILABLE: ":warning: Service temporarily unavailable. Please try again in a few moments.",
    FailureKind.TIMEOUT: ":hourglass: The AI service took too long to answer. Please try again, or ask a shorter question.",
    # Timeouts that cut an answer already under way: say it is incomplete, offer to continue.
    FailureKind.STALLED: ":hourglass: The answer stalled and was cut off here. Ask me to continue.",
    FailureKind.CAPPED: ":hourglass: The answer reached the time limit and was cut off here. Ask me to continue.",
    FailureKind.CUT_OFF: (
        ":scissors: The answer was cut off before it finished (the connection to the AI service dropped). "
        "Ask me to continue, or try again."
    ),
    FailureKind.TOO_LONG: (
        ":warning: This conversation is too long for the model. Please start a new thread, "
        "or ask a shorter question."
    ),
    FailureKind.INVALID_RESPONSE: ":warning: I got an invalid response from the AI service ({detail}). Please try again.",
    FailureKind.UNEXPECTED: ":warning: Something went wrong while answering. Please try again.",
}

_MAX_DETAIL_CHARS = 300
# How providers and LiteLLM word "the prompt exceeds the model's context window".
_TOO_LONG_HINTS = ("context window", "context_length_exceeded", "maximum context length")


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and its chain of causes, bounded so a cyclic chain cannot loop."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _detail(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > _MAX_DETAIL_CHARS:
        text = text[:_MAX_DETAIL_CHARS] + "…"
    status = _status(exc)
    prefix = f"{type(exc).__name__}" + (f" (HTTP {status})" if status else "")
    return f"{prefix}: {text}" if text else prefix


def _kind(exc: BaseException) -> FailureKind:
    chain = _causes(exc)
    if isinstance(exc, AnswerTimeout) and exc.phase == "idle":
        return FailureKind.STALLED
    if isinstance(exc, AnswerTimeout) and exc.phase == "overall":
        return FailureKind.CAPPED
    # Timeouts first: openai.APITimeoutError is a subclass of APIConnectionError.
    if any(isinstance(e, (asyncio.TimeoutError, TimeoutError, openai.APITimeoutError)) for e in chain):
        return FailureKind.TIMEOUT
    top = chain[0]
    if isinstance(top, CutStreamError):
        return FailureKind.CUT_OFF
    status = _status(top)
    if isinstance(top, openai.AuthenticationError) or status in (401, 403):
        return FailureKind.AUTH
    if isinstance(top, openai.NotFoundError) or status == 404:
        return FailureKind.MODEL_NOT_FOUND
    message = str(top).lower()
    if isinstance(top, openai.BadRequestError) and "invalid model name" in message:
        # The proxy answers an unknown model with 400 "Invalid model name", not 404.
        return FailureKind.MODEL_NOT_FOUND
    if isinstance(top, openai.RateLimitError) or status == 429:
        return FailureKind.RATE_LIMITED
    if any(isinstance(e, (openai.APIConnectionError, ConnectionError, OSError)) for e in chain):
        return FailureKind.UNAVAILABLE
    if isinstance(top, openai.InternalServerError) or (status is not None and status >= 500):
        return FailureKind.UNAVAILABLE
    if type(top).__name__ == "ContextWindowExceededError" or any(hint in message for hint in _TOO_LONG_HINTS):
        return FailureKind.TOO_LONG
    if isinstance(top, (openai.BadRequestError, openai.UnprocessableEntityError, EmptyAnswerError)):
        return FailureKind.INVALID_RESPONSE
    if type(top).__module__.startswith("agents") and type(top).__name__ == "ModelBehaviorError":
        return FailureKind.INVALID_RESPONSE
    return FailureKind.UNEXPECTED


_LOG_LEVELS: dict[FailureKind, int] = {
    # The spec: warn for what the user caused or can retry, error for system problems.
    FailureKind.AUTH: logging.ERROR,
    FailureKind.MODEL_NOT_FOUND: logging.ERROR,
    FailureKind.RATE_LIMITED: logging.WARNING,
    FailureKind.UNAVAILABLE: logging.WARNING,
    FailureKind.TIMEOUT: logging.WARNING,
    FailureKind.STALLED: logging.WARNING,
    FailureKind.CAPPED: logging.WARNING,
    FailureKind.CUT_OFF: logging.WARNING,
    FailureKind.TOO_LONG: logging.WARNING,
    FailureKind.INVALID_RESPONSE: logging.ERROR,
    FailureKind.UNEXPECTED: logging.ERROR,
}

# A cut before any text was shown is safe to retry; agent_run never retries after the first token.
RETRYABLE_KINDS = frozenset({FailureKind.RATE_LIMITED, FailureKind.UNAVAILABLE, FailureKind.CUT_OFF})


def describe_failure(exc: BaseException) -> Failure:
    kind = _kind(exc)
    detail = _detail(exc)
    if kind is FailureKind.INVALID_RESPONSE:
        status = _status(exc)
        short = type(exc).__name__ + (f", HTTP {status}" if status else "")
        user_message = USER_MESSAGES[kind].format(detail=short)
    else:
        user_message = USER_MESSAGES[kind]
    return Failure(
        kind=kind,
        user_message=user_message,
        log_level=_LOG_LEVELS[kind],
        retryable=kind in RETRYABLE_KINDS,
        detail=detail,
    )


def retry_after_seconds(exc: BaseException) -> float | None:
    """The server's Retry-After in seconds, when the exception carries a response that has one."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    raw = headers.get("retry-after")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None
