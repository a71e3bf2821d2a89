"""app.py: the smoke test of the spec (import, build, register) and start-up failures as a user
sees them (the real process: a readable message, a non-zero exit code, no traceback)."""

import os
import subprocess
import sys
from pathlib import Path

from slack_bolt.async_app import AsyncApp

import app as bot
from assistant.settings import load_settings
from assistant.storage.open_store import build_state_store
from tests.support.assistant_fixtures import sim_environment

ROOT = Path(__file__).resolve().parents[1]


async def test_smoke_import_build_and_register(tmp_path):
    settings = load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-smoke", "SLACK_APP_TOKEN": "xapp-smoke", "LITELLM_API_KEY": "sk-smoke", "DATA_DIR": str(tmp_path)}
    )
    store = build_state_store(settings.storage)
    services = await bot.open_services(settings, store, bot.build_agent(settings))
    try:
        app = bot.build_app(settings, services)
        assert isinstance(app, AsyncApp)
        assert app.client.base_url == "https://slack.com/api/"
        assert len(app._async_listeners) >= 2 and app._async_middleware_list
    finally:
        await store.close()


def test_building_the_agent_leaves_litellm_unimported(tmp_path):
    # `import litellm` is over half of a cold start; it belongs after Socket Mode is connected.
    env = {"SLACK_BOT_TOKEN": "xoxb-smoke", "SLACK_APP_TOKEN": "xapp-smoke", "LITELLM_API_KEY": "sk-smoke", "DATA_DIR": str(tmp_path)}
    script = (
        "import sys, app\n"
        "from assistant.settings import load_settings\n"
        f"app.build_agent(load_settings({env!r}))\n"
        "assert 'litellm' not in sys.modules, 'building the agent imported litellm'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def _run_app(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LITELLM_", "ASSISTANT_"))}
    return subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=timeout
    )


def test_missing_settings_name_every_variable_without_a_traceback():
    result = _run_app({"ASSISTANT_TIMEOUT_SECONDS": "soon"})
    assert result.returncode == 2
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "LITELLM_API_KEY", "ASSISTANT_TIMEOUT_SECONDS"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_model_the_proxy_does_not_offer_stops_start_up(slack_sim, litellm_proxy, tmp_path):
    env = sim_environment(
        slack_sim, tmp_path, LITELLM_PROXY_URL=litellm_proxy.url, LITELLM_API_KEY=litellm_proxy.master_key, ASSISTANT_MODEL="openai/gpt-9"
    )
    result = _run_app(env)
    assert result.returncode == 3
    assert "openai/gpt-9" in result.stderr and "openai/gpt-4" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_refused_bot_token_stops_start_up(slack_sim, tmp_path):
    env = sim_environment(slack_sim, tmp_path, SLACK_BOT_TOKEN="xoxb-not-the-right-one")
    result = _run_app(env)
    assert result.returncode == 3
    assert "SLACK_BOT_TOKEN" in result.stderr and "invalid_auth" in result.stderr
    assert "xoxb-not-the-right-one" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout


def test_an_unusable_data_dir_stops_start_up(slack_sim, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    result = _run_app(sim_environment(slack_sim, blocker))
    assert result.returncode == 3
    assert "DATA_DIR" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
