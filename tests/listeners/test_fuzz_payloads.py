"""Property-based fuzz of the Slack payload parsers and listeners (hypothesis).

Every variant starts from a payload shaped like Slack's (tests/e2e/slack_sim/payloads.py) and is then
mutated: keys dropped, values replaced by random JSON, keys added, texts replaced by huge or unusual
Unicode, Slack mentions and links. Two levels:

* pure: `build_question`, `build_feedback_vote`, `build_assistant_thread` / `build_thread_context`
  never raise and return None for anything that is not a user's question / a vote;
* listeners: the real Bolt app (`app.build_app`, ScriptedModel agent answering "ok", Web API calls
  over HTTP to the Slack simulator) gets each variant through `app.async_dispatch`, as the Socket
  Mode adapter hands it over; a smaller sample goes through real Socket Mode. No listener may log
  an ERROR (Bolt logs a listener's exception that way), an ignored payload is logged at most once
  and without its text, and nothing that is not a user's message in an assistant thread gets a
  reply (chat.postMessage / chat.startStream). Payloads Bolt 1.30 itself raises on before any
  code of this app runs (building the request, or its action matcher) cannot be handled here;
  they are counted per test instead of failing it (see `bolt_cannot_route`).

Examples are derandomized so CI runs the same variants every time. Each test prints how its
variants ended (`-s` shows them).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
import re
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from agents.testing import ModelStep, ScriptedModel, assistant_message
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from slack_bolt.request.async_request import AsyncBoltRequest

import app as bot
from assistant.answer_pipeline import Question
from assistant.blocks import FEEDBACK_ACTION_ID, build_feedback_blocks
from assistant.settings import load_settings
from assistant.storage.state_store import FeedbackVote
from assistant.storage.open_store import build_state_store
from listeners.actions.feedback_buttons import build_feedback_vote
from listeners.events.assistant_thread import CONTEXT_KEYS, build_assistant_thread, build_thread_context
from listeners.events.assistant_user_message import build_question
from tests.e2e.slack_sim import payloads
from tests.e2e.slack_sim.models import ApiCall, AssistantThread, User, Workspace
from tests.e2e.slack_sim.simulator import SlackSimulator
from tests.support.assistant_fixtures import scripted_agent, sim_environment
from tests.support.slack_waits import wait_for_answers

EXAMPLES = 1000
SOCKET_MODE_SAMPLE = 100  # per payload type; the bulk goes through async_dispatch
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

WORKSPACE = Workspace()  # the simulator's defaults: the same ids the app sees there
TEAM_ID, BOT_USER_ID, BOT_ID = WORKSPACE.team_id, WORKSPACE.bot_user_id, WORKSPACE.bot_id
REPLY_METHODS = ("chat.postMessage", "chat.startStream")
# The per-user and per-channel rate limits would turn most of a thousand questions into one
# "slow down" notice; this fuzz is about payloads, so they are out of the way.
# Thousands of questions in a minute: the bot's question limits must not decide what the fuzz
# sees (its pacing of Slack calls is off in tests, as the simulator's limits are).
UNLIMITED = {"RATE_LIMIT_USER_PER_MINUTE": "10000", "RATE_LIMIT_CHANNEL_PER_MINUTE": "10000"}

# ---------------------------------------------------------------------------------- strategies

MENTIONS_AND_LINKS = [
    "<@U0123ABCD>",
    "<@U0123ABCD|alice>",
    "<#C0123ABCD|general>",
    "<#C0123ABCD>",
    "<https://example.com/a?b=1&c=2|a link>",
    "<https://example.com>",
    "<mailto:alice@example.com|alice@example.com>",
    "<!here>",
    "<!channel>",
    "<!subteam^S0123ABCD|@platform>",
    "<!date^1392734382^{date_short}|Feb 18, 2014>",
    "&lt;not a link&gt; &amp;",
    "<@U0SIMBOT01>",
]
UNUSUAL = [
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\ufeff",  # byte-order mark
    "\x00",
    "\x1b[31m",
    "\r\n",
    "\t",
    "\u2028",
    "שלום עולם",
    "مرحبا",
    "👩\u200d👩\u200d👧\u200d👦",
    "🏳️\u200d🌈",
    "Z\u0364\u0351\u0313\u0300",
    "\U0010ffff",
    "\ud800",  # a lone surrogate: valid in JSON ("\\ud800"), not encodable as UTF-8
    "ﷺ",
    "𝕳𝖊𝖑𝖑𝖔",
    " ",
    "?",
    "word",
]
PIECES = MENTIONS_AND_LINKS + UNUSUAL
LONE_SURROGATE = re.compile("[\ud800-\udfff]")

unusual_text = st.one_of(
    st.text(max_size=100),
    st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=12).map("".join),
    # Huge texts, built by repetition so drawing one stays cheap: up to 50,000 characters.
    st.builds(lambda piece, n: (piece * n)[:50_000], st.sampled_from(PIECES) | st.text(min_size=1, max_size=6), st.integers(500, 50_000)),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | unusual_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=6,
)
SOME_IDS = ["", "U0123ABCD", "C0123ABCD", "E0123ABCD", BOT_USER_ID, BOT_ID, "1700000000.000100", "1.2.3", "x" * 300]


def _slots(payload: Any) -> Iterator[tuple[Any, Any]]:
    """Every (container, key-or-index) in a JSON value, nested ones included."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            yield payload, key
            yield from _slots(value)
    elif isinstance(payload, list):
        for index, value in enumerate(payload):
            yield payload, index
            yield from _slots(value)


