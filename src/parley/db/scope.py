"""Which org's rows a PostgreSQL connection may see: the ``parley.org_id`` setting that the
row-level security policies of migration 0005 read.

"system" (the instance's own work across orgs) sees every row; an org's id, that org's; unset or
empty, none. ``read_connection``/``write_connection`` (``db.engine``) name the scope of each use:
a write sets it for its transaction only; a read, which runs in autocommit, sets it for the
session, and only when the pooled connection does not carry that value already, so one org's
requests in a row cost no round trip. A connection taken any other way (``engine.connect()``) is
first put back to the engine's default scope if its last use left another, so no org's scope
outlives the use it was set for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, Final, Literal

from sqlalchemy import Connection, Engine, event, text

SYSTEM: Final = "system"
OrgScope = int | Literal["system"] | None
ORG_SETTING: Final = "parley.org_id"
_ORG_INFO = "parley_org"  # the session-level value a pooled connection carries
_SCOPES_OPTION = "parley_scopes"
_SET_ORG = text(f"SELECT set_config('{ORG_SETTING}', :value, :local)")
_SET_ORG_DRIVER = f"SELECT set_config('{ORG_SETTING}', %s, false)"


class _Scopes:
    """One engine's default scope, and which of its threads is taking a connection it will aim
    itself (so the checkout need not reset it)."""

    def __init__(self, default: str) -> None:
        self.default = default
        self.aiming = threading.local()


def install(engine: Engine, *, system: bool) -> None:
    """Give a PostgreSQL engine's connections a default scope: "system" or none."""
    scopes = _Scopes(SYSTEM if system else "")
    engine.update_execution_options(**{_SCOPES_OPTION: scopes})
    event.listen(engine, "connect", partial(_on_connect, scopes))
    event.listen(engine, "checkout", partial(_on_checkout, scopes))


def value(org: OrgScope) -> str:
    return "" if org is None else SYSTEM if org == SYSTEM else str(int(org))


@contextmanager
def checkout(engine: Engine) -> Iterator[Connection]:
    """``engine.connect()`` for a use that sets its own scope."""
    scopes: _Scopes | None = engine.get_execution_options().get(_SCOPES_OPTION)
    if scopes is not None:
        scopes.aiming.on = True
    try:
        connection = engine.connect()
    finally:
        if scopes is not None:
            scopes.aiming.on = False
    with connection:
        yield connection


def aim_session(connection: Connection, org: OrgScope) -> None:
    """For a connection in autocommit: the scope stays set on the session."""
    wanted = value(org)
    if connection.info.get(_ORG_INFO) != wanted:
        connection.execute(_SET_ORG, {"value": wanted, "local": False})
        connection.info[_ORG_INFO] = wanted


def aim_transaction(connection: Connection, org: OrgScope) -> None:
    """For a connection in a transaction: the scope ends with it."""
    connection.execute(_SET_ORG, {"value": value(org), "local": True})


def _on_connect(scopes: _Scopes, dbapi_connection: Any, record: Any) -> None:
    _set(dbapi_connection, scopes.default)
    record.info[_ORG_INFO] = scopes.default


def _on_checkout(scopes: _Scopes, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    if getattr(scopes.aiming, "on", False) or record.info.get(_ORG_INFO) == scopes.default:
        return
    _set(dbapi_connection, scopes.default)
    record.info[_ORG_INFO] = scopes.default


def _set(dbapi_connection: Any, scope: str) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute(_SET_ORG_DRIVER, (scope,))
    dbapi_connection.commit()
