"""`.venv/bin/python -m bench [--smoke]`: run the benchmark and write BENCHMARKS.md from its results.

    python -m bench                  full run (~15 min on 2 cores): BENCHMARKS.md + bench/results.json
    python -m bench --smoke          seconds; writes to a temporary directory unless --write/--output
    python -m bench --report-only    rebuild BENCHMARKS.md from bench/results.json
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import logging
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from assistant.settings import DEFAULT_MAX_CONCURRENT_ANSWERS
from bench.processes import ROOT
from bench.report import build_markdown

DEFAULT_MARKDOWN = ROOT / "BENCHMARKS.md"
DEFAULT_RESULTS = ROOT / "bench" / "results.json"
PACKAGES = ("slack_sdk", "slack_bolt", "openai-agents", "litellm", "aiohttp")
THIRTY_TOKENS_A_SECOND = 1 / 30


@dataclass(frozen=True)
class Profile:
    name: str
    rtt_samples: int
    cold_starts: int
    latency_questions: int  # sequential questions per strategy (0: none)
    latency_tokens: int
    levels: tuple[int, ...]
    level_tokens: int
    proxy: bool
    proxy_levels: tuple[int, ...]
    profile_threads: int = 0  # a level of ours under cProfile (0: none)
    first_token_delay: float = 0.2
    token_delay: float = THIRTY_TOKENS_A_SECOND

    def cap(self, threads: int) -> float:
        """Seconds a level may take before unfinished answers count as not done: the answers
        written in turns of the bot's answer slots (`MAX_CONCURRENT_ANSWERS`, default), with
        room for Slack's limits and start-up."""
        answer = self.first_token_delay + self.level_tokens * self.token_delay
        turns = math.ceil(threads / DEFAULT_MAX_CONCURRENT_ANSWERS)
        return turns * answer * 1.3 + 45


