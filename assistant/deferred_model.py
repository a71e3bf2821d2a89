"""The agent's model, with `import litellm` kept off the start-up path.

`import litellm` costs ~1.7 s on this 2-core machine, more than half of a cold start, and the
agent needs it only for its first completion. This model holds the arguments of the real one, a
`ProxyLitellmModel` (so every call still runs on the Agents SDK's `LitellmModel`; only its
construction waits), and builds it on first use, in a worker thread. The import itself normally
happens earlier, in the warm-up thread `app.serve` starts once Socket Mode is connected
(`assistant.warm_up`); a question that comes before warm-up has finished waits for the import
without stopping the event loop. Every method the runner calls on a model (agents 0.24.0) is
passed on to the real one.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import assistant.offline  # noqa: F401  (must run before agents is imported)

from agents.items import ModelResponse, TResponseStreamEvent
from agents.models.interface import Model
from agents.retry import ModelRetryAdvice, ModelRetryAdviceRequest

if TYPE_CHECKING:
    from assistant.proxy_model import ProxyLitellmModel


class DeferredProxyModel(Model):
    def __init__(self, model: str, *, api_key: str, base_url: str) -> None:
        self._model = model
        self._api_key = api_key
        self._base_url = base_url
        self._real: ProxyLitellmModel | None = None
        # Questions that come together each resolve from their own worker thread: build one.
        self._lock = threading.Lock()

    def resolve(self) -> ProxyLitellmModel:
        """The real model, built on the first call. Blocking (imports litellm): off the loop."""
        with self._lock:
            if self._real is None:
                from assistant.proxy_model import ProxyLitellmModel

                self._real = ProxyLitellmModel(model=self._model, api_key=self._api_key, base_url=self._base_url)
            return self._real

    async def _resolved(self) -> ProxyLitellmModel:
        real = self._real
        return real if real is not None else await asyncio.to_thread(self.resolve)

    # Both take `Model`'s arguments unchanged; they are passed on as they come so that a new
    # argument in a later agents release cannot be dropped here.
    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        real = await self._resolved()
        return await real.get_response(*args, **kwargs)

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[TResponseStreamEvent]:  # type: ignore[override]
        real = await self._resolved()
        events = real.stream_response(*args, **kwargs)
        # Closing this stream early (a cancelled run) must close the real one at once: its
        # cleanup ends the HTTP request to the proxy.
        async with aclosing(events):  # type: ignore[type-var]
            async for event in events:
                yield event

    def get_retry_advice(self, request: ModelRetryAdviceRequest) -> ModelRetryAdvice | None:
        # Without a real model no request was sent, so there is nothing to advise on.
        return self._real.get_retry_advice(request) if self._real is not None else None

    async def _cleanup_on_run_end(self, owner: object) -> None:
        if self._real is not None:
            await self._real._cleanup_on_run_end(owner)

    async def close(self) -> None:
        if self._real is not None:
            await self._real.close()
