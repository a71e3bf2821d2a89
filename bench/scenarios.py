"""The benchmark's scenarios: each starts what it needs, measures, and stops it again.

Everything runs on 127.0.0.1: the Slack simulator (`tests/e2e/slack_sim`) and the fake model
upstream (`tests/support/fake_openai.py`) in this process (threads with their own event loops,
all stamping `time.monotonic()`, the clock the bot's process shares), optionally the real
LiteLLM proxy in front of the upstream, and the bot as a fresh subprocess per scenario.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bench.metrics import median, summary, to_ms
from bench.processes import ROOT, BotProcess, bot_environment, code_fingerprint
from tests.e2e.slack_sim.models import AssistantThread, SentMessage
from tests.e2e.slack_sim.simulator import SlackSimulator
from tests.support.fake_openai import FakeOpenAIServer, Reply, split_tokens

MODEL = "openai/gpt-4"  # the bot's default ASSISTANT_MODEL
DIRECT_KEY = "sk-bench-direct"
CONNECT_TIMEOUT_SECONDS = 60.0
GREETING_TIMEOUT_SECONDS = 90.0
QUIET_SECONDS = 0.3  # no Web API call for this long: the greetings are over
QUIET_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.1
WARMUP_QUESTION = "[warmup] Say hello."
WARMUP_TIMEOUT_SECONDS = 30.0
SEND_BATCH = 100  # thread openings per batch while setting a level up
NOTICE_EVENT = "assistant_notice"  # assistant.conversation.NOTICE_EVENT (not imported: it pulls in litellm)
# The Web API methods that carry an answer's text.
ANSWER_METHODS = ("chat.startStream", "chat.appendStream", "chat.stopStream", "chat.postMessage", "chat.update")
MARKER = re.compile(r"\[bq(\d+)\]")
# The bot's failure notices start with one of these (assistant/answer_pipeline.py, assistant/errors.py);
# the baseline puts its notice at the end of the stream instead of in a message of its own.
NOTICE_EMOJI = re.compile(r":(warning|black_square_for_stop|hourglass|fast_forward|no_entry|lock|x):")

# ---------------------------------------------------------------------------------------- texts

_WORDS = (
    "the a to of and in is it you that for on with as are this be at or by one have not but from can we all "
    "your an which more when will use each how set new data time call bot reply model text token limit rate "
    "user message thread stream answer queue order send wait fast slow small big first last next per plan"
).split()


def reply_text(index: int, tokens: int) -> str:
    """A distinct, deterministic answer of `tokens` word-sized tokens (the fake's `split_tokens`),
    about four characters a token like English text, in sentences and paragraphs."""
    rng = random.Random(index * 7919 + tokens)
    parts = [f"Answer {index}: "]
    sentence = 0
    while len(parts) < tokens + 1:
        length = rng.randint(6, 14)
        words = [rng.choice(_WORDS) for _ in range(length)]
        words[0] = words[0].capitalize()
        sentence += 1
        end = ".\n\n" if sentence % 4 == 0 else ". "
        parts.extend(f"{w} " for w in words[:-1])
        parts.append(words[-1] + end)
    text = "".join(split_tokens("".join(parts))[:tokens]).rstrip()
    return text


def question_text(index: int) -> str:
    return f"[bq{index}] Please explain topic number {index} in some detail."


# ------------------------------------------------------------------------------------- harness


@dataclass(frozen=True)
class LevelSpec:
    """One measured run: `threads` users each ask once in their own assistant thread."""

    name: str
    threads: int
    tokens: int
    token_delay: float
    first_token_delay: float
    timeout: float
    sequential: bool = False  # one question at a time (latency), else all at once
    # One unmeasured question first, so a fresh process's first-call costs (litellm's lazy
    # imports, connection set-up) are not charged to the level. Sequential runs skip it and
    # report their first question separately instead.
    warmup: bool = True


class Harness:
    """The fake upstream (one for the whole benchmark) and, on demand, the LiteLLM proxy."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        # The bot checks at start that the proxy lists its model; called directly, the fake must.
        self.upstream = FakeOpenAIServer(model_ids=(MODEL, "gpt-4"))
        self.proxy: Any = None
        self.proxy_start_seconds: float | None = None

    def __enter__(self) -> Harness:
        self.upstream.start()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.proxy is not None:
                self.proxy.stop()
        finally:
            self.upstream.stop()

    def start_proxy(self) -> None:
        from tests.support.litellm_proxy import LiteLLMProxy

        proxy = LiteLLMProxy(self.upstream.base_url, self.workdir / "litellm-proxy")
        self.proxy = proxy  # set first, so that __exit__ stops a half-started one
        proxy.start()
        self.proxy_start_seconds = proxy.startup_seconds

    def llm(self, route: str) -> tuple[str, str]:
        """(LITELLM_PROXY_URL, LITELLM_API_KEY) for `route`: "direct" (the fake upstream as the
        proxy: the bot sends `POST /chat/completions`, model openai/gpt-4, and checks
        `GET /v1/models`) or "proxy" (the real LiteLLM proxy in front of it)."""
        if route == "proxy":
            return self.proxy.url + "/", self.proxy.master_key
        return self.upstream.base_url.removesuffix("/v1") + "/", DIRECT_KEY


@contextlib.contextmanager
def simulator() -> Iterator[SlackSimulator]:
    sim = SlackSimulator(connect_timeout=30.0).start()
    try:
        yield sim
    finally:
        sim.stop()


def _env_for(sim: SlackSimulator, harness: Harness, route: str, data_dir: Path, **extra: str) -> dict[str, str]:
    url, key = harness.llm(route)
    return bot_environment(
        slack_api_url=sim.api_url,
        bot_token=sim.workspace.bot_token,
        app_token=sim.workspace.app_token,
        llm_url=url,
        llm_key=key,
        data_dir=data_dir,
        **extra,
    )


async def _wait_connected(sim: SlackSimulator, bot: BotProcess, known: set[str], timeout: float) -> Any:
    """The bot's new Socket Mode connection record, or an exception saying why not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = [c for c in sim.state.connection_records() if c.connection_id not in known]
        if new:
            return new[0]
        if not bot.alive():
            raise RuntimeError(f"the bot exited with code {bot.process.returncode}:\n{bot.log_tail()}")
        await asyncio.sleep(0.01)
    raise TimeoutError(f"the bot did not connect within {timeout:.0f}s:\n{bot.log_tail()}")


async def _wait_quiet(sim: SlackSimulator, quiet: float = QUIET_SECONDS, timeout: float = QUIET_TIMEOUT_SECONDS) -> None:
    """Until no Web API call arrived for `quiet` seconds (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        calls = sim.state.calls()
        last = calls[-1].at if calls else 0.0
        if time.monotonic() - last >= quiet:
            return
        await asyncio.sleep(quiet / 3)


# ------------------------------------------------------------------------------------ sim RTT


async def simulator_round_trip(samples: int = 50) -> dict[str, Any]:
    """Median time of a trivial Web API call (auth.test) from this process to the simulator."""
    with simulator() as sim:
        client = AsyncWebClient(token=sim.workspace.bot_token, base_url=sim.api_url)
        times = []
        for _ in range(samples + 5):
            started = time.monotonic()
            await client.auth_test()
            times.append(time.monotonic() - started)
        times = times[5:]  # the first calls open the connection
        return {"samples": samples, "median_ms": median(to_ms(times)), **{k: v for k, v in summary(to_ms(times)).items() if k != "n"}}


# ----------------------------------------------------------------------------------- one level


async def run_level(
    harness: Harness, spec: LevelSpec, strategy: str, route: str, workdir: Path, profile_path: Path | None = None
) -> dict[str, Any]:
    """Start a fresh bot, open `spec.threads` assistant threads (greeted, limits off), switch
    Slack's rate limits on, ask every thread its question, wait (bounded) for the answers."""
    result: dict[str, Any] = {"spec": asdict(spec), "strategy": strategy, "route": route}
    upstream = harness.upstream
    upstream.reset()
    expected = {i: reply_text(i, spec.tokens) for i in range(spec.threads)}
    upstream.enqueue(
        Reply(text=reply_text(10**6, 30), when_last_user_says=WARMUP_QUESTION),
        *(
            Reply(
                text=expected[i],
                first_token_delay=spec.first_token_delay,
                token_delay=spec.token_delay,
                when_last_user_says=f"[bq{i}]",
            )
            for i in range(spec.threads)
        )
    )
    with simulator() as sim:
        users = [sim.add_user(name=f"bench{i}") for i in range(spec.threads)]
        env = _env_for(sim, harness, route, workdir / "data", **({"BENCH_STRATEGY": "baseline"} if strategy == "baseline" else {}))
        result["code"] = code_fingerprint()
        bot = BotProcess.runner(env, workdir, profile_path)
        try:
            await _wait_connected(sim, bot, set(), CONNECT_TIMEOUT_SECONDS)
            warmup_user = sim.add_user(name="bench-warmup") if spec.warmup else None
            opened = await _open_threads(sim, [u.id for u in users] + ([warmup_user.id] if warmup_user else []))
            threads = opened[: spec.threads]
            await _wait_quiet(sim)
            if warmup_user is not None:
                await sim.user_says(opened[-1], WARMUP_QUESTION)
                if not await _wait_answers(bot, 1, time.monotonic() + WARMUP_TIMEOUT_SECONDS):
                    raise TimeoutError("the warm-up question was not answered")
                await _wait_quiet(sim)
            sim.enable_rate_limits()
            result.update(await _ask(sim, bot, spec, threads, expected, already_answered=1 if warmup_user else 0))
            result["upstream"] = _upstream_times(upstream, spec)
        except Exception as exc:  # one failed level is reported, the benchmark goes on
            result["error"] = f"{type(exc).__name__}: {exc}"[:4000]
        finally:
            stopped = await bot.stop()
            result["exit_code"] = stopped
            upstream.reset()
    if result.get("stats_snapshot", "ok") != "ok" and "_window" in result:
        # No snapshot in time: the stats the bot wrote when it exited cover the window too.
        final = bot.final_stats()
        if final is not None:
            result.update(stats_in_window(final, *result["_window"], spec.threads))
            result["stats_snapshot"] += "; figures from the stats written at exit"
    return result


async def _open_threads(sim: SlackSimulator, user_ids: list[str]) -> list[AssistantThread]:
    """Users open the assistant (assistant_thread_started) and are greeted, before measuring."""
    threads: list[AssistantThread] = []
    for start in range(0, len(user_ids), SEND_BATCH):
        batch = user_ids[start : start + SEND_BATCH]
        threads += await asyncio.gather(*(sim.start_assistant_thread(u) for u in batch))
    wanted = {t.thread_ts for t in threads}
    deadline = time.monotonic() + GREETING_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        greeted = {c.params.get("thread_ts") for c in sim.state.calls("chat.postMessage") if c.ok}
        if wanted <= greeted:
            return threads
        await asyncio.sleep(POLL_SECONDS)
    raise TimeoutError(f"only {len(wanted & greeted)} of {len(wanted)} threads were greeted")


async def _ask(
    sim: SlackSimulator,
    bot: BotProcess,
    spec: LevelSpec,
    threads: list[AssistantThread],
    expected: dict[int, str],
    already_answered: int,
) -> dict[str, Any]:
    cpu_before = bot.cpu_seconds()
    bench_cpu_before = time.process_time()
    t0 = time.monotonic()
    deadline = t0 + spec.timeout
    sent: dict[int, SentMessage] = {}
    timed_out = False
    if spec.sequential:
        for i, thread in enumerate(threads):
            sent[i] = await sim.user_says(thread, question_text(i))
            if not await _wait_answers(bot, already_answered + i + 1, deadline):
                timed_out = True
                break
    else:
        messages = await asyncio.gather(*(sim.user_says(t, question_text(i)) for i, t in enumerate(threads)))
        sent = dict(enumerate(messages))
        timed_out = not await _wait_answers(bot, already_answered + len(threads), deadline)
    t_end = time.monotonic()
    cpu_after = bot.cpu_seconds()
    bench_cpu_after = time.process_time()
    peak_rss_kb = bot.status_kb("VmHWM")
    log_offset = _size(bot.log_path)
    stats = await bot.snapshot_stats()
    stuck = None
    if stats is None:
        # The loop did not get to the snapshot within seconds: show where the bot's threads are.
        stuck = _main_thread_stack(await bot.dump_stacks())

    measured = _measure_slack(sim, spec, threads, sent, expected, t0, t_end)
    return {
        **measured,
        **stats_in_window(stats, t0, t_end, len(threads)),
        "timed_out": timed_out,
        "window_seconds": t_end - t0,
        "bot_cpu_seconds": None if cpu_before is None or cpu_after is None else cpu_after - cpu_before,
        "bot_cpu_ms_per_question": (
            None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) * 1000 / len(threads)
        ),
        "bench_cpu_share": (bench_cpu_after - bench_cpu_before) / max(t_end - t0, 1e-9),
        "peak_rss_mb": None if peak_rss_kb is None else peak_rss_kb / 1024,
        "bot_log": summarize_log(bot.log_path, end=log_offset),
        "stats_snapshot": "ok" if stats is not None else "no answer to SIGUSR1 within seconds (event loop stuck)",
        "stuck_stack": stuck,
        "_window": (t0, t_end),
    }


def stats_in_window(stats: dict[str, Any] | None, t0: float, t_end: float, questions: int) -> dict[str, Any]:
    """Answers finished and event-loop lag within [t0, t_end], from the runner's stats."""
    answers_ended = [t for t in (stats or {}).get("answers_ended", []) if t0 <= t <= t_end]
    lag = [ms for t, ms in (stats or {}).get("lag", []) if t0 <= t <= t_end]
    finished = len(answers_ended)
    return {
        "answers_finished": finished if stats is not None else None,
        "wall_seconds": (max(answers_ended) - t0) if answers_ended and finished >= questions else t_end - t0,
        "loop_lag_ms": summary(lag) if stats is not None else None,
    }


async def _wait_answers(bot: BotProcess, count: int, deadline: float) -> bool:
    """Until the bot finished `count` answers (the runner's progress file); False at the deadline."""
    while time.monotonic() < deadline:
        if bot.progress().get("finished", 0) >= count:
            return True
        if not bot.alive():
            raise RuntimeError(f"the bot exited with code {bot.process.returncode}:\n{bot.log_tail()}")
        await asyncio.sleep(POLL_SECONDS)
    return bot.progress().get("finished", 0) >= count


def _main_thread_stack(dump: str, lines: int = 14) -> list[str] | None:
    """The innermost frames of the main thread in a faulthandler dump (most recent call first)."""
    blocks = dump.split("\n\n")
    main = next((b for b in blocks if "(most recent call first)" in b and "Current thread" in b), None)
    main = main or next((b for b in blocks if "Thread" in b and "(most recent call first)" in b), None)
    if main is None:
        return None
    return [line.strip() for line in main.splitlines()[1 : lines + 1]]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (WARNING|ERROR|CRITICAL) (.*)$")
_VARIABLE = re.compile(r"\b\d+(\.\d+)?(ms|s)?\b|\b[A-Z][A-Z0-9]{8,}\b")


def summarize_log(path: Path, *, end: int, top: int = 6) -> list[dict[str, Any]]:
    """The bot's warnings and errors up to byte `end` (the end of the measured window), as
    patterns (numbers and ids blanked) with counts, most frequent first."""
    try:
        with path.open("rb") as log:
            text = log.read(end).decode("utf-8", errors="replace")
    except OSError:
        return []
    patterns: Counter[str] = Counter()
    for line in text.splitlines():
        found = _LOG_LINE.match(line)
        if found:
            patterns[f"{found.group(1)} {_VARIABLE.sub('N', found.group(2))[:160]}"] += 1
    return [{"pattern": pattern, "count": count} for pattern, count in patterns.most_common(top)]


def _ts_key(ts: str) -> tuple[int, ...]:
    return tuple(int(part) for part in str(ts).split("."))


def call_text(params: dict[str, Any]) -> str:
    """The text a Web API call carries: markdown_text, text, or markdown chunks."""
    parts = [params[key] for key in ("markdown_text", "text") if isinstance(params.get(key), str)]
    chunks = params.get("chunks")
    if isinstance(chunks, list):
        parts += [str(c.get("text", "")) for c in chunks if isinstance(c, dict)]
    return "".join(parts)


def _is_notice(params: dict[str, Any]) -> bool:
    metadata = params.get("metadata")
    return isinstance(metadata, dict) and metadata.get("event_type") == NOTICE_EVENT


def _measure_slack(
    sim: SlackSimulator,
    spec: LevelSpec,
    threads: list[AssistantThread],
    sent: dict[int, SentMessage],
    expected: dict[int, str],
    t0: float,
    t_end: float,
) -> dict[str, Any]:
    """What Slack saw in the window: acks, statuses, first text, final texts, calls and 429s."""
    state = sim.state
    index_of = {t.thread_ts: i for i, t in enumerate(threads)}
    sent_at: dict[int, float] = {}
    acks: list[float] = []
    for i, message in sent.items():
        record = state.envelope(message.envelope_id)
        if record is None:
            continue
        sent_at[i] = record.sent_at
        if record.ack_latency is not None:
            acks.append(record.ack_latency)

    # Final texts and how each thread ended.
    ts_thread: dict[str, int] = {}
    streams = {r.ts: r for r in state.stream_records()}
    exact, notices, open_streams, empty, wrong = 0, 0, 0, 0, []
    shown_shares: list[float] = []
    for i, thread in enumerate(threads):
        if i not in sent:
            continue
        after = [
            m
            for m in state.bot_replies(thread.channel_id, thread.thread_ts)
            if _ts_key(m["ts"]) > _ts_key(sent[i].ts)
        ]
        answers = [m for m in after if (m.get("metadata") or {}).get("event_type") != NOTICE_EVENT]
        for m in after:
            ts_thread[m["ts"]] = i
        still_open = any(streams[m["ts"]].state == "streaming" for m in answers if m["ts"] in streams)
        open_streams += still_open
        text = "".join(str(m.get("text", "")) for m in sorted(answers, key=lambda m: _ts_key(m["ts"])))
        notices += len(answers) < len(after) or bool(NOTICE_EMOJI.search(text))
        shown = len(os.path.commonprefix([text, expected[i]]))
        shown_shares.append(shown / len(expected[i]))
        empty += shown == 0
        if text == expected[i] and not still_open:
            exact += 1
        elif len(wrong) < 3:
            wrong.append(
                {"thread": i, "chars": len(text), "expected_chars": len(expected[i]), "open": still_open, "tail": text[-120:]}
            )

    # Calls in the window, by method; the first answer text each thread showed.
    calls = [c for c in state.calls() if t0 <= c.at <= t_end]
    by_method: dict[str, Counter[str]] = defaultdict(Counter)
    first_text: dict[int, float] = {}
    # Threads whose first words came before the whole answer (streamed or edited, not posted whole).
    progressive: set[int] = set()
    for call in calls:
        counts = by_method[call.method]
        counts["calls"] += 1
        counts["ok"] += call.ok
        counts["429"] += call.http_status == 429
        if call.method not in ANSWER_METHODS or not call.ok or _is_notice(call.params):
            continue
        i = index_of.get(str(call.params.get("thread_ts"))) if call.params.get("thread_ts") else None
        if i is None:
            i = ts_thread.get(str(call.params.get("ts")))
        text = call_text(call.params)
        if i is not None and text and text in expected[i] and i not in first_text:
            first_text[i] = call.at
            if text != expected[i]:
                progressive.add(i)

    statuses: dict[int, float] = {}
    for i, thread in enumerate(threads):
        for update in state.statuses(thread.channel_id, thread.thread_ts):
            if update.status and not update.cleared_by_reply and i in sent_at and update.at >= sent_at[i]:
                statuses[i] = update.at
                break

    n = len(threads)
    methods = {m: dict(c) for m, c in sorted(by_method.items())}
    answer_429 = sum(methods.get(m, {}).get("429", 0) for m in ANSWER_METHODS)
    return {
        "questions": n,
        "questions_sent": len(sent),
        "exact": exact,
        "with_notice": notices,
        "no_answer_text": empty,
        "answer_shown_share": sum(shown_shares) / len(shown_shares) if shown_shares else None,
        "shown_while_written": len(progressive),
        "streams_left_open": open_streams,
        "inexact_examples": wrong,
        "ack_ms": summary(to_ms(acks)),
        "_sent_at": sent_at,
        "_status_at": statuses,
        "_first_text_at": first_text,
        "calls": methods,
        "calls_per_question": {m: c["calls"] / n for m, c in methods.items()},
        "answer_calls_per_question": sum(methods.get(m, {}).get("calls", 0) for m in ANSWER_METHODS) / n,
        "http_429": sum(c.get("429", 0) for c in methods.values()),
        "answer_429": answer_429,
    }


def _upstream_times(upstream: FakeOpenAIServer, spec: LevelSpec) -> dict[str, Any]:
    """When the upstream sent each answer's first token, and how fast it streamed."""
    first_chunk: dict[int, float] = {}
    rates = []
    for request in upstream.requests:
        if not request.path.endswith("/chat/completions") or request.first_chunk_at is None:
            continue
        messages = (request.json or {}).get("messages") or []
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        found = MARKER.search(str(users[-1].get("content"))) if users else None
        if found is None:
            continue
        i = int(found.group(1))
        first_chunk[i] = min(first_chunk.get(i, request.first_chunk_at), request.first_chunk_at)
        if request.last_chunk_at is not None and request.last_chunk_at > request.first_chunk_at:
            rates.append((spec.tokens - 1) / (request.last_chunk_at - request.first_chunk_at))
    return {"requests": len(upstream.requests), "first_chunk_at": first_chunk, "tokens_per_second": summary(rates)}


def _gaps_ms(later: dict[int, float], earlier: dict[int, float], skip: set[int]) -> list[float]:
    return [(later[i] - earlier[i]) * 1000.0 for i in later if i in earlier and i not in skip]


def finalize(result: dict[str, Any]) -> dict[str, Any]:
    """Latency summaries from the per-thread times; the raw times are dropped (small JSON).

    - status: message sent → first "is thinking…" status the bot set for the thread;
    - first text: message sent → the first Web API call that put answer text in the thread;
    - overhead: that first text − the upstream writing the answer's first token.
    A sequential run reports its first question (the first after the bot started) apart.
    """
    sent = result.pop("_sent_at", None) or {}
    status = result.pop("_status_at", None) or {}
    first_text = result.pop("_first_text_at", None) or {}
    first_chunk = (result.get("upstream") or {}).pop("first_chunk_at", None) or {}
    result.pop("_window", None)
    if not sent:
        return result
    skip = {0} if result["spec"].get("sequential") else set()
    result["status_ms"] = summary(_gaps_ms(status, sent, skip))
    result["first_text_ms"] = summary(_gaps_ms(first_text, sent, skip))
    result["overhead_ms"] = summary(_gaps_ms(first_text, first_chunk, skip))
    result["upstream_first_token_ms"] = summary(_gaps_ms(first_chunk, sent, skip))
    if skip:
        result["first_question"] = {
            "status_ms": next(iter(_gaps_ms({0: status[0]}, sent, set())), None) if 0 in status else None,
            "first_text_ms": next(iter(_gaps_ms({0: first_text[0]}, sent, set())), None) if 0 in first_text else None,
            "overhead_ms": next(iter(_gaps_ms({0: first_text[0]}, first_chunk, set())), None) if 0 in first_text else None,
        }
    return result


# --------------------------------------------------------------------------------- CPU profile

# (label, file path ending, function names): entry points whose cumulative time is reported.
PROFILE_ENTRY_POINTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Model stream, all of it (Agents SDK `LitellmModel.stream_response`)", "agents/extensions/models/litellm_model.py", ("stream_response",)),
    ("… of which LiteLLM's stream wrapper and openai's SSE decoding (`ProxyLitellmModel` stream `__anext__`)", "assistant/proxy_model.py", ("__anext__",)),
    ("Slack Web API calls (slack_sdk `AsyncBaseClient.api_call`)", "slack_sdk/web/async_base_client.py", ("api_call",)),
    ("Answer stream to Slack (`AnswerStream.append` + `finish`)", "assistant/answer_stream.py", ("append", "finish")),
    ("Thread lease watch (`thread_turn._watch`)", "assistant/thread_turn.py", ("_watch",)),
    ("State store calls, loop side (`SqliteDatabase._run`)", "assistant/storage/sqlite_database.py", ("_run",)),
    ("Socket Mode envelopes into Bolt (slack_sdk `run_message_listeners`)", "slack_sdk/socket_mode/async_client.py", ("run_message_listeners",)),
    ("Bolt listener dispatch (`run_ack_function`)", "slack_bolt/listener/async_listener.py", ("run_ack_function",)),
)


