"""Per-installation values kept in the database, so every process sharing it agrees on them."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from parley.db import tables

SECRET_KEY = "secret_key"


def instance_secret(engine: Engine) -> str:
    """The signing key: created on first use and stored, so cursors and sessions survive restarts."""
    t = tables.instance_settings
    with engine.begin() as conn:
        value = conn.execute(select(t.c.value).where(t.c.key == SECRET_KEY)).scalar_one_or_none()
        if value is not None:
            return str(value)
    try:
        with engine.begin() as conn:
            conn.execute(insert(t).values(key=SECRET_KEY, value=secrets.token_urlsafe(48)))
    except IntegrityError:
        pass  # another process stored one first; use theirs
    with engine.begin() as conn:
        return str(conn.execute(select(t.c.value).where(t.c.key == SECRET_KEY)).scalar_one())
