from assistant.recent_keys import RecentKeys


def test_first_claim_wins_until_the_ttl_passes():
    now = [0.0]
    keys = RecentKeys(ttl_seconds=600, clock=lambda: now[0])
    assert keys.claim(("D1", "1.0")) is True
    assert keys.claim(("D1", "1.0")) is False
    assert keys.claim(("D1", "2.0")) is True
    now[0] = 599
    assert keys.claim(("D1", "1.0")) is False
    now[0] = 601
    assert keys.claim(("D1", "1.0")) is True
    assert len(keys) == 1, "expired keys are dropped"
