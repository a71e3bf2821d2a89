"""`python -m bench --smoke` end to end, so the benchmark cannot rot: the real bot against the
Slack simulator and the fake upstream, both strategies, levels 1 and 10, cold starts; it must
finish, every answer of ours must be exact, and the report must hold its tables."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 180


def test_smoke_benchmark_runs_and_reports(tmp_path):
    output = tmp_path / "BENCHMARKS.md"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    results = json.loads((tmp_path / "BENCHMARKS.results.json").read_text())
    markdown = output.read_text()

    levels = {entry["level"]: entry for entry in results["sweep"]}
    assert sorted(levels) == [1, 10]
    for level, entry in levels.items():
        for strategy in ("ours", "baseline"):
            result = entry[strategy]
            assert "error" not in result, (level, strategy, result.get("error"))
            assert result["questions"] == level and result["questions_sent"] == level
            assert result["ack_ms"]["n"] == level
            assert result["loop_lag_ms"]["n"] > 0 and result["peak_rss_mb"] > 0
        ours = entry["ours"]
        assert ours["exact"] == level, (level, ours["inexact_examples"], completed.stderr[-2000:])
        assert ours["first_text_ms"]["n"] == level and ours["overhead_ms"]["n"] == level
    assert levels[1]["baseline"]["exact"] == 1
    assert results["cold_start"]["median_connected_s"] > 0
    assert results["import_times"]["top_cumulative"]

    for heading in ("## Machine and run", "## Targets", "## Concurrency sweep", "## Cold start", "## How this is measured"):
        assert heading in markdown
    assert "| 10 | ours | 10/10 |" in markdown
    assert "| 1 | baseline |" in markdown
