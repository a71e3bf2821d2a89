import pytest

from assistant.settings import (
    DEFAULT_PROXY_URL,
    DEFAULT_SUGGESTED_PROMPTS,
    Settings,
    SettingsError,
    SuggestedPrompt,
    load_settings,
    parse_suggested_prompts,
)

VALID = {"SLACK_BOT_TOKEN": "xoxb-test-bot", "SLACK_APP_TOKEN": "xapp-test-app", "LITELLM_API_KEY": "sk-proxy-key"}


def test_defaults_follow_the_spec():
    settings = load_settings(VALID)
    assert settings.litellm_proxy_url == DEFAULT_PROXY_URL == "https://litellm.sbp.ai/"
    assert settings.assistant_model == "openai/gpt-4"
    assert settings.timeout_seconds == 60
    assert str(settings.storage.data_dir) == "data"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.suggested_prompts == DEFAULT_SUGGESTED_PROMPTS
    assert settings.log_level == "INFO"


def test_every_problem_is_reported_at_once():
    with pytest.raises(SettingsError) as caught:
        load_settings({"SLACK_BOT_TOKEN": "xoxp-user-token", "ASSISTANT_TIMEOUT_SECONDS": "0", "LOG_LEVEL": "loud"})
    text = caught.value.render()
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "LITELLM_API_KEY", "ASSISTANT_TIMEOUT_SECONDS", "LOG_LEVEL"):
        assert name in text
    assert len(caught.value.problems) == 5
    assert "xoxp-user-token" not in text, "a wrong token is still a secret"


def test_urls_are_validated_and_normalised():
    settings = load_settings({**VALID, "SLACK_API_URL": "http://127.0.0.1:9/api", "LITELLM_PROXY_URL": "http://proxy:4000"})
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.litellm_proxy_url == "http://proxy:4000/"
    with pytest.raises(SettingsError, match="LITELLM_PROXY_URL"):
        load_settings({**VALID, "LITELLM_PROXY_URL": "litellm.sbp.ai"})


@pytest.mark.parametrize("model", ["gpt-4", "openai/", "/gpt-4", "openai/gpt 4"])
def test_model_must_name_a_provider(model):
    with pytest.raises(SettingsError, match="ASSISTANT_MODEL"):
        load_settings({**VALID, "ASSISTANT_MODEL": model})


def test_secrets_stay_out_of_repr():
    settings = load_settings(VALID)
    assert "xoxb-test-bot" not in repr(settings) and "sk-proxy-key" not in repr(settings)
    assert set(settings.secrets) == {"xoxb-test-bot", "xapp-test-app", "sk-proxy-key"}
    assert isinstance(settings, Settings)


def test_suggested_prompts_from_configuration():
    assert parse_suggested_prompts('["Hello there", {"title": "Plan", "message": "Plan my day"}]') == (
        SuggestedPrompt("Hello there", "Hello there"),
        SuggestedPrompt("Plan", "Plan my day"),
    )
    settings = load_settings({**VALID, "ASSISTANT_SUGGESTED_PROMPTS": '["One"]'})
    assert settings.suggested_prompts == (SuggestedPrompt("One", "One"),)


@pytest.mark.parametrize("raw", ["not json", "[]", '["a","b","c","d","e"]', '[{"title": "no message"}]', "{}"])
def test_bad_suggested_prompts_are_named(raw):
    with pytest.raises(SettingsError, match="ASSISTANT_SUGGESTED_PROMPTS"):
        load_settings({**VALID, "ASSISTANT_SUGGESTED_PROMPTS": raw})


def test_abuse_access_and_budget_settings():
    settings = load_settings(
        {
            **VALID,
            "RATE_LIMIT_USER_PER_MINUTE": "5",
            "RATE_LIMIT_CHANNEL_PER_MINUTE": "50",
            "ALLOWED_TEAM_IDS": "T0123, E0456",
            "ALLOWED_USER_IDS": "U01,W02",
            "ALLOWED_CHANNEL_IDS": "C01",
            "ALLOW_GUESTS": "yes",
            "REDACT_PII": "true",
            "PROMPT_BUDGET_CHARS": "9000",
            "MAX_QUESTION_CHARS": "500",
            "ASSISTANT_FIRST_TOKEN_TIMEOUT_SECONDS": "10",
            "ASSISTANT_IDLE_TIMEOUT_SECONDS": "5",
            "SHUTDOWN_GRACE_SECONDS": "3",
        }
    )
    assert (settings.user_per_minute, settings.channel_per_minute) == (5, 50)
    assert settings.allowed_team_ids == {"T0123", "E0456"} and settings.allowed_user_ids == {"U01", "W02"}
    assert settings.allowed_channel_ids == {"C01"}
    assert settings.allow_guests and settings.redact_pii
    assert (settings.prompt_budget_chars, settings.max_question_chars) == (9000, 500)
    assert (settings.first_token_timeout_seconds, settings.idle_timeout_seconds, settings.shutdown_grace_seconds) == (10, 5, 3)


def test_defaults_are_open_but_guarded():
    settings = load_settings(VALID)
    assert settings.allowed_user_ids == frozenset() and settings.allow_guests is False and settings.redact_pii is False
    assert settings.user_per_minute > 0 and settings.channel_per_minute >= settings.user_per_minute


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RATE_LIMIT_USER_PER_MINUTE", "0"),
        ("RATE_LIMIT_CHANNEL_PER_MINUTE", "many"),
        ("ALLOWED_USER_IDS", "alice,U01"),
        ("ALLOWED_TEAM_IDS", "C01"),
        ("REDACT_PII", "maybe"),
        ("PROMPT_BUDGET_CHARS", "-1"),
        ("ASSISTANT_IDLE_TIMEOUT_SECONDS", "0"),
    ],
)
def test_bad_abuse_and_access_settings_are_named(name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings({**VALID, name: value})
