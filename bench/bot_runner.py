"""`python -m bench.bot_runner`: the real `app.py`, with measurement hooks, for the benchmark.

Runs `app.main()` unchanged after three additions:

1. An event-loop lag monitor inside the bot's own loop: a task that sleeps 20 ms and records by
   how much it overslept (started by a wrapper around `app.serve`, so it runs on the loop the
   bot serves on, from settings loaded to shutdown).
2. A count of answers: `answer_question` (the pipeline's one entry point, which never raises
   for a failed answer) is wrapped to record when each one started and ended. A small progress
   file (`$BENCH_STATS_FILE.progress`) is refreshed every 0.25 s, so the benchmark knows when a
   level is done without reading the bot's log.
3. With `BENCH_STRATEGY=baseline`, the pipeline's `AnswerStream` is replaced by
   `bench.baseline_stream.BaselineStream` (Slack's template: `chat_stream(buffer_size=256)`).

On SIGUSR1 (a snapshot the benchmark asks for before stopping the bot) and on exit (SIGTERM
makes `serve` return through the bot's own graceful shutdown) the stats go to `$BENCH_STATS_FILE`
as JSON: lag samples `[monotonic time, lag ms]`, answer start/end times. SIGUSR2 writes every
thread's Python stack to stderr (the bot's log) even while the event loop is stuck, for when a
snapshot does not come.
"""

from __future__ import annotations

import asyncio
import atexit
import faulthandler
import functools
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

LAG_INTERVAL_SECONDS = 0.020
PROGRESS_INTERVAL_SECONDS = 0.25
MAX_LAG_SAMPLES = 200_000  # ~66 minutes at 20 ms: bounded memory whatever happens


class Recorder:
    def __init__(self, stats_path: Path | None, strategy: str):
        self.stats_path = stats_path
        self.strategy = strategy
        self.lag: list[tuple[float, float]] = []
        self.answers_started: list[float] = []
        self.answers_ended: list[float] = []
        self.serve_started_at: float | None = None
        self._written = False

    # -- hooks ---------------------------------------------------------------------------------

    def wrap_answers(self, answer_question: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        @functools.wraps(answer_question)
        async def counted(*args: Any, **kwargs: Any) -> None:
            self.answers_started.append(time.monotonic())
            try:
                await answer_question(*args, **kwargs)
            finally:
                self.answers_ended.append(time.monotonic())

        return counted

    def wrap_serve(self, serve: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        @functools.wraps(serve)
        async def monitored(*args: Any, **kwargs: Any) -> None:
            self.serve_started_at = time.monotonic()
            monitor = asyncio.create_task(self._monitor(), name="bench-lag-monitor")
            if self.stats_path is not None:
                asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, self.snapshot)
            try:
                await serve(*args, **kwargs)
            finally:
                monitor.cancel()
                await asyncio.gather(monitor, return_exceptions=True)
                self.write()

        return monitored

    async def _monitor(self) -> None:
        loop = asyncio.get_running_loop()
        next_progress = 0.0
        while True:
            before = loop.time()
            await asyncio.sleep(LAG_INTERVAL_SECONDS)
            lag = loop.time() - before - LAG_INTERVAL_SECONDS
            if len(self.lag) < MAX_LAG_SAMPLES:
                self.lag.append((time.monotonic(), max(lag, 0.0) * 1000.0))
            if self.stats_path is not None and loop.time() >= next_progress:
                next_progress = loop.time() + PROGRESS_INTERVAL_SECONDS
                self._write_progress()

    # -- output --------------------------------------------------------------------------------

    def _write_progress(self) -> None:
        assert self.stats_path is not None
        progress = {"started": len(self.answers_started), "finished": len(self.answers_ended), "at": time.monotonic()}
        _write_atomically(Path(f"{self.stats_path}.progress"), json.dumps(progress))

    def snapshot(self) -> None:
        """The stats so far, without ending anything (SIGUSR1)."""
        if self.stats_path is not None:
            self._write_progress()
            self._write_stats()

    def write(self) -> None:
        if self.stats_path is None or self._written:
            return
        self._written = True
        self._write_progress()
        self._write_stats()

    def _write_stats(self) -> None:
        assert self.stats_path is not None
        stats = {
            "pid": os.getpid(),
            "strategy": self.strategy,
            "serve_started_at": self.serve_started_at,
            "lag_interval_ms": LAG_INTERVAL_SECONDS * 1000,
            "lag": [[round(t, 4), round(ms, 3)] for t, ms in self.lag],
            "answers_started": self.answers_started,
            "answers_ended": self.answers_ended,
        }
        _write_atomically(self.stats_path, json.dumps(stats))


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def main() -> int:
    stats_file = os.environ.get("BENCH_STATS_FILE")
    strategy = os.environ.get("BENCH_STRATEGY", "ours") or "ours"
    if strategy not in ("ours", "baseline"):
        print(f"BENCH_STRATEGY must be 'baseline' or unset, got {strategy!r}", file=sys.stderr)
        return 2
    recorder = Recorder(Path(stats_file) if stats_file else None, strategy)
    faulthandler.register(signal.SIGUSR2, all_threads=True)

    import assistant.offline  # noqa: F401  (before litellm, as app.py does)
    import assistant.answer_pipeline as pipeline

    # Patched before `app` imports the listeners, which import `answer_question` by name.
    pipeline.answer_question = recorder.wrap_answers(pipeline.answer_question)
    if strategy == "baseline":
        from bench.baseline_stream import BaselineStream

        if not hasattr(pipeline, "AnswerStream"):
            print("assistant.answer_pipeline has no AnswerStream to replace", file=sys.stderr)
            return 2
        pipeline.AnswerStream = BaselineStream  # type: ignore[misc,assignment]

    import app

    app.serve = recorder.wrap_serve(app.serve)
    atexit.register(recorder.write)  # also when serve never ran (bad settings, start-up failure)
    return app.main()


if __name__ == "__main__":
    sys.exit(main())
