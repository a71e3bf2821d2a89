"""Conversation memory as the model sees it: a session's items, grouped in turns and bounded.

A turn is a user message and everything that answered it (assistant messages, tool calls and
their results). Turns are kept or dropped whole: a tool result without its call, or an answer
without its question, is an invalid or misleading request.
"""

from __future__ import annotations

import json
from typing import Any

Item = dict[str, Any]

STOPPED_MARK = "[stopped: the user sent a newer message]"


def user_item(text: str) -> Item:
    return {"role": "user", "content": text}


def assistant_item(text: str) -> Item:
    return {"role": "assistant", "content": text}


def _starts_turn(item: Item) -> bool:
    return item.get("role") == "user" and item.get("type", "message") == "message"


def split_turns(items: list[Item]) -> list[list[Item]]:
    """Items grouped by the user message that opened each turn. Items before the first user
    message belong to a turn whose start was cut off (by a fetch limit) and are dropped."""
    turns: list[list[Item]] = []
    for item in items:
        if _starts_turn(item):
            turns.append([item])
        elif turns:
            turns[-1].append(item)
    return turns


def item_chars(item: Item) -> int:
    """Size of an item as sent: JSON length counts text, tool arguments and results alike."""
    return len(json.dumps(item, ensure_ascii=False))


def turn_chars(turn: list[Item]) -> int:
    return sum(item_chars(item) for item in turn)


def last_turns(items: list[Item], max_turns: int) -> list[Item]:
    return [item for turn in split_turns(items)[-max_turns:] for item in turn]


def has_user_turn(items: list[Item]) -> bool:
    return any(_starts_turn(item) for item in items)


def stopped_turn(question: str, partial_answer: str) -> list[Item]:
    """What a stopped answer leaves in memory: the question and the words the user saw, marked,
    so the next turn neither repeats a question nor pretends the answer was complete."""
    return [user_item(question), assistant_item(f"{partial_answer.rstrip()}\n\n{STOPPED_MARK}")]
