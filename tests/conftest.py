"""Fixtures shared by the whole suite: the local Slack simulator, the fake model upstream and a
real LiteLLM proxy in front of it, and an in-process assistant connected over Socket Mode."""

pytest_plugins = ["tests.support.plugin", "tests.support.assistant_fixtures", "tests.support.redis_fixtures"]

from tests.e2e.slack_sim.fixtures import slack_sim  # noqa: E402,F401
