"""The long-lived objects every listener needs, built once at start-up."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from dataclasses import dataclass, field

from agents import Agent

from assistant.access_control import AccessControl, AccessPolicy
from assistant.answer_slots import AnswerSlots
from assistant.channel_context import ChannelContextReader
from assistant.rate_limiter import QuestionLimits
from assistant.settings import Settings
from assistant.slack_budget import SlackBudget
from assistant.storage.state_store import StateStore
from assistant.storage.thread_context_store import StateThreadContextStore

SERVICES_CONTEXT_KEY = "assistant_services"


def new_instance_id() -> str:
    """Names this process in leases and logs; unique even for two processes on one host."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Services:
    settings: Settings
    agent: Agent
    # Everything that must be shared by every instance lives in the store, nothing else here.
    store: StateStore
    thread_context_store: StateThreadContextStore
    # Caches of what Slack says about users and channels; per process, and short-lived.
    access: AccessControl
    context_reader: ChannelContextReader
    limits: QuestionLimits
    # Slack's per-workspace limits on the streaming methods, shared by every answer here.
    slack_budget: SlackBudget
    # How many answers this process writes at once.
    answer_slots: AnswerSlots
    instance_id: str = field(default_factory=new_instance_id)
    # This process's answers under way, so shutdown can let them finish.
    inflight: set[asyncio.Task] = field(default_factory=set)

    @classmethod
    def build(cls, settings: Settings, agent: Agent, store: StateStore) -> Services:
        policy = AccessPolicy.from_settings(settings)
        return cls(
            settings=settings,
            agent=agent,
            store=store,
            thread_context_store=StateThreadContextStore(store),
            access=AccessControl(policy),
            context_reader=ChannelContextReader(policy),
            limits=QuestionLimits(store, settings.user_per_minute, settings.channel_per_minute),
            slack_budget=SlackBudget.from_overrides(settings.slack_rate_limits),
            answer_slots=AnswerSlots(settings.max_concurrent_answers),
        )