def profile_breakdown(path: Path) -> dict[str, Any]:
    """Where the bot's event loop spent its busy time (cProfile, main thread), by entry point.
    Cumulative times overlap (a Slack call made by the answer stream counts in both)."""
    import pstats

    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    run_once = idle = 0.0
    totals = {label: 0.0 for label, _, _ in PROFILE_ENTRY_POINTS}
    for (filename, _line, name), (_cc, _nc, tottime, cumtime, _callers) in stats.items():
        if filename.endswith("asyncio/base_events.py") and name == "_run_once":
            run_once += cumtime
        if name == "<method 'poll' of 'select.epoll' objects>":
            idle += tottime
        for label, ending, names in PROFILE_ENTRY_POINTS:
            if filename.endswith(ending) and name in names:
                totals[label] += cumtime
    busy = max(run_once - idle, 1e-9)
    return {
        "loop_busy_s": busy,
        "loop_idle_s": idle,
        "entry_points": [{"label": label, "seconds": seconds, "share": seconds / busy} for label, seconds in totals.items()],
    }


async def cpu_profile(harness: Harness, spec: LevelSpec, workdir: Path) -> dict[str, Any]:
    """One level of ours with the bot under cProfile (slower than unprofiled: shares matter here)."""
    path = workdir / "bot.prof"
    result = finalize(await run_level(harness, spec, "ours", "direct", workdir, profile_path=path))
    summary_of_run = {k: result.get(k) for k in ("spec", "exact", "questions", "error", "code")}
    try:
        return {**summary_of_run, **profile_breakdown(path)}
    except (OSError, ValueError, EOFError) as exc:
        return {**summary_of_run, "profile_error": f"{type(exc).__name__}: {exc}"}


