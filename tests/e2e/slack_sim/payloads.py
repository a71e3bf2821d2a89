"""Builders for everything Slack sends: stored messages, Events API bodies, interaction payloads, Socket Mode frames.

Each builder names the Slack documentation page whose example it follows. Fields Slack documents
but an app cannot observe in a test (e.g. `event_context`) are filled with stable placeholders.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from .models import User, Workspace
from .state import new_id


def rich_text_blocks(text: str) -> list[dict[str, Any]]:
    """The `rich_text` block Slack attaches to plain-text messages when it returns them.

    Shape: https://docs.slack.dev/reference/block-kit/blocks/rich-text-block
    Bolt's default assistant thread-context store reads `message["blocks"]` of the app's first reply,
    so stored messages must always carry blocks, as they do on real Slack.
    """
    return [
        {
            "type": "rich_text",
            "block_id": new_id("", 5).lower(),
            "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
        }
    ]


def with_block_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Slack generates a `block_id` for every block posted without one (block reference pages, `block_id` field)."""
    return [block if block.get("block_id") else {**block, "block_id": new_id("", 5).lower()} for block in blocks]


def bot_message(
    workspace: Workspace,
    *,
    ts: str,
    text: str,
    blocks: list[dict[str, Any]] | None,
    thread_ts: str | None,
    parent_user_id: str | None,
    metadata: dict[str, Any] | None,
) -> dict[str, Any]:
    """A message the app posted, as conversations.history/replies return it.

    https://docs.slack.dev/reference/methods/chat.postMessage (response `message`) and
    https://docs.slack.dev/reference/events/message/bot_message
    """
    message: dict[str, Any] = {
        "type": "message",
        "user": workspace.bot_user_id,
        "bot_id": workspace.bot_id,
        "app_id": workspace.app_id,
        "team": workspace.team_id,
        "text": text,
        "ts": ts,
        "blocks": with_block_ids(blocks) if blocks else rich_text_blocks(text),
        "bot_profile": {
            "id": workspace.bot_id,
            "app_id": workspace.app_id,
            "name": workspace.bot_name,
            "team_id": workspace.team_id,
            "deleted": False,
        },
    }
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
        if parent_user_id is not None:
            message["parent_user_id"] = parent_user_id
    if metadata is not None:
        message["metadata"] = metadata
    return message


def user_message(
    workspace: Workspace,
    *,
    user_id: str,
    ts: str,
    text: str,
    thread_ts: str | None,
    parent_user_id: str | None,
) -> dict[str, Any]:
    """A message a human typed, as stored and as carried by `message` events.

    https://docs.slack.dev/reference/events/message (with `client_msg_id`, `team`, `blocks`)
    """
    message: dict[str, Any] = {
        "type": "message",
        "user": user_id,
        "text": text,
        "ts": ts,
        "team": workspace.team_id,
        "client_msg_id": str(uuid.uuid4()),
        "blocks": rich_text_blocks(text),
    }
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
        if parent_user_id is not None:
            message["parent_user_id"] = parent_user_id
    return message


def assistant_thread_root(workspace: Workspace, *, ts: str, title: str) -> dict[str, Any]:
    """The root message Slack creates in the user's DM with the app when an assistant thread opens.

    https://docs.slack.dev/reference/events/message/assistant_app_thread
    """
    return {
        "type": "message",
        "subtype": "assistant_app_thread",
        "user": workspace.bot_user_id,
        "team": workspace.team_id,
        "text": title,
        "ts": ts,
        "thread_ts": ts,
        "blocks": rich_text_blocks(title),
        "assistant_app_thread": {"title": title, "title_blocks": [], "artifacts": []},
    }


def event_callback(workspace: Workspace, event: dict[str, Any]) -> dict[str, Any]:
    """The Events API outer body around `event`.

    https://docs.slack.dev/apis/events-api/#callback-field (and the full examples on
    https://docs.slack.dev/reference/events/assistant_thread_started)
    """
    return {
        "token": workspace.verification_token,
        "team_id": workspace.team_id,
        "enterprise_id": workspace.enterprise_id,
        "api_app_id": workspace.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": new_id("Ev"),
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": workspace.enterprise_id,
                "team_id": workspace.team_id,
                "user_id": workspace.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-sim-event-context",
    }


