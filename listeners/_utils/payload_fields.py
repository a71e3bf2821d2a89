"""Total readers for Slack payload fields: the value in the expected shape, or why it is unusable.

Slack's payloads are JSON, and nothing at the edge stops a replayed, forged or future-format one
from carrying `"thread_ts": 5`, a list where an object belongs, or no `channel` at all. Listeners
read through these helpers instead of indexing payloads, so a bad payload becomes one warning
naming the field, never a KeyError/TypeError traceback in Bolt's error log.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

# Slack message timestamps are "<seconds>.<micros>"; the answer pipeline sorts and compares them
# as numbers, so anything else would fail there, after the "is thinking…" status was already set.
_SLACK_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,9}")
# Slack ids (U…, D…, C…, T…, E…) are short ASCII words; anything else is not one Slack sent.
_SLACK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# JSON can carry "\ud800" escapes, which decode to lone surrogates: such a string cannot be
# encoded as UTF-8 for Slack, the model or SQLite.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Characters that render as nothing: whitespace, separators, controls (NUL included) and format
# characters (zero-width space/joiner, bidi marks, BOM). Unassigned and private-use code points
# count as visible: they may be emoji newer than Python's Unicode tables.
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


@dataclass(frozen=True)
class Malformed:
    """A payload a listener cannot act on: which field, and what is wrong with it.

    Never the value: values can be user text, which stays out of the logs.
    """

    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.field} {self.problem}"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def read_object(value: Any, field: str) -> dict[str, Any] | Malformed:
    if not isinstance(value, dict):
        return Malformed(field, "is missing" if value is None else f"is {_kind(value)}, not an object")
    return value


def _read_str(payload: dict[str, Any], key: str, field: str, pattern: re.Pattern[str], what: str) -> str | Malformed:
    value = payload.get(key)
    if value is None:
        return Malformed(field, "is missing")
    if not isinstance(value, str):
        return Malformed(field, f"is {_kind(value)}, not a string")
    if not pattern.fullmatch(value):
        return Malformed(field, f"is not {what}")
    return value


def read_id(payload: dict[str, Any], key: str, field: str) -> str | Malformed:
    """A required Slack id."""
    return _read_str(payload, key, field, _SLACK_ID, "a Slack id")


def read_ts(payload: dict[str, Any], key: str, field: str) -> str | Malformed:
    """A required Slack timestamp ("1700000000.000100")."""
    return _read_str(payload, key, field, _SLACK_TS, "a Slack timestamp")


def read_optional_str(payload: dict[str, Any], key: str, field: str) -> str | None | Malformed:
    """An optional string: None when absent or null, Malformed when present with another type."""
    value = payload.get(key)
    if value is None or isinstance(value, str):
        return value
    return Malformed(field, f"is {_kind(value)}, not a string")


def read_optional_id(payload: dict[str, Any], key: str, field: str) -> str | None | Malformed:
    """An optional Slack id: None when absent, null or empty, Malformed when something else."""
    if payload.get(key) in (None, ""):
        return None
    return read_id(payload, key, field)


def as_id(value: Any) -> str | None:
    """`value` when it is a Slack id, else None. Also for ids Bolt's context derived from the raw
    payload (`context.team_id` is whatever the payload's team.id held, a list included)."""
    return value if isinstance(value, str) and _SLACK_ID.fullmatch(value) else None


def optional_id(payload: Any, key: str) -> str | None:
    """An id that has a fallback: its value when it is a Slack id, else None."""
    return as_id(payload.get(key) if isinstance(payload, dict) else None)


def optional_ts(payload: Any, key: str) -> str | None:
    """A Slack timestamp that has a fallback: its value when well-formed, else None."""
    value = payload.get(key) if isinstance(payload, dict) else None
    return value if isinstance(value, str) and _SLACK_TS.fullmatch(value) else None


def is_encodable(text: str) -> bool:
    return _LONE_SURROGATE.search(text) is None


def encodable(text: str) -> str:
    """`text` with any lone surrogate replaced by U+FFFD, the usual stand-in for undecodable text."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def has_visible_text(text: str) -> bool:
    return any(unicodedata.category(char) not in _INVISIBLE_CATEGORIES for char in text)