# ---------------------------------------------------------------------------------- cold start


async def cold_starts(harness: Harness, count: int, workdir: Path) -> dict[str, Any]:
    """`python app.py` started `count` times: spawn → the simulator sees its Socket Mode
    connection, with the phases the simulator can see (auth.test, apps.connections.open)."""
    runs = []
    code = code_fingerprint()
    for k in range(count):
        with simulator() as sim:
            env = _env_for(sim, harness, "direct", workdir / f"cold-{k}" / "data")
            bot = BotProcess.app(env, workdir / f"cold-{k}")
            try:
                connection = await _wait_connected(sim, bot, set(), CONNECT_TIMEOUT_SECONDS)
                auth = sim.state.calls("auth.test")
                opened = sim.state.calls("apps.connections.open")
                runs.append(
                    {
                        "connected_s": connection.opened_at - bot.spawned_at,
                        "to_auth_test_s": auth[0].at - bot.spawned_at if auth else None,
                        "auth_test_to_connections_open_s": opened[0].at - auth[0].at if auth and opened else None,
                        "connections_open_to_connected_s": connection.opened_at - opened[0].at if opened else None,
                    }
                )
            except Exception as exc:
                runs.append({"error": f"{type(exc).__name__}: {exc}"[:2000]})
            finally:
                await bot.stop()
    ok = [r for r in runs if "error" not in r]

    def med(key: str) -> float | None:
        values = [r[key] for r in ok if r.get(key) is not None]
        return statistics.median(values) if values else None

    return {
        "runs": runs,
        "code": code,
        "count": count,
        "median_connected_s": med("connected_s"),
        "median_to_auth_test_s": med("to_auth_test_s"),
        "median_auth_test_to_connections_open_s": med("auth_test_to_connections_open_s"),
        "median_connections_open_to_connected_s": med("connections_open_to_connected_s"),
    }


