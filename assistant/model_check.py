"""Start-up check that the proxy offers ASSISTANT_MODEL (`GET /v1/models`)."""

from __future__ import annotations

import asyncio
import fnmatch
import logging
from urllib.parse import urljoin

import aiohttp

from assistant.settings import Settings

CHECK_TIMEOUT_SECONDS = 10
_SHOWN_MODELS = 8


class ModelNotOffered(Exception):
    """The proxy answered and does not know the configured model: the bot cannot work."""


def offers_model(offered: list[str], model: str) -> bool:
    # A proxy may route a whole provider with a wildcard entry such as "openai/*".
    return any(entry == model or ("*" in entry and fnmatch.fnmatchcase(model, entry)) for entry in offered)


def describe_missing_model(model: str, offered: list[str], proxy_url: str) -> str:
    shown = ", ".join(sorted(offered)[:_SHOWN_MODELS]) or "none"
    more = f" (and {len(offered) - _SHOWN_MODELS} more)" if len(offered) > _SHOWN_MODELS else ""
    return f"ASSISTANT_MODEL={model!r} is not offered by the LiteLLM proxy at {proxy_url}. It offers: {shown}{more}."


async def check_model_offered(settings: Settings, logger: logging.Logger) -> None:
    """Raise `ModelNotOffered` when the proxy does not list the model; only warn when the proxy
    cannot be asked (down, slow, key refused): it may come up, and a refused key gets its own
    friendly answer in Slack."""
    url = urljoin(settings.litellm_proxy_url, "v1/models")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CHECK_TIMEOUT_SECONDS)) as session:
            async with session.get(url, headers={"Authorization": f"Bearer {settings.litellm_api_key}"}) as response:
                if response.status != 200:
                    logger.warning("Could not check ASSISTANT_MODEL: the proxy answered HTTP %d at %s", response.status, url)
                    return
                payload = await response.json(content_type=None)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        logger.warning("Could not check ASSISTANT_MODEL: the proxy at %s is not reachable yet (%s)", url, type(exc).__name__)
        return
    offered = [str(item.get("id")) for item in payload.get("data", []) if isinstance(item, dict) and item.get("id")]
    if not offers_model(offered, settings.assistant_model):
        raise ModelNotOffered(describe_missing_model(settings.assistant_model, offered, settings.litellm_proxy_url))
    logger.info("The proxy offers %s", settings.assistant_model)
