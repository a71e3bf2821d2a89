from assistant.conversation import ChannelContext, ChannelMessage, format_channel_context
from assistant.prompt_budget import fit_to_budget, truncate_question


def _turns(n, size=100):
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": f"{i}:" + "x" * size} for i in range(n)]


def test_everything_fits_untouched():
    history = _turns(4)
    assert fit_to_budget(system_prompt="s", history=history, context=None, question="q", budget_chars=10_000) == (history, None)


def test_oldest_history_goes_first_and_the_newest_stays():
    history = _turns(10)
    trimmed, _ = fit_to_budget(system_prompt="s" * 50, history=history, context=None, question="q" * 50, budget_chars=500)
    assert trimmed == history[-len(trimmed):] and 0 < len(trimmed) < 10
    assert 100 + sum(len(t["content"]) for t in trimmed) <= 500


def test_context_is_trimmed_after_history_and_dropped_last():
    messages = tuple(ChannelMessage("U1", f"message {i} " + "y" * 80, str(i)) for i in range(20))
    context = ChannelContext("C1", "general", "", "", messages)
    history = _turns(2)
    trimmed, kept = fit_to_budget(system_prompt="s", history=history, context=context, question="q", budget_chars=900)
    assert trimmed == []
    assert kept is not None and 0 < len(kept.messages) < 20
    assert kept.messages == messages[-len(kept.messages):], "the newest context messages stay"
    assert 2 + len(format_channel_context(kept)) <= 900
    _, none = fit_to_budget(system_prompt="s", history=[], context=context, question="q", budget_chars=10)
    assert none is None


def test_question_and_system_prompt_always_stay_even_over_budget():
    trimmed, kept = fit_to_budget(system_prompt="s" * 100, history=_turns(3), context=None, question="q" * 100, budget_chars=50)
    assert trimmed == [] and kept is None


def test_long_questions_are_truncated_at_a_word():
    short = truncate_question("hello", 10)
    assert short.text == "hello" and not short.truncated
    long = truncate_question("word " * 100, 52)
    assert long.truncated and long.original_chars == 500
    assert len(long.text) <= 52 and long.text.endswith("word")
    assert truncate_question("x" * 100, 10).text == "x" * 10


def test_a_turn_with_tool_calls_is_dropped_whole():
    call = {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}" + " " * 300}
    result = {"type": "function_call_output", "call_id": "c1", "output": "x" * 300}
    history = [{"role": "user", "content": "q1"}, call, result, {"role": "assistant", "content": "a1"}, *_turns(2, size=10)]
    trimmed, _ = fit_to_budget(system_prompt="s", history=history, context=None, question="q", budget_chars=200)
    assert trimmed == history[4:], "no tool result without its call"
