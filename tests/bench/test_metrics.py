"""The benchmark's pure helpers: percentiles, summaries, ratios, scripted texts, call texts."""

import pytest

from bench.metrics import median, percentile, ratio, summary, to_ms
from bench.scenarios import call_text, question_text, reply_text
from tests.support.fake_openai import split_tokens


def test_percentile_interpolates_between_closest_ranks():
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 25) == 2.0
    assert percentile(range(101), 99) == pytest.approx(99.0)
    assert median([3.0]) == 3.0


def test_percentile_of_nothing_is_none_and_bad_p_is_refused():
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_and_ratio():
    assert summary([]) == {"n": 0, "p50": None, "p99": None, "max": None, "mean": None}
    s = summary([1.0, 3.0])
    assert (s["n"], s["p50"], s["max"], s["mean"]) == (2, 2.0, 3.0, 2.0)
    assert ratio(1.0, 4.0) == 0.25
    assert ratio(None, 4.0) is None and ratio(1.0, 0) is None and ratio(1.0, None) is None
    assert to_ms([0.5]) == [500.0]


def test_scripted_replies_are_distinct_deterministic_and_sized_in_tokens():
    a, b = reply_text(1, 400), reply_text(2, 400)
    assert a != b and a == reply_text(1, 400)
    assert len(split_tokens(a)) == 400
    assert a.startswith("Answer 1: ") and a == a.strip()
    # About four characters a token, like English text (the baseline's 256-character buffer
    # then holds about 64 tokens).
    assert 3.5 < len(a) / 400 < 6.5
    assert "[bq7]" in question_text(7) and "[bq7]" not in question_text(70)


def test_call_text_reads_markdown_text_text_and_chunks():
    assert call_text({"markdown_text": "a"}) == "a"
    assert call_text({"text": "b"}) == "b"
    assert call_text({"chunks": [{"type": "markdown_text", "text": "c"}, {"type": "markdown_text", "text": "d"}]}) == "cd"
    assert call_text({"channel": "D1"}) == ""
