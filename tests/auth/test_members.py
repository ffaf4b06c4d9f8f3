"""Naming an org by slug or id, and reading who belongs to it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from parley.accounts import service
from parley.auth.members import find_org, membership, memberships
from parley.auth.passwords import Passwords
from parley.auth.scopes import Role
from parley.errors import Conflict


def test_an_org_is_found_by_slug_or_by_id(engine: Engine) -> None:
    with engine.begin() as conn:
        acme = service.create_org(conn, "acme")
        assert find_org(conn, "acme") == acme
        assert find_org(conn, str(acme.id)) == acme
        assert find_org(conn, "globex") is None
        # Digits that are not ASCII are no id: refused quietly, not with a ValueError from int().
        assert find_org(conn, "\u00b2") is None


def test_a_digit_slug_wins_over_the_org_with_that_id(engine: Engine, passwords: Passwords) -> None:
    with engine.begin() as conn:
        first = service.create_org(conn, "acme")
        numbered = service.create_org(conn, str(first.id))  # an org whose slug is the other's id
        assert find_org(conn, str(first.id)) == numbered
        user = service.create_user(conn, passwords, "ana@acme.test", "long enough pw", first, Role.VIEWER)
        service.create_user(conn, passwords, "ana@acme.test", "long enough pw", numbered, Role.ADMIN)
        member = membership(conn, user, str(first.id))
        assert member is not None and (member.slug, member.role) == (numbered.slug, Role.ADMIN)
        with pytest.raises(Conflict, match="already a member of acme"):
            service.create_user(conn, passwords, "ana@acme.test", "long enough pw", first, Role.ADMIN)


def test_memberships_list_a_users_orgs_by_name_with_their_roles(engine: Engine, passwords: Passwords) -> None:
    with engine.begin() as conn:
        zeta = service.create_org(conn, "zeta", "Zeta")
        alpha = service.create_org(conn, "alpha", "Alpha")
        service.create_org(conn, "other")
        user = service.create_user(conn, passwords, "ana@acme.test", "long enough pw", zeta, Role.ANALYST)
        service.create_user(conn, passwords, "ana@acme.test", "long enough pw", alpha, Role.VIEWER)
        assert [(m.slug, m.role) for m in memberships(conn, user)] == [
            ("alpha", Role.VIEWER),
            ("zeta", Role.ANALYST),
        ]
        assert membership(conn, user, "other") is None
        assert membership(conn, user, "no-such-org") is None
