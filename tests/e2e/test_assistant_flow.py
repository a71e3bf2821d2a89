"""The real app.py process, end to end: local Slack simulator over Socket Mode, real LiteLLM
proxy in front of a fake OpenAI-compatible upstream."""

import sqlite3
from urllib.parse import urlparse

from tests.support.fake_openai import Reply
from tests.support.slack_waits import (
    feedback_elements,
    greeted_thread,
    wait_for_answers,
    wait_for_explicit_status_clear,
    wait_for_notice,
)


async def test_greeting_streamed_multi_turn_answers_and_a_thumbs_down(slack_sim, litellm_proxy, upstream, run_bot, tmp_path):
    alice = slack_sim.add_user(name="alice")
    upstream.enqueue(
        Reply(text="The capital of France is Paris.", token_delay=0.01),
        Reply(text="About 2.1 million people live in Paris.", token_delay=0.01),
    )
    bot = await run_bot(ASSISTANT_MODEL="anthropic/claude-3-sonnet-20240229", ASSISTANT_SYSTEM_PROMPT="You are the e2e assistant.")

    thread = await greeted_thread(slack_sim, alice.id)
    prompts = await slack_sim.wait_for(lambda: slack_sim.state.prompts(thread.channel_id, thread.thread_ts))
    assert len(prompts[0].prompts) == 3

    await slack_sim.user_says(thread, "What is the capital of France?")
    [first] = await wait_for_answers(slack_sim, thread, 1)
    await slack_sim.user_says(thread, "How many people live there?")
    answers = await wait_for_answers(slack_sim, thread, 2)
    assert [a.text for a in answers] == ["The capital of France is Paris.", "About 2.1 million people live in Paris."]
    assert len(first.chunks) >= 2, "the answer streamed in more than one piece"

    chat = [r.json for r in upstream.requests if r.path.endswith("/chat/completions")]
    assert len(chat) == 2
    assert chat[1]["messages"] == [
        {"role": "system", "content": "You are the e2e assistant."},
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "The capital of France is Paris."},
        {"role": "user", "content": "How many people live there?"},
    ]

    [buttons] = feedback_elements(answers[1])
    await slack_sim.wait_for_ack(await slack_sim.click_feedback(answers[1].ts, alice.id, buttons["negative_button"]["value"]))
    await slack_sim.wait_for(lambda: slack_sim.state.ephemeral_messages() or None)
    assert bot.stop() == 0, bot.log()[-2000:]

    with sqlite3.connect(tmp_path / "data" / "assistant.sqlite3") as db:
        votes = db.execute("SELECT user_id, message_ts, positive, model FROM feedback").fetchall()
    assert votes == [(alice.id, answers[1].ts, 0, "anthropic/claude-3-sonnet-20240229")]

    log = bot.log()
    assert "Answered thread=" in log and "output_tokens=" in log
    for secret in (litellm_proxy.master_key, slack_sim.workspace.bot_token, slack_sim.workspace.app_token):
        assert secret not in log, "a secret reached the log"

    # The bot talked to the simulator and the proxy, and to nothing else.
    allowed = {("127.0.0.1", urlparse(slack_sim.api_url).port), ("127.0.0.1", urlparse(litellm_proxy.url).port)}
    connects = {tuple(c["address"][:2]) for c in bot.connections() if c["event"] == "connect" and isinstance(c["address"], list)}
    assert connects and connects <= allowed, connects - allowed
    lookups = {c["host"] for c in bot.connections() if c["event"] == "getaddrinfo"}
    assert lookups <= {"127.0.0.1", "localhost"}, lookups


async def test_a_wrong_proxy_key_gets_the_friendly_auth_message(slack_sim, upstream, run_bot):
    alice = slack_sim.add_user(name="alice")
    bot = await run_bot(LITELLM_API_KEY="sk-not-the-proxy-key")
    thread = await greeted_thread(slack_sim, alice.id)
    await slack_sim.user_says(thread, "Hello?")
    notice = await wait_for_notice(slack_sim, thread)
    assert "sign in" in notice["text"]
    await wait_for_explicit_status_clear(slack_sim, thread)
    assert upstream.requests == []
    assert "sk-not-the-proxy-key" not in bot.log()
