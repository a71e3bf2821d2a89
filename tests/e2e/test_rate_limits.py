"""Slack's rate limits on the streaming methods must not change a single character."""

from tests.e2e.slack_sim.rate_limits import RateLimit
from tests.support.fake_openai import Reply
from tests.support.slack_waits import greeted_thread, wait_for_answers


async def test_a_rate_limited_append_stream_still_delivers_every_character(slack_sim, upstream, run_bot):
    alice = slack_sim.add_user(name="alice")
    text = " ".join(f"word{i}" for i in range(120)) + " — ünïcödé ✓ `code` **bold**"
    upstream.enqueue(Reply(text=text, token_delay=0.03))
    # Far below Tier 4, so that the answer's appends are refused and must be held and resent.
    slack_sim.enable_rate_limits({"chat.appendStream": RateLimit(per_minute=20, burst=1)})
    await run_bot()
    thread = await greeted_thread(slack_sim, alice.id)
    await slack_sim.user_says(thread, "Say a lot")
    [answer] = await wait_for_answers(slack_sim, thread)
    assert answer.text == text
    assert any(not call.ok for call in slack_sim.state.calls("chat.appendStream")), "the limit was hit"