def _containers(payload: Any) -> Iterator[dict[str, Any]]:
    if isinstance(payload, dict):
        yield payload
        for value in payload.values():
            yield from _containers(value)
    elif isinstance(payload, list):
        for value in payload:
            yield from _containers(value)


OPERATIONS = st.sampled_from(("drop", "replace", "text", "add", "add"))
MUTATION_COUNTS = st.integers(0, 4)
NEW_KEYS = st.text(max_size=12)


def variants(
    bases: st.SearchStrategy[dict[str, Any]], extra_keys: tuple[str, ...], thread: Thread, protected: tuple[str, ...] = ()
) -> st.SearchStrategy[dict[str, Any]]:
    """Payloads from `bases` after 0–4 random mutations: a key dropped, a value replaced by random
    JSON or by an unusual text or id, a key added (one Slack uses elsewhere, or any). Top-level
    keys in `protected` keep their value (what Bolt routes on).

    Ids swapped in come from `thread` or are made up, but no made-up DM: a question in a DM that
    does not exist fails in Slack, not in the payload. The strategies are built once here, not
    per example: hypothesis validates every new strategy object, which would dominate the run.
    """
    ids = st.sampled_from([*SOME_IDS, thread.user_id, thread.channel_id, thread.thread_ts])
    added_keys = st.sampled_from(extra_keys) | NEW_KEYS
    added_values = json_values | ids
    texts = unusual_text | ids

    @st.composite
    def mutate(draw: st.DrawFn) -> dict[str, Any]:
        payload = copy.deepcopy(draw(bases))
        for _ in range(draw(MUTATION_COUNTS)):
            op = draw(OPERATIONS)
            if op == "add":
                containers = list(_containers(payload))
                target = containers[draw(st.integers(0, len(containers) - 1))]
                key = draw(added_keys)
                if not (target is payload and key in protected):
                    target[key] = draw(added_values)
                continue
            slots = [(c, k) for c, k in _slots(payload) if not (c is payload and k in protected)]
            if not slots:
                continue
            container, key = slots[draw(st.integers(0, len(slots) - 1))]
            if op == "drop":
                del container[key]
            elif op == "replace":
                container[key] = draw(json_values)
            else:
                container[key] = draw(texts)
        return payload

    return mutate()


# ---------------------------------------------------------------------------------- valid shapes


@dataclass(frozen=True)
class Thread:
    """An assistant thread that exists in the simulator (or made-up ids, for the pure tests)."""

    user_id: str = "U0123ABCD"
    channel_id: str = "D0FUZZ"
    thread_ts: str = "1700000000.000100"


_ts_counter = itertools.count(1)


def fresh_ts() -> str:
    return f"1800000000.{next(_ts_counter):06d}"


