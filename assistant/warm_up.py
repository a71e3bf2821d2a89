"""Pay the model client's one-time costs at start-up instead of on the first question.

The agent's model imports litellm only when first used (`assistant.deferred_model`), ~1.7 s on
this machine that would otherwise delay connecting to Slack. On top of that, litellm imports the
code for a provider, the OpenAI SDK's chat-completions resources and an HTTP stack on first use,
and loads tiktoken's encoding to count tokens for the first response: about 0.3 s more (a
`cProfile` of the first answer). Importing and loading them once, in a worker thread after Socket
Mode is connected, moves that cost off the first answer and off the start-up path.
"""

from __future__ import annotations

import gc
import importlib
import logging
import time

import assistant.offline  # noqa: F401  (must run before litellm is imported)

# What the first streamed completion through the `litellm_proxy/` provider imports lazily.
FIRST_CALL_MODULES = (
    "assistant.proxy_model",  # litellm itself, for the deferred model
    "litellm.llms.litellm_proxy.chat.transformation",
    "litellm.litellm_core_utils.token_counter",
    "litellm.litellm_core_utils.default_encoding",
    "litellm.litellm_core_utils.get_supported_openai_params",
    "litellm.llms.openai_like.dynamic_config",
    "openai.resources.chat.completions",
    "openai.lib.streaming.chat",
)


def warm_model_client(model: str, logger: logging.Logger) -> None:
    """Blocking: run it in a thread. Never raises; a miss only costs the first answer time."""
    started = time.monotonic()
    try:
        for name in FIRST_CALL_MODULES:
            importlib.import_module(name)
        import litellm
        from agents.tracing import get_trace_provider

        # Loads the tokenizer litellm counts the first response's usage with.
        litellm.token_counter(model=model, messages=[{"role": "user", "content": "warm up"}])
        # Every run asks for the trace provider (tracing is off, but the provider is built once).
        get_trace_provider()
    except Exception as exc:
        logger.debug("Model client warm-up incomplete: %s: %s", type(exc).__name__, exc)
    # Everything imported so far lives as long as the process: leave it out of every later
    # garbage collection. Otherwise a full collection walks the ~1M objects of litellm, the
    # Agents SDK and their dependencies, stopping the event loop for a fraction of a second
    # whenever a burst of messages allocates enough to trigger one.
    gc.freeze()
    logger.info("Model client warmed up in %dms", round((time.monotonic() - started) * 1000))
