"""The real app.py process, end to end, on the happy paths: local Slack simulator over Socket
Mode, real LiteLLM proxy in front of a fake OpenAI-compatible upstream."""

import sqlite3
from urllib.parse import urlparse

from tests.support.fake_openai import Reply
from tests.support.slack_waits import feedback_elements, greeted_thread, wait_for_answers


def _chat_requests(upstream):
    return [r.json for r in upstream.requests if r.path.endswith("/chat/completions")]


def _votes(data_dir):
    with sqlite3.connect(data_dir / "assistant.sqlite3") as db:
        return db.execute("SELECT user_id, message_ts, positive, model FROM feedback").fetchall()


async def test_a_new_thread_gets_a_greeting_and_suggested_prompts(slack_sim, run_bot):
    alice = slack_sim.add_user(name="alice")
    await run_bot()
    thread = await greeted_thread(slack_sim, alice.id)
    prompts = await slack_sim.wait_for(lambda: slack_sim.state.prompts(thread.channel_id, thread.thread_ts))
    assert len(prompts[0].prompts) == 3 and all(p["title"] and p["message"] for p in prompts[0].prompts)
    assert slack_sim.state.bot_replies(thread.channel_id, thread.thread_ts)[0]["text"].startswith("Hi!")


async def test_a_clicked_suggested_prompt_streams_an_answer_with_feedback_buttons(slack_sim, upstream, run_bot):
    alice = slack_sim.add_user(name="alice")
    upstream.enqueue(Reply(text="Here is a short, friendly message for your team.", token_delay=0.02))
    await run_bot()
    thread = await greeted_thread(slack_sim, alice.id)
    prompts = await slack_sim.wait_for(lambda: slack_sim.state.prompts(thread.channel_id, thread.thread_ts))
    # Clicking a suggested prompt makes Slack post its message as the user's.
    await slack_sim.user_says(thread, prompts[0].prompts[1]["message"])
    [answer] = await wait_for_answers(slack_sim, thread)
    assert answer.text == "Here is a short, friendly message for your team."
    assert len(answer.chunks) >= 2, "streamed in more than one piece"
    assert [e["type"] for e in feedback_elements(answer)] == ["feedback_buttons"]
    assert _chat_requests(upstream)[0]["messages"][-1]["content"] == prompts[0].prompts[1]["message"]


async def test_web_api_calls_share_kept_alive_connections(slack_sim, upstream, run_bot):
    # Without a shared HTTP session slack_sdk opens a connection per call: against Slack, a TLS
    # handshake before every status, append and stop.
    alice = slack_sim.add_user(name="alice")
    upstream.enqueue(*(Reply(text=f"Answer {n}, in a few words.", token_delay=0.02) for n in range(3)))
    await run_bot()
    thread = await greeted_thread(slack_sim, alice.id)
    for turn in range(1, 4):
        await slack_sim.user_says(thread, f"Question {turn}?")
        await wait_for_answers(slack_sim, thread, turn)
    calls = [c for c in slack_sim.state.calls() if c.token == slack_sim.workspace.bot_token]
    peers = {c.peer for c in calls}
    assert None not in peers
    assert len(calls) >= 12 and len(peers) <= 3, f"{len(calls)} calls over {len(peers)} connections"


