import asyncio
import logging

import httpx
import litellm
import openai
import pytest

from assistant.errors import EmptyAnswerError, FailureKind, describe_failure, retry_after_seconds

REQUEST = httpx.Request("POST", "http://proxy/chat/completions")


def _response(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, request=REQUEST, headers=headers or {})


def _connection_error_wrapped() -> Exception:
    # What the caller sees when the proxy is down: InternalServerError "Connection error." caused
    # by an APIConnectionError (platform facts).
    try:
        try:
            raise openai.APIConnectionError(request=REQUEST)
        except openai.APIConnectionError as cause:
            raise litellm.exceptions.InternalServerError("Connection error.", "litellm_proxy", "m") from cause
    except Exception as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (litellm.exceptions.AuthenticationError("bad key", "litellm_proxy", "m"), FailureKind.AUTH),
        (litellm.exceptions.NotFoundError("no such model", "litellm_proxy", "m"), FailureKind.MODEL_NOT_FOUND),
        (
            litellm.exceptions.BadRequestError("Invalid model name passed in model=x", "m", "litellm_proxy"),
            FailureKind.MODEL_NOT_FOUND,
        ),
        (litellm.exceptions.RateLimitError("slow down", "litellm_proxy", "m"), FailureKind.RATE_LIMITED),
        (litellm.exceptions.InternalServerError("boom", "litellm_proxy", "m"), FailureKind.UNAVAILABLE),
        (litellm.exceptions.ServiceUnavailableError("down", "litellm_proxy", "m"), FailureKind.UNAVAILABLE),
        (_connection_error_wrapped(), FailureKind.UNAVAILABLE),
        (litellm.exceptions.Timeout("too slow", "m", "litellm_proxy"), FailureKind.TIMEOUT),
        (asyncio.TimeoutError(), FailureKind.TIMEOUT),
        (litellm.exceptions.BadRequestError("bad shape", "m", "litellm_proxy"), FailureKind.INVALID_RESPONSE),
        (EmptyAnswerError("nothing"), FailureKind.INVALID_RESPONSE),
        (litellm.exceptions.ContextWindowExceededError("too many tokens", "m", "litellm_proxy"), FailureKind.TOO_LONG),
        (
            litellm.exceptions.BadRequestError("This model's maximum context length is 8192 tokens", "m", "p"),
            FailureKind.TOO_LONG,
        ),
        (RuntimeError("bug"), FailureKind.UNEXPECTED),
    ],
)
def test_failures_are_classified(exc, kind):
    failure = describe_failure(exc)
    assert failure.kind is kind
    assert failure.user_message and len(failure.user_message) < 200
    assert failure.retryable == (kind in (FailureKind.RATE_LIMITED, FailureKind.UNAVAILABLE))


def test_log_levels_follow_the_spec():
    assert describe_failure(litellm.exceptions.RateLimitError("x", "p", "m")).log_level == logging.WARNING
    assert describe_failure(litellm.exceptions.AuthenticationError("x", "p", "m")).log_level == logging.ERROR


def test_user_never_sees_the_raw_exception_text():
    failure = describe_failure(litellm.exceptions.BadRequestError("secret prompt fragment", "m", "litellm_proxy"))
    assert "secret prompt fragment" not in failure.user_message
    assert "BadRequestError" in failure.user_message
    assert "secret prompt fragment" in failure.detail


def test_long_details_are_trimmed():
    failure = describe_failure(RuntimeError("x" * 5000))
    assert len(failure.detail) < 400


def test_retry_after_is_read_from_the_response():
    exc = openai.RateLimitError("slow", response=_response(429, {"Retry-After": "7"}), body=None)
    assert retry_after_seconds(exc) == 7
    assert retry_after_seconds(openai.RateLimitError("slow", response=_response(429), body=None)) is None
    assert retry_after_seconds(RuntimeError()) is None
