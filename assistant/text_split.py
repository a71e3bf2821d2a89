"""Where to cut text that does not fit in one Slack call or one message."""

from __future__ import annotations

# Prefer cutting between paragraphs, then lines, then words; a cut earlier than this fraction of
# the limit wastes too much room, so a hard cut is better then.
_BOUNDARIES = ("\n\n", "\n", " ")
_MIN_FILL = 0.5


def split_text(text: str, limit: int) -> tuple[str, str]:
    """Split `text` into (head, rest) with len(head) <= limit, cutting at a natural boundary.

    head + rest == text always: streaming must never lose or duplicate a character.
    """
    if limit <= 0:
        raise ValueError("limit must be positive")
    if len(text) <= limit:
        return text, ""
    window = text[:limit]
    for boundary in _BOUNDARIES:
        cut = window.rfind(boundary)
        if cut >= limit * _MIN_FILL:
            end = cut + len(boundary)
            return text[:end], text[end:]
    return window, text[limit:]
