"""Offline-safe defaults that must be in the environment before `litellm` is imported.

`import litellm` downloads a model cost map from the internet and, outside production mode,
calls `load_dotenv()` on whatever `.env` it finds. The bot talks to Slack and to the proxy only,
so every module that imports litellm imports this module first. Explicit settings in the
environment win. (The Agents SDK's trace export to OpenAI is switched off per run, in
`assistant.agent_run`.)
"""

import os
from collections.abc import MutableMapping

OFFLINE_DEFAULTS: dict[str, str] = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_MODE": "PRODUCTION",
}


def apply_offline_defaults(env: MutableMapping[str, str]) -> None:
    for name, value in OFFLINE_DEFAULTS.items():
        env.setdefault(name, value)


apply_offline_defaults(os.environ)
