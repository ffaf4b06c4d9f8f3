"""The few reads only the web inbox needs: who the logged-in user is and the org's agents (their
orgs come from ``auth.members.memberships``)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from parley.db import AnyRow, tables


def user_email(connection: Connection, user_id: int) -> str | None:
    return connection.execute(
        select(tables.users.c.email).where(tables.users.c.id == user_id)
    ).scalar_one_or_none()


def org_agents(connection: Connection, org_id: int) -> list[AnyRow]:
    """The org's agents (id, name), for the inbox's agent filter."""
    a = tables.agents
    return list(
        connection.execute(select(a.c.id, a.c.name).where(a.c.org_id == org_id).order_by(a.c.name, a.c.id))
    )


def org_agent(connection: Connection, org_id: int, agent_id: int) -> AnyRow | None:
    """One agent of the org (id, name, created_at); None for another org's or a missing one."""
    a = tables.agents
    return connection.execute(
        select(a.c.id, a.c.name, a.c.created_at).where(a.c.org_id == org_id, a.c.id == agent_id)
    ).first()


def agent_versions(connection: Connection, org_id: int, agent_id: int) -> list[AnyRow]:
    """An agent's versions, newest first (version, notes, created_at)."""
    v = tables.agent_versions
    return list(
        connection.execute(
            select(v.c.version, v.c.notes, v.c.created_at)
            .where(v.c.org_id == org_id, v.c.agent_id == agent_id)
            .order_by(v.c.version.desc())
        )
    )
