"""The login throttle's counters on their own, on a fake clock."""

from __future__ import annotations

import pytest

from parley.auth.throttle import (
    ADDRESS,
    FORGET_AFTER_SECONDS,
    PAIR,
    Attempt,
    LoginThrottle,
    Refused,
    ThrottleEvent,
    address_key,
    mask_email,
)


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def events() -> list[ThrottleEvent]:
    return []


@pytest.fixture
def throttle(clock: Clock, events: list[ThrottleEvent]) -> LoginThrottle:
    return LoginThrottle(clock=clock, record=events.append, ref_key=b"k")


def fail(throttle: LoginThrottle, email: str = "ana@acme.test", host: str = "10.0.0.1") -> Attempt | Refused:
    attempt = throttle.begin(email, host)
    if isinstance(attempt, Attempt):
        throttle.failed(attempt)
    return attempt


def test_attempts_count_when_they_start_so_a_burst_cannot_slip_through(throttle: LoginThrottle) -> None:
    # Concurrent logins: every one begins before any has been found wrong.
    started = [throttle.begin("ana@acme.test", "10.0.0.1") for _ in range(PAIR.free + 3)]
    assert [isinstance(a, Attempt) for a in started] == [True] * (PAIR.free + 1) + [False] * 2


def test_case_and_spaces_make_no_second_account(throttle: LoginThrottle) -> None:
    for email in ("ana@acme.test", " ANA@acme.test", "Ana@Acme.Test ", "ana@ACME.test"):
        assert isinstance(fail(throttle, email), Attempt)
    assert isinstance(fail(throttle, "ana@acme.test"), Refused)


def test_an_ipv6_client_is_one_address_across_its_64(throttle: LoginThrottle) -> None:
    hosts = [f"2001:db8:1:2::{n:x}" for n in range(PAIR.free + 1)]
    for host in hosts:
        assert isinstance(fail(throttle, host=host), Attempt)
    assert isinstance(fail(throttle, host="2001:db8:1:2:ffff::1"), Refused)
    assert isinstance(fail(throttle, host="2001:db8:1:3::1"), Attempt)  # the next /64 is someone else
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key(None) == "unknown"


def test_failures_are_forgotten_a_day_after_the_last(throttle: LoginThrottle, clock: Clock) -> None:
    for _ in range(PAIR.free + 1):
        fail(throttle)
    assert isinstance(throttle.begin("ana@acme.test", "10.0.0.1"), Refused)
    clock.now += FORGET_AFTER_SECONDS + 1
    for _ in range(PAIR.free + 1):
        assert isinstance(fail(throttle), Attempt)


def test_a_success_gives_the_address_back_only_its_own_attempt(throttle: LoginThrottle) -> None:
    """Logging in to an account of one's own between guesses must not clear the address."""
    for n in range(ADDRESS.free):
        fail(throttle, f"guess{n}@acme.test")
    own = throttle.begin("me@evil.test", "10.0.0.1")
    assert isinstance(own, Attempt)
    throttle.succeeded(own)
    assert isinstance(fail(throttle, "guess-last@acme.test"), Attempt)  # the last free one
    assert isinstance(throttle.begin("another@acme.test", "10.0.0.1"), Refused)


def test_a_flood_of_made_up_accounts_is_bounded(clock: Clock) -> None:
    throttle = LoginThrottle(clock=clock, record=lambda _: None, max_records=100)
    for n in range(1000):
        fail(throttle, f"made-up-{n}@acme.test", host=f"10.1.{n // 250}.{n % 250}")
    assert len(throttle._pairs) == len(throttle._accounts) == 100


def test_events_carry_a_masked_email_and_refusals_are_recorded_once_per_wait(
    throttle: LoginThrottle, events: list[ThrottleEvent]
) -> None:
    for _ in range(PAIR.free + 1):
        fail(throttle)
    for _ in range(5):
        assert isinstance(throttle.begin("ana@acme.test", "10.0.0.1"), Refused)
    assert [(e.kind, e.scope, e.wait_seconds) for e in events] == [
        ("delayed", "account+address", 1),
        ("refused", "account+address", 1),
    ]
    assert {e.account for e in events} == {"a…@acme.test"}
    assert {e.address for e in events} == {"10.0.0.1"}
    assert len({e.account_ref for e in events}) == 1
    assert mask_email("bo@example.com") == "b…@example.com"