MESSAGE_KINDS = ("user", "user", "user", "own_answer", "other_bot", "edited", "deleted", "file_share", "thread_root", "other_subtype")
KNOWN_SUBTYPES = ("channel_join", "bot_message", "me_message", "thread_broadcast", "assistant_app_thread", "huddle_thread", "tombstone")
MESSAGE_EXTRA_KEYS = ("bot_id", "subtype", "user", "text", "thread_ts", "ts", "channel", "hidden", "message", "previous_message",
                      "assistant_thread", "bot_profile", "app_id", "files", "attachments", "channel_type", "team", "blocks")
THREAD_EXTRA_KEYS = ("assistant_thread", "context", "channel_id", "thread_ts", "team_id", "enterprise_id", "user_id",
                     "channel", "user", "event_ts")
ACTION_EXTRA_KEYS = ("actions", "channel", "container", "message", "user", "team", "enterprise", "value", "id", "ts",
                     "thread_ts", "channel_id", "message_ts", "action_id", "is_enterprise_install", "authorizations")


def message_event(kind: str, thread: Thread, text: str, subtype: str) -> dict[str, Any]:
    """A `message` event in `thread` as Slack sends it, for each kind of message the app sees there."""
    ts = fresh_ts()
    base = {"type": "message", "channel": thread.channel_id, "channel_type": "im", "event_ts": ts, "ts": ts, "thread_ts": thread.thread_ts}
    user = {**base, "user": thread.user_id, "text": text, "team": TEAM_ID, "client_msg_id": "9a7e0c1e-0000-4000-8000-000000000000",
            "blocks": payloads.rich_text_blocks(text), "parent_user_id": BOT_USER_ID}
    if kind == "user":
        return user
    if kind == "own_answer":  # the bot's own answer coming back as an event: answering it would loop
        return {**base, "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": WORKSPACE.app_id, "text": text, "team": TEAM_ID,
                "bot_profile": {"id": BOT_ID, "name": WORKSPACE.bot_name}}
    if kind == "other_bot":
        return {**base, "bot_id": "B0OTHERBOT", "user": "U0OTHERBOT", "text": text}
    if kind == "edited":
        return {**base, "subtype": "message_changed", "hidden": True,
                "message": {**user, "edited": {"user": thread.user_id, "ts": ts}}, "previous_message": {**user, "text": "before"}}
    if kind == "deleted":
        return {**base, "subtype": "message_deleted", "hidden": True, "deleted_ts": ts, "previous_message": user}
    if kind == "file_share":
        return {**user, "subtype": "file_share", "files": [{"id": "F0123ABCD", "name": "notes.txt"}]}
    if kind == "thread_root":
        root = payloads.assistant_thread_root(WORKSPACE, ts=thread.thread_ts, title=text)
        return {**root, "channel": thread.channel_id, "channel_type": "im", "event_ts": ts}
    return {**user, "subtype": subtype}  # a subtype Slack has or may add; still not a question


def message_events(thread: Thread, *, protected: tuple[str, ...] = ()) -> st.SearchStrategy[dict[str, Any]]:
    bases = st.builds(
        message_event,
        st.sampled_from(MESSAGE_KINDS),
        st.just(thread),
        unusual_text,
        st.sampled_from(KNOWN_SUBTYPES) | st.text(max_size=20),
    )
    return variants(bases, MESSAGE_EXTRA_KEYS, thread, protected)


def thread_event(event_type: str, thread: Thread, context_channel: str | None, enterprise_id: str | None) -> dict[str, Any]:
    return payloads.assistant_thread_event(
        Workspace(enterprise_id=enterprise_id),
        event_type=event_type,
        user_id=thread.user_id,
        channel_id=thread.channel_id,
        thread_ts=thread.thread_ts,
        context_channel_id=context_channel,
        event_ts=fresh_ts(),
    )


def thread_events(event_type: str, thread: Thread, *, protected: tuple[str, ...] = ()) -> st.SearchStrategy[dict[str, Any]]:
    bases = st.builds(
        thread_event,
        st.just(event_type),
        st.just(thread),
        st.sampled_from([None, "C0123ABCD", "G0PRIVATE1"]),
        st.sampled_from([None, "E0123ABCD"]),
    )
    return variants(bases, THREAD_EXTRA_KEYS, thread, protected)


