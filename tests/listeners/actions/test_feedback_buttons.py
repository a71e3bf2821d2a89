from agents.testing import ScriptedModel

from listeners.actions.feedback_buttons import THANKS_NEGATIVE, THANKS_POSITIVE, build_feedback_vote
from tests.support.assistant_fixtures import scripted_agent
from tests.support.scripted_replies import streamed_reply
from tests.support.slack_waits import feedback_elements, greeted_thread, wait_for_answers


async def test_thumbs_up_then_down_keeps_one_vote_the_latest(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    async with connect_assistant(agent=scripted_agent(ScriptedModel([streamed_reply("An answer.")]))) as services:
        thread = await greeted_thread(slack_sim, alice.id)
        await slack_sim.user_says(thread, "Question?")
        [answer] = await wait_for_answers(slack_sim, thread)
        [buttons] = feedback_elements(answer)

        await slack_sim.wait_for_ack(await slack_sim.click_feedback(answer.ts, alice.id, buttons["positive_button"]["value"]))
        await slack_sim.wait_for(lambda: len(slack_sim.state.ephemeral_messages()) >= 1 or None)
        await slack_sim.wait_for_ack(await slack_sim.click_feedback(answer.ts, alice.id, buttons["negative_button"]["value"]))
        await slack_sim.wait_for(lambda: len(slack_sim.state.ephemeral_messages()) >= 2 or None)
        votes = await services.store.votes_for_message(channel_id=thread.channel_id, message_ts=answer.ts)

    assert [(v.user_id, v.positive, v.model, v.thread_ts) for v in votes] == [(alice.id, False, "openai/gpt-4", thread.thread_ts)]
    thanks = [e.message.get("text") for e in slack_sim.state.ephemeral_messages()]
    assert thanks == [THANKS_POSITIVE, THANKS_NEGATIVE]
    assert all(e.user == alice.id for e in slack_sim.state.ephemeral_messages())


def test_malformed_payloads_are_rejected():
    assert build_feedback_vote({}, fallback_team_id="T1") is None
    assert build_feedback_vote({"actions": [{"value": "sideways:m"}]}, fallback_team_id="T1") is None
    vote = build_feedback_vote(
        {
            "actions": [{"value": "positive:openai/gpt-4"}],
            "container": {"channel_id": "D1", "message_ts": "2.0", "thread_ts": "1.0"},
            "user": {"id": "U1"},
        },
        fallback_team_id="T1",
    )
    assert vote is not None and (vote.team_id, vote.channel_id, vote.message_ts, vote.thread_ts) == ("T1", "D1", "2.0", "1.0")


def test_a_team_id_bolt_took_from_a_malformed_payload_is_not_trusted():
    # Bolt's context.team_id is whatever team.id held; a list must not reach the store.
    body = {
        "actions": [{"value": "positive:openai/gpt-4"}],
        "channel": {"id": "D0123ABCD"},
        "message": {"ts": "1712345678.000100"},
        "user": {"id": "U0123ABCD"},
        "team": {"id": [None]},
    }
    vote = build_feedback_vote(body, fallback_team_id=[None])  # type: ignore[arg-type]
    assert vote is not None and vote.team_id == ""
