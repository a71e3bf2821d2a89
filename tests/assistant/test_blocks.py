from slack_sdk.models.blocks import Block

from assistant.blocks import FEEDBACK_ACTION_ID, build_feedback_blocks, parse_feedback_value


def test_feedback_blocks_are_valid_context_actions_with_feedback_buttons():
    blocks = build_feedback_blocks("openai/gpt-4")
    assert [b["type"] for b in blocks] == ["context_actions"]
    element = blocks[0]["elements"][0]
    assert element["type"] == "feedback_buttons" and element["action_id"] == FEEDBACK_ACTION_ID
    # slack_sdk's own model validates lengths and required fields.
    Block.parse(blocks[0]).validate_json()
    assert parse_feedback_value(element["positive_button"]["value"]).positive is True
    negative = parse_feedback_value(element["negative_button"]["value"])
    assert negative.positive is False and negative.model == "openai/gpt-4"


def test_unknown_feedback_values_are_rejected():
    assert parse_feedback_value("maybe:openai/gpt-4") is None
    assert parse_feedback_value("") is None
    assert parse_feedback_value("positive").model == "unknown"
