"""The long-lived objects every listener needs, built once at start-up."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from agents import Agent

from assistant.access_control import AccessControl, AccessPolicy
from assistant.channel_context import ChannelContextReader
from assistant.keyed_locks import KeyedLocks
from assistant.rate_limiter import QuestionLimits
from assistant.recent_keys import RecentKeys
from assistant.settings import Settings
from assistant.storage.feedback_store import FeedbackStore
from assistant.storage.thread_context_store import SqliteThreadContextStore
from assistant.ttl_cache import TTLCache

SERVICES_CONTEXT_KEY = "assistant_services"


@dataclass(frozen=True)
class Services:
    settings: Settings
    agent: Agent
    thread_context_store: SqliteThreadContextStore
    feedback_store: FeedbackStore
    access: AccessControl
    context_reader: ChannelContextReader
    limits: QuestionLimits
    # Answers in one thread run one after another, so each sees the previous answer.
    thread_locks: KeyedLocks = field(default_factory=KeyedLocks)
    # Questions already taken, so a redelivered event is not answered twice.
    recent_questions: RecentKeys = field(default_factory=RecentKeys)
    # Users already told they are over the limit, until they may ask again: one notice, not 90.
    limit_notices: TTLCache[bool] = field(default_factory=lambda: TTLCache(60))
    # Answers under way, so shutdown can let them finish.
    inflight: set[asyncio.Task] = field(default_factory=set)

    @classmethod
    def build(
        cls,
        settings: Settings,
        agent: Agent,
        thread_context_store: SqliteThreadContextStore,
        feedback_store: FeedbackStore,
    ) -> Services:
        policy = AccessPolicy.from_settings(settings)
        return cls(
            settings=settings,
            agent=agent,
            thread_context_store=thread_context_store,
            feedback_store=feedback_store,
            access=AccessControl(policy),
            context_reader=ChannelContextReader(policy),
            limits=QuestionLimits(settings.user_per_minute, settings.channel_per_minute),
        )
