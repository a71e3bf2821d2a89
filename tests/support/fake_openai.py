"""A scriptable fake of the OpenAI chat-completions API, for tests.

The real LiteLLM proxy is put in front of this server so that tests exercise
the same wire formats (SSE chunks, error bodies, headers) that the company
proxy relays from a real provider, while every reply stays deterministic and
offline.

The aiohttp app runs on its own event loop in a background thread.  That lets a
*session-scoped, synchronous* pytest fixture own the server while each async
test runs on its own (function-scoped) loop: all public methods are plain,
thread-safe calls.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

from tests.support.lifecycle import StartStop
from tests.support.server_thread import ServerThread

DEFAULT_TEXT = "Hello from the fake model."
DEFAULT_ERROR_MESSAGE = "Scripted upstream error."
DEFAULT_MODEL_IDS: tuple[str, ...] = ("gpt-4", "gpt-4o-mini", "claude-3-sonnet-20240229")

_SHUTDOWN_GRACE_S = 1.0
"""aiohttp's wait for in-flight handlers on stop.  Handlers end themselves when the
server closes (see ``_interrupt``), so this only bounds a misbehaving handler."""

# OpenAI's error ``type``/``code`` for the statuses tests script; any other
# status gets a generic ``server_error`` body.
_ERROR_KINDS: Mapping[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}

_TOKEN_RE = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True)
class Reply:
    """One scripted upstream behaviour, consumed by exactly one request.

    Fields combine as follows: ``first_token_delay`` is waited before any byte
    of the response (status line included), then ``status`` (if set) answers an
    OpenAI-shaped error, else ``hang`` never answers, else the completion is
    sent.  ``tool_call`` (name, JSON arguments) replaces ``text`` as the answer.
    ``cut_after_tokens`` only affects streaming: the connection is dropped after
    that many content/argument chunks, before any ``finish_reason`` or ``[DONE]``.
    """

    text: str = DEFAULT_TEXT
    first_token_delay: float = 0.0
    token_delay: float = 0.0
    status: int | None = None
    error_message: str = DEFAULT_ERROR_MESSAGE
    retry_after: str | None = None
    hang: bool = False
    cut_after_tokens: int | None = None
    tool_call: tuple[str, str] | None = None
    when_last_user_says: str | None = None
    """Only for a request whose last user message contains this text (for concurrent tests,
    where the order requests arrive in is not fixed); ``None`` matches any request."""


@dataclass(frozen=True)
class RecordedRequest:
    """What the upstream saw, so tests can assert on the proxy's forwarding."""

    path: str
    headers: dict[str, str]
    json: Any
    time: float
    """``time.monotonic()`` on arrival, to measure gaps between (re)tries."""
    first_chunk_at: float | None = None
    """``time.monotonic()`` once the first content (or tool-argument) chunk of a streamed
    answer was written; ``None`` until then, and for errors, hangs and non-streamed answers.
    The simulator stamps with the same clock, so a benchmark in this process can subtract."""
    last_chunk_at: float | None = None
    """``time.monotonic()`` once the last content chunk was written; only for a stream that
    sent all its tokens (not one cut by the script or dropped by the client)."""


def split_tokens(text: str) -> list[str]:
    """Split text into word-sized tokens that keep their trailing whitespace.

    ``"".join(split_tokens(t)) == t`` always holds, so a test can compare the
    client's joined deltas with the scripted text exactly.
    """
    return _TOKEN_RE.findall(text)


class _Interrupted(Exception):
    """Raised inside a handler on ``reset()``/``stop()``, to drop its connection."""