def feedback_click(thread: Thread, value: str, response_url: str) -> dict[str, Any]:
    """A click on the feedback buttons under one of the bot's answers in `thread`."""
    message = payloads.bot_message(
        WORKSPACE,
        ts=fresh_ts(),
        text="ok",
        blocks=build_feedback_blocks("openai/gpt-4"),
        thread_ts=thread.thread_ts,
        parent_user_id=BOT_USER_ID,
        metadata=None,
    )
    block = message["blocks"][-1]
    action = {
        "type": "feedback_buttons",
        "action_id": FEEDBACK_ACTION_ID,
        "block_id": block["block_id"],
        "value": value,
        "text": {"type": "plain_text", "text": "Good answer"},
        "action_ts": "1800000000.100000",
    }
    user = User(id=thread.user_id, name="alice", real_name="Alice", team_id=TEAM_ID)
    return payloads.block_actions(
        WORKSPACE, user=user, channel_id=thread.channel_id, message=message, action=action, response_url=response_url
    )


feedback_values = st.one_of(
    st.sampled_from(["positive:openai/gpt-4", "negative:openai/gpt-4", "positive:", "negative", "sideways:x", ""]),
    st.builds(lambda vote, model: f"{vote}:{model}", st.sampled_from(["positive", "negative"]), unusual_text),
)


def block_actions(thread: Thread, response_url: str, *, protected: tuple[str, ...] = ()) -> st.SearchStrategy[dict[str, Any]]:
    bases = st.builds(feedback_click, st.just(thread), feedback_values, st.just(response_url))
    return variants(bases, ACTION_EXTRA_KEYS, thread, protected)


# ---------------------------------------------------------------------------------- oracles


def not_a_user_message(event: Any) -> bool:
    """Messages that must never be answered: from a bot, with a subtype other than a file share
    (a file posted with a question is still the user's question), without a user, without text."""
    if not isinstance(event, dict):
        return True
    user, text = event.get("user"), event.get("text")
    return (
        event.get("bot_id") is not None
        or event.get("subtype") not in (None, "file_share")
        or not isinstance(user, str)
        or not user
        or user == BOT_USER_ID
        or not isinstance(text, str)
        or not text.strip()
    )


def text_of(payload: Any) -> str | None:
    """A payload's user text worth looking for in the logs (long enough not to match by chance)."""
    text = payload.get("text") if isinstance(payload, dict) else None
    return text if isinstance(text, str) and len(text.strip()) >= 8 else None


# ---------------------------------------------------------------------------------- pure level


def _user_message(drop: tuple[str, ...] = (), **changes: Any) -> dict[str, Any]:
    event = {**message_event("user", Thread(), "What is <@U0123ABCD> working on?", ""), **changes}
    return {key: value for key, value in event.items() if key not in drop}


@FUZZ
@given(event=message_events(Thread()) | json_values)
# Inputs that broke the parser before it was made total, kept as explicit examples:
@example(event=None)  # AttributeError
@example(event=_user_message(drop=("channel",)))  # KeyError 'channel'
@example(event=_user_message(bot_id=False))  # answered: a falsy bot_id counted as "no bot"
@example(event=_user_message(subtype="file_share"))  # answered despite the subtype
@example(event=_user_message(ts="E0123ABCD"))  # reached the pipeline, float(ts) failed there
@example(event=_user_message(user={"id": "U0123ABCD"}))  # reached users.info / caches unhashable
def test_build_question_is_total_and_answers_only_user_messages(event):
    question = build_question(event, team_id=TEAM_ID, enterprise_id=None, bot_user_id=BOT_USER_ID)
    if not_a_user_message(event):
        assert question is None
    if question is not None:
        assert isinstance(question, Question)
        assert (question.channel_id, question.thread_ts, question.message_ts) == (event["channel"], event["thread_ts"], event["ts"])
        assert question.channel_id.startswith("D")
        assert question.user_id == event["user"] and question.text == LONE_SURROGATE.sub("\ufffd", event["text"].strip())
        assert isinstance(question.team_id, str) and question.team_id


