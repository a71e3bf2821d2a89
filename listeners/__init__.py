"""Every Slack listener is registered here, in one place."""

from __future__ import annotations

from typing import Awaitable, Callable

from slack_bolt.async_app import AsyncApp, AsyncAssistant, AsyncBoltContext

from assistant.paced_client import PacedWebClient
from assistant.services import SERVICES_CONTEXT_KEY, Services
from listeners import actions, events


def register(app: AsyncApp, services: Services) -> None:
    async def attach_services(context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
        # Listeners reach the long-lived services through the request context.
        context[SERVICES_CONTEXT_KEY] = services
        if isinstance(app.client, PacedWebClient):
            # Every Web API call a listener makes takes its slot in the shared budget.
            context["client"] = app.client.like(context.client)
        await next()

    app.middleware(attach_services)
    assistant = AsyncAssistant(thread_context_store=services.thread_context_store)
    events.register(app, assistant)
    app.assistant(assistant)
    actions.register(app)
