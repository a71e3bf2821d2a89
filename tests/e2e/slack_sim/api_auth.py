"""auth.test and apps.connections.open: who the token is, and where the Socket Mode WebSocket lives."""

from __future__ import annotations

from typing import Any

from .api_context import CallContext, Handler


def auth_test(ctx: CallContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/auth.test (bot token response)."""
    ws = ctx.workspace
    return {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": ws.team_name,
        "user": ws.bot_name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "enterprise_id": ws.enterprise_id,
        "is_enterprise_install": False,
    }


def apps_connections_open(ctx: CallContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/apps.connections.open: `{"ok": true, "url": "wss://…"}`."""
    return {"url": ctx.issue_socket_url()}


HANDLERS: dict[str, Handler] = {
    "auth.test": auth_test,
    "apps.connections.open": apps_connections_open,
}