@FUZZ
@given(pieces=st.lists(st.sampled_from(PIECES) | st.text(max_size=10), min_size=1, max_size=20))
def test_mentions_and_links_reach_the_pipeline_unchanged(pieces):
    text = " ".join(pieces)
    question = build_question(message_event("user", Thread(), text, ""), team_id=TEAM_ID, enterprise_id=None, bot_user_id=BOT_USER_ID)
    if question is None:
        assert not any(c.isalnum() or c in "<>@#|!&" for c in text), "only texts with nothing visible are dropped"
        return
    assert question.text == LONE_SURROGATE.sub("\ufffd", text.strip())
    for piece in MENTIONS_AND_LINKS:
        assert text.count(piece) == question.text.count(piece)


def _click(value: str = "positive:openai/gpt-4", **changes: Any) -> dict[str, Any]:
    return {**feedback_click(Thread(), value, "https://hooks.slack.com/actions/T0SIMTEAM1/1/x"), **changes}


@FUZZ
@given(body=block_actions(Thread(), "https://hooks.slack.com/actions/T0SIMTEAM1/1/x") | json_values)
@example(body=[])  # AttributeError
@example(body={"actions": [5]})  # AttributeError
@example(body=_click(user={"id": 5}))  # a vote by user 5, then an SQLite error
@example(body=_click(channel="D0FUZZ"))  # AttributeError: the id read from a string
@example(body=_click("positive:\ud800"))  # UnicodeEncodeError storing the model name
def test_build_feedback_vote_is_total(body):
    vote = build_feedback_vote(body, fallback_team_id=TEAM_ID)
    if vote is None:
        return
    assert isinstance(vote, FeedbackVote)
    action = body["actions"][0]
    assert action["value"].split(":", 1)[0] in ("positive", "negative")
    assert vote.positive == action["value"].startswith("positive:")
    assert vote.user_id == body["user"]["id"]
    for value in (vote.team_id, vote.channel_id, vote.thread_ts, vote.message_ts, vote.user_id, vote.model):
        assert isinstance(value, str) and value


@FUZZ
@given(event=thread_events("assistant_thread_started", Thread()) | thread_events("assistant_thread_context_changed", Thread()) | json_values)
@example(event={"type": "assistant_thread_started"})  # KeyError 'assistant_thread'
@example(event={"type": "assistant_thread_started", "assistant_thread": None})  # AttributeError
@example(event={"assistant_thread": {"channel_id": "D0FUZZ", "thread_ts": "1.2", "context": []}})  # AttributeError
@example(event={"assistant_thread": {"channel_id": "D0FUZZ", "thread_ts": "1.2", "context": {"channel_id": [1]}}})  # stored as is
def test_assistant_thread_extraction_is_total(event):
    thread = build_assistant_thread(event)
    context = build_thread_context(event)
    if thread is None:
        assert context is None
        return
    raw = event["assistant_thread"]
    assert (thread.channel_id, thread.thread_ts) == (raw["channel_id"], raw["thread_ts"])
    if context is None:
        return
    assert set(context) <= set(CONTEXT_KEYS)
    assert all(isinstance(v, str) and v for v in context.values())
    raw_context = raw.get("context") or {}
    assert context == {k: raw_context[k] for k in CONTEXT_KEYS if raw_context.get(k)}


# ---------------------------------------------------------------------------------- listener level


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


APP_CODE = tuple(str(Path(bot.__file__).parent / package) + "/" for package in ("listeners", "assistant"))


def _ours(record: logging.LogRecord) -> bool:
    return record.pathname.startswith(APP_CODE)


def _our_frames(exc: BaseException) -> list[str]:
    frames = traceback.extract_tb(exc.__traceback__)
    return [f"{frame.filename}:{frame.lineno}" for frame in frames if frame.filename.startswith(APP_CODE)]


def bolt_cannot_route(body: dict[str, Any]) -> bool:
    """Shapes on which Bolt 1.30 raises in its own middleware chain, before any code of this app
    runs: its kwargs builder reads `body["actions"][0]` for every middleware (so no middleware of
    ours could intercept), and IgnoringSelfEvents calls `.get` on `body["event"]`."""
    if "event" in body and not isinstance(body["event"], dict):
        return True
    if body.get("type") == "block_actions" and "actions" in body:
        actions = body["actions"]
        return not (isinstance(actions, list) and actions and isinstance(actions[0], dict) and "action_id" in actions[0])
    return False


