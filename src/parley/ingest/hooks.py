"""Provider webhooks: each hook is one URL, /hooks/{provider}/{id}, that names an org and holds
the secret the provider signs with.

Secrets are kept as the provider's scheme allows. A scheme that sends the secret itself (Vapi's
``x-vapi-secret``) lets Parley keep only its SHA-256, like API tokens. An HMAC scheme needs the
whole secret to compute the signature, so it is encrypted (Fernet) with a key derived from the
instance's secret key: a database dump alone does not give it away. Changing
``PARLEY_SECRET_KEY`` makes those secrets unreadable; the hooks then answer 503 until they are
made again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Connection, insert, select, update

from parley.db import tables
from parley.errors import BadRequest, NotFound, ServiceUnavailable
from parley.ingest.providers import PROVIDERS
from parley.ingest.providers.common import HookSecret

_h = tables.hooks
_SEALED = "fernet:"
_HASHED = "sha256:"
MAX_SECRET_LENGTH = 4096


class Scheme(StrEnum):
    HMAC = "hmac"  # the provider signs with the secret: kept encrypted
    SECRET = "secret"  # the provider sends the secret itself: kept hashed


@dataclass(frozen=True, slots=True)
class Hook:
    id: str
    org_id: int
    org_slug: str
    provider: str
    scheme: Scheme
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ActiveHook:
    id: str
    org_id: int
    provider: str
    secret: HookSecret


def _fernet(instance_key: str) -> Fernet:
    # A key of its own, derived rather than the signing key itself, so a leak of one use of the
    # instance key does not hand over the other.
    derived = hmac.new(instance_key.encode(), b"parley hook secrets v1", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret: str, instance_key: str, scheme: Scheme) -> str:
    if scheme is Scheme.SECRET:
        return _HASHED + hashlib.sha256(secret.encode()).hexdigest()
    return _SEALED + _fernet(instance_key).encrypt(secret.encode()).decode()


def unseal(stored: str, instance_key: str) -> HookSecret:
    if stored.startswith(_HASHED):
        return HookSecret(digest=stored.removeprefix(_HASHED))
    try:
        plain = _fernet(instance_key).decrypt(stored.removeprefix(_SEALED).encode()).decode()
    except InvalidToken:
        raise ServiceUnavailable(
            "This hook's secret cannot be read with the instance's secret key; make the hook again."
        ) from None
    return HookSecret(plain=plain)


def check_provider(provider: str) -> None:
    if provider not in PROVIDERS:
        raise BadRequest(
            f"{provider!r} is not a provider Parley takes webhooks from: {', '.join(PROVIDERS)}."
        )


def create_hook(
    connection: Connection, org_id: int, provider: str, secret: str, instance_key: str, scheme: Scheme
) -> str:
    check_provider(provider)
    if scheme is Scheme.SECRET and provider != "vapi":
        raise BadRequest("Only Vapi sends its secret itself; every other provider signs with it (hmac).")
    if not secret or len(secret) > MAX_SECRET_LENGTH or secret != secret.strip():
        raise BadRequest(
            f"The secret must be 1 to {MAX_SECRET_LENGTH} characters, without surrounding spaces."
        )
    hook_id = "hk_" + secrets.token_urlsafe(15)  # 20 characters of 120 random bits
    connection.execute(
        insert(_h).values(
            id=hook_id,
            org_id=org_id,
            provider=provider,
            secret=seal(secret, instance_key, scheme),
            created_at=datetime.now(UTC),
        )
    )
    return hook_id


def list_hooks(connection: Connection, org_id: int | None = None) -> list[Hook]:
    o = tables.orgs
    statement = (
        select(_h.c.id, _h.c.org_id, o.c.slug, _h.c.provider, _h.c.secret, _h.c.created_at, _h.c.revoked_at)
        .join(o, o.c.id == _h.c.org_id)
        .order_by(o.c.slug, _h.c.created_at, _h.c.id)
    )
    if org_id is not None:
        statement = statement.where(_h.c.org_id == org_id)
    return [
        Hook(
            row.id,
            row.org_id,
            row.slug,
            row.provider,
            Scheme.SECRET if row.secret.startswith(_HASHED) else Scheme.HMAC,
            row.created_at,
            row.revoked_at,
        )
        for row in connection.execute(statement)
    ]


def revoke_hook(connection: Connection, hook_id: str) -> None:
    done = connection.execute(
        update(_h).where(_h.c.id == hook_id, _h.c.revoked_at.is_(None)).values(revoked_at=datetime.now(UTC))
    )
    if done.rowcount == 0:
        raise NotFound(f"There is no active hook {hook_id!r}.")


def active_hook(connection: Connection, provider: str, hook_id: str, instance_key: str) -> ActiveHook:
    """The hook this URL names; unknown, revoked and other-provider hooks are all 404 alike."""
    row = connection.execute(
        select(_h.c.org_id, _h.c.provider, _h.c.secret).where(_h.c.id == hook_id, _h.c.revoked_at.is_(None))
    ).first()
    if row is None or row.provider != provider:
        raise NotFound(f"There is no active {provider} hook at this address.")
    return ActiveHook(hook_id, row.org_id, row.provider, unseal(row.secret, instance_key))


def hook_url(base_url: str, provider: str, hook_id: str) -> str:
    return f"{base_url.rstrip('/')}/hooks/{provider}/{hook_id}"
