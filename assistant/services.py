"""The long-lived objects every listener needs, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from agents import Agent

from assistant.keyed_locks import KeyedLocks
from assistant.recent_keys import RecentKeys
from assistant.settings import Settings
from assistant.storage.feedback_store import FeedbackStore
from assistant.storage.thread_context_store import SqliteThreadContextStore

SERVICES_CONTEXT_KEY = "assistant_services"


@dataclass(frozen=True)
class Services:
    settings: Settings
    agent: Agent
    thread_context_store: SqliteThreadContextStore
    feedback_store: FeedbackStore
    # Answers in one thread run one after another, so each sees the previous answer.
    thread_locks: KeyedLocks = field(default_factory=KeyedLocks)
    # Questions already taken, so a redelivered event is not answered twice.
    recent_questions: RecentKeys = field(default_factory=RecentKeys)
