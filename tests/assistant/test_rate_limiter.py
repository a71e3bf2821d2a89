from assistant.rate_limiter import QuestionLimits, RateLimiter


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_burst_up_to_the_rate_passes_then_waits_for_refill():
    clock = Clock()
    limiter = RateLimiter(6, clock=clock)
    for _ in range(6):
        assert limiter.wait_seconds("U1") == 0
        limiter.take("U1")
    assert limiter.wait_seconds("U1") == 10.0  # 6/min: one token every 10 s
    clock.now = 10.0
    assert limiter.wait_seconds("U1") == 0
    assert limiter.wait_seconds("U2") == 0, "other keys are unaffected"


def test_both_user_and_channel_limits_apply_and_a_refusal_costs_nothing():
    clock = Clock()
    limits = QuestionLimits(user_per_minute=2, channel_per_minute=3, clock=clock)
    assert limits.check("U1", "C1").allowed and limits.check("U1", "C1").allowed
    refused = limits.check("U1", "C1")
    assert not refused.allowed and refused.scope == "user" and refused.retry_after_seconds == 30
    assert limits.check("U2", "C1").allowed, "the refusal took no channel token"
    channel_full = limits.check("U3", "C1")
    assert not channel_full.allowed and channel_full.scope == "channel"
