"""Storage: table definitions, engine construction and migrations."""

from typing import Any, TypeAlias

from sqlalchemy import Row

# A result row of any width (SQLAlchemy 2.1 types rows by their column tuple).
AnyRow: TypeAlias = Row[*tuple[Any, ...]]