def assistant_thread_event(
    workspace: Workspace,
    *,
    event_type: str,
    user_id: str,
    channel_id: str,
    thread_ts: str,
    context_channel_id: str | None,
    event_ts: str,
) -> dict[str, Any]:
    """`assistant_thread_started` / `assistant_thread_context_changed` (same `assistant_thread` shape).

    https://docs.slack.dev/reference/events/assistant_thread_started
    https://docs.slack.dev/reference/events/assistant_thread_context_changed
    """
    context: dict[str, Any] = {}
    if context_channel_id is not None:
        context = {
            "channel_id": context_channel_id,
            "team_id": workspace.team_id,
            "enterprise_id": workspace.enterprise_id,
        }
    return {
        "type": event_type,
        "assistant_thread": {
            "user_id": user_id,
            "context": context,
            "channel_id": channel_id,
            "thread_ts": thread_ts,
        },
        "event_ts": event_ts,
    }


def im_message_event(message: dict[str, Any], channel_id: str) -> dict[str, Any]:
    """A `message` event for a DM: the stored message plus channel, `channel_type: "im"` and `event_ts`.

    https://docs.slack.dev/reference/events/message.im
    """
    return {**message, "channel": channel_id, "event_ts": message["ts"], "channel_type": "im"}


def block_actions(
    workspace: Workspace,
    *,
    user: User,
    channel_id: str,
    message: dict[str, Any],
    action: dict[str, Any],
    response_url: str,
) -> dict[str, Any]:
    """A `block_actions` interaction payload for a click on a message's block element.

    https://docs.slack.dev/reference/interaction-payloads/block_actions-payload
    Feedback-button actions carry `type: "feedback_buttons"`, `value` and the clicked button's `text`
    (https://docs.slack.dev/reference/block-kit/block-elements/feedback-buttons-element).
    """
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message["ts"],
        "channel_id": channel_id,
        "is_ephemeral": False,
    }
    if "thread_ts" in message:
        container["thread_ts"] = message["thread_ts"]
    return {
        "type": "block_actions",
        "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": workspace.team_id},
        "api_app_id": workspace.app_id,
        "token": workspace.verification_token,
        "container": container,
        "trigger_id": f"{int(time.time())}.{new_id('', 8).lower()}",
        "team": {"id": workspace.team_id, "domain": workspace.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "directmessage" if channel_id.startswith("D") else channel_id},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }


def envelope(
    *,
    envelope_id: str,
    envelope_type: str,
    payload: dict[str, Any],
    accepts_response_payload: bool,
    retry_attempt: int,
    retry_reason: str,
) -> dict[str, Any]:
    """A Socket Mode envelope.

    https://docs.slack.dev/apis/events-api/using-socket-mode/#events (events_api envelopes carry
    retry_attempt / retry_reason; interactive ones leave them out).
    """
    frame: dict[str, Any] = {
        "envelope_id": envelope_id,
        "type": envelope_type,
        "payload": payload,
        "accepts_response_payload": accepts_response_payload,
    }
    if envelope_type == "events_api":
        frame["retry_attempt"] = retry_attempt
        frame["retry_reason"] = retry_reason
    return frame


def hello(*, num_connections: int, app_id: str, host: str, refresh_after_seconds: int) -> dict[str, Any]:
    """The first frame on every Socket Mode connection.

    https://docs.slack.dev/apis/events-api/using-socket-mode/#connect
    """
    return {
        "type": "hello",
        "num_connections": num_connections,
        "debug_info": {"host": host, "build_number": 1, "approximate_connection_time": refresh_after_seconds},
        "connection_info": {"app_id": app_id},
    }


def disconnect(*, reason: str, host: str) -> dict[str, Any]:
    """Slack's notice that it will close this connection (`warning`, `refresh_requested`, `link_disabled`).

    https://docs.slack.dev/apis/events-api/using-socket-mode/#disconnect
    """
    return {"type": "disconnect", "reason": reason, "debug_info": {"host": host}}