def open_thread(sim: SlackSimulator, user_id: str) -> Thread:
    """An assistant thread in the user's DM as Slack creates it (root message included), without
    sending assistant_thread_started."""
    with sim.state.mutate():
        dm = sim._dm_channel(user_id)
        thread_ts = sim.state.next_ts()
        dm.messages.append(payloads.assistant_thread_root(sim.workspace, ts=thread_ts, title="Fuzzing"))
    return Thread(user_id, dm.id, thread_ts)


@dataclass
class Outcome:
    calls: list[ApiCall]
    records: list[logging.LogRecord]
    # Bolt raised before any listener ran (see bolt_cannot_route / AsyncBoltRequest): what and where.
    rejected_by_bolt: str | None = None

    def calls_to(self, *methods: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method in methods]

    @property
    def errors(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno >= logging.ERROR]

    @property
    def our_warnings(self) -> list[logging.LogRecord]:
        return [r for r in self.records if _ours(r)]


@dataclass
class FuzzBot:
    """The assistant as app.py builds it, driven by direct dispatch on its own event loop."""

    sim: SlackSimulator
    runner: asyncio.Runner
    app: Any
    services: Any
    capture: Capture = field(default_factory=Capture)

    def open_thread(self, user_id: str) -> Thread:
        return open_thread(self.sim, user_id)

    def dispatch(self, body: dict[str, Any]) -> Outcome:
        return self.runner.run(self._dispatch(body))

    async def _dispatch(self, body: dict[str, Any]) -> Outcome:
        try:
            # What the Socket Mode adapter does with each envelope's payload.
            request = AsyncBoltRequest(body=body, mode="socket_mode")
        except Exception as exc:
            assert not _our_frames(exc), traceback.format_exc()
            return Outcome([], [], rejected_by_bolt=f"{type(exc).__name__} building the request")
        calls_before = len(self.sim.state.calls())
        self.capture.records = []
        tasks_before = asyncio.all_tasks()
        await self.app.async_dispatch(request)
        # Events are acked first and their listener runs in a task of its own: wait for it.
        started = asyncio.all_tasks() - tasks_before - {asyncio.current_task()}
        if started:
            _, pending = await asyncio.wait(started, timeout=20)
            assert not pending, "a listener did not finish within 20 s"
        outcome = Outcome(self.sim.state.calls()[calls_before:], list(self.capture.records))
        bolt_errors = [r for r in outcome.errors if r.getMessage().startswith("Failed to run a middleware function")]
        if bolt_errors and bolt_cannot_route(body):
            for record in bolt_errors:
                assert record.exc_info and not _our_frames(record.exc_info[1]), record.getMessage()
            outcome.records = [r for r in outcome.records if r not in bolt_errors]
            outcome.rejected_by_bolt = f"{type(bolt_errors[0].exc_info[1]).__name__} in Bolt's middleware chain"
        return outcome


class EndlessOk(ScriptedModel):
    """A ScriptedModel that always has one more "ok" to say."""

    async def _next_resolved_step(self, call):  # type: ignore[override]
        if not self.remaining_steps:
            self.enqueue(ModelStep(output=[assistant_message("ok")]))
        return await super()._next_resolved_step(call)


@pytest.fixture
def fuzz_bot(slack_sim: SlackSimulator, tmp_path: Path) -> Iterator[FuzzBot]:
    """Like `connect_assistant`, minus Socket Mode: the built app, dispatched into directly."""
    settings = load_settings(sim_environment(slack_sim, tmp_path, **UNLIMITED))
    store = build_state_store(settings.storage)
    with asyncio.Runner() as runner:
        services = runner.run(bot.open_services(settings, store, scripted_agent(EndlessOk())))
        fuzz = FuzzBot(slack_sim, runner, bot.build_app(settings, services), services)
        root = logging.getLogger()
        root.addHandler(fuzz.capture)
        try:
            yield fuzz
        finally:
            root.removeHandler(fuzz.capture)
            runner.run(store.close())


