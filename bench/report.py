"""BENCHMARKS.md from the results dict (bench/results.json): no measuring here, only formatting."""

from __future__ import annotations

from typing import Any

from bench.metrics import ratio

ANSWER_METHODS = ("chat.startStream", "chat.appendStream", "chat.stopStream", "chat.postMessage", "chat.update")
SHOWN_METHODS = (
    *ANSWER_METHODS,
    "assistant.threads.setStatus",
    "assistant.threads.setTitle",
    "assistant.threads.setSuggestedPrompts",
    "conversations.replies",
)
STRATEGIES = ("ours", "baseline")
OVERHEAD_SLACK_MS = 20.0
FIRST_TEXT_SPEEDUP = 3.0
ACK_P99_MS = 50.0
LAG_P99_MS = 100.0
RSS_MB = 300.0
COLD_START_S = 3.0


# ------------------------------------------------------------------------------------ formatting


def num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def times(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def stat(result: dict[str, Any] | None, key: str, field: str = "p50", digits: int = 1) -> str:
    return num(_stat(result, key, field), digits)


def _stat(result: dict[str, Any] | None, key: str, field: str = "p50") -> float | None:
    if not result:
        return None
    value = result.get(key)
    return value.get(field) if isinstance(value, dict) else value


def pair(result: dict[str, Any] | None, key: str, digits: int = 1) -> str:
    """p50 / p99 of a summary."""
    return f"{stat(result, key, 'p50', digits)} / {stat(result, key, 'p99', digits)}"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


# ---------------------------------------------------------------------------------------- pieces


def _level(results: dict[str, Any], level: int) -> dict[str, Any] | None:
    for entry in results.get("sweep", []):
        if entry["level"] == level:
            return entry
    return None


def _outcome(result: dict[str, Any] | None) -> str:
    if not result:
        return "not run"
    if "error" in result and "exact" not in result:
        return f"error: {result['error'].splitlines()[0][:80]}"
    return f"{result.get('exact', 0)}/{result.get('questions', 0)}"


def _targets(results: dict[str, Any]) -> list[str]:
    rows: list[list[str]] = []
    rtt = (results.get("sim_round_trip") or {}).get("median_ms")
    latency = (results.get("latency") or {}).get("direct") or _level(results, 1) or {}
    source = "one question at a time" if (results.get("latency") or {}).get("direct") else "the 1-thread level"
    ours, base = latency.get("ours"), latency.get("baseline")

    overhead = _stat(ours, "overhead_ms")
    limit = None if rtt is None else rtt + OVERHEAD_SLACK_MS
    rows.append(
        [
            f"Overhead on first visible text ≤ simulator round trip + {OVERHEAD_SLACK_MS:.0f} ms (p50, direct, {source})",
            f"{num(overhead)} ms (limit {num(limit)} ms; round trip {num(rtt, 2)} ms)",
            verdict(None if overhead is None or limit is None else overhead <= limit),
        ]
    )
    ours_first, base_first = _stat(ours, "first_text_ms"), _stat(base, "first_text_ms")
    speedup = ratio(base_first, ours_first)
    rows.append(
        [
            f"First visible text ≥ {FIRST_TEXT_SPEEDUP:.0f}× sooner than the baseline at 30 tok/s (p50, {source})",
            f"ours {num(ours_first)} ms, baseline {num(base_first)} ms: {times(speedup)} sooner",
            verdict(None if speedup is None else speedup >= FIRST_TEXT_SPEEDUP),
        ]
    )
    entry = _level(results, 200)
    if entry:
        o, b = entry.get("ours") or {}, entry.get("baseline") or {}
        ok = None if "exact" not in o else (o.get("answer_429") == 0 and o.get("exact") == o.get("questions"))
        rows.append(
            [
                "200 concurrent: zero 429s on answer calls and every final text exact (ours)",
                f"ours: {num(o.get('answer_429'))} answer-call 429s ({num(o.get('http_429'))} on all methods), "
                f"exact {_outcome(o)}; baseline: {num(b.get('answer_429'))} answer-call 429s "
                f"({num(b.get('http_429'))} all), exact {_outcome(b)}",
                verdict(ok),
            ]
        )
    entry = _level(results, 500)
    if entry:
        o = entry.get("ours") or {}
        ack, lag, rss = _stat(o, "ack_ms", "p99"), _stat(o, "loop_lag_ms", "p99"), o.get("peak_rss_mb")
        checks = [v is not None and v < limit for v, limit in ((ack, ACK_P99_MS), (lag, LAG_P99_MS), (rss, RSS_MB))]
        rows.append(
            [
                f"500 concurrent (ours): ack p99 < {ACK_P99_MS:.0f} ms, loop lag p99 < {LAG_P99_MS:.0f} ms, peak RSS < {RSS_MB:.0f} MB",
                f"ack p99 {num(ack)} ms, lag p99 {num(lag)} ms, peak RSS {num(rss)} MB",
                verdict(None if not o or "exact" not in o else all(checks)),
            ]
        )
    cold = results.get("cold_start") or {}
    median_cold = cold.get("median_connected_s")
    rows.append(
        [
            f"Cold start to connected < {COLD_START_S:.0f} s (median of {cold.get('count', '–')})",
            f"{num(median_cold, 2)} s (breakdown below)",
            verdict(None if median_cold is None else median_cold < COLD_START_S),
        ]
    )
    return ["## Targets", ""] + table(["Target", "Measured", ""], rows)


def _latency_rows(pair_of: dict[str, Any]) -> list[list[str]]:
    ours, base = pair_of.get("ours"), pair_of.get("baseline")

    def row(label: str, key: str, field: str = "p50") -> list[str]:
        o, b = _stat(ours, key, field), _stat(base, key, field)
        return [label, num(o), num(b), times(ratio(o, b))]

    def first(key: str) -> tuple[float | None, float | None]:
        return ((ours or {}).get("first_question") or {}).get(key), ((base or {}).get("first_question") or {}).get(key)

    rows = [
        row("Ack of the message envelope p50 (ms)", "ack_ms"),
        row("Ack p99 (ms)", "ack_ms", "p99"),
        row("Message → status p50 (ms)", "status_ms"),
        row("Message → status p99 (ms)", "status_ms", "p99"),
        row("Message → first visible text p50 (ms)", "first_text_ms"),
        row("Message → first visible text p99 (ms)", "first_text_ms", "p99"),
        row("Upstream first token after the message p50 (ms)", "upstream_first_token_ms"),
        row("Bot overhead on first visible text p50 (ms)", "overhead_ms"),
        row("Bot overhead on first visible text p99 (ms)", "overhead_ms", "p99"),
    ]
    fo, fb = first("first_text_ms")
    rows.append(["First question after start: first visible text (ms)", num(fo), num(fb), times(ratio(fo, fb))])
    fo, fb = first("overhead_ms")
    rows.append(["First question after start: overhead (ms)", num(fo), num(fb), times(ratio(fo, fb))])
    o, b = (ours or {}).get("answer_calls_per_question"), (base or {}).get("answer_calls_per_question")
    rows.append(["Answer-writing Slack calls per question", num(o), num(b), times(ratio(o, b))])
    o, b = (ours or {}).get("bot_cpu_ms_per_question"), (base or {}).get("bot_cpu_ms_per_question")
    rows.append(["Bot CPU per question (ms)", num(o, 0), num(b, 0), times(ratio(o, b))])
    o, b = _per_token(ours), _per_token(base)
    rows.append(["Bot CPU per streamed token (ms)", num(o, 2), num(b, 2), times(ratio(o, b))])
    rows.append(["Exact answers", _outcome(ours), _outcome(base), ""])
    return rows


def _per_token(result: dict[str, Any] | None) -> float | None:
    if not result or result.get("bot_cpu_ms_per_question") is None:
        return None
    tokens = (result.get("spec") or {}).get("tokens")
    return result["bot_cpu_ms_per_question"] / tokens if tokens else None


def _profile_section(results: dict[str, Any]) -> list[str]:
    prof = results.get("cpu_profile")
    if not prof:
        return []
    spec = prof.get("spec") or {}
    out = [
        "## Where the bot's CPU goes",
        "",
        f"Our strategy, {spec.get('threads')} threads × {spec.get('tokens')} tokens, with the bot under cProfile "
        f"(main thread; profiling slows it, so only the shares matter). Event loop busy "
        f"{num(prof.get('loop_busy_s'))} s, idle {num(prof.get('loop_idle_s'))} s; exact answers {_outcome(prof)}. "
        "Cumulative time per entry point, as a share of the busy time (entries overlap):",
        "",
    ]
    if prof.get("profile_error"):
        return out + [f"Profile not available: `{prof['profile_error']}`", ""]
    out += table(
        ["Entry point", "Seconds", "Share of busy loop time"],
        [[e["label"], num(e["seconds"], 2), f"{e['share'] * 100:.0f} %"] for e in prof.get("entry_points", [])],
    )
    return out


def _latency_section(results: dict[str, Any]) -> list[str]:
    latency = results.get("latency") or {}
    if not any(latency.values()):
        return []
    out = ["## One question at a time", ""]
    for route, title in (("direct", "bot → fake upstream"), ("proxy", "bot → LiteLLM proxy → fake upstream")):
        pair_of = latency.get(route)
        if not pair_of:
            continue
        spec = (pair_of.get("ours") or pair_of.get("baseline") or {}).get("spec", {})
        out.append(
            f"**{title}**: {spec.get('threads')} questions asked one after another (each answered before the next), "
            f"answers of {spec.get('tokens')} tokens at {_rate(spec)} tok/s, first token after {spec.get('first_token_delay')} s. "
            "Percentiles exclude the first question after the bot started, shown on its own."
        )
        out.append("")
        out += table(["Metric", "Ours", "Baseline", "Ours / baseline"], _latency_rows(pair_of))
        out += _errors(pair_of) + _log_lines(pair_of)
    return out


def _rate(spec: dict[str, Any]) -> str:
    delay = spec.get("token_delay")
    return "–" if not delay else f"{1 / delay:.0f}"


def _errors(pair_of: dict[str, Any]) -> list[str]:
    lines = []
    for strategy in STRATEGIES:
        result = pair_of.get(strategy) or {}
        if result.get("error"):
            lines.append(f"- {strategy}: error: `{result['error'].splitlines()[0][:300]}`")
        if result.get("stats_snapshot", "ok") != "ok":
            lines.append(f"- {strategy}: stats: {result['stats_snapshot']}")
        if result.get("stuck_stack"):
            frames = " ← ".join(f"`{frame}`" for frame in result["stuck_stack"][:8] if frame.startswith("File"))
            lines.append(f"- {strategy}: the bot's main thread at that moment (innermost first): {frames}")
        for example in result.get("inexact_examples", [])[:2]:
            lines.append(
                f"- {strategy}: thread {example['thread']} ended with {example['chars']} of {example['expected_chars']} "
                f"characters{' (its stream still open)' if example.get('open') else ''}, "
                f"ending `{example['tail'][-80:].replace(chr(10), ' ')}`"
            )
    return lines + ([""] if lines else [])


def _sweep_rows(entries: list[dict[str, Any]]) -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    outcome, latency, calls = [], [], []
    for entry in entries:
        for strategy in STRATEGIES:
            r = entry.get(strategy)
            label = [str(entry["level"]), strategy]
            if not r:
                continue
            upstream = (r.get("upstream") or {}).get("tokens_per_second") or {}
            outcome.append(
                label
                + [
                    _outcome(r),
                    num(r.get("with_notice")),
                    num(r.get("no_answer_text")),
                    num(None if r.get("answer_shown_share") is None else r["answer_shown_share"] * 100, 0),
                    num(r.get("shown_while_written")),
                    f"{num(r.get('answers_finished'))}{' (cap hit)' if r.get('timed_out') else ''}",
                    num(r.get("wall_seconds")),
                    f"{num(r.get('answer_429'))} / {num(r.get('http_429'))}",
                    stat(r, "loop_lag_ms", "p99"),
                    num(r.get("bot_cpu_ms_per_question"), 0),
                    num(r.get("peak_rss_mb"), 0),
                    num(upstream.get("p50")),
                    num(None if r.get("bench_cpu_share") is None else r["bench_cpu_share"] * 100, 0),
                ]
            )
            latency.append(
                label
                + [
                    pair(r, "ack_ms"),
                    pair(r, "status_ms"),
                    pair(r, "first_text_ms"),
                    pair(r, "overhead_ms"),
                ]
            )
            per = r.get("calls") or {}
            n = r.get("questions") or 1
            cells = []
            for method in SHOWN_METHODS:
                c = per.get(method) or {}
                cells.append("–" if not c else f"{c.get('calls', 0) / n:.2f}" + (f" ({c['429']})" if c.get("429") else ""))
            calls.append(label + cells)
    return outcome, latency, calls


def _sweep_section(title: str, intro: str, entries: list[dict[str, Any]]) -> list[str]:
    if not entries:
        return []
    outcome, latency, calls = _sweep_rows(entries)
    out = [title, "", intro, ""]
    out += ["**Outcome and resources**", ""]
    out += table(
        [
            "Threads",
            "Strategy",
            "Exact answers",
            "Ended with a failure notice",
            "No answer text at all",
            "Answer text shown (%)",
            "Shown while written",
            "Answers finished",
            "Wall (s)",
            "429s answer calls / all",
            "Loop lag p99 (ms)",
            "Bot CPU / question (ms)",
            "Peak RSS (MB)",
            "Upstream tok/s p50",
            "Harness CPU (%)",
        ],
        outcome,
    )
    out += ["**Latency, p50 / p99 (ms)**", ""]
    out += table(["Threads", "Strategy", "Ack", "Message → status", "Message → first text", "Overhead on first text"], latency)
    out += ["**Slack calls per question, by method (429s in brackets)**", ""]
    out += table(["Threads", "Strategy", *SHOWN_METHODS], calls)
    for entry in entries:
        lines = _errors(entry) + _log_lines(entry)
        if lines:
            out += [f"Threads = {entry['level']}:", ""] + lines
    return out


def _log_lines(pair_of: dict[str, Any]) -> list[str]:
    """The bot's most frequent warnings and errors during the measured window."""
    lines = []
    for strategy in STRATEGIES:
        patterns = (pair_of.get(strategy) or {}).get("bot_log") or []
        if patterns:
            shown = "; ".join(f"{p['count']}× `{p['pattern']}`" for p in patterns[:4])
            lines.append(f"- {strategy}, bot log during the window: {shown}")
    return lines + ([""] if lines else [])


def _ratio_section(entries: list[dict[str, Any]]) -> list[str]:
    rows = []
    for entry in entries:
        o, b = entry.get("ours") or {}, entry.get("baseline") or {}
        if "exact" not in o or "exact" not in b:
            continue
        rows.append(
            [
                str(entry["level"]),
                times(ratio(_stat(o, "first_text_ms"), _stat(b, "first_text_ms"))),
                times(ratio(_stat(o, "overhead_ms"), _stat(b, "overhead_ms"))),
                times(ratio(o.get("answer_calls_per_question"), b.get("answer_calls_per_question"))),
                times(ratio(o.get("bot_cpu_ms_per_question"), b.get("bot_cpu_ms_per_question"))),
                times(ratio(_stat(o, "loop_lag_ms", "p99"), _stat(b, "loop_lag_ms", "p99"))),
                f"{num(o.get('answer_429'))} vs {num(b.get('answer_429'))}",
                f"{_outcome(o)} vs {_outcome(b)}",
            ]
        )
    if not rows:
        return []
    return ["**Ours / baseline**", ""] + table(
        [
            "Threads",
            "First text p50",
            "Overhead p50",
            "Answer calls / question",
            "CPU / question",
            "Loop lag p99",
            "Answer-call 429s",
            "Exact",
        ],
        rows,
    )


def _cold_section(results: dict[str, Any]) -> list[str]:
    cold = results.get("cold_start") or {}
    imports = results.get("import_times") or {}
    out = ["## Cold start", ""]
    if cold:
        out.append(
            f"`python app.py` started {cold.get('count')} times; spawn → the simulator sees the Socket Mode connection. "
            "Phases as the simulator sees them (medians):"
        )
        out.append("")
        out += table(
            ["Phase", "Median (s)"],
            [
                ["spawn → auth.test (interpreter, imports, settings, state store, model check)", num(cold.get("median_to_auth_test_s"), 2)],
                ["auth.test → apps.connections.open", num(cold.get("median_auth_test_to_connections_open_s"), 3)],
                ["apps.connections.open → WebSocket open", num(cold.get("median_connections_open_to_connected_s"), 3)],
                ["**spawn → connected**", f"**{num(cold.get('median_connected_s'), 2)}**"],
            ],
        )
        runs = ", ".join(num(r.get("connected_s"), 2) if "error" not in r else "error" for r in cold.get("runs", []))
        out += [f"Every run (s): {runs}", ""]
    if imports:
        out.append(
            f"`python -X importtime -c \"import app\"`: {num(imports.get('total_import_ms'), 0)} ms of imports "
            f"(process wall {num(imports.get('wall_s'), 2)} s). Top 10 modules by cumulative import time:"
        )
        out.append("")
        out += table(
            ["Module", "Cumulative (ms)", "Self (ms)"],
            [[f"`{r['module']}`", num(r["cumulative_ms"], 0), num(r["self_ms"], 1)] for r in imports.get("top_cumulative", [])],
        )
        out += ["Top 10 by self time (the module's own code, without what it imports):", ""]
        out += table(
            ["Module", "Self (ms)", "Cumulative (ms)"],
            [[f"`{r['module']}`", num(r["self_ms"], 1), num(r["cumulative_ms"], 0)] for r in imports.get("top_self", [])],
        )
    return out


def _code_versions(results: dict[str, Any]) -> dict[str, list[str]]:
    """Which scenarios ran which version of the bot's source (fingerprint → scenarios)."""
    versions: dict[str, list[str]] = {}

    def add(code: str | None, label: str) -> None:
        if code:
            versions.setdefault(code, []).append(label)

    add((results.get("cold_start") or {}).get("code"), "cold start")
    for route, pair_of in (results.get("latency") or {}).items():
        for strategy in STRATEGIES:
            add((pair_of.get(strategy) or {}).get("code"), f"latency {route} {strategy}")
    for key, prefix in ((results.get("sweep") or [], "direct"), ((results.get("proxy") or {}).get("sweep") or [], "proxy")):
        for entry in key:
            for strategy in STRATEGIES:
                add((entry.get(strategy) or {}).get("code"), f"{prefix} {entry['level']} {strategy}")
    add((results.get("cpu_profile") or {}).get("code"), "CPU profile")
    return versions


def _machine(results: dict[str, Any]) -> list[str]:
    meta = results.get("meta") or {}
    packages = ", ".join(f"{k} {v}" for k, v in (meta.get("packages") or {}).items())
    rows = [
        ["Command", f"`{meta.get('command')}`"],
        ["Profile", str(results.get("profile"))],
        ["Started (UTC)", str(meta.get("started"))],
        ["Duration", f"{num(results.get('duration_s'), 0)} s"],
        ["CPU", str(meta.get("cpu_model"))],
        ["Cores", f"{meta.get('cpu_count')} (usable: {meta.get('usable_cores')})"],
        ["Memory", f"{num(meta.get('mem_total_mb'), 0)} MB"],
        ["Python", str(meta.get("python"))],
        ["Platform", str(meta.get("platform"))],
        ["Packages", packages],
        ["Code", str(meta.get("git"))],
        ["Simulator round trip (auth.test, median)", f"{num((results.get('sim_round_trip') or {}).get('median_ms'), 2)} ms"],
    ]
    if results.get("proxy_start_s") is not None:
        rows.append(["LiteLLM proxy start-up", f"{num(results['proxy_start_s'], 1)} s"])
    versions = _code_versions(results)
    if len(versions) == 1:
        rows.append(["Bot source fingerprint (app.py, assistant/, listeners/)", f"`{next(iter(versions))}`, the same for every scenario"])
    out = ["## Machine and run", ""] + table(["", ""], rows)
    if len(versions) > 1:
        out += ["**The bot's source changed during this run**; scenarios ran these versions (fingerprints of app.py, assistant/, listeners/):", ""]
        out += [f"- `{code}`: {', '.join(labels)}" for code, labels in versions.items()] + [""]
    return out


NOTES = """## How this is measured

- Everything runs on 127.0.0.1 on this machine: the Slack simulator (`tests/e2e/slack_sim`) and the fake
  OpenAI upstream (`tests/support/fake_openai.py`) share the benchmark's process (their own threads and
  event loops); the bot is a fresh subprocess per scenario (`python -m bench.bot_runner`, which runs
  `app.main()` unchanged plus a 20 ms event-loop lag probe and an answer counter). The harness competes
  with the bot for the same cores: its CPU share is in the "Harness CPU" column (100 % = one core).
- **Ours** is the bot as it is in the tree. **Baseline** swaps `AnswerStream` for
  `bench/baseline_stream.py`: Slack's template, `client.chat_stream(buffer_size=256)` — nothing is shown
  before 256 characters, then one `chat.startStream`/`chat.appendStream` per 256 characters, no shared
  budget. Everything else (pipeline, Web API client and its 429 retries) is the same bot.
- Each thread is a different user who opened the assistant (greeted) before the clock starts; one
  unmeasured warm-up question is answered first. Then Slack's rate limits are switched on in the simulator
  (per workspace: chat.startStream / chat.stopStream Tier 2 = 20/min burst 5, chat.appendStream Tier 4 =
  100/min burst 20, chat.update Tier 3 = 50/min burst 10, assistant.threads.* Tier 4,
  conversations.replies Tier 3; chat.postMessage 60/min burst 5 per channel) and every question is sent at
  once (or one at a time in the latency runs).
- Exact = the text of the bot's answer messages in the thread (notices excluded), joined, equals the
  scripted reply character for character and no stream was left open. Answers are distinct per thread.
- Ack = Socket Mode envelope sent → ack received by the simulator. Status = message sent → first
  "is thinking…" status set. First text = message sent → the first Web API call that put part of the
  answer into the thread. Overhead = that call's arrival − the fake upstream writing the first token.
- Loop lag = how late a 20 ms sleep in the bot's event loop wakes, sampled during the measured window.
  CPU = utime + stime of the bot process over the window (/proc), divided by questions. Peak RSS = VmHWM.
- A level ends when the bot finished every answer or at its cap; answers not finished by then are
  counted as not exact (they are interrupted when the bot stops).
- Bot settings: `LOG_LEVEL=WARNING`, `RATE_LIMIT_USER_PER_MINUTE=RATE_LIMIT_CHANNEL_PER_MINUTE=10000`,
  `ALLOW_GUESTS=true` (no per-user users.info check: every benchmark user is new),
  `SHUTDOWN_GRACE_SECONDS=2`, a fresh SQLite `DATA_DIR`; everything else default (`SLACK_RATE_LIMITS` unset:
  the bot paces itself at Slack's published tiers, as in production).
"""


def build_markdown(results: dict[str, Any]) -> str:
    meta = results.get("meta") or {}
    out = [
        "# Benchmarks",
        "",
        f"> Generated by `{meta.get('command')}` from its own output (`{results.get('results_path', 'bench/results.json')}`). "
        "Do not edit by hand: rerun the command, or `.venv/bin/python -m bench --report-only` to rebuild this file "
        "from the saved results.",
        "",
    ]
    out += _machine(results)
    out += _targets(results)
    out += _latency_section(results)
    sweep = results.get("sweep") or []
    if sweep:
        spec = (sweep[0].get("ours") or sweep[0].get("baseline") or {}).get("spec", {})
        out += _sweep_section(
            "## Concurrency sweep (bot → fake upstream)",
            f"N users each ask one question at the same moment, each in their own assistant thread; answers of "
            f"{spec.get('tokens')} tokens at {_rate(spec)} tok/s (first token after {spec.get('first_token_delay')} s). "
            f"Each level has a fresh bot process and a cap on its duration (cap hit = not every answer finished in time). "
            f"Ours writes at most `MAX_CONCURRENT_ANSWERS` (default 24) answers at once, the rest wait their turn; "
            f"'Shown while written' counts answers whose first words appeared before the whole text (streamed or "
            f"edited); the others were posted whole when done, because Slack's limits could not close more answers soon.",
            sweep,
        )
        out += _ratio_section(sweep)
    proxy_levels = (results.get("proxy") or {}).get("sweep") or []
    if proxy_levels:
        out += _sweep_section(
            "## Concurrency through the LiteLLM proxy",
            "As above, with the real LiteLLM proxy between the bot and the fake upstream.",
            proxy_levels,
        )
        out += _ratio_section(proxy_levels)
    out += _profile_section(results)
    out += _cold_section(results)
    out.append(NOTES)
    return "\n".join(out).rstrip() + "\n"
