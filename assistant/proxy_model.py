"""LitellmModel that notices a streamed answer cut off mid-way.

When the connection to the proxy closes before the model's finish reason, LiteLLM ends the
stream as if it were complete (it synthesises `finish_reason: "stop"` and estimates usage) and
the Agents SDK reports a normal completion: the user would get a truncated answer presented as
whole. LiteLLM's stream wrapper does remember whether a real finish reason arrived
(`received_finish_reason`); this model checks it when the stream ends and raises
`CutStreamError` instead. (A cut between the proxy and the provider cannot be seen here: the
proxy already papers over it before its stream reaches the bot.)
"""

from __future__ import annotations

from typing import Any

import assistant.offline  # noqa: F401  (must run before litellm is imported)

from agents.extensions.models.litellm_model import LitellmModel

from assistant.errors import CutStreamError


class _FinishReasonGuard:
    def __init__(self, stream: Any):
        self._stream = stream

    def __aiter__(self) -> _FinishReasonGuard:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self._stream.__anext__()
        except StopAsyncIteration:
            if getattr(self._stream, "received_finish_reason", "unknown") is None:
                raise CutStreamError("the model's stream ended without a finish reason") from None
            raise

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


class ProxyLitellmModel(LitellmModel):
    async def _fetch_response(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        # `_fetch_response` is the one place LitellmModel hands over litellm's raw stream
        # (agents 0.24.0, pinned; tests/assistant/test_proxy_model.py fails if that changes).
        result = await super()._fetch_response(*args, **kwargs)
        if isinstance(result, tuple):
            response, stream = result
            return response, _FinishReasonGuard(stream)
        return result
