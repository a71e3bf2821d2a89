"""Build the assistant's Agents SDK agent on LitellmModel, pointed at the company LiteLLM proxy.

Every call goes to the proxy as an OpenAI-compatible chat completion carrying the proxy's model
name. LiteLLM would otherwise read the provider prefix itself: `anthropic/claude-…` makes it
speak Anthropic's wire format to `base_url`, `openai/gpt-4` loses its prefix. The `litellm_proxy/`
provider sends the full `provider/model` string to `/chat/completions` unchanged.

The model is built on first use (`assistant.deferred_model`), so that building the agent, and
with it start-up, does not import litellm.
"""

from __future__ import annotations

import assistant.offline  # noqa: F401  (must run before litellm and agents are imported)

from agents import Agent, ModelSettings

from assistant.deferred_model import DeferredProxyModel
from assistant.settings import DEFAULT_MODEL, DEFAULT_PROXY_URL, DEFAULT_SYSTEM_PROMPT, DEFAULT_TIMEOUT_SECONDS

PROXY_PROVIDER_PREFIX = "litellm_proxy/"


def proxy_model_name(model: str) -> str:
    """The model string LiteLLM needs to send `model` verbatim to an OpenAI-compatible proxy."""
    return model if model.startswith(PROXY_PROVIDER_PREFIX) else PROXY_PROVIDER_PREFIX + model


def create_assistant_agent(
    system_prompt: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    *,
    proxy_url: str | None = None,
    timeout_seconds: float | None = None,
) -> Agent:
    """Create the assistant agent.

    Values come from the caller (the app passes its parsed `Settings`); this module does not read
    the environment, so configuration is parsed in exactly one place (`assistant.settings`).
    """
    if not api_key:
        raise ValueError("api_key is required: the LiteLLM proxy key (LITELLM_API_KEY)")
    return Agent(
        name="Slack Assistant",
        instructions=system_prompt or DEFAULT_SYSTEM_PROMPT,
        model=DeferredProxyModel(
            model=proxy_model_name(model or DEFAULT_MODEL),
            api_key=api_key,
            base_url=proxy_url or DEFAULT_PROXY_URL,
        ),
        model_settings=ModelSettings(
            # Usage is only reported while streaming when asked for.
            include_usage=True,
            extra_args={
                # litellm's default request timeout is ~6000 s; bound every call.
                "timeout": timeout_seconds or DEFAULT_TIMEOUT_SECONDS,
                # The pipeline owns retries (before the first token only); litellm's own two
                # retries would multiply with the proxy's and re-send a prompt already streaming.
                "num_retries": 0,
                "max_retries": 0,
            },
        ),
    )
