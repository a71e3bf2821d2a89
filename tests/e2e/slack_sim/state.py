"""The simulator's single source of truth, shared by the server thread and the test's event loop.

Writers take `mutate()`, which holds a re-entrant lock and, on leaving, wakes every `wait_for`
waiter on whichever event loop it runs in (via `call_soon_threadsafe`), so a pytest-asyncio test
can await a condition that the server thread makes true without polling.
Readers get deep copies, so nothing a test holds can change under it.
"""

from __future__ import annotations

import asyncio
import copy
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from .models import (
    ApiCall,
    Channel,
    ConnectionRecord,
    EnvelopeRecord,
    EphemeralMessage,
    PromptsUpdate,
    ResponseUrlPost,
    StatusUpdate,
    StreamRecord,
    TitleUpdate,
    User,
    Workspace,
)

T = TypeVar("T")

_ID_ALPHABET = string.ascii_uppercase + string.digits


def new_id(prefix: str, length: int = 10) -> str:
    """A Slack-looking id such as `C04AB12CD3E`."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


class SimState:
    """All simulated Slack data; public attributes are for the server side and must be used under `mutate()`."""

    def __init__(self, workspace: Workspace, stream_ttl: float) -> None:
        self.workspace = workspace
        # Slack ends streams left open for about five minutes; later appends fail.
        self.stream_ttl = stream_ttl
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, User] = {}
        self.api_calls: list[ApiCall] = []
        self.streams: dict[str, StreamRecord] = {}
        self.status_updates: list[StatusUpdate] = []
        self.prompt_updates: list[PromptsUpdate] = []
        self.title_updates: list[TitleUpdate] = []
        self.ephemerals: list[EphemeralMessage] = []
        self.response_url_posts: list[ResponseUrlPost] = []
        self.envelopes: dict[str, EnvelopeRecord] = {}
        self.connections: dict[str, ConnectionRecord] = {}
        self._lock = threading.RLock()
        self._depth = 0
        self._last_ts_us = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    # ------------------------------------------------------------------ locking and waiting

    @contextmanager
    def mutate(self) -> Iterator[None]:
        with self._lock:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._notify()

    def _notify(self) -> None:
        for loop, event in list(self._waiters):
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the waiter's loop is already closed; nobody is listening any more
                self._waiters.discard((loop, event))

    async def wait_for(self, predicate: Callable[[], T], timeout: float, description: str) -> T:
        """Await until `predicate()` (evaluated under the lock) is truthy; return its value.

        Raises TimeoutError naming `description` and the last API calls, so a failing e2e test says why.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = asyncio.Event()
            waiter = (loop, event)
            with self._lock:
                result = predicate()
                if result:
                    return result
                # Registered while still holding the lock: no mutation can slip in unnoticed.
                self._waiters.add(waiter)
            try:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(description, timeout))
                try:
                    await asyncio.wait_for(event.wait(), remaining)
                except TimeoutError:
                    with self._lock:
                        result = predicate()
                    if result:
                        return result
                    raise TimeoutError(self._timeout_message(description, timeout)) from None
            finally:
                with self._lock:
                    self._waiters.discard(waiter)

    def _timeout_message(self, description: str, timeout: float) -> str:
        recent = ", ".join(f"{call.method}({'ok' if call.ok else call.error})" for call in self.calls()[-10:])
        return f"timed out after {timeout}s waiting for {description}; last API calls: [{recent}]"

    # ------------------------------------------------------------------ ids and timestamps

    def next_ts(self) -> str:
        """A message ts in Slack's `seconds.micros` form, strictly increasing so it can serve as a key."""
        with self._lock:
            # Integer microseconds: float seconds cannot hold 16 significant digits exactly.
            self._last_ts_us = max(time.time_ns() // 1000, self._last_ts_us + 1)
            seconds, micros = divmod(self._last_ts_us, 1_000_000)
            return f"{seconds}.{micros:06d}"

    # ------------------------------------------------------------------ message helpers (call under mutate())

    def find_message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        channel = self.channels.get(channel_id)
        if channel is None:
            return None
        return next((m for m in channel.messages if m["ts"] == ts), None)

    def locate_message(self, ts: str) -> tuple[str, dict[str, Any]] | None:
        """(channel id, message) for a ts; ts values are unique across the whole simulator."""
        for channel in self.channels.values():
            message = self.find_message(channel.id, ts)
            if message is not None:
                return channel.id, message
        return None

    def thread_view(self, channel_id: str, thread_ts: str) -> list[dict[str, Any]]:
        """Parent first, then replies by ts; the parent carries reply_count etc. as Slack returns it."""
        channel = self.channels[channel_id]
        parent = next((m for m in channel.messages if m["ts"] == thread_ts), None)
        replies = [m for m in channel.messages if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts]
        view = [copy.deepcopy(m) for m in replies]
        if parent is not None:
            decorated = copy.deepcopy(parent)
            if replies:
                decorated.update(
                    thread_ts=thread_ts,
                    reply_count=len(replies),
                    reply_users_count=len({r.get("user") for r in replies}),
                    reply_users=sorted({str(r.get("user")) for r in replies}),
                    latest_reply=replies[-1]["ts"],
                )
            view.insert(0, decorated)
        return view

    def current_status_locked(self, channel_id: str, thread_ts: str) -> str:
        updates = [u for u in self.status_updates if u.channel_id == channel_id and u.thread_ts == thread_ts]
        return updates[-1].status if updates else ""

    def clear_status_for_reply(self, channel_id: str, thread_ts: str | None, at: float) -> None:
        """Slack removes the assistant status as soon as the app posts in the thread."""
        if thread_ts is not None and self.current_status_locked(channel_id, thread_ts):
            self.status_updates.append(StatusUpdate(channel_id, thread_ts, "", (), at, cleared_by_reply=True))

    # ------------------------------------------------------------------ read API for tests (copies)

    def calls(self, method: str | None = None) -> list[ApiCall]:
        with self._lock:
            return [c for c in self.api_calls if method is None or c.method == method]

    def stream_records(self) -> list[StreamRecord]:
        with self._lock:
            return copy.deepcopy(list(self.streams.values()))

    def stream(self, ts: str) -> StreamRecord | None:
        with self._lock:
            record = self.streams.get(ts)
            return None if record is None else copy.deepcopy(record)

    def statuses(self, channel_id: str, thread_ts: str) -> list[StatusUpdate]:
        with self._lock:
            return [u for u in self.status_updates if u.channel_id == channel_id and u.thread_ts == thread_ts]

    def current_status(self, channel_id: str, thread_ts: str) -> str:
        with self._lock:
            return self.current_status_locked(channel_id, thread_ts)

    def prompts(self, channel_id: str, thread_ts: str | None) -> list[PromptsUpdate]:
        with self._lock:
            return [u for u in self.prompt_updates if u.channel_id == channel_id and u.thread_ts == thread_ts]

    def titles(self, channel_id: str, thread_ts: str) -> list[TitleUpdate]:
        with self._lock:
            return [u for u in self.title_updates if u.channel_id == channel_id and u.thread_ts == thread_ts]

    def thread_messages(self, channel_id: str, thread_ts: str) -> list[dict[str, Any]]:
        with self._lock:
            return self.thread_view(channel_id, thread_ts)

    def bot_replies(self, channel_id: str, thread_ts: str) -> list[dict[str, Any]]:
        """The app's own replies in a thread (the thread's root message excluded)."""
        bot_user_id = self.workspace.bot_user_id
        return [
            m
            for m in self.thread_messages(channel_id, thread_ts)
            if m["ts"] != thread_ts and m.get("user") == bot_user_id and m.get("bot_id")
        ]

    def message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            found = self.find_message(channel_id, ts)
            return None if found is None else copy.deepcopy(found)

    def located_message(self, ts: str) -> tuple[str, dict[str, Any]] | None:
        with self._lock:
            located = self.locate_message(ts)
            return None if located is None else (located[0], copy.deepcopy(located[1]))

    def user(self, user_id: str) -> User | None:
        with self._lock:
            user = self.users.get(user_id)
            return None if user is None else copy.deepcopy(user)

    def envelope(self, envelope_id: str) -> EnvelopeRecord | None:
        with self._lock:
            record = self.envelopes.get(envelope_id)
            return None if record is None else copy.deepcopy(record)

    def envelope_records(self) -> list[EnvelopeRecord]:
        with self._lock:
            return copy.deepcopy(list(self.envelopes.values()))

    def connection_records(self) -> list[ConnectionRecord]:
        with self._lock:
            return copy.deepcopy(list(self.connections.values()))

    def open_connections(self) -> list[ConnectionRecord]:
        return [c for c in self.connection_records() if c.open]

    def ephemeral_messages(self) -> list[EphemeralMessage]:
        with self._lock:
            return list(self.ephemerals)

    def response_posts(self) -> list[ResponseUrlPost]:
        with self._lock:
            return list(self.response_url_posts)
