"""The model base of every feature's ``cd3p_*`` tables.

The tables use their own MetaData rather than CKAN's: CKAN's test reset deletes the rows of every
table it knows, which the ledger refuses by design. The alembic migrations in ``migration/cd3p``
(one chain for the plugin) create them (``ckan db upgrade``). Rows refer to organizations and
users by id without foreign keys, and keep their names as they were when the row was written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

metadata = sa.MetaData()


Base: Any = declarative_base(metadata=metadata)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Dictizable:
    """``as_dict()``: a row's columns, dates in ISO 8601."""

    __table__: sa.Table

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for column in self.__table__.columns:
            value = getattr(self, column.key)
            out[column.key] = value.isoformat() if isinstance(value, dt.date | dt.datetime) else value
        return out


def tables() -> list[sa.Table]:
    """Every ``cd3p_*`` table: those of the features' ``model`` modules, which the plugin imports."""
    return list(metadata.sorted_tables)
