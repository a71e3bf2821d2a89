"""Offline-safe defaults that must be in the environment before `litellm` is imported.

`import litellm` downloads a model cost map from the internet and, outside production mode,
calls `load_dotenv()` on whatever `.env` it finds; the Agents SDK exports traces (prompts
included) to OpenAI. The bot talks to Slack and to the proxy only, so every module that imports
litellm or the Agents SDK imports this module first. Explicit settings in the environment win.
"""

import os
from collections.abc import MutableMapping

OFFLINE_DEFAULTS: dict[str, str] = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_MODE": "PRODUCTION",
    "OPENAI_AGENTS_DISABLE_TRACING": "1",
}


def apply_offline_defaults(env: MutableMapping[str, str]) -> None:
    for name, value in OFFLINE_DEFAULTS.items():
        env.setdefault(name, value)


apply_offline_defaults(os.environ)
