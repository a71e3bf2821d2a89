import agents
import pytest
from agents.extensions.models.litellm_model import LitellmModel

from assistant.deferred_model import DeferredProxyModel
from assistant.settings import DEFAULT_PROXY_URL, DEFAULT_SYSTEM_PROMPT
from listeners._utils.agent_factory import create_assistant_agent, proxy_model_name


@pytest.mark.parametrize(
    ("configured", "sent"),
    [
        ("openai/gpt-4", "litellm_proxy/openai/gpt-4"),
        ("anthropic/claude-3-sonnet-20240229", "litellm_proxy/anthropic/claude-3-sonnet-20240229"),
        ("litellm_proxy/openai/gpt-4", "litellm_proxy/openai/gpt-4"),
    ],
)
def test_every_model_goes_through_the_proxy_provider(configured, sent):
    assert proxy_model_name(configured) == sent


def test_agent_defaults_follow_the_spec():
    agent = create_assistant_agent(api_key="sk-test")
    assert isinstance(agent, agents.Agent)
    assert agent.instructions == DEFAULT_SYSTEM_PROMPT
    assert isinstance(agent.model, DeferredProxyModel)
    model = agent.model.resolve()
    assert isinstance(model, LitellmModel)
    assert model.model == "litellm_proxy/openai/gpt-4"
    assert model.base_url == DEFAULT_PROXY_URL
    assert model.api_key == "sk-test"


def test_agent_takes_the_callers_configuration():
    agent = create_assistant_agent(
        system_prompt="Be terse.",
        model="anthropic/claude-3-sonnet-20240229",
        api_key="sk-test",
        proxy_url="http://127.0.0.1:4000/",
        timeout_seconds=12,
    )
    assert agent.instructions == "Be terse."
    model = agent.model.resolve()
    assert model.model == "litellm_proxy/anthropic/claude-3-sonnet-20240229"
    assert model.base_url == "http://127.0.0.1:4000/"
    settings = agent.model_settings
    assert settings.include_usage is True, "usage is empty while streaming unless requested"
    assert settings.extra_args == {"timeout": 12, "num_retries": 0, "max_retries": 0}


def test_a_key_is_required():
    with pytest.raises(ValueError, match="LITELLM_API_KEY"):
        create_assistant_agent()
