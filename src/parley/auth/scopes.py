"""Scopes and the roles that grant them."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    READ = "conversations:read"
    READ_SENSITIVE = "conversations:read_sensitive"
    MANAGE = "conversations:manage"


class Role(StrEnum):
    VIEWER = "viewer"
    ANALYST = "analyst"
    ADMIN = "admin"


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.VIEWER: frozenset({Scope.READ}),
    Role.ANALYST: frozenset({Scope.READ, Scope.READ_SENSITIVE}),
    Role.ADMIN: frozenset({Scope.READ, Scope.READ_SENSITIVE, Scope.MANAGE}),
}

# Any one of these lets a caller read the inbox; read_sensitive is what unlocks the sensitive fields.
READ_SCOPES = frozenset({Scope.READ, Scope.READ_SENSITIVE, Scope.MANAGE})


def parse_scopes(values: list[str] | str) -> frozenset[Scope]:
    """Parse scope names, raising ValueError naming the first unknown one."""
    items = values.split() if isinstance(values, str) else values
    scopes: set[Scope] = set()
    for item in items:
        try:
            scopes.add(Scope(item))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise ValueError(f"unknown scope {item!r}; known scopes are {known}") from None
    return frozenset(scopes)


def format_scopes(scopes: frozenset[Scope]) -> str:
    return " ".join(sorted(s.value for s in scopes))
