import random

import pytest

from assistant.text_split import split_text


def test_short_text_is_untouched():
    assert split_text("hello", 10) == ("hello", "")


def test_prefers_paragraph_then_line_then_word_boundaries():
    assert split_text("aaaa bbbb\n\ncccc", 12) == ("aaaa bbbb\n\n", "cccc")
    assert split_text("aaaa bbbb\ncccc dd", 12) == ("aaaa bbbb\n", "cccc dd")
    assert split_text("aaaa bbbb cccc", 12) == ("aaaa bbbb ", "cccc")


def test_hard_cut_when_no_boundary_is_close_enough():
    assert split_text("a " + "x" * 20, 10) == ("a " + "x" * 8, "x" * 12)


def test_never_loses_or_duplicates_a_character():
    rng = random.Random(7)
    alphabet = "ab \n"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        limit = rng.randint(1, 30)
        head, rest = split_text(text, limit)
        assert head + rest == text
        assert len(head) <= limit
        assert head or not text


def test_limit_must_be_positive():
    with pytest.raises(ValueError):
        split_text("x", 0)
