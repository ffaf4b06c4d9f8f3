"""Orgs and who belongs to them in which role: what a token check, a login and a new member read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, or_, select

from parley.auth.scopes import Role
from parley.db import tables


@dataclass(frozen=True, slots=True)
class Org:
    id: int
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class Membership:
    org_id: int
    slug: str
    name: str
    role: Role


_o, _m = tables.orgs, tables.memberships
_BY_REF = or_(_o.c.slug == bindparam("ref"), _o.c.id == bindparam("ref_id"))
# A digit-only slug may also be another org's id: the slug wins, so the answer does not depend
# on which row the database happens to return first.
_SLUG_FIRST = (_o.c.slug == bindparam("ref")).desc()
_ORG = select(_o.c.id, _o.c.slug, _o.c.name).where(_BY_REF).order_by(_SLUG_FIRST)
# Built once: every request authenticated by a personal access token or a session runs it.
_MEMBERSHIPS = (
    select(_o.c.id, _o.c.slug, _o.c.name, _m.c.role)
    .select_from(_m.join(_o, _o.c.id == _m.c.org_id))
    .where(_m.c.user_id == bindparam("user_id"))
)
_ALL_MEMBERSHIPS = _MEMBERSHIPS.order_by(_o.c.name, _o.c.slug)
_ONE_MEMBERSHIP = _MEMBERSHIPS.where(_BY_REF).order_by(_SLUG_FIRST)


# orgs.id is a 32-bit integer: a larger number bound to it overflows the driver (SQLite) or the
# column type (PostgreSQL), so it is no id, like any other text that only looks like one.
_MAX_ORG_ID = 2**31 - 1


def org_id_of(ref: str) -> int | None:
    """The org id a reference spells, or None when it cannot be one (then it is only a slug)."""
    # isascii: str.isdigit accepts characters such as "²" or "١٢" that are no id here.
    if not (ref.isascii() and ref.isdigit()) or len(ref) > len(str(_MAX_ORG_ID)):
        return None
    value = int(ref)
    return value if 0 < value <= _MAX_ORG_ID else None


def _ref_values(ref: str | int) -> dict[str, object]:
    """Bind values naming an org: by slug or numeric id as a user typed it (str), or by id (int)."""
    if isinstance(ref, int):
        return {"ref": None, "ref_id": ref}
    return {"ref": ref, "ref_id": org_id_of(ref)}


def find_org(connection: Connection, ref: str) -> Org | None:
    """An org by slug, or by numeric id."""
    row = connection.execute(_ORG, _ref_values(ref)).first()
    return Org(row.id, row.slug, row.name) if row else None


def memberships(connection: Connection, user_id: int) -> list[Membership]:
    """The orgs a user belongs to, by name: the first one is where a fresh login lands."""
    rows = connection.execute(_ALL_MEMBERSHIPS, {"user_id": user_id})
    return [Membership(row.id, row.slug, row.name, Role(row.role)) for row in rows]


def membership(connection: Connection, user_id: int, org: str | int) -> Membership | None:
    """The user's membership of an org (a slug or id as typed, or an org id), or None when they
    have none there or the org does not exist: callers cannot tell the two apart."""
    row = connection.execute(_ONE_MEMBERSHIP, {"user_id": user_id, **_ref_values(org)}).first()
    return Membership(row.id, row.slug, row.name, Role(row.role)) if row else None
