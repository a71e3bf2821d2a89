"""`SlackSimulator`: a local Slack (Web API + Socket Mode) for end-to-end tests of the assistant bot.

Usage from a pytest-asyncio test::

    sim = SlackSimulator().start()           # sync; serves on 127.0.0.1 in its own thread
    client = AsyncWebClient(token=sim.workspace.bot_token, base_url=sim.api_url)
    alice = sim.add_user(name="alice")
    thread = await sim.start_assistant_thread(alice.id)     # needs the bot connected via Socket Mode
    await sim.user_says(thread, "hello")
    await sim.wait_for(lambda: sim.state.bot_replies(thread.channel_id, thread.thread_ts))
    sim.stop()

Queries live on `sim.state` (thread-safe, copies); actions that reach the app over Socket Mode are
coroutines that run on the simulator's loop and may be awaited from the test's loop.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

from aiohttp import web

from tests.support.server_thread import ServerThread

from . import payloads
from .faults import FaultInjector
from .models import (
    AssistantThread,
    Channel,
    ConnectionRecord,
    EnvelopeRecord,
    SentMessage,
    User,
    Workspace,
)
from .rate_limits import RateLimit, RateLimiter
from .socket_mode import SocketModeHub
from .state import SimState, new_id
from .web_api import WebApi

T = TypeVar("T")

DEFAULT_WAIT_SECONDS = 10.0
DEFAULT_ACK_WAIT_SECONDS = 5.0


class SlackSimulator:
    """One workspace with one app installed: Web API at `api_url`, Socket Mode behind apps.connections.open."""

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        stream_ttl: float = 300.0,
        disconnect_grace: float = 2.0,
        connect_timeout: float = 5.0,
    ) -> None:
        """`connect_timeout` bounds how long an envelope waits for the app to have a Socket Mode connection."""
        self.workspace = workspace or Workspace()
        self.state = SimState(self.workspace, stream_ttl)
        self._limiter = RateLimiter()
        self._faults = FaultInjector()
        self._connect_timeout = connect_timeout
        self._hub = SocketModeHub(self.state, disconnect_grace)
        web_api = WebApi(self.state, self._limiter, self._faults, self._hub.issue_url)
        app = web.Application()
        app.router.add_route("*", "/api/{method}", web_api.handle)
        app.router.add_post("/response/{response_id}", web_api.handle_response_url)
        app.router.add_get("/link/", self._hub.handle_ws)
        app.on_shutdown.append(self._close_connections)
        self._server = ServerThread(app, "slack-simulator")
        self.add_user(self.workspace.bot_user_id, name=self.workspace.bot_name, is_bot=True)

    async def _close_connections(self, _app: web.Application) -> None:
        await self._hub.close_all()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SlackSimulator:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def api_url(self) -> str:
        """For `AsyncWebClient(base_url=…)` and the bot's SLACK_API_URL; ends in "/" like slack_sdk's BASE_URL."""
        return f"{self.base_url}/api/"

    # ------------------------------------------------------------------ fixtures

    def add_user(
        self,
        user_id: str | None = None,
        *,
        name: str | None = None,
        real_name: str | None = None,
        is_bot: bool = False,
        is_restricted: bool = False,
        is_ultra_restricted: bool = False,
    ) -> User:
        """A workspace member; `is_restricted` / `is_ultra_restricted` model multi- / single-channel guests."""
        user_id = user_id or new_id("U")
        name = name or user_id.lower()
        user = User(
            id=user_id,
            name=name,
            real_name=real_name or name.title(),
            team_id=self.workspace.team_id,
            is_bot=is_bot,
            is_restricted=is_restricted,
            is_ultra_restricted=is_ultra_restricted,
        )
        with self.state.mutate():
            self.state.users[user_id] = user
        return user

    def add_channel(
        self,
        name: str,
        *,
        members: Sequence[str] = (),
        bot_is_member: bool = True,
        readable: bool = True,
        is_private: bool = False,
        channel_id: str | None = None,
        messages: Sequence[tuple[str, str]] = (),
    ) -> str:
        """Create a channel and return its id.

        `readable=False`: the app cannot see it (conversations.info/history answer channel_not_found).
        `bot_is_member=False`: visible, but reading or posting answers not_in_channel.
        `messages`: (user id, text) pairs posted in order.
        """
        channel = Channel(
            id=channel_id or new_id("G" if is_private else "C"),
            name=name,
            created=int(time.time()),
            members=[*members, *([self.workspace.bot_user_id] if bot_is_member else [])],
            readable=readable,
            is_private=is_private,
        )
        with self.state.mutate():
            self.state.channels[channel.id] = channel
        for user_id, text in messages:
            self.add_channel_message(channel.id, user_id, text)
        return channel.id

    def add_channel_message(self, channel_id: str, user_id: str, text: str, *, thread_ts: str | None = None) -> str:
        """A human's message already in a channel (no event is sent); returns its ts."""
        with self.state.mutate():
            parent = self.state.find_message(channel_id, thread_ts) if thread_ts else None
            message = payloads.user_message(
                self.workspace,
                user_id=user_id,
                ts=self.state.next_ts(),
                text=text,
                thread_ts=thread_ts,
                parent_user_id=None if parent is None else parent.get("user"),
            )
            self.state.channels[channel_id].messages.append(message)
        return str(message["ts"])

    def remove_scopes(self, *scopes: str) -> None:
        """Take scopes away from the bot token so methods needing them answer missing_scope."""
        with self.state.mutate():
            self.workspace.scopes.difference_update(scopes)

    def expire_stream(self, ts: str) -> None:
        """End a stream as Slack does after ~5 idle minutes: later append/stop get message_not_in_streaming_state."""
        with self.state.mutate():
            self.state.streams[ts].state = "expired"

    # ------------------------------------------------------------------ faults and limits

    def fail_next(
        self, method: str, n: int = 1, *, error: str = "ratelimited", status: int = 429, retry_after: int | None = 1
    ) -> None:
        """The next `n` calls of `method` fail with `error`; `retry_after` becomes the Retry-After header."""
        # Slack sends Retry-After only with 429 answers.
        self._faults.fail_next(method, n, error, status, retry_after if status == 429 else None)

    def delay_next(self, method: str, n: int, seconds: float) -> None:
        """The next `n` calls of `method` are answered `seconds` late."""
        self._faults.delay_next(method, n, seconds)

    def enable_rate_limits(self, overrides: Mapping[str, RateLimit] | None = None) -> None:
        """Slack's tiers per method and workspace (see rate_limits.py); `overrides` replace single methods."""
        self._limiter.enable(overrides)

    def disable_rate_limits(self) -> None:
        self._limiter.disable()

    # ------------------------------------------------------------------ Socket Mode

    async def deliver(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = False,
        connection_id: str | None = None,
    ) -> str:
        """Send a raw envelope payload to the app; returns the envelope id.

        By default the open connections take turns (round-robin, as Slack spreads envelopes);
        `connection_id` sends to that connection only (LookupError if it is not open).
        """
        return await self._server.call(
            self._hub.deliver(
                envelope_type,
                payload,
                accepts_response_payload=accepts_response_payload,
                retry_attempt=0,
                retry_reason="",
                connect_timeout=self._connect_timeout,
                connection_id=connection_id,
            )
        )

    async def send_event(self, event: dict[str, Any], *, connection_id: str | None = None) -> str:
        """Wrap `event` in an Events API body and deliver it as an `events_api` envelope."""
        return await self.deliver(
            "events_api", payloads.event_callback(self.workspace, event), connection_id=connection_id
        )

    async def redeliver(self, envelope_id: str, reason: str = "timeout") -> str:
        """Slack's retry of an envelope: same payload, `retry_attempt` + 1, `retry_reason`."""
        return await self._server.call(self._hub.redeliver(envelope_id, reason, self._connect_timeout))

    async def wait_for_ack(self, envelope_id: str, timeout: float = DEFAULT_ACK_WAIT_SECONDS) -> EnvelopeRecord:
        def acked() -> EnvelopeRecord | None:
            record = self.state.envelope(envelope_id)
            return record if record is not None and record.acked else None

        return await self.wait_for(acked, timeout, f"ack of envelope {envelope_id}")

    async def wait_for_connections(
        self, count: int = 1, timeout: float = DEFAULT_WAIT_SECONDS
    ) -> list[ConnectionRecord]:
        def enough() -> list[ConnectionRecord] | None:
            open_now = self.state.open_connections()
            return open_now if len(open_now) >= count else None

        return await self.wait_for(enough, timeout, f"{count} open Socket Mode connection(s)")

    async def request_refresh(self, connection_id: str | None = None, reason: str = "refresh_requested") -> str:
        """Send Slack's `disconnect` notice (default: to the oldest connection); returns its connection id."""
        return await self._server.call(self._hub.request_refresh(connection_id, reason))

    async def drop_connection(self, connection_id: str | None = None) -> str:
        """Cut a connection without a close frame (default: the oldest); returns its connection id."""
        return await self._server.call(self._hub.drop(connection_id))

    # ------------------------------------------------------------------ what users do

    def _user(self, user_id: str) -> User:
        user = self.state.user(user_id)
        if user is None:
            raise KeyError(f"unknown user {user_id}; create it with sim.add_user() first")
        return user

    def _dm_channel(self, user_id: str) -> Channel:
        """The user's DM with the app, created on first use like Slack's app Messages tab. Call under mutate()."""
        for channel in self.state.channels.values():
            if channel.im_user == user_id:
                return channel
        channel = Channel(
            id=new_id("D"),
            name=user_id,
            created=int(time.time()),
            members=[user_id, self.workspace.bot_user_id],
            im_user=user_id,
        )
        self.state.channels[channel.id] = channel
        return channel

    async def start_assistant_thread(self, user_id: str, context_channel: str | None = None) -> AssistantThread:
        """The user opens the assistant container: Slack creates the thread root and sends assistant_thread_started."""
        self._user(user_id)  # fail early, in the test, for a user nobody created
        with self.state.mutate():
            dm = self._dm_channel(user_id)
            thread_ts = self.state.next_ts()
            title = f"Chats from {datetime.now(timezone.utc).isoformat(timespec='milliseconds')}"
            dm.messages.append(payloads.assistant_thread_root(self.workspace, ts=thread_ts, title=title))
        envelope_id = await self._send_assistant_event(
            "assistant_thread_started", user_id, dm.id, thread_ts, context_channel
        )
        return AssistantThread(user_id, dm.id, thread_ts, context_channel, envelope_id)

    async def change_context(self, thread: AssistantThread, channel_id: str | None) -> str:
        """The user moves to another channel with the container open (assistant_thread_context_changed)."""
        return await self._send_assistant_event(
            "assistant_thread_context_changed", thread.user_id, thread.channel_id, thread.thread_ts, channel_id
        )

    async def _send_assistant_event(
        self, event_type: str, user_id: str, channel_id: str, thread_ts: str, context_channel: str | None
    ) -> str:
        event = payloads.assistant_thread_event(
            self.workspace,
            event_type=event_type,
            user_id=user_id,
            channel_id=channel_id,
            thread_ts=thread_ts,
            context_channel_id=context_channel,
            event_ts=self.state.next_ts(),
        )
        return await self.send_event(event)

    async def user_says(
        self, thread: AssistantThread, text: str, *, connection_id: str | None = None
    ) -> SentMessage:
        """The user writes in the assistant thread: stored in the DM and sent as a `message` (im) event
        (to `connection_id` only, when given)."""
        with self.state.mutate():
            dm = self.state.channels[thread.channel_id]
            message = payloads.user_message(
                self.workspace,
                user_id=thread.user_id,
                ts=self.state.next_ts(),
                text=text,
                thread_ts=thread.thread_ts,
                parent_user_id=self.workspace.bot_user_id,
            )
            dm.messages.append(message)
        envelope_id = await self.send_event(payloads.im_message_event(message, dm.id), connection_id=connection_id)
        return SentMessage(dm.id, message["ts"], envelope_id)

    async def click_feedback(self, message_ts: str, user_id: str, value: str) -> str:
        """The user clicks the feedback button whose `value` is given, in the message's context_actions block."""
        user = self._user(user_id)
        located = self.state.located_message(message_ts)
        if located is None:
            raise KeyError(f"no message with ts {message_ts}")
        channel_id, message = located
        action = _feedback_action(message, value)
        payload = payloads.block_actions(
            self.workspace,
            user=user,
            channel_id=channel_id,
            message=message,
            action=action,
            response_url=f"{self.base_url}/response/{uuid.uuid4()}",
        )
        return await self.deliver("interactive", payload)

    # ------------------------------------------------------------------ waiting

    async def wait_for(
        self, predicate: Callable[[], T], timeout: float = DEFAULT_WAIT_SECONDS, description: str = "condition"
    ) -> T:
        """Await until `predicate()` is truthy (re-checked on every state change); return its value."""
        return await self.state.wait_for(predicate, timeout, description)


def _feedback_action(message: dict[str, Any], value: str) -> dict[str, Any]:
    """The `actions[0]` of a click on a feedback_buttons element (FeedbackButtonsAction in Slack's types)."""
    for block in message.get("blocks", []):
        if block.get("type") != "context_actions":
            continue
        for element in block.get("elements", []):
            if element.get("type") != "feedback_buttons":
                continue
            for button in (element["positive_button"], element["negative_button"]):
                if button["value"] == value:
                    return {
                        "type": "feedback_buttons",
                        "action_id": element.get("action_id", ""),
                        "block_id": block["block_id"],
                        "value": value,
                        "text": button["text"],
                        "action_ts": f"{time.time():.6f}",
                    }
    raise ValueError(f"message {message.get('ts')} has no feedback button with value {value!r}")
