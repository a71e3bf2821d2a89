"""The bot's Web API client: every call waits for its method's slot in the shared `SlackBudget`.

One place paces every Web API call, so many answers at once stay inside Slack's per-workspace
limits instead of collecting 429s. Two kinds of calls are treated differently:
- the answer stream's own calls (start/append/stop, edits) take their slot in `AnswerStream`,
  before it picks the text to send, so text that arrives while it waits goes in the same call;
- cosmetic calls (title, suggested prompts, status) are skipped when their method is booked
  more than a moment ahead: under load, the answer matters, the decoration does not.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from assistant.slack_budget import SlackBudget
from assistant.slack_retries import retry_after_seconds

PACED_BY_THE_STREAM = frozenset({"chat.startStream", "chat.appendStream", "chat.stopStream", "chat.update"})
COSMETIC = frozenset({"assistant.threads.setStatus", "assistant.threads.setTitle", "assistant.threads.setSuggestedPrompts"})
COSMETIC_MAX_WAIT_SECONDS = 1.0


class SkippedUnderLoad(Exception):
    """A cosmetic call was not made: its method's budget is booked too far ahead."""

    def __init__(self, method: str, wait: float):
        super().__init__(f"{method} skipped: its budget is booked {wait:.1f}s ahead")


class PacedWebClient(AsyncWebClient):
    def __init__(self, *, budget: SlackBudget, **kwargs: Any):
        super().__init__(**kwargs)
        self.budget = budget

    def like(self, client: AsyncWebClient) -> PacedWebClient:
        """A paced copy of `client`. Bolt hands each listener a fresh plain `AsyncWebClient`
        built from the app's (since Bolt 1.15), which would bypass the budget."""
        return PacedWebClient(
            budget=self.budget,
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            session=client.session,
            trust_env_in_session=client.trust_env_in_session,
            headers=client.headers,
            team_id=client.default_params.get("team_id"),
            logger=client.logger,
            retry_handlers=client.retry_handlers,
        )

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:  # type: ignore[override]
        if api_method in COSMETIC:
            wait = self.budget.wait_estimate(api_method)
            if wait > COSMETIC_MAX_WAIT_SECONDS:
                raise SkippedUnderLoad(api_method, wait)
        if api_method not in PACED_BY_THE_STREAM:
            await self.budget.acquire(api_method)
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            if exc.response.get("error") == "ratelimited":
                # The client's own retries are spent: hold everyone back, not just this caller.
                self.budget.hold_off(api_method, retry_after_seconds(exc))
            raise

