"""Failed logins are throttled per account, per address and per both, without locking the real
user out; argon2 runs apart from the threads queries need. Time is a fake clock: no sleeps."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from parley.app import create_app
from parley.auth.passwords import Passwords
from parley.auth.throttle import LoginThrottle
from parley.config import Settings
from parley.web.login import WRONG_CREDENTIALS
from tests.api.conftest import bearer
from tests.factories import PASSWORD
from tests.web.conftest import ANALYST, WebWorld, csrf_token, log_in

WRONG = "not the password"
ATTACKER, USER, OTHER = "10.0.0.1", "10.0.0.2", "10.0.0.3"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingPasswords:
    """The app's passwords, counting the verifications (each one an argon2 hash)."""

    def __init__(self, real: Passwords) -> None:
        self.real = real
        self.verified = 0

    def verify(self, password_hash: str | None, password: str) -> bool:
        self.verified += 1
        return self.real.verify(password_hash, password)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, engine: Engine, web_world: WebWorld, clock: FakeClock) -> FastAPI:
    app = create_app(settings, engine)
    app.state.login_throttle = LoginThrottle(clock=clock)
    app.state.passwords = CountingPasswords(app.state.passwords)
    return app


@pytest.fixture
def browser_at(app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """A browser at a client address of its own; the same address gives the same browser."""
    with ExitStack() as stack:
        browsers: dict[str, TestClient] = {}

        def at(address: str) -> TestClient:
            if address not in browsers:
                browsers[address] = stack.enter_context(
                    TestClient(app, client=(address, 50000), follow_redirects=False)
                )
            return browsers[address]

        yield at


def fail_until_throttled(browser: TestClient, clock: FakeClock, failures: int, email: str = ANALYST) -> None:
    """Fail ``failures`` times, waiting out each wait on the fake clock."""
    done = 0
    while done < failures:
        response = log_in(browser, email, WRONG)
        if response.status_code == 429:
            clock.advance(int(response.headers["retry-after"]))
            continue
        assert response.status_code == 400
        done += 1


def test_failures_beyond_the_free_ones_are_answered_429_before_any_hashing(
    app: FastAPI, browser_at: Callable[[str], TestClient]
) -> None:
    browser = browser_at(ATTACKER)
    statuses = [log_in(browser, ANALYST, WRONG).status_code for _ in range(4)]
    assert statuses == [400] * 4  # three free, and the fourth sets the first wait
    refused = log_in(browser, ANALYST, WRONG)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert "Too many failed attempts to log in. Wait 1 second, then try again." in refused.text
    assert 'role="alert"' in refused.text
    assert f'value="{ANALYST}"' in refused.text
    assert app.state.passwords.verified == 4


def test_each_further_failure_doubles_the_wait_up_to_fifteen_minutes(
    browser_at: Callable[[str], TestClient], clock: FakeClock
) -> None:
    browser = browser_at(ATTACKER)
    fail_until_throttled(browser, clock, 3)
    waits = []
    for _ in range(12):
        assert log_in(browser, ANALYST, WRONG).status_code == 400
        refused = log_in(browser, ANALYST, WRONG)
        assert refused.status_code == 429
        waits.append(int(refused.headers["retry-after"]))
        clock.advance(waits[-1])
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    assert "Wait 15 minutes, then try again." in refused.text


def test_the_right_password_waits_like_any_other_then_works_and_resets_the_account(
    browser_at: Callable[[str], TestClient], clock: FakeClock
) -> None:
    browser = browser_at(ATTACKER)
    fail_until_throttled(browser, clock, 6)  # waits of 1, 2, then 4 s
    assert log_in(browser, ANALYST, PASSWORD).headers["retry-after"] == "4"
    clock.advance(3)
    still = log_in(browser, ANALYST, PASSWORD)
    assert still.status_code == 429
    assert still.headers["retry-after"] == "1"
    clock.advance(1)
    assert log_in(browser, ANALYST, PASSWORD).status_code == 303
    browser.cookies.clear()  # logged out again
    # A fresh start: the three free failures are free again.
    assert [log_in(browser, ANALYST, WRONG).status_code for _ in range(4)] == [400] * 4


def test_the_real_user_from_another_address_waits_at_most_a_minute_however_others_keep_failing(
    browser_at: Callable[[str], TestClient], clock: FakeClock
) -> None:
    attacker, user, other = browser_at(ATTACKER), browser_at(USER), browser_at(OTHER)
    fail_until_throttled(attacker, clock, 20)  # the account now waits 512 s
    assert log_in(other, ANALYST, WRONG).status_code == 429  # the attacker's second address, held
    clock.advance(30)
    held = log_in(user, ANALYST, PASSWORD)
    assert held.status_code == 429
    assert held.headers["retry-after"] == "60"
    clock.advance(30)
    # The second address's hold ends first; its failure lengthens the account's wait...
    assert log_in(other, ANALYST, WRONG).status_code == 400
    assert log_in(other, ANALYST, WRONG).status_code == 429
    clock.advance(30)
    # ...but not the real user's hold, which ends a minute after it began.
    assert log_in(user, ANALYST, PASSWORD).status_code == 303
    assert log_in(attacker, ANALYST, WRONG).status_code == 429  # the attacker's own wait stands


def test_one_address_trying_many_accounts_is_throttled_and_other_addresses_are_not(
    browser_at: Callable[[str], TestClient],
) -> None:
    sprayer = browser_at(ATTACKER)
    statuses = [log_in(sprayer, f"guess{n}@acme.test", WRONG).status_code for n in range(31)]
    assert statuses == [400] * 31
    refused = log_in(sprayer, "guess31@acme.test", WRONG)
    assert refused.status_code == 429
    assert log_in(browser_at(USER), ANALYST, PASSWORD).status_code == 303


def test_throttling_is_logged_without_the_password_or_the_whole_email(
    browser_at: Callable[[str], TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="parley.auth.throttle")
    browser = browser_at(ATTACKER)
    for _ in range(5):
        log_in(browser, ANALYST, WRONG)
    messages = [r.getMessage() for r in caplog.records if r.name == "parley.auth.throttle"]
    assert any("delayed" in m and "a…@acme.test" in m and ATTACKER in m for m in messages), messages
    assert any("refused" in m and "wait 1 s" in m for m in messages), messages
    assert not [m for m in messages if ANALYST in m or WRONG in m]


class BlockingPasswords:
    """Verifications that wait until the test lets them finish: logins stuck in argon2."""

    def __init__(self, real: Passwords) -> None:
        self.real = real
        self.started = threading.Semaphore(0)
        self.finish = threading.Event()

    def verify(self, password_hash: str | None, password: str) -> bool:
        self.started.release()
        self.finish.wait(timeout=60)
        return self.real.verify(password_hash, password)


def test_the_list_is_served_while_logins_are_hashing(
    settings: Settings, engine: Engine, web_world: WebWorld
) -> None:
    # One thread for queries and two for passwords: were hashing on the query thread, the list
    # below would wait for logins that cannot finish until it has been served.
    app = create_app(settings.model_copy(update={"threads": 1, "password_threads": 2}), engine)
    passwords = BlockingPasswords(app.state.passwords)
    app.state.passwords = passwords
    with TestClient(app, follow_redirects=False) as browser, ThreadPoolExecutor(8) as pool:
        token = csrf_token(browser.get("/login").text)  # one form cookie for every post below
        form = {"email": ANALYST, "password": WRONG, "csrf_token": token}
        logins = [pool.submit(browser.post, "/login", data=form) for _ in range(4)]
        try:
            for _ in range(2):
                assert passwords.started.acquire(timeout=30), "two logins never hashed at once"
            headers = bearer(web_world.pats[ANALYST], org="acme")
            lists = pool.submit(
                lambda: [browser.get("/core/conversations", headers=headers) for _ in range(5)]
            )
            assert [r.status_code for r in lists.result(timeout=30)] == [200] * 5
            assert not any(login.done() for login in logins)  # all the while, every login was hashing
        finally:
            passwords.finish.set()
        assert [login.result(timeout=30).status_code for login in logins] == [400] * 4
        assert all(WRONG_CREDENTIALS in login.result().text for login in logins)
