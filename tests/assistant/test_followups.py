from assistant.followups import build_followup_prompts
from assistant.settings import MAX_SUGGESTED_PROMPTS


def test_followups_are_short_and_refer_to_the_question():
    prompts = build_followup_prompts("How do I rotate the database credentials safely?")
    assert 1 <= len(prompts) <= MAX_SUGGESTED_PROMPTS
    assert all(len(p.title) <= 30 for p in prompts)
    assert "rotate the database credentials" in prompts[0].message


def test_long_questions_are_shortened_at_a_word():
    prompts = build_followup_prompts("word " * 50)
    assert len(prompts[0].message) <= 90 and prompts[0].message.endswith("…")
