"""Bearer token secrets: ``pat_…`` for people, ``ak_…`` for org API keys. Only their hash is stored."""

from __future__ import annotations

import hashlib
import re
import secrets
from enum import StrEnum


class TokenKind(StrEnum):
    PAT = "pat"
    API_KEY = "ak"


PREFIX_LENGTH = 12  # "pat_" or "ak_" plus enough characters to tell tokens apart in a listing
_SECRET_PATTERN = re.compile(r"^(pat|ak)_[A-Za-z0-9_-]{20,128}$")


def new_secret(kind: TokenKind) -> str:
    return f"{kind.value}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """What is stored of a token or a session cookie: the SHA-256 of its secret."""
    # A fast hash is right here: the secret has 256 bits of entropy, so there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def prefix_of(secret: str) -> str:
    return secret[:PREFIX_LENGTH]


def kind_of(secret: str) -> TokenKind | None:
    """The kind a well-formed secret claims, or None when it is not one of ours."""
    match = _SECRET_PATTERN.match(secret)
    return TokenKind(match.group(1)) if match else None