class FakeOpenAIServer(StartStop):
    """OpenAI-compatible upstream on 127.0.0.1 with a FIFO of scripted replies.

    Use ``start()``/``stop()`` or ``with FakeOpenAIServer() as fake:``.  When the
    queue is empty, requests get ``Reply(text=self.default_text)``.
    """

    def __init__(
        self,
        model_ids: Iterable[str] = DEFAULT_MODEL_IDS,
        default_text: str = DEFAULT_TEXT,
    ) -> None:
        self.model_ids: tuple[str, ...] = tuple(model_ids)
        self.default_text = default_text
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._ids = itertools.count(1)
        self._server: ServerThread | None = None
        self._interrupt = asyncio.Event()
        """Set to end every request in flight; swapped for a fresh one by ``reset()``
        and ``stop()``.  (``asyncio.Event`` binds to a loop only when first awaited,
        so it may be created on any thread.)"""

    # ----------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """OpenAI-style base URL (ends in ``/v1``), as a provider's ``api_base``."""
        if self._server is None:
            raise RuntimeError("FakeOpenAIServer is not running")
        return f"http://127.0.0.1:{self._server.port}/v1"

    def start(self) -> None:
        """Bind a free port on 127.0.0.1 and serve from a background thread."""
        if self._server is not None:
            raise RuntimeError("FakeOpenAIServer already started")
        app = web.Application()
        for prefix in ("/v1", ""):
            app.router.add_post(f"{prefix}/chat/completions", self._chat_completions)
            app.router.add_get(f"{prefix}/models", self._models)
        # Runs on stop before aiohttp waits for in-flight handlers: hanging/streaming ones end.
        app.on_shutdown.append(self._interrupt_in_flight)
        # handler_cancellation: a client that gives up (timeout) cancels its
        # handler instead of leaving it sleeping until shutdown.
        server = ServerThread(
            app,
            "fake-openai",
            shutdown_timeout=_SHUTDOWN_GRACE_S,
            handler_cancellation=True,
            access_log=None,
        )
        server.start()
        self._server = server

    def stop(self) -> None:
        """Close the server, ending hanging/streaming handlers, and join the thread."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    async def _interrupt_in_flight(self, _app: web.Application) -> None:
        self._take_interrupt().set()

    # ------------------------------------------------------------------ scripting

    def enqueue(self, *replies: Reply) -> None:
        """Append replies; each request pops one (FIFO) before the default applies."""
        with self._lock:
            self._queue.extend(replies)

    def reset(self) -> None:
        """Forget queued replies and recorded requests; drop requests still in flight.

        Dropping matters for ``hang`` and slow streams: the proxy keeps its
        upstream call open after the client gave up (its own upstream timeout is
        ~6000 s), which would otherwise leak into the next test and stall the
        proxy's shutdown.
        """
        with self._lock:
            self._queue.clear()
            self._requests.clear()
        interrupt = self._take_interrupt()
        server = self._server
        if server is not None:
            server.call_soon(interrupt.set)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def pending(self) -> int:
        """How many scripted replies are still queued (a test may assert 0)."""
        with self._lock:
            return len(self._queue)

    def _take_interrupt(self) -> asyncio.Event:
        """Detach the event of the requests in flight; later requests get a fresh one."""
        with self._lock:
            interrupt, self._interrupt = self._interrupt, asyncio.Event()
            return interrupt

    def _stamp(self, request: RecordedRequest, **times: float) -> RecordedRequest:
        """Record chunk times on `request` (frozen: the stored copy is replaced); a request
        forgotten by ``reset()`` meanwhile is left alone."""
        updated = replace(request, **times)
        with self._lock:
            for index in range(len(self._requests) - 1, -1, -1):
                if self._requests[index] is request:
                    self._requests[index] = updated
                    break
        return updated

    def _next_reply(self, request: RecordedRequest) -> tuple[Reply, asyncio.Event]:
        with self._lock:
            self._requests.append(request)
            last_user = _last_user_text(request.json)
            for reply in self._queue:
                if reply.when_last_user_says is None or reply.when_last_user_says in last_user:
                    self._queue.remove(reply)
                    return reply, self._interrupt
            return Reply(text=self.default_text), self._interrupt

    # ------------------------------------------------------------------- handlers

    async def _models(self, request: web.Request) -> web.Response:
        data = [
            {"id": model_id, "object": "model", "created": 0, "owned_by": "fake-openai"}
            for model_id in self.model_ids
        ]
        return web.json_response({"object": "list", "data": data})

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        try:
            body: Any = await request.json()
        except json.JSONDecodeError:
            body = None
        recorded = RecordedRequest(
            path=request.path,
            headers=dict(request.headers),
            json=body,
            time=time.monotonic(),
        )
        reply, interrupt = self._next_reply(recorded)
        params: dict[str, Any] = body if isinstance(body, dict) else {}
        try:
            await _pause(reply.first_token_delay, interrupt)
            if reply.status is not None:
                return _error_response(reply)
            if reply.hang:
                await _pause(None, interrupt)
            completion = _Completion(
                id=f"chatcmpl-fake-{next(self._ids)}",
                model=str(params.get("model", "")),
                reply=reply,
                prompt_tokens=_count_prompt_tokens(params.get("messages")),
            )
            if params.get("stream"):
                return await _stream(request, completion, params, interrupt, _ChunkClock(self, recorded))
            return web.json_response(completion.as_json())
        except _Interrupted:
            # Drop the connection instead of answering; aiohttp discards this response.
            _abort(request)
            return web.Response(status=503)


def _last_user_text(body: Any) -> str:
    messages = body.get("messages") if isinstance(body, dict) else None
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


class _ChunkClock:
    """Stamps a recorded request with the times its first and last content chunks went out."""

    def __init__(self, server: FakeOpenAIServer, recorded: RecordedRequest) -> None:
        self._server = server
        self._recorded = recorded
        self._last: float | None = None

    def chunk_written(self, index: int) -> None:
        if index == 1:
            self._recorded = self._server._stamp(self._recorded, first_chunk_at=time.monotonic())
        elif index > 1:
            self._last = time.monotonic()

    def done(self) -> None:
        """Every content chunk was written."""
        if self._recorded.first_chunk_at is not None:
            last = self._last if self._last is not None else self._recorded.first_chunk_at
            self._recorded = self._server._stamp(self._recorded, last_chunk_at=last)


async def _stream(
    request: web.Request,
    completion: _Completion,
    params: Mapping[str, Any],
    interrupt: asyncio.Event,
    clock: _ChunkClock | None = None,
) -> web.StreamResponse:
    """Send ``completion`` as SSE the way OpenAI does, or cut it as the reply scripts."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    reply = completion.reply
    for index, chunk in enumerate(completion.chunks()):
        if reply.cut_after_tokens is not None and index > reply.cut_after_tokens:
            # Chunk 0 is the role/header chunk; chunks 1..N are tokens.
            _abort(request)
            return response
        if index > 1:
            await _pause(reply.token_delay, interrupt)
        await response.write(_sse(chunk))
        if clock is not None:
            clock.chunk_written(index)
    if clock is not None and reply.cut_after_tokens is None:
        clock.done()
    if reply.cut_after_tokens is not None:
        _abort(request)
        return response
    await response.write(_sse(completion.finish_chunk()))
    stream_options = params.get("stream_options")
    if isinstance(stream_options, dict) and stream_options.get("include_usage"):
        await response.write(_sse(completion.usage_chunk()))
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def _pause(seconds: float | None, interrupt: asyncio.Event) -> None:
    """Sleep (forever when ``None``), raising ``_Interrupted`` as soon as ``interrupt`` is set."""
    if seconds is not None and seconds <= 0:
        return
    try:
        await asyncio.wait_for(interrupt.wait(), timeout=seconds)
    except TimeoutError:
        return
    raise _Interrupted


