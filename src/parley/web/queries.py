"""The few reads only the web inbox needs: who the logged-in user is, their orgs, the org's agents."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from parley.db import AnyRow, tables


@dataclass(frozen=True, slots=True)
class Membership:
    org_id: int
    slug: str
    name: str
    role: str


def user_email(connection: Connection, user_id: int) -> str | None:
    return connection.execute(
        select(tables.users.c.email).where(tables.users.c.id == user_id)
    ).scalar_one_or_none()


def memberships(connection: Connection, user_id: int) -> list[Membership]:
    """The orgs a user belongs to, by name: the first one is where a fresh login lands."""
    m, o = tables.memberships, tables.orgs
    rows = connection.execute(
        select(o.c.id, o.c.slug, o.c.name, m.c.role)
        .select_from(m.join(o, o.c.id == m.c.org_id))
        .where(m.c.user_id == user_id)
        .order_by(o.c.name, o.c.slug)
    )
    return [Membership(row.id, row.slug, row.name, row.role) for row in rows]


def org_agents(connection: Connection, org_id: int) -> list[AnyRow]:
    """The org's agents (id, name), for the inbox's agent filter."""
    a = tables.agents
    return list(
        connection.execute(select(a.c.id, a.c.name).where(a.c.org_id == org_id).order_by(a.c.name, a.c.id))
    )
