import pytest

from tests.e2e.bot_process import BotProcess, start_bot
from tests.support.assistant_fixtures import sim_environment

CONNECT_TIMEOUT_SECONDS = 60


@pytest.fixture
def run_bot(slack_sim, litellm_proxy, tmp_path):
    """`await run_bot(**env)` starts the real app.py against the simulator and the proxy and
    waits for its own Socket Mode connection (a new one, so several bots may run at once; its id
    is `bot.connection_id`); every process started is stopped at teardown.

    `env` overrides anything, DATA_DIR (default: tmp_path/"data", shared by every bot of the
    test) and REDIS_URL included. The first bot logs to tmp_path, later ones to tmp_path/"bot-N".
    """
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
        workdir = tmp_path if not started else tmp_path / f"bot-{len(started) + 1}"
        workdir.mkdir(parents=True, exist_ok=True)
        known = {c.connection_id for c in slack_sim.state.connection_records()}
        bot = start_bot(env, workdir)
        started.append(bot)

        def connected():
            new = [c for c in slack_sim.state.open_connections() if c.connection_id not in known]
            return new or (bot.process.poll() is not None and ["exited"]) or None

        try:
            found = await slack_sim.wait_for(
                connected, timeout=CONNECT_TIMEOUT_SECONDS, description="the bot's Socket Mode connection"
            )
        except TimeoutError:
            raise AssertionError(f"the bot did not connect; its log:\n{bot.log()[-3000:]}") from None
        assert bot.process.poll() is None, f"the bot exited early:\n{bot.log()[-3000:]}"
        bot.connection_id = found[0].connection_id
        return bot

    yield run
    for bot in started:
        bot.stop()