def check_common(outcome: Outcome, payload: Any, replied: bool) -> None:
    assert not outcome.errors, [f"{r.name}: {r.getMessage()[:300]}" for r in outcome.errors]
    if not replied:
        assert len(outcome.our_warnings) <= 1, [r.getMessage()[:200] for r in outcome.our_warnings]
    text = text_of(payload)
    if text is not None:
        assert not any(text in r.getMessage() for r in outcome.our_warnings), "user text reached the logs"


def test_an_unusable_payload_is_logged_once_by_field_never_by_value(fuzz_bot, slack_sim):
    alice = slack_sim.add_user(name="alice")
    thread = fuzz_bot.open_thread(alice.id)
    secret = "my password is hunter2"
    started = thread_event("assistant_thread_started", thread, None, None)
    del started["assistant_thread"]["thread_ts"]
    message = {**message_event("user", thread, secret, ""), "thread_ts": 5}
    click = feedback_click(thread, "sideways:" + secret, f"{slack_sim.base_url}/response/x")
    expected = [
        "Ignoring an unusable assistant_thread_started event: assistant_thread.thread_ts is missing",
        "Ignoring a message event in an assistant thread: event.thread_ts is a number, not a string",
        "Ignoring a feedback click (block_actions): actions[0].value is not a feedback button value",
    ]
    bodies = [payloads.event_callback(slack_sim.workspace, started), payloads.event_callback(slack_sim.workspace, message), click]
    for body, line in zip(bodies, expected):
        outcome = fuzz_bot.dispatch(body)
        assert [r.getMessage() for r in outcome.records] == [line]
        assert [c.method for c in outcome.calls if c.method.startswith(("chat.", "assistant."))] == []


def test_message_events_through_the_app(fuzz_bot, slack_sim):
    alice = slack_sim.add_user(name="alice")
    thread = fuzz_bot.open_thread(alice.id)
    seen: Counter[str] = Counter()

    @FUZZ
    @given(event=message_events(thread, protected=("type",)))
    def check(event):
        outcome = fuzz_bot.dispatch(payloads.event_callback(slack_sim.workspace, event))
        replies = outcome.calls_to(*REPLY_METHODS)
        check_common(outcome, event, bool(replies))
        if not_a_user_message(event):
            assert replies == [], "replied to a message that is not a user's"
        for call in replies:
            assert (call.params.get("channel"), call.params.get("thread_ts")) == (event["channel"], event["thread_ts"])
        assert len(outcome.calls_to("chat.startStream")) <= 1
        seen[outcome.rejected_by_bolt or ("answered" if outcome.calls_to("chat.startStream") else "ignored")] += 1

    check()
    assert sum(seen.values()) >= EXAMPLES
    assert seen["answered"] >= EXAMPLES // 20, seen  # the fuzz must reach the answer pipeline too
    print(f"message: {dict(seen)}")


@pytest.mark.parametrize("event_type", ["assistant_thread_started", "assistant_thread_context_changed"])
def test_assistant_thread_events_through_the_app(fuzz_bot, slack_sim, event_type):
    alice = slack_sim.add_user(name="alice")
    thread = fuzz_bot.open_thread(alice.id)
    greeting = fuzz_bot.services.settings.greeting
    seen: Counter[str] = Counter()

    @FUZZ
    @given(event=thread_events(event_type, thread, protected=("type",)))
    def check(event):
        outcome = fuzz_bot.dispatch(payloads.event_callback(slack_sim.workspace, event))
        posts = outcome.calls_to("chat.postMessage")
        check_common(outcome, event, bool(posts))
        assert outcome.calls_to("chat.startStream") == []
        if event_type == "assistant_thread_context_changed":
            assert [c.method for c in outcome.calls if c.method.startswith(("chat.", "assistant."))] == []
        assert len(posts) <= 1
        for call in posts:
            raw = event["assistant_thread"]
            assert (call.params.get("channel"), call.params.get("thread_ts")) == (raw["channel_id"], raw["thread_ts"])
            assert call.params.get("text") == greeting
        seen[outcome.rejected_by_bolt or ("greeted" if posts and posts[0].ok else "quiet")] += 1

    check()
    assert sum(seen.values()) >= EXAMPLES
    print(f"{event_type}: {dict(seen)}")


