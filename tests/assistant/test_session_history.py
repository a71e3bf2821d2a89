from assistant.session_history import (
    STOPPED_MARK,
    assistant_item,
    has_user_turn,
    last_turns,
    split_turns,
    stopped_turn,
    user_item,
)

TOOL_CALL = {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}"}
TOOL_RESULT = {"type": "function_call_output", "call_id": "c1", "output": "42"}
SDK_ANSWER = {
    "type": "message",
    "role": "assistant",
    "id": "msg_1",
    "status": "completed",
    "content": [{"type": "output_text", "text": "It is 42.", "annotations": []}],
}


def test_a_turn_keeps_its_tool_calls_and_results_with_it():
    items = [user_item("q1"), assistant_item("a1"), user_item("q2"), TOOL_CALL, TOOL_RESULT, SDK_ANSWER]
    assert split_turns(items) == [[user_item("q1"), assistant_item("a1")], [user_item("q2"), TOOL_CALL, TOOL_RESULT, SDK_ANSWER]]


def test_items_before_the_first_question_are_a_cut_turn_and_dropped():
    # A fetch limit can start in the middle of a turn: a tool result without its call is invalid.
    assert split_turns([TOOL_RESULT, SDK_ANSWER, user_item("q"), assistant_item("a")]) == [[user_item("q"), assistant_item("a")]]


def test_only_the_newest_turns_are_kept_whole():
    items = [user_item(f"q{i}") if j == 0 else assistant_item(f"a{i}") for i in range(5) for j in range(2)]
    assert last_turns(items, 2) == [user_item("q3"), assistant_item("a3"), user_item("q4"), assistant_item("a4")]
    assert last_turns(items, 50) == items


def test_first_turn_detection_ignores_answers_without_a_question():
    assert not has_user_turn([])
    assert not has_user_turn([assistant_item("hello")])
    assert has_user_turn([assistant_item("hello"), user_item("hi")])


def test_a_stopped_turn_records_the_words_shown_and_says_it_stopped():
    question, answer = stopped_turn("Explain DNS", "DNS maps names  \n")
    assert question == user_item("Explain DNS")
    assert answer["role"] == "assistant" and answer["content"] == f"DNS maps names\n\n{STOPPED_MARK}"
