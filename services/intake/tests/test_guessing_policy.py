"""The guessing policy on its own (pure): when the next attempt may come, what counts as one source."""

from __future__ import annotations

from intake.domain.guessing import FREE_FAILURES_UNDER_ATTACK, Backoff, GuessPolicy, source_key


def test_the_wait_doubles_after_the_free_failures_up_to_its_cap():
    backoff = Backoff(free=3, base_s=2.0, max_s=60.0)
    assert [backoff.delay_after(n) for n in range(9)] == [0, 0, 0, 0, 2, 4, 8, 16, 32]
    assert backoff.delay_after(9) == backoff.delay_after(10_000) == 60.0  # capped, and no float overflow


def test_past_the_ceiling_a_pair_keeps_one_free_failure():
    policy = GuessPolicy(
        per_pair=Backoff(5, 2.0, 3600.0),
        per_source=Backoff(30, 2.0, 3600.0),
        target_ceiling=100,
        alert_sources=10,
        window_s=3600,
    )
    assert policy.pair_backoff(99).free == 5
    assert policy.pair_backoff(100).free == FREE_FAILURES_UNDER_ATTACK == 1
    assert policy.pair_backoff(100).delay_after(1) == 0  # the owner's one typo costs nothing
    assert Backoff(0, 2.0, 3600.0).under_attack().free == 0  # never more free failures than configured


def test_an_ipv6_subscriber_is_one_source_and_ipv4_addresses_are_their_own():
    assert source_key("2001:db8:1:2:aaaa::1") == source_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert source_key("2001:db8:1:3::1") != source_key("2001:db8:1:2::1")
    assert source_key("::ffff:203.0.113.9") == source_key("203.0.113.9") == "203.0.113.9"
    assert source_key("203.0.113.9") != source_key("203.0.113.10")
    assert source_key("unknown") == "unknown"
