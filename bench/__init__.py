"""Benchmark of the assistant bot against the Slack simulator and the fake model upstream.

Run from the repository root: `.venv/bin/python -m bench` (full, writes BENCHMARKS.md and
bench/results.json) or `.venv/bin/python -m bench --smoke` (seconds; writes to a side file).
"""
