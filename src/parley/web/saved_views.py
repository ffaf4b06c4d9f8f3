"""Saved inbox views: a name for a set of filters, private to its owner or shared with the org.

Who sees a view: its owner, and, when it is shared, every member of its org; nobody in another
org. Only the owner deletes it (a shared view is the owner's to withdraw, not the org's to lose).
Names are unique per owner and org, as the table's constraint says; two members may each share a
view of the same name, and both are listed, each with its owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select
from sqlalchemy.exc import IntegrityError

from parley.db import tables
from parley.db.clock import now
from parley.errors import BadRequest, Conflict, Forbidden, NotFound

MAX_NAME_LENGTH = 100
_v = tables.saved_views
_u = tables.users


@dataclass(frozen=True, slots=True)
class SavedView:
    id: int
    name: str
    query: str
    shared: bool
    owner_id: int
    owner_email: str

    def as_json(self, viewer_id: int) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "query": self.query,
            "url": f"/?{self.query}" if self.query else "/",
            "shared": self.shared,
            "mine": self.owner_id == viewer_id,
            "owner": self.owner_email,
        }


def clean_name(name: str) -> str:
    text = " ".join(name.split())
    if not text:
        raise BadRequest("A view needs a name.", parameter="name")
    if len(text) > MAX_NAME_LENGTH:
        raise BadRequest(
            f"A view's name must be at most {MAX_NAME_LENGTH} characters long.", parameter="name"
        )
    return text


def _select() -> Any:
    return select(_v.c.id, _v.c.name, _v.c.query, _v.c.shared, _v.c.user_id, _u.c.email).select_from(
        _v.join(_u, _u.c.id == _v.c.user_id)
    )


def visible_views(connection: Connection, org_id: int, user_id: int) -> list[SavedView]:
    """The views ``user_id`` sees in ``org_id``: their own first, then the ones others share."""
    rows = connection.execute(
        _select()
        .where(_v.c.org_id == org_id, or_(_v.c.user_id == user_id, _v.c.shared.is_(True)))
        .order_by((_v.c.user_id != user_id), _v.c.name, _v.c.id)
    )
    return [SavedView(*row) for row in rows]


def create_view(
    connection: Connection, org_id: int, user_id: int, name: str, query: str, shared: bool
) -> SavedView:
    """``query`` must already be canonical (``view_query.canonical_query``). Conflict if the
    owner has a view of that name in the org."""
    name = clean_name(name)
    try:
        with connection.begin_nested():
            view_id = connection.execute(
                insert(_v)
                .values(
                    org_id=org_id, user_id=user_id, name=name, query=query, shared=shared, created_at=now()
                )
                .returning(_v.c.id)
            ).scalar_one()
    except IntegrityError:
        raise Conflict(
            f"You already have a view named {name!r}. Pick another name.", parameter="name"
        ) from None
    found = connection.execute(_select().where(_v.c.id == view_id)).one()
    return SavedView(*found)


def delete_view(connection: Connection, org_id: int, user_id: int, view_ref: str) -> None:
    """Delete the owner's view. A view the user cannot see answers as one that does not exist."""
    view_id = int(view_ref) if view_ref.isascii() and view_ref.isdigit() and len(view_ref) < 12 else None
    found = (
        connection.execute(
            select(_v.c.user_id).where(
                _v.c.id == view_id, _v.c.org_id == org_id, or_(_v.c.user_id == user_id, _v.c.shared.is_(True))
            )
        ).first()
        if view_id is not None
        else None
    )
    if found is None:
        raise NotFound(f"There is no view {view_ref!r}.")
    if found.user_id != user_id:
        raise Forbidden("Only the member who saved a shared view can delete it.")
    connection.execute(delete(_v).where(_v.c.id == view_id, _v.c.org_id == org_id, _v.c.user_id == user_id))
