"""pytest plugin: the assistant as `app.py` builds it, in-process, connected to the Slack simulator
over real Socket Mode. Only the agent's model differs between tests (ScriptedModel or the real
LitellmModel against the local LiteLLM proxy)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from agents import Agent, ModelSettings

import app as bot
from assistant.early_ack_handler import EarlyAckSocketModeHandler
from assistant.services import Services
from assistant.settings import load_settings
from assistant.slack_budget import PUBLISHED_RATES
from assistant.storage.open_store import build_state_store
from tests.e2e.slack_sim.simulator import SlackSimulator

ConnectAssistant = Callable[..., Any]
UNPACED = ",".join(f"{method}=off" for method in PUBLISHED_RATES)


def sim_environment(sim: SlackSimulator, data_dir: Path, **overrides: str) -> dict[str, str]:
    """The bot's environment for a simulator: its tokens and Web API URL."""
    return {
        "SLACK_BOT_TOKEN": sim.workspace.bot_token,
        "SLACK_APP_TOKEN": sim.workspace.app_token,
        "SLACK_API_URL": sim.api_url,
        "LITELLM_API_KEY": "sk-test-proxy-key",
        "LITELLM_PROXY_URL": "http://127.0.0.1:9/",
        "DATA_DIR": str(data_dir),
        # The simulator enforces no rate limits unless a test switches them on: neither does the
        # bot's budget, so answers stream as they would in a quiet workspace.
        "SLACK_RATE_LIMITS": UNPACED,
        **overrides,
    }


def scripted_agent(model: Any, instructions: str = "You are a test assistant.") -> Agent:
    return Agent(name="Slack Assistant", instructions=instructions, model=model, model_settings=ModelSettings(include_usage=True))


@pytest.fixture
def connect_assistant(slack_sim: SlackSimulator, tmp_path: Path) -> ConnectAssistant:
    """`async with connect_assistant(agent=None, **env) as services:` runs the assistant until the
    block ends; with no agent, the real one from the settings (LitellmModel → proxy)."""

    @asynccontextmanager
    async def connect(agent: Agent | None = None, **env: str) -> AsyncIterator[Services]:
        settings = load_settings(sim_environment(slack_sim, tmp_path, **env))
        store = build_state_store(settings.storage)
        services = await bot.open_services(settings, store, agent or bot.build_agent(settings))
        http = bot.slack_http_session()
        handler = EarlyAckSocketModeHandler(bot.build_app(settings, services, http), settings.slack_app_token, ping_interval=0.5)
        try:
            await handler.connect_async()
            await slack_sim.wait_for_connections(1, timeout=5)
            yield services
        finally:
            await handler.close_async()
            await store.close()
            await http.close()

    return connect
