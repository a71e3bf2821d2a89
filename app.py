"""Start the Slack AI assistant: `python app.py` (settings from the environment and `.env`)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable

import assistant.offline  # noqa: F401  (must run before litellm and agents are imported)

import aiohttp
from agents import Agent
from dotenv import load_dotenv
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

import listeners
from assistant.answer_pipeline import CLEANUP_TIMEOUT_SECONDS
from assistant.early_ack_handler import EarlyAckSocketModeHandler
from assistant.logging_setup import configure_logging
from assistant.model_check import ModelNotOffered, check_model_offered
from assistant.paced_client import PacedWebClient
from assistant.services import Services
from assistant.slack_retries import build_retry_handlers
from assistant.settings import SECRET_VARIABLES, Settings, SettingsError, load_settings
from assistant.storage.open_store import build_state_store
from assistant.storage.state_store import StateStore
from assistant.warm_up import warm_model_client
from listeners._utils.agent_factory import create_assistant_agent, proxy_model_name

logger = logging.getLogger("assistant")

EXIT_BAD_SETTINGS = 2
EXIT_STARTUP_FAILED = 3
# slack_sdk's own default for a Web API call.
SLACK_HTTP_TIMEOUT_SECONDS = 30


class StartupError(Exception):
    """Something outside the settings' syntax stops the bot from starting; one readable line."""


def slack_http_session() -> aiohttp.ClientSession:
    """One connection pool for every Web API call. Without a session, slack_sdk opens a new
    HTTP session, and so a new connection (a TLS handshake, against Slack), for every call."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SLACK_HTTP_TIMEOUT_SECONDS))


def build_app(settings: Settings, services: Services, http: aiohttp.ClientSession | None = None) -> AsyncApp:
    # SLACK_API_URL goes into the one client every Web API call uses, Socket Mode's
    # apps.connections.open included (the handler reuses app.client). Bolt's per-request
    # clients, and our paced copies of them, share its session.
    client = PacedWebClient(
        budget=services.slack_budget,
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=build_retry_handlers(),
        session=http,
    )
    app = AsyncApp(client=client, logger=logging.getLogger("slack_bolt"))
    listeners.register(app, services)
    return app


def build_agent(settings: Settings) -> Agent:
    return create_assistant_agent(
        system_prompt=settings.system_prompt,
        model=settings.assistant_model,
        api_key=settings.litellm_api_key,
        proxy_url=settings.litellm_proxy_url,
        timeout_seconds=settings.timeout_seconds,
    )


async def open_store(settings: Settings, store: StateStore) -> None:
    storage = settings.storage
    try:
        await store.open()
    except Exception as exc:
        # sqlite3, OS and Redis client errors alike: say which store, never the REDIS_URL itself.
        where = f"DATA_DIR={storage.location}" if storage.backend == "sqlite" else f"Redis at {storage.location}"
        raise StartupError(f"{where} is not usable for the bot's state store: {type(exc).__name__}: {exc}") from None
    logger.info("State store: %s at %s", storage.backend, storage.location)


async def open_services(settings: Settings, store: StateStore, agent: Agent) -> Services:
    await open_store(settings, store)
    return Services.build(settings, agent, store)


async def _check_model(settings: Settings) -> None:
    try:
        await check_model_offered(settings, logger)
    except ModelNotOffered as exc:
        raise StartupError(str(exc)) from None


async def _check_slack_token(client: AsyncWebClient, settings: Settings) -> None:
    try:
        identity = await client.auth_test()
    except SlackApiError as exc:
        raise StartupError(f"SLACK_BOT_TOKEN was refused by Slack at {settings.slack_api_url}: {exc.response.get('error')}") from None
    except OSError as exc:
        raise StartupError(f"Slack is not reachable at SLACK_API_URL={settings.slack_api_url}: {exc}") from None
    logger.info("Connected to Slack as %s in team %s", identity.get("user"), identity.get("team"))


async def _all_or_first_error(*steps: Awaitable[None]) -> None:
    """Run `steps` together; the first failure cancels the rest and is raised."""
    tasks = [asyncio.ensure_future(step) for step in steps]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)


async def serve(settings: Settings) -> None:
    store = build_state_store(settings.storage)
    http = slack_http_session()
    try:
        services = Services.build(settings, build_agent(settings), store)
        app = build_app(settings, services, http)
        # Independent checks, at once: start-up waits for the slowest, not for their sum.
        await _all_or_first_error(
            open_store(settings, store), _check_model(settings), _check_slack_token(app.client, settings)
        )
        handler = EarlyAckSocketModeHandler(app, settings.slack_app_token)
        try:
            await handler.connect_async()
        except SlackApiError as exc:
            raise StartupError(f"SLACK_APP_TOKEN was refused by Slack: {exc.response.get('error')}") from None
        except (OSError, aiohttp.ClientError) as exc:
            raise StartupError(f"Socket Mode could not connect: {type(exc).__name__}: {exc}") from None
        logger.info("Socket Mode connected; the assistant is running (model %s)", settings.assistant_model)
        # After connecting, so start-up does not wait for it; in a thread, so events go on.
        warm_up = asyncio.create_task(
            asyncio.to_thread(warm_model_client, proxy_model_name(settings.assistant_model), logger)
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        await asyncio.wait([warm_up])
        await _shut_down(handler, services)
    finally:
        await store.close()
        await http.close()


async def _shut_down(handler: EarlyAckSocketModeHandler, services: Services) -> None:
    """Stop taking events, let answers under way finish within the grace period, then end the
    rest with a short note (their cancellation path closes streams and clears statuses)."""
    grace = services.settings.shutdown_grace_seconds
    await handler.close_async()
    pending = set(services.inflight)
    logger.info("Shutting down: Socket Mode closed; %d answer(s) under way, waiting up to %gs", len(pending), grace)
    if pending:
        _, unfinished = await asyncio.wait(pending, timeout=grace)
        for task in unfinished:
            task.cancel()
        if unfinished:
            logger.warning("Interrupting %d answer(s) after the grace period", len(unfinished))
            await asyncio.wait(unfinished, timeout=CLEANUP_TIMEOUT_SECONDS + 1)
    logger.info("Stopped")


def main() -> int:
    load_dotenv(override=False)  # real environment variables win over .env
    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_BAD_SETTINGS
    configure_logging(settings.log_level, settings.secrets)
    # From here on the secrets live only in `settings`: nothing that reads the environment
    # implicitly (Bolt falls back to SLACK_BOT_TOKEN) or inherits it can pick them up.
    for name in SECRET_VARIABLES:
        os.environ.pop(name, None)
    try:
        asyncio.run(serve(settings))
    except StartupError as exc:
        print(f"Start-up failed: {exc}", file=sys.stderr)
        return EXIT_STARTUP_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
