"""Who may ask and how often, checked before anything costs a model call."""

from agents.testing import ScriptedModel

from assistant.access_control import NO_GUESTS, NOT_ALLOWED, UNVERIFIED
from assistant.answer_pipeline import STORE_FAILED_NOTICE
from tests.support.assistant_fixtures import scripted_agent
from tests.support.redis_server import RedisServer
from tests.support.scripted_replies import streamed_reply
from tests.support.slack_waits import answers_in, greeted_thread, wait_for_answers, wait_for_notice


async def test_guests_are_refused_politely_without_a_model_call(slack_sim, connect_assistant):
    guest = slack_sim.add_user(name="guest", is_restricted=True)
    model = ScriptedModel([streamed_reply("never")])
    async with connect_assistant(agent=scripted_agent(model)):
        thread = await greeted_thread(slack_sim, guest.id)
        await slack_sim.user_says(thread, "Summarize #finance for me")
        notice = await wait_for_notice(slack_sim, thread)
    assert notice["text"] == NO_GUESTS
    assert model.calls == () and answers_in(slack_sim, thread) == []


async def test_guests_may_ask_when_allowed(slack_sim, connect_assistant):
    guest = slack_sim.add_user(name="guest", is_ultra_restricted=True)
    async with connect_assistant(agent=scripted_agent(ScriptedModel([streamed_reply("Welcome.")])), ALLOW_GUESTS="true"):
        thread = await greeted_thread(slack_sim, guest.id)
        await slack_sim.user_says(thread, "Hello")
        [answer] = await wait_for_answers(slack_sim, thread)
    assert answer.text == "Welcome."


async def test_allow_lists_refuse_everyone_else(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    bob = slack_sim.add_user(name="bob")
    model = ScriptedModel([streamed_reply("For Alice.")])
    async with connect_assistant(agent=scripted_agent(model), ALLOWED_USER_IDS=alice.id):
        bob_thread = await greeted_thread(slack_sim, bob.id)
        await slack_sim.user_says(bob_thread, "Let me in")
        assert (await wait_for_notice(slack_sim, bob_thread))["text"] == NOT_ALLOWED
        alice_thread = await greeted_thread(slack_sim, alice.id)
        await slack_sim.user_says(alice_thread, "Hi")
        [answer] = await wait_for_answers(slack_sim, alice_thread)
    assert answer.text == "For Alice." and len(model.calls) == 1


async def test_an_unverifiable_account_is_refused_for_now(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    model = ScriptedModel([streamed_reply("never")])
    async with connect_assistant(agent=scripted_agent(model)):
        thread = await greeted_thread(slack_sim, alice.id)
        slack_sim.fail_next("users.info", 1, error="internal_error", status=200)
        await slack_sim.user_says(thread, "Hello")
        assert (await wait_for_notice(slack_sim, thread))["text"] == UNVERIFIED
    assert model.calls == ()


async def test_over_the_user_limit_one_notice_then_silence_and_others_unaffected(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    bob = slack_sim.add_user(name="bob")
    model = ScriptedModel([streamed_reply(f"answer {i}") for i in range(4)])
    async with connect_assistant(agent=scripted_agent(model), RATE_LIMIT_USER_PER_MINUTE="3", RATE_LIMIT_CHANNEL_PER_MINUTE="100"):
        thread = await greeted_thread(slack_sim, alice.id)
        for i in range(3):
            await slack_sim.user_says(thread, f"question {i}")
            await wait_for_answers(slack_sim, thread, i + 1)
        for i in range(3, 6):
            await slack_sim.user_says(thread, f"question {i}")
        notice = await wait_for_notice(slack_sim, thread)
        bob_thread = await greeted_thread(slack_sim, bob.id)
        await slack_sim.user_says(bob_thread, "my turn")
        await wait_for_answers(slack_sim, bob_thread)
    assert "limit of 3 questions per minute" in notice["text"] and "try again in" in notice["text"]
    notices = [m for m in slack_sim.state.bot_replies(thread.channel_id, thread.thread_ts) if "limit of" in m.get("text", "")]
    assert len(notices) == 1
    assert len(answers_in(slack_sim, thread)) == 3 and len(model.calls) == 4


async def test_an_over_long_question_is_truncated_with_a_note(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    model = ScriptedModel([streamed_reply("Read it.")])
    async with connect_assistant(agent=scripted_agent(model), MAX_QUESTION_CHARS="100"):
        thread = await greeted_thread(slack_sim, alice.id)
        await slack_sim.user_says(thread, "word " * 200)
        await wait_for_answers(slack_sim, thread)
        notice = await wait_for_notice(slack_sim, thread)
    assert "only the first" in notice["text"] and "(999 characters)" in notice["text"]
    assert len(model.first_call.input[-1]["content"]) <= 100


async def test_history_is_trimmed_to_the_budget_keeping_the_newest(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    model = ScriptedModel([streamed_reply("x" * 300) for _ in range(4)])
    async with connect_assistant(agent=scripted_agent(model), PROMPT_BUDGET_CHARS="1000"):
        thread = await greeted_thread(slack_sim, alice.id)
        for turn in range(1, 5):
            await slack_sim.user_says(thread, f"question {turn}")
            await wait_for_answers(slack_sim, thread, turn)
    last = model.last_call
    assert last.input[-1]["content"] == "question 4"
    assert sum(len(item["content"]) for item in last.input) + len(last.system_instructions) <= 1000
    assert {"role": "user", "content": "question 1"} not in last.input, "the oldest turns went first"


async def test_secrets_are_redacted_before_the_model_and_pii_when_asked(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    bob = slack_sim.add_user(name="bob")
    token = "xoxb-" "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
    channel = slack_sim.add_channel("ops", members=[alice.id, bob.id], messages=[(bob.id, f"the bot token is {token}")])
    model = ScriptedModel([streamed_reply("Noted.")])
    async with connect_assistant(agent=scripted_agent(model), REDACT_PII="true"):
        thread = await greeted_thread(slack_sim, alice.id, context_channel=channel)
        await slack_sim.user_says(thread, "Mail bob@example.com, card 4111 1111 1111 1111, about <@U0BOB> in <#C0OPS|ops>")
        await wait_for_answers(slack_sim, thread)
    sent = model.first_call.input[-1]["content"]
    for leaked in (token, "bob@example.com", "4111 1111 1111 1111"):
        assert leaked not in sent
    assert "<@U0BOB>" in sent and "<#C0OPS|ops>" in sent, "mentions and links stay intact"


async def test_an_unreachable_state_store_gets_a_clear_notice(slack_sim, connect_assistant):
    alice = slack_sim.add_user(name="alice")
    model = ScriptedModel([streamed_reply("never")])
    redis_server = RedisServer()
    redis_server.start()
    try:
        async with connect_assistant(agent=scripted_agent(model), REDIS_URL=redis_server.url):
            thread = await greeted_thread(slack_sim, alice.id)
            redis_server.stop()
            await slack_sim.user_says(thread, "Hello?")
            notice = await wait_for_notice(slack_sim, thread)
    finally:
        redis_server.stop()
    assert notice["text"] == STORE_FAILED_NOTICE
    assert model.calls == ()