@dataclass(frozen=True)
class _Completion:
    """Builds OpenAI ``chat.completion`` / ``chat.completion.chunk`` payloads for one reply."""

    id: str
    model: str
    reply: Reply
    prompt_tokens: int

    @property
    def _pieces(self) -> list[str]:
        if self.reply.tool_call is not None:
            return split_tokens(self.reply.tool_call[1]) or [""]
        return split_tokens(self.reply.text)

    @property
    def _finish_reason(self) -> str:
        return "tool_calls" if self.reply.tool_call is not None else "stop"

    @property
    def _usage(self) -> dict[str, int]:
        completion_tokens = len(self._pieces)
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": self.prompt_tokens + completion_tokens,
        }

    @property
    def _tool_call_id(self) -> str:
        return f"call_{self.id.rsplit('-', 1)[-1]}"

    def _envelope(self, **fields: Any) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.model,
            "system_fingerprint": None,
            **fields,
        }

    def _delta_chunk(
        self, delta: dict[str, Any], finish_reason: str | None = None
    ) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return self._envelope(choices=[choice])

    def chunks(self) -> Iterator[dict[str, Any]]:
        """The role chunk, then one chunk per token (text or tool-call arguments)."""
        tool_call = self.reply.tool_call
        if tool_call is None:
            yield self._delta_chunk({"role": "assistant", "content": ""})
            for token in self._pieces:
                yield self._delta_chunk({"content": token})
            return
        name, _ = tool_call
        header = {
            "index": 0,
            "id": self._tool_call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        yield self._delta_chunk({"role": "assistant", "content": None, "tool_calls": [header]})
        for piece in self._pieces:
            argument_delta = {"index": 0, "function": {"arguments": piece}}
            yield self._delta_chunk({"tool_calls": [argument_delta]})

    def finish_chunk(self) -> dict[str, Any]:
        return self._delta_chunk({}, finish_reason=self._finish_reason)

    def usage_chunk(self) -> dict[str, Any]:
        return self._envelope(choices=[], usage=self._usage)

    def as_json(self) -> dict[str, Any]:
        """The non-streaming ``chat.completion`` body."""
        message: dict[str, Any] = {
            "role": "assistant",
            "content": self.reply.text,
            "refusal": None,
        }
        if self.reply.tool_call is not None:
            name, arguments = self.reply.tool_call
            message["content"] = None
            message["tool_calls"] = [
                {
                    "id": self._tool_call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
            ]
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": self._finish_reason,
        }
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "system_fingerprint": None,
            "choices": [choice],
            "usage": self._usage,
        }


def _error_response(reply: Reply) -> web.Response:
    assert reply.status is not None
    error_type, code = _ERROR_KINDS.get(reply.status, ("server_error", None))
    error = {"message": reply.error_message, "type": error_type, "param": None, "code": code}
    body = {"error": error}
    headers = {"Retry-After": reply.retry_after} if reply.retry_after is not None else None
    return web.json_response(body, status=reply.status, headers=headers)


def _count_prompt_tokens(messages: Any) -> int:
    """A rough, deterministic prompt size: the number of word tokens in string contents."""
    if not isinstance(messages, list):
        return 0
    return sum(
        len(split_tokens(message["content"]))
        for message in messages
        if isinstance(message, dict) and isinstance(message.get("content"), str)
    )


def _sse(payload: Mapping[str, Any]) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


def _abort(request: web.Request) -> None:
    """Drop the TCP connection without finishing the HTTP response (a mid-stream failure)."""
    if request.transport is not None:
        request.transport.abort()
