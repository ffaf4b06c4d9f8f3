"""Throttling password logins: per account, per client address, and per pair of the two.

Three counters of failed logins, each with a few failures free and then a wait that doubles with
every further failure, up to a cap:

* the pair (account, address), strictest: what one client guessing one account meets;
* the account, from any address: what many addresses guessing one account meet;
* the address, over any accounts: what one address trying many accounts meets.

An attacker must not be able to lock a real user out. Attempts refused while waiting are not
counted, so refused guesses never lengthen a wait. And the account-wide wait holds back an address
that has not used up its own free failures on that account for at most ``ACCOUNT_HOLD_SECONDS`` at
a time: the real user, from their own address, gets in within that however fast others keep
failing on the account. A success resets the pair and the account; it does not reset the
address, or one account of the attacker's own would wipe the address's record between guesses.

Every attempt is counted as a failure when it starts and taken back when it succeeds, so a
burst of concurrent guesses cannot all pass the check before the first is counted.

The counts live in memory, per process: with ``parley serve --workers N`` each process counts on its
own, and a restart forgets them. Throttling events go to a recorder (the log, for now), built
to be replaced by an audit trail; it never sees the password, and sees the email only masked.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Literal, TypeVar

_log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
Scope = Literal["account+address", "account", "address"]


@dataclass(frozen=True, slots=True)
class Rule:
    free: int  # failures that cost no wait
    first_wait: float  # seconds after the first failure beyond them; each further one doubles it
    cap: float

    def wait_after(self, failures: int) -> float:
        extra = failures - self.free
        if extra <= 0:
            return 0.0
        return min(self.cap, self.first_wait * (1 << min(extra - 1, 32)))


PAIR = Rule(free=3, first_wait=1, cap=15 * 60)
ACCOUNT = Rule(free=10, first_wait=1, cap=15 * 60)
# An office behind one address mistypes too: more free failures, the same growth and cap.
ADDRESS = Rule(free=30, first_wait=1, cap=15 * 60)
ACCOUNT_HOLD_SECONDS = 60.0
# A day after its last failure a record is forgotten: an old typo never weighs on a login.
FORGET_AFTER_SECONDS = 24 * 3600.0
# Records per counter, least recently used dropped first: bounds memory under a flood of
# made-up accounts (at about 200 bytes a record, some 30 MB for all three counters).
MAX_RECORDS = 50_000


@dataclass(frozen=True, slots=True)
class Attempt:
    """A login let through, counted as failed until ``LoginThrottle.succeeded`` says otherwise."""

    account: str
    address: str


@dataclass(frozen=True, slots=True)
class Refused:
    retry_after: int  # whole seconds, at least 1
    scope: Scope


@dataclass(frozen=True, slots=True)
class ThrottleEvent:
    """What an audit trail would record; the log gets it for now."""

    kind: Literal["refused", "delayed"]  # an attempt answered 429 / a failure that set a wait
    scope: Scope
    account: str  # masked: a…@example.com
    account_ref: str  # a keyed digest, to tell accounts with the same mask apart
    address: str
    failures: int
    wait_seconds: int


def log_event(event: ThrottleEvent) -> None:
    _log.warning(
        "login %s by %s throttle: account %s (ref %s) from %s, %d failure(s), wait %d s",
        event.kind,
        event.scope,
        event.account,
        event.account_ref,
        event.address,
        event.failures,
        event.wait_seconds,
    )


@dataclass(slots=True)
class _Failures:
    count: int = 0
    last: float = 0.0  # when the latest counted failure happened
    held_since: float | None = None  # pairs only: when the account-wide wait first held this pair back
    reported_until: float = 0.0  # the end of the latest wait a refusal was recorded for

    def until(self, rule: Rule) -> float:
        return self.last + rule.wait_after(self.count)


def normalise_email(email: str) -> str:
    # The same form the user lookup matches on, so case or spaces do not make a second account.
    return email.strip().lower()


def address_key(host: str | None) -> str:
    """The client address throttled as one: an IPv6 client's whole /64, which one machine is
    commonly given, so it cannot step through addresses."""
    if not host:
        return "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def mask_email(email: str) -> str:
    local, at, domain = email.partition("@")
    return f"{local[:1]}…{at}{domain}"


class LoginThrottle:
    """The three counters of one process. Thread-safe; ``clock`` is monotonic seconds."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        record: Callable[[ThrottleEvent], None] = log_event,
        ref_key: bytes = b"",
        max_records: int = MAX_RECORDS,
    ) -> None:
        self._clock = clock
        self._record = record
        self._ref_key = ref_key
        self._max_records = max_records
        self._lock = threading.Lock()
        self._pairs: OrderedDict[tuple[str, str], _Failures] = OrderedDict()
        self._accounts: OrderedDict[str, _Failures] = OrderedDict()
        self._addresses: OrderedDict[str, _Failures] = OrderedDict()

    def begin(self, email: str, host: str | None) -> Attempt | Refused:
        """Let a login attempt through (counted as a failure for now), or refuse it, before any
        password is hashed."""
        account, address = normalise_email(email), address_key(host)
        now = self._clock()
        events: list[ThrottleEvent] = []
        try:
            with self._lock:
                return self._begin(account, address, now, events)
        finally:
            self._emit(events)  # outside the lock: an audit trail may write to a database

    def _begin(
        self, account: str, address: str, now: float, events: list[ThrottleEvent]
    ) -> Attempt | Refused:
        """``begin`` under the lock; the events to record go into ``events``."""
        pair = self._entry(self._pairs, (account, address), now)
        by_account = self._entry(self._accounts, account, now)
        by_address = self._entry(self._addresses, address, now)
        waits: list[tuple[float, Scope, _Failures]] = []
        if (until := pair.until(PAIR)) > now:
            waits.append((until, "account+address", pair))
        if (until := by_address.until(ADDRESS)) > now:
            waits.append((until, "address", by_address))
        if (until := by_account.until(ACCOUNT)) > now:
            if pair.count < PAIR.free:
                if pair.held_since is None:
                    pair.held_since = now
                until = min(until, pair.held_since + ACCOUNT_HOLD_SECONDS)
            if until > now:
                waits.append((until, "account", by_account))
        if waits:
            until, scope, entry = max(waits, key=lambda wait: wait[0])
            retry_after = max(1, math.ceil(until - now))
            if until > entry.reported_until:  # once per wait: refusals come as fast as clients send
                entry.reported_until = until
                events.append(self._event("refused", scope, account, address, entry.count, retry_after))
            return Refused(retry_after, scope)
        pair.held_since = None
        for entry in (pair, by_account, by_address):
            entry.count += 1
            entry.last = now
        return Attempt(account, address)

    def failed(self, attempt: Attempt) -> None:
        """The attempt's password was wrong (it is counted already): record any wait it set."""
        events: list[ThrottleEvent] = []
        with self._lock:
            counters: tuple[tuple[Scope, _Failures | None, Rule], ...] = (
                ("account+address", self._pairs.get((attempt.account, attempt.address)), PAIR),
                ("account", self._accounts.get(attempt.account), ACCOUNT),
                ("address", self._addresses.get(attempt.address), ADDRESS),
            )
            for scope, entry, rule in counters:
                if entry is not None and (wait := rule.wait_after(entry.count)) > 0:
                    events.append(
                        self._event("delayed", scope, attempt.account, attempt.address, entry.count, wait)
                    )
        self._emit(events)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: the pair and the account start afresh; the address only gets
        this attempt back."""
        with self._lock:
            self._pairs.pop((attempt.account, attempt.address), None)
            self._accounts.pop(attempt.account, None)
            if (entry := self._addresses.get(attempt.address)) is not None:
                entry.count = max(0, entry.count - 1)

    def _entry(self, table: OrderedDict[K, _Failures], key: K, now: float) -> _Failures:
        entry = table.get(key)
        if entry is None or (entry.count and now - entry.last > FORGET_AFTER_SECONDS):
            entry = table[key] = _Failures()
            while len(table) > self._max_records:
                table.popitem(last=False)
        table.move_to_end(key)
        return entry

    def _event(
        self,
        kind: Literal["refused", "delayed"],
        scope: Scope,
        account: str,
        address: str,
        failures: int,
        wait: float,
    ) -> ThrottleEvent:
        ref = hmac.new(self._ref_key, f"parley-login:{account}".encode(), hashlib.sha256).hexdigest()[:10]
        return ThrottleEvent(kind, scope, mask_email(account), ref, address, failures, math.ceil(wait))

    def _emit(self, events: list[ThrottleEvent]) -> None:
        for event in events:
            self._record(event)
