"""Keep what is sent to the model within a budget of characters.

Characters, not tokens: the bot does not know the proxy's tokenizer for every provider, and a
character budget is predictable for admins (roughly 4 characters per token in English). The
system prompt and the newest question always stay; the oldest history turns go first (whole
turns, tool calls included), then the oldest channel-context messages.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from assistant.conversation import ChannelContext, format_channel_context
from assistant.session_history import Item, split_turns, turn_chars


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
    history: list[Item],
    context: ChannelContext | None,
    question: str,
    budget_chars: int,
) -> tuple[list[Item], ChannelContext | None]:
    """History and context trimmed, oldest first, until everything fits `budget_chars`."""
    fixed = len(system_prompt) + len(question)
    turns = split_turns(history)
    history_chars = sum(turn_chars(turn) for turn in turns)
    context_chars = len(format_channel_context(context)) if context else 0
    while turns and fixed + history_chars + context_chars > budget_chars:
        history_chars -= turn_chars(turns.pop(0))
    while context is not None and fixed + history_chars + context_chars > budget_chars:
        if not context.messages:
            context, context_chars = None, 0
            break
        context = replace(context, messages=context.messages[1:])
        context_chars = len(format_channel_context(context))
    return [item for turn in turns for item in turn], context