async def test_three_turns_reach_the_upstream_with_every_earlier_turn(slack_sim, litellm_proxy, upstream, run_bot, tmp_path):
    alice = slack_sim.add_user(name="alice")
    replies = ["Paris.", "About 2.1 million.", "The Seine."]
    upstream.enqueue(*(Reply(text=text) for text in replies))
    bot = await run_bot(ASSISTANT_MODEL="anthropic/claude-3-sonnet-20240229", ASSISTANT_SYSTEM_PROMPT="You are the e2e assistant.")
    thread = await greeted_thread(slack_sim, alice.id)
    questions = ["Capital of France?", "How many people live there?", "Which river runs through it?"]
    for turn, question in enumerate(questions, start=1):
        await slack_sim.user_says(thread, question)
        await wait_for_answers(slack_sim, thread, turn)

    assert [a.text for a in await wait_for_answers(slack_sim, thread, 3)] == replies
    last = _chat_requests(upstream)[-1]
    assert last["messages"] == [
        {"role": "system", "content": "You are the e2e assistant."},
        {"role": "user", "content": questions[0]},
        {"role": "assistant", "content": replies[0]},
        {"role": "user", "content": questions[1]},
        {"role": "assistant", "content": replies[1]},
        {"role": "user", "content": questions[2]},
    ]
    assert bot.stop() == 0
    log = bot.log()
    assert log.count("Answered thread=") == 3 and "output_tokens=" in log
    # Nothing secret in a full DEBUG log of the run (the bot also had an OPENAI_API_KEY).
    secrets = (litellm_proxy.master_key, slack_sim.workspace.bot_token, slack_sim.workspace.app_token, "sk-e2e-key-that-must-not-be-used")
    lines = log.splitlines()
    leaking = [line for line in lines if any(secret in line for secret in secrets)]
    assert not leaking, f"{len(leaking)} log lines carry a secret"
    print(f"scanned {len(lines)} DEBUG log lines for {len(secrets)} secrets: none found")
    # The bot talked to the simulator and the proxy, and to nothing else.
    allowed = {("127.0.0.1", urlparse(slack_sim.api_url).port), ("127.0.0.1", urlparse(litellm_proxy.url).port)}
    connects = {tuple(c["address"][:2]) for c in bot.connections() if c["event"] == "connect" and isinstance(c["address"], list)}
    assert connects and connects <= allowed, connects - allowed
    lookups = {c["host"] for c in bot.connections() if c["event"] == "getaddrinfo"}
    assert lookups <= {"127.0.0.1", "localhost"}, lookups


async def test_thumbs_up_then_down_on_one_answer_keeps_one_vote_the_latest(slack_sim, upstream, run_bot, tmp_path):
    alice = slack_sim.add_user(name="alice")
    upstream.enqueue(Reply(text="An answer to rate."))
    bot = await run_bot()
    thread = await greeted_thread(slack_sim, alice.id)
    await slack_sim.user_says(thread, "Rate me")
    [answer] = await wait_for_answers(slack_sim, thread)
    [buttons] = feedback_elements(answer)
    for count, value in enumerate((buttons["positive_button"]["value"], buttons["negative_button"]["value"]), start=1):
        await slack_sim.wait_for_ack(await slack_sim.click_feedback(answer.ts, alice.id, value))
        await slack_sim.wait_for(lambda: len(slack_sim.state.ephemeral_messages()) >= count or None)
    assert bot.stop() == 0
    assert _votes(tmp_path / "data") == [(alice.id, answer.ts, 0, "openai/gpt-4")]


async def test_channel_context_is_used_only_when_readable_and_the_user_is_a_member(slack_sim, upstream, run_bot):
    alice = slack_sim.add_user(name="alice")
    bob = slack_sim.add_user(name="bob")
    launch = slack_sim.add_channel("launch", members=[alice.id, bob.id], messages=[(bob.id, "Launch moved to Thursday.")])
    secret = slack_sim.add_channel("secret", members=[bob.id], messages=[(bob.id, "Salaries are in the sheet.")])
    hidden = slack_sim.add_channel("hidden", members=[alice.id, bob.id], readable=False, messages=[(bob.id, "Hidden plans.")])
    await run_bot()
    thread = await greeted_thread(slack_sim, alice.id, context_channel=launch)
    steps = [(None, "When is the launch?", "Launch moved to Thursday."), (secret, "What about pay?", None), (hidden, "Any plans?", None)]
    for turn, (channel, question, expected) in enumerate(steps, start=1):
        if channel is not None:
            await slack_sim.wait_for_ack(await slack_sim.change_context(thread, channel))
        await slack_sim.user_says(thread, question)
        await wait_for_answers(slack_sim, thread, turn)
        prompt = _chat_requests(upstream)[-1]["messages"][-1]["content"]
        assert prompt.endswith(question)
        for leaked in ("Salaries are in the sheet.", "Hidden plans."):
            assert leaked not in prompt
        if expected:
            assert expected in prompt and "<channel_context>" in prompt
        else:
            assert "<channel_context>" not in prompt
