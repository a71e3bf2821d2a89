"""Keep what is sent to the model within a budget of characters.

Characters, not tokens: the bot does not know the proxy's tokenizer for every provider, and a
character budget is predictable for admins (roughly 4 characters per token in English). The
system prompt and the newest question always stay; the oldest history turns go first, then the
oldest channel-context messages.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from assistant.conversation import ChannelContext, format_channel_context


@dataclass(frozen=True)
class TrimmedQuestion:
    text: str
    original_chars: int

    @property
    def truncated(self) -> bool:
        return len(self.text) < self.original_chars


def truncate_question(text: str, max_chars: int) -> TrimmedQuestion:
    """An over-long question is cut (at a word when one is near) rather than sent whole."""
    if len(text) <= max_chars:
        return TrimmedQuestion(text, len(text))
    cut = text[:max_chars]
    space = cut.rfind(" ")
    if space >= max_chars * 0.8:
        cut = cut[:space]
    return TrimmedQuestion(cut, len(text))


def fit_to_budget(
    *,
    system_prompt: str,
    history: list[dict[str, str]],
    context: ChannelContext | None,
    question: str,
    budget_chars: int,
) -> tuple[list[dict[str, str]], ChannelContext | None]:
    """History and context trimmed, oldest first, until everything fits `budget_chars`."""
    fixed = len(system_prompt) + len(question)
    history = list(history)
    history_chars = sum(len(turn["content"]) for turn in history)
    context_chars = len(format_channel_context(context)) if context else 0
    while history and fixed + history_chars + context_chars > budget_chars:
        history_chars -= len(history.pop(0)["content"])
    while context is not None and fixed + history_chars + context_chars > budget_chars:
        if not context.messages:
            context, context_chars = None, 0
            break
        context = replace(context, messages=context.messages[1:])
        context_chars = len(format_channel_context(context))
    return history, context
