import pytest

from tests.e2e.bot_process import BotProcess, start_bot
from tests.support.assistant_fixtures import sim_environment

CONNECT_TIMEOUT_SECONDS = 60


@pytest.fixture
def run_bot(slack_sim, litellm_proxy, tmp_path):
    """`await run_bot(**env)` starts the real app.py against the simulator and the proxy and
    waits for its Socket Mode connection; every process started is stopped at teardown."""
    started: list[BotProcess] = []

    async def run(**overrides: str) -> BotProcess:
        proxy = {
            "LITELLM_PROXY_URL": litellm_proxy.url,
            "LITELLM_API_KEY": litellm_proxy.master_key,
            "LOG_LEVEL": "DEBUG",
            # With a key present the Agents SDK would upload traces to OpenAI; the network
            # audit of the e2e tests proves it does not.
            "OPENAI_API_KEY": "sk-e2e-key-that-must-not-be-used",
        }
        env = sim_environment(slack_sim, tmp_path / "data", **{**proxy, **overrides})
        bot = start_bot(env, tmp_path)
        started.append(bot)
        try:
            await slack_sim.wait_for(
                lambda: slack_sim.state.open_connections() or (bot.process.poll() is not None and ["exited"]) or None,
                timeout=CONNECT_TIMEOUT_SECONDS,
                description="the bot's Socket Mode connection",
            )
        except TimeoutError:
            raise AssertionError(f"the bot did not connect; its log:\n{bot.log()[-3000:]}") from None
        assert bot.process.poll() is None, f"the bot exited early:\n{bot.log()[-3000:]}"
        return bot

    yield run
    for bot in started:
        bot.stop()
