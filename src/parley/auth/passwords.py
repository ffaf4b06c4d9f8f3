"""Password hashing with argon2id, at the cost the settings choose."""

from __future__ import annotations

import secrets
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from parley.config import Settings


class Passwords:
    """Hashes and checks passwords. Built from the settings by whoever needs one (the app keeps
    one in ``app.state.passwords``; a CLI command builds its own). It holds no secrets.

    Verification reads the cost from the stored hash, so lowering or raising the settings never
    locks anyone out; only hashes made from then on use the new cost.
    """

    def __init__(self, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)

    @classmethod
    def from_settings(cls, settings: Settings) -> Passwords:
        return cls(settings.password_time_cost, settings.password_memory_kib)

    def hash(self, password: str) -> str:
        return str(self._hasher.hash(password))

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches ``password_hash``; None (no such user) never matches but
        costs the same verification, so response time does not tell a missing user apart."""
        try:
            return bool(self._hasher.verify(password_hash or self._dummy_hash, password)) and (
                password_hash is not None
            )
        except (VerificationError, InvalidHashError):
            return False

    @cached_property
    def _dummy_hash(self) -> str:
        # Made on the first login for an unknown email rather than up front: a hash at production
        # cost took 90-430 ms, which every command and test paid whether it checked a password or not.
        # Two first logins at once may each make one; either does.
        return self.hash(secrets.token_urlsafe(24))
