"""The answer pipeline as users reach it: a message in an assistant thread, over real Socket Mode
to the in-process app, Slack simulated at its HTTP/WebSocket boundary. The model is a
ScriptedModel here; the last tests use the real agent against a real LiteLLM proxy."""

import litellm
import pytest
from agents import function_tool
from agents.testing import ModelStep, ScriptedModel, function_call
from agents.usage import Usage

from assistant.answer_pipeline import STOPPED_NOTICE, THINKING_STATUS
from assistant.session_history import STOPPED_MARK
from assistant.answer_stream import MAX_MESSAGE_CHARS
from assistant.blocks import FEEDBACK_ACTION_ID
from tests.support.assistant_fixtures import scripted_agent
from tests.support.fake_openai import Reply
from tests.support.scripted_replies import streamed_reply, transcript
from tests.support.slack_waits import (
    answers_in,
    feedback_elements,
    greeted_thread,
    unannounced_thread,
    wait_for_answers,
    wait_for_explicit_status_clear,
    wait_for_notice,
)


async def test_a_question_gets_status_streamed_answer_title_feedback_and_followups(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    model = ScriptedModel([streamed_reply("Paris ", "is the capital ", "of France.", usage=Usage(requests=1, input_tokens=20, output_tokens=7, total_tokens=27))])
    async with connect_assistant(agent=scripted_agent(model)):
        thread = await greeted_thread(slack_sim, alice.id)
        await slack_sim.user_says(thread, "What is the capital of France?")
        [answer] = await wait_for_answers(slack_sim, thread)
        prompts = await slack_sim.wait_for(lambda: slack_sim.state.prompts(thread.channel_id, thread.thread_ts)[1:] or None)

    assert answer.text == "Paris is the capital of France."
    statuses = slack_sim.state.statuses(thread.channel_id, thread.thread_ts)
    assert statuses[0].status == THINKING_STATUS and statuses[0].at < answer.started_at
    start_call = slack_sim.state.calls("chat.startStream")[0]
    assert start_call.params["markdown_text"] == "Paris ", "the first words go out at once, not after a buffer"
    assert start_call.params["recipient_user_id"] == alice.id and start_call.params["recipient_team_id"]
    [feedback] = feedback_elements(answer)
    assert feedback["type"] == "feedback_buttons" and feedback["action_id"] == FEEDBACK_ACTION_ID
    assert [t.title for t in slack_sim.state.titles(thread.channel_id, thread.thread_ts)] == ["What is the capital of France?"]
    assert "capital of France" in prompts[-1].prompts[0]["message"]
    call = model.first_call
    assert call.system_instructions == "You are a test assistant."
    assert call.input == [{"role": "user", "content": "What is the capital of France?"}]


async def test_a_follow_up_sees_the_earlier_turns(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    model = ScriptedModel([streamed_reply("Four."), streamed_reply("Eight.")])
    async with connect_assistant(agent=scripted_agent(model)):
        thread = await greeted_thread(slack_sim, alice.id)
        await slack_sim.user_says(thread, "What is 2+2?")
        await wait_for_answers(slack_sim, thread, 1)
        await slack_sim.user_says(thread, "And doubled?")
        await wait_for_answers(slack_sim, thread, 2)

    assert transcript(model.last_call.input) == [
        ("user", "What is 2+2?"),
        ("assistant", "Four."),
        ("user", "And doubled?"),
    ]
    assert len(slack_sim.state.titles(thread.channel_id, thread.thread_ts)) == 1, "the title comes from the first question"


async def test_later_text_is_batched_into_a_handful_of_calls(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    pieces = [f"word{i} " for i in range(200)]
    model = ScriptedModel([streamed_reply(*pieces, pause=0.01)])
    async with connect_assistant(agent=scripted_agent(model)):
        thread = await greeted_thread(slack_sim, alice.id)
        await slack_sim.user_says(thread, "Count for me")
        [answer] = await wait_for_answers(slack_sim, thread)
    assert answer.text == "".join(pieces)
    stream_calls = [c for c in slack_sim.state.calls() if c.method.startswith("chat.") and c.method.endswith("Stream")]
    # 200 deltas over ~2 s: one start, about one append per second, one stop.
    assert len(stream_calls) <= 6, [c.method for c in stream_calls]


async def test_a_long_answer_continues_in_new_messages_without_losing_a_character(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    paragraph = "A fairly long sentence that keeps going for a while. " * 20 + "\n\n"
    pieces = [paragraph] * 28  # ~30,000 characters
    model = ScriptedModel([streamed_reply(*pieces)])
    async with connect_assistant(agent=scripted_agent(model)):
        thread = await greeted_thread(slack_sim, alice.id)
        await slack_sim.user_says(thread, "Write a lot")
        answers = await wait_for_answers(slack_sim, thread, 3)
    assert "".join(a.text for a in answers) == "".join(pieces)
    assert all(len(a.text) <= MAX_MESSAGE_CHARS for a in answers)
    assert all(a.text.endswith("\n\n") for a in answers[:-1]), "cut between paragraphs"
    assert [bool(feedback_elements(a)) for a in answers] == [False] * (len(answers) - 1) + [True]


@pytest.mark.parametrize(
    ("readable", "member", "used"),
    [(True, True, True), (True, False, False), (False, True, False)],
)
async def test_channel_context_is_used_only_when_readable_and_the_user_is_a_member(
    slack_sim, connect_assistant, readable, member, used
):
    alice = slack_sim.add_user(name="alice")
    bob = slack_sim.add_user(name="bob")
    channel = slack_sim.add_channel(
        "launch",
        members=[bob.id, *([alice.id] if member else [])],
        readable=readable,
        messages=[(bob.id, "The launch moved to Thursday.")],
    )
    model = ScriptedModel([streamed_reply("Noted.")])
    async with connect_assistant(agent=scripted_agent(model)):
        thread = await greeted_thread(slack_sim, alice.id, context_channel=channel)
        await slack_sim.user_says(thread, "When is the launch?")
        await wait_for_answers(slack_sim, thread)
    question = model.first_call.input[-1]["content"]
    assert ("The launch moved to Thursday." in question) is used
    assert question.endswith("When is the launch?")


async def test_bot_and_edited_messages_are_not_answered(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    model = ScriptedModel([streamed_reply("only once")])
    async with connect_assistant(agent=scripted_agent(model)):
        thread = await greeted_thread(slack_sim, alice.id)
        base = {"type": "message", "channel": thread.channel_id, "channel_type": "im", "thread_ts": thread.thread_ts}
        for event in (
            {**base, "bot_id": "B0OTHER", "text": "I am another bot", "ts": "1700000000.000001"},
            {**base, "subtype": "message_changed", "message": {"text": "edited", "thread_ts": thread.thread_ts}, "ts": "1700000000.000002"},
            {**base, "user": alice.id, "text": "   ", "ts": "1700000000.000003"},
        ):
            await slack_sim.wait_for_ack(await slack_sim.send_event(event))
        await slack_sim.user_says(thread, "A real question")
        await wait_for_answers(slack_sim, thread)
    assert len(model.calls) == 1


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (litellm.exceptions.AuthenticationError("bad key", "litellm_proxy", "m"), "sign in"),
        (litellm.exceptions.BadRequestError("Invalid model name passed in model=x", "m", "litellm_proxy"), "ASSISTANT_MODEL"),
        (litellm.exceptions.InternalServerError("Connection error.", "litellm_proxy", "m"), "temporarily unavailable"),
    ],
)
async def test_a_failure_before_any_text_posts_one_notice_and_clears_the_status(slack_sim, connect_assistant, error, words):
    alice = slack_sim.add_user(name="alice")
    model = ScriptedModel([error] * 3)
    async with connect_assistant(agent=scripted_agent(model)):
        thread = await greeted_thread(slack_sim, alice.id)
        await slack_sim.user_says(thread, "Hello?")
        notice = await wait_for_notice(slack_sim, thread)
        await wait_for_explicit_status_clear(slack_sim, thread)
    assert words in notice["text"]
    assert answers_in(slack_sim, thread) == [], "no stream was opened"


async def test_a_failure_mid_stream_closes_the_stream_with_the_notice(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    model = ScriptedModel(
        [streamed_reply("The answer starts ", "well", fail_with=litellm.exceptions.InternalServerError("cut", "litellm_proxy", "m"))]
    )
    async with connect_assistant(agent=scripted_agent(model)):
        thread = await greeted_thread(slack_sim, alice.id)
        await slack_sim.user_says(thread, "Tell me")
        [answer] = await wait_for_answers(slack_sim, thread)
        await wait_for_explicit_status_clear(slack_sim, thread)
    assert answer.text.startswith("The answer starts well")
    assert "temporarily unavailable" in answer.text
    assert answer.text.count("The answer starts well") == 1
    assert len(model.calls) == 1, "no retry once text was shown"


async def test_a_slow_model_is_cut_off_by_the_timeout(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    model = ScriptedModel([streamed_reply("Thinking", " forever", pause=30)])
    async with connect_assistant(agent=scripted_agent(model), ASSISTANT_TIMEOUT_SECONDS="0.5"):
        thread = await greeted_thread(slack_sim, alice.id)
        await slack_sim.user_says(thread, "Slow question")
        [answer] = await wait_for_answers(slack_sim, thread)
    assert answer.text.startswith("Thinking") and "cut off here" in answer.text


# -- the real agent through a real LiteLLM proxy -----------------------------------------------


async def test_a_conversation_through_the_real_proxy(slack_sim, connect_assistant, litellm_proxy, upstream):
    alice = slack_sim.add_user(name="alice")
    upstream.enqueue(Reply(text="Two plus two is four."), Reply(text="Doubled, that is eight."))
    env = {
        "LITELLM_PROXY_URL": litellm_proxy.url,
        "LITELLM_API_KEY": litellm_proxy.master_key,
        "ASSISTANT_MODEL": "anthropic/claude-3-sonnet-20240229",
        "ASSISTANT_SYSTEM_PROMPT": "You are the integration-test assistant.",
    }
    async with connect_assistant(**env):
        thread = await greeted_thread(slack_sim, alice.id)
        await slack_sim.user_says(thread, "What is 2+2?")
        await wait_for_answers(slack_sim, thread, 1)
        await slack_sim.user_says(thread, "Double it")
        answers = await wait_for_answers(slack_sim, thread, 2)

    assert [a.text for a in answers] == ["Two plus two is four.", "Doubled, that is eight."]
    chat_requests = [r for r in upstream.requests if r.path.endswith("/chat/completions")]
    assert len(chat_requests) == 2
    last = chat_requests[-1].json
    assert last["messages"] == [
        {"role": "system", "content": "You are the integration-test assistant."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "Two plus two is four."},
        {"role": "user", "content": "Double it"},
    ]
    assert last["stream"] is True


async def test_a_wrong_proxy_key_gets_the_friendly_auth_message(slack_sim, connect_assistant, litellm_proxy, upstream):
    alice = slack_sim.add_user(name="alice")
    async with connect_assistant(LITELLM_PROXY_URL=litellm_proxy.url, LITELLM_API_KEY="sk-wrong-key"):
        thread = await greeted_thread(slack_sim, alice.id)
        await slack_sim.user_says(thread, "Hello?")
        notice = await wait_for_notice(slack_sim, thread)
    assert "sign in" in notice["text"] and "LITELLM_API_KEY" in notice["text"]
    assert upstream.requests == [], "the proxy refused the key before calling the provider"


async def test_slack_failures_around_the_answer_do_not_stop_it(slack_sim, connect_assistant, caplog):
    alice = slack_sim.add_user(name="alice")
    model = ScriptedModel([streamed_reply("Still answered.")])
    async with connect_assistant(agent=scripted_agent(model)):
        thread = await unannounced_thread(slack_sim, alice.id)
        slack_sim.fail_next("assistant.threads.setStatus", 1, error="internal_error", status=200)
        slack_sim.fail_next("conversations.replies", 1, error="internal_error", status=200)
        await slack_sim.user_says(thread, "Are you there?")
        [answer] = await wait_for_answers(slack_sim, thread)
    assert answer.text == "Still answered."
    assert "Answering without history" in caplog.text


async def test_a_new_message_stops_the_answer_still_streaming_and_is_answered(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    slow = streamed_reply(*[f"word{i} " for i in range(100)], pause=0.05)
    model = ScriptedModel([slow, streamed_reply("Second answer.")])
    async with connect_assistant(agent=scripted_agent(model)):
        thread = await greeted_thread(slack_sim, alice.id)
        await slack_sim.user_says(thread, "First question")
        await slack_sim.wait_for(lambda: answers_in(slack_sim, thread) or None)
        await slack_sim.user_says(thread, "Second question")
        first, second = await wait_for_answers(slack_sim, thread, 2)
    assert STOPPED_NOTICE in first.text and first.text.startswith("word0 ") and "word99" not in first.text
    assert not feedback_elements(first), "a stopped answer is not offered for rating"
    assert second.text == "Second answer."
    assert first.stopped_at <= second.started_at, "the answers did not interleave"
    earlier = transcript(model.last_call.input)
    assert earlier[0] == ("user", "First question") and earlier[-1] == ("user", "Second question")
    assert earlier[1][0] == "assistant" and earlier[1][1].startswith("word0 ") and STOPPED_MARK in earlier[1][1]




async def test_tool_calls_and_results_stay_in_memory_with_their_turn(slack_sim, connect_assistant):
    @function_tool
    def team_size(team: str) -> str:
        """How many people are in a team."""
        return f"{team} has 7 people"

    alice = slack_sim.add_user(name="alice")
    model = ScriptedModel(
        [
            ModelStep(output=[function_call("team_size", {"team": "platform"}, call_id="call_1")]),
            streamed_reply("Seven."),
            streamed_reply("Fourteen."),
        ]
    )
    agent = scripted_agent(model).clone(tools=[team_size])
    async with connect_assistant(agent=agent):
        thread = await greeted_thread(slack_sim, alice.id)
        await slack_sim.user_says(thread, "How big is platform?")
        await wait_for_answers(slack_sim, thread, 1)
        await slack_sim.user_says(thread, "And doubled?")
        await wait_for_answers(slack_sim, thread, 2)

    remembered = model.last_call.input
    types = [item.get("type", "message") for item in remembered]
    assert types == ["message", "function_call", "function_call_output", "message", "message"]
    assert remembered[1]["call_id"] == remembered[2]["call_id"] == "call_1"
    assert remembered[2]["output"] == "platform has 7 people"
    assert transcript([remembered[0], remembered[3], remembered[4]]) == [
        ("user", "How big is platform?"),
        ("assistant", "Seven."),
        ("user", "And doubled?"),
    ]


async def test_memory_is_rebuilt_once_from_slack_for_a_thread_the_store_does_not_know(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    model = ScriptedModel([streamed_reply("Eight."), streamed_reply("Two.")])
    async with connect_assistant(agent=scripted_agent(model)):
        thread = await unannounced_thread(slack_sim, alice.id)
        # Turns from before this store existed (a new DATA_DIR, a moved instance).
        slack_sim.add_channel_message(thread.channel_id, alice.id, "What is 2+2?", thread_ts=thread.thread_ts)
        slack_sim.add_channel_message(thread.channel_id, slack_sim.workspace.bot_user_id, "Four.", thread_ts=thread.thread_ts)
        await slack_sim.user_says(thread, "And doubled?")
        await wait_for_answers(slack_sim, thread, 1)
        await slack_sim.user_says(thread, "And halved?")
        await wait_for_answers(slack_sim, thread, 2)

    older = [("user", "An older conversation"), ("user", "What is 2+2?"), ("assistant", "Four.")]
    assert transcript(model.first_call.input) == [*older, ("user", "And doubled?")]
    assert transcript(model.last_call.input) == [
        ("user", "An older conversation"),
        ("user", "What is 2+2?"),
        ("assistant", "Four."),
        ("user", "And doubled?"),
        ("assistant", "Eight."),
        ("user", "And halved?"),
    ]
    assert len(slack_sim.state.calls("conversations.replies")) == 1, "read from Slack once, then from memory"