def test_feedback_clicks_through_the_app(fuzz_bot, slack_sim):
    alice = slack_sim.add_user(name="alice")
    thread = fuzz_bot.open_thread(alice.id)
    seen: Counter[str] = Counter()

    @FUZZ
    @given(body=block_actions(thread, f"{slack_sim.base_url}/response/fuzz", protected=("type",)))
    def check(body):
        outcome = fuzz_bot.dispatch(body)
        check_common(outcome, body, False)
        assert outcome.calls_to(*REPLY_METHODS) == []
        thanks = outcome.calls_to("chat.postEphemeral")
        assert len(thanks) <= 1
        for call in thanks:
            assert call.params.get("user") == body["user"]["id"]
        seen[outcome.rejected_by_bolt or ("thanked" if thanks else "ignored")] += 1

    check()
    assert sum(seen.values()) >= EXAMPLES
    print(f"block_actions: {dict(seen)}")


# ---------------------------------------------------------------------------------- over Socket Mode


def draw_examples(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` derandomized examples of `strategy`, for tests that send them one by one."""
    found: list[Any] = []

    @settings(FUZZ, max_examples=count, phases=[Phase.generate])
    @given(strategy)
    def collect(value):
        found.append(value)

    collect()
    return found


def acked_by_the_app(body: dict[str, Any]) -> bool:
    """Whether the app acknowledges this payload. Not: those Bolt cannot build a request from or
    route (counted in the tests above), and clicks on actions other than ours, which Bolt leaves
    unacknowledged as "unhandled" by design."""
    try:
        AsyncBoltRequest(body=body, mode="socket_mode")
    except Exception:
        return False
    if bolt_cannot_route(body):
        return False
    if body.get("type") != "block_actions":
        return True
    return "actions" in body and body["actions"][0]["action_id"] == FEEDBACK_ACTION_ID


@pytest.fixture
def captured() -> Iterator[Capture]:
    capture = Capture()
    logging.getLogger().addHandler(capture)
    try:
        yield capture
    finally:
        logging.getLogger().removeHandler(capture)


async def test_a_sample_over_socket_mode_is_acked_and_never_answered(slack_sim, connect_assistant, captured):
    alice = slack_sim.add_user(name="alice")
    thread = open_thread(slack_sim, alice.id)
    # Drawn before connecting: drawing blocks the event loop the app's Socket Mode client shares.
    events = [e for e in draw_examples(message_events(thread, protected=("type",)), SOCKET_MODE_SAMPLE) if not_a_user_message(e)]
    for event_type in ("assistant_thread_started", "assistant_thread_context_changed"):
        events += draw_examples(thread_events(event_type, thread, protected=("type",)), SOCKET_MODE_SAMPLE)
    bodies = [("events_api", payloads.event_callback(slack_sim.workspace, e)) for e in events]
    clicks = draw_examples(block_actions(thread, f"{slack_sim.base_url}/response/fuzz", protected=("type",)), SOCKET_MODE_SAMPLE)
    bodies += [("interactive", body) for body in clicks]
    bodies = [(kind, body) for kind, body in bodies if acked_by_the_app(body)]
    question_text = "Still there? <@U0123ABCD> see <#C0123ABCD|general> and <https://example.com|this>"

    async with connect_assistant(agent=scripted_agent(EndlessOk()), **UNLIMITED) as services:
        for kind, body in bodies:
            await slack_sim.wait_for_ack(await slack_sim.deliver(kind, body))
        # Then a real question: still answered, and the only answer in this test.
        real = AssistantThread(alice.id, thread.channel_id, thread.thread_ts, None, "")
        await slack_sim.user_says(real, question_text)
        await wait_for_answers(slack_sim, real)
        question = services.agent.model.last_call.input[-1]["content"]

    calls = slack_sim.state.calls()
    assert len(bodies) >= 3 * SOCKET_MODE_SAMPLE, len(bodies)
    assert [r.getMessage() for r in captured.records if r.levelno >= logging.ERROR] == []
    assert len([c for c in calls if c.method == "chat.startStream"]) == 1
    greeting = services.settings.greeting
    assert all(c.params.get("text") == greeting for c in calls if c.method == "chat.postMessage"), "only greetings were posted"
    assert question == question_text, "mentions and links reach the model unchanged"
    print(f"socket mode: {len(bodies)} envelopes acked")
