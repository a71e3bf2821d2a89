import logging

import pytest

from assistant.model_check import ModelNotOffered, check_model_offered, describe_missing_model, offers_model
from assistant.settings import load_settings

LOGGER = logging.getLogger("test")


def _settings(url: str, key: str, model: str):
    return load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_APP_TOKEN": "xapp-t", "LITELLM_PROXY_URL": url, "LITELLM_API_KEY": key, "ASSISTANT_MODEL": model}
    )


async def test_a_model_the_proxy_offers_passes(litellm_proxy):
    await check_model_offered(_settings(litellm_proxy.url, litellm_proxy.master_key, "anthropic/claude-3-sonnet-20240229"), LOGGER)


async def test_an_unknown_model_is_a_clear_error_naming_what_the_proxy_offers(litellm_proxy):
    with pytest.raises(ModelNotOffered) as caught:
        await check_model_offered(_settings(litellm_proxy.url, litellm_proxy.master_key, "openai/gpt-5"), LOGGER)
    message = str(caught.value)
    assert "openai/gpt-5" in message and "openai/gpt-4" in message


async def test_an_unreachable_proxy_only_warns(caplog):
    with caplog.at_level(logging.WARNING):
        await check_model_offered(_settings("http://127.0.0.1:9/", "sk-x", "openai/gpt-4"), LOGGER)
    assert "not reachable" in caplog.text


async def test_a_refused_key_only_warns(litellm_proxy, caplog):
    with caplog.at_level(logging.WARNING):
        await check_model_offered(_settings(litellm_proxy.url, "sk-wrong", "openai/gpt-4"), LOGGER)
    assert "HTTP 401" in caplog.text
    assert "sk-wrong" not in caplog.text


def test_wildcards_and_listing():
    assert offers_model(["openai/*"], "openai/gpt-4o")
    assert not offers_model(["openai/gpt-4"], "openai/gpt-4o")
    text = describe_missing_model("x/y", [f"m/{i}" for i in range(12)], "http://p/")
    assert "and 4 more" in text