FULL = Profile(
    name="full",
    rtt_samples=50,
    cold_starts=5,
    latency_questions=6,
    latency_tokens=100,
    levels=(1, 10, 50, 200, 500),
    level_tokens=400,
    proxy=True,
    proxy_levels=(10,),
    profile_threads=10,
)
SMOKE = Profile(
    name="smoke",
    rtt_samples=20,
    cold_starts=2,
    latency_questions=0,
    latency_tokens=60,
    levels=(1, 10),
    level_tokens=60,
    proxy=False,
    proxy_levels=(),
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ metadata


def _git(*args: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() if completed.returncode in (0, 1) else None


def machine_info(command: str) -> dict[str, Any]:
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_total_mb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total_mb = int(line.split()[1]) / 1024
    except OSError:
        pass
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "not installed"
    commit = _git("rev-parse", "--short", "HEAD")
    changed = _git("diff", "--name-only", "HEAD")
    untracked = _git("ls-files", "--others", "--exclude-standard")
    dirty = [f for f in (changed or "").splitlines() + (untracked or "").splitlines() if f and not f.startswith(("bench/", "tests/bench/"))]
    git = None if commit is None else f"commit {commit}" + (f" + uncommitted changes in {len(dirty)} file(s)" if dirty else "")
    return {
        "command": command,
        "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "mem_total_mb": mem_total_mb,
        "python": platform.python_version() + f" ({platform.python_implementation()})",
        "platform": platform.platform(),
        "packages": packages,
        "git": git,
    }


def _command(argv: list[str]) -> str:
    python = Path(sys.executable)
    try:
        shown = str(python.relative_to(ROOT))
    except ValueError:
        shown = str(python)
    return " ".join([shown, "-m", "bench", *map(shlex.quote, argv)])


# ---------------------------------------------------------------------------------------- runs


def _brief(result: dict[str, Any]) -> str:
    if "exact" not in result:
        return f"error: {result.get('error', '?').splitlines()[0][:200]}"
    first = (result.get("first_text_ms") or {}).get("p50")
    over = (result.get("overhead_ms") or {}).get("p50")
    lag = (result.get("loop_lag_ms") or {}).get("p99")
    return (
        f"exact {result['exact']}/{result['questions']}, finished {result.get('answers_finished')}"
        f"{' (cap hit)' if result.get('timed_out') else ''}, wall {result.get('wall_seconds', 0):.1f}s, "
        f"first text p50 {_ms(first)}, overhead p50 {_ms(over)}, lag p99 {_ms(lag)}, "
        f"429s {result.get('answer_429')}/{result.get('http_429')}"
        + (f", error: {result['error'].splitlines()[0][:200]}" if result.get("error") else "")
    )


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}ms"


async def _pair(harness: Any, spec: Any, route: str, workdir: Path) -> dict[str, Any]:
    from bench.scenarios import finalize, run_level

    out = {}
    for strategy in ("ours", "baseline"):
        started = time.monotonic()
        log(f"{spec.name} [{route}] {strategy}: {spec.threads} thread(s), cap {spec.timeout:.0f}s …")
        result = finalize(await run_level(harness, spec, strategy, route, workdir / f"{spec.name}-{route}-{strategy}"))
        result["scenario_seconds"] = time.monotonic() - started
        log(f"  {strategy}: {_brief(result)} ({result['scenario_seconds']:.0f}s)")
        out[strategy] = result
    return out


async def run(profile: Profile, workdir: Path, command: str, levels: tuple[int, ...], skip: set[str]) -> dict[str, Any]:
    from bench.scenarios import Harness, LevelSpec, cold_starts, cpu_profile, import_times, simulator_round_trip

    started = time.monotonic()
    results: dict[str, Any] = {"meta": machine_info(command), "profile": profile.name}
    with Harness(workdir) as harness:
        log("simulator round trip …")
        results["sim_round_trip"] = await simulator_round_trip(profile.rtt_samples)
        log(f"  median {results['sim_round_trip']['median_ms']:.2f} ms")
        if "cold" not in skip:
            log("import times (python -X importtime -c 'import app') …")
            results["import_times"] = await asyncio.to_thread(import_times)
            log(f"cold starts x{profile.cold_starts} …")
            results["cold_start"] = await cold_starts(harness, profile.cold_starts, workdir / "cold")
            log(f"  median {results['cold_start']['median_connected_s']}")

        def latency_spec() -> LevelSpec:
            return LevelSpec(
                name="latency",
                threads=profile.latency_questions,
                tokens=profile.latency_tokens,
                token_delay=profile.token_delay,
                first_token_delay=profile.first_token_delay,
                timeout=profile.latency_questions * (profile.latency_tokens * profile.token_delay + 10) + 30,
                sequential=True,
                warmup=False,
            )

        def level_spec(threads: int) -> LevelSpec:
            return LevelSpec(
                name=f"level-{threads}",
                threads=threads,
                tokens=profile.level_tokens,
                token_delay=profile.token_delay,
                first_token_delay=profile.first_token_delay,
                timeout=profile.cap(threads),
            )

        results["latency"] = {}
        if profile.latency_questions and "latency" not in skip:
            results["latency"]["direct"] = await _pair(harness, latency_spec(), "direct", workdir)
        results["sweep"] = []
        for threads in () if "sweep" in skip else levels:
            results["sweep"].append({"level": threads, **await _pair(harness, level_spec(threads), "direct", workdir)})
        if profile.profile_threads and "profile" not in skip:
            log(f"CPU profile: ours, {profile.profile_threads} threads, bot under cProfile …")
            results["cpu_profile"] = await cpu_profile(harness, level_spec(profile.profile_threads), workdir / "cpu-profile")
            log(f"  loop busy {results['cpu_profile'].get('loop_busy_s', 0):.1f}s")
        if profile.proxy and "proxy" not in skip:
            log("starting the LiteLLM proxy …")
            try:
                harness.start_proxy()
                results["proxy_start_s"] = harness.proxy_start_seconds
                log(f"  up after {harness.proxy_start_seconds:.1f}s")
                if profile.latency_questions and "latency" not in skip:
                    results["latency"]["proxy"] = await _pair(harness, latency_spec(), "proxy", workdir)
                results["proxy"] = {"sweep": []}
                for threads in profile.proxy_levels:
                    results["proxy"]["sweep"].append({"level": threads, **await _pair(harness, level_spec(threads), "proxy", workdir)})
            except Exception as exc:
                results["proxy_error"] = f"{type(exc).__name__}: {exc}"[:2000]
                log(f"  proxy failed: {results['proxy_error']}")
    results["duration_s"] = time.monotonic() - started
    return results


def write_outputs(results: dict[str, Any], markdown_path: Path, results_path: Path) -> None:
    results["results_path"] = _shown(results_path)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    markdown_path.parent.mkdir(parents=True, exist_ok=True)
    markdown_path.write_text(build_markdown(results), encoding="utf-8")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="small and quick (levels 1 and 10, short answers, no proxy)")
    parser.add_argument("--write", action="store_true", help="with --smoke: write BENCHMARKS.md and bench/results.json anyway")
    parser.add_argument("--output", type=Path, help="where the markdown goes (results JSON next to it, *.results.json)")
    parser.add_argument("--results", type=Path, help="results JSON path (default: bench/results.json, or next to --output)")
    parser.add_argument("--report-only", action="store_true", help="rebuild the markdown from the saved results JSON")
    parser.add_argument("--levels", help="comma-separated concurrency levels instead of the profile's")
    parser.add_argument("--no-proxy", action="store_true", help="skip the LiteLLM proxy scenarios")
    parser.add_argument(
        "--skip", default="", help="comma-separated parts to leave out (for debugging): cold, latency, sweep, profile, proxy"
    )
    parser.add_argument("--keep-workdir", action="store_true", help="keep the bots' logs and data")
    args = parser.parse_args(argv)

    if args.report_only:
        markdown_path, results_path = args.output or DEFAULT_MARKDOWN, args.results or DEFAULT_RESULTS
    elif args.output is not None:
        markdown_path = args.output
        results_path = args.results or args.output.with_name(args.output.stem + ".results.json")
    elif args.smoke and not args.write:
        side = Path(tempfile.gettempdir()) / "bench-smoke"
        markdown_path, results_path = side / "BENCHMARKS.md", args.results or side / "results.json"
    else:
        markdown_path, results_path = DEFAULT_MARKDOWN, args.results or DEFAULT_RESULTS

    if args.report_only:
        results = json.loads(results_path.read_text(encoding="utf-8"))
        markdown_path.write_text(build_markdown(results), encoding="utf-8")
        log(f"wrote {markdown_path} from {results_path}")
        return 0

    # The stand-ins log every connection the bot drops mid-answer (expected when answers stop).
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    profile = SMOKE if args.smoke else FULL
    levels = tuple(int(x) for x in args.levels.split(",")) if args.levels else profile.levels
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    log(f"profile {profile.name}; bot logs under {workdir}")
    try:
        skip = {part.strip() for part in args.skip.split(",") if part.strip()} | ({"proxy"} if args.no_proxy else set())
        results = asyncio.run(run(profile, workdir, _command(argv), levels, skip))
    finally:
        if args.keep_workdir:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    write_outputs(results, markdown_path, results_path)
    log(f"wrote {markdown_path} and {results_path} in {results['duration_s']:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
