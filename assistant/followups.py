"""Follow-up prompts offered after each answer (the spec's "suggested next prompts").

Built from the question without another model call: a second completion per answer would
double the cost on the shared proxy budget and add latency after the answer is done.
"""

from __future__ import annotations

from assistant.settings import SuggestedPrompt

_TOPIC_CHARS = 60


def _topic(question: str) -> str:
    words = " ".join(question.split()).rstrip("?.!")
    if len(words) <= _TOPIC_CHARS:
        return words
    return words[:_TOPIC_CHARS].rsplit(" ", 1)[0] + "…"


def build_followup_prompts(question: str) -> list[SuggestedPrompt]:
    topic = _topic(question)
    return [
        SuggestedPrompt("Go deeper", f"Tell me more about: {topic}" if topic else "Tell me more."),
        SuggestedPrompt("Give an example", "Give me a concrete example of that."),
        SuggestedPrompt("Summarize it", "Summarize your last answer in three bullet points."),
    ]