IMPORTTIME_LINE = re.compile(r"^import time:\s+(\d+)\s*\|\s*(\d+)\s*\|(\s*)(\S.*)$")


def import_times(top: int = 10) -> dict[str, Any]:
    """`python -X importtime -c "import app"`: the modules with the largest cumulative import time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LITELLM_", "ASSISTANT_", "OPENAI_"))}
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    wall = time.monotonic() - started
    rows = []
    for line in completed.stderr.splitlines():
        found = IMPORTTIME_LINE.match(line)
        if found:
            self_us, cumulative_us, indent, name = found.groups()
            rows.append({"module": name.strip(), "self_ms": int(self_us) / 1000, "cumulative_ms": int(cumulative_us) / 1000, "depth": len(indent) // 2})
    top_level = {r["module"]: r for r in rows if r["depth"] == 0}
    total_ms = sum(r["cumulative_ms"] for r in top_level.values())
    return {
        "returncode": completed.returncode,
        "wall_s": wall,
        "total_import_ms": total_ms,
        "app_cumulative_ms": top_level.get("app", {}).get("cumulative_ms"),
        "top_cumulative": sorted(rows, key=lambda r: -r["cumulative_ms"])[:top],
        "top_self": sorted(rows, key=lambda r: -r["self_ms"])[:top],
    }
