"""One atomic `INSERT … ON CONFLICT DO UPDATE` per record update, in which the newest update
wins per field: PostgreSQL and SQLite (the only two databases Assist runs on).

Nodes write their updates of one help request independently (node A queues "requested", node B
writes "accepted" first), so neither "update, else insert" (two inserts race on the key) nor
"last write wins" (an older update overwrites a newer field) is right. Each row keeps, per field,
the time of the update that set it (`field_at`, a JSON object); an update sets a field when it is
at least as new as that time, or when the field was never written (a blank to fill). The order
in which the writes arrive then no longer matters: every node converges on the same row.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

NEVER = -1.0  # the time of a field no update has written yet


def insert_for(dialect: str) -> Callable[[sa.Table], postgresql.Insert | sqlite.Insert]:
    """The dialect's insert construct (it has `on_conflict_do_update` and `excluded`)."""
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"records need PostgreSQL or SQLite, not {dialect}")


def stamp_of(table: sa.Table, field: str) -> sa.ColumnElement:
    """The stored time of `field` in the row being updated (NEVER when it has none)."""
    return sa.func.coalesce(table.c.field_at[field].as_float(), NEVER)


def with_stamps(table: sa.Table, dialect: str, stamps: dict[str, sa.ColumnElement]) -> sa.ColumnElement:
    """`field_at` with these fields' times replaced (other fields' times kept)."""
    if dialect == "postgresql":
        pairs = [part for field, at in stamps.items() for part in (sa.literal(field), at)]
        current = sa.func.coalesce(table.c.field_at, sa.literal_column("'{}'::jsonb"))
        return current.op("||")(sa.func.jsonb_build_object(*pairs))
    paths = [part for field, at in stamps.items() for part in (sa.literal(f'$."{field}"'), at)]
    return sa.func.json_set(sa.func.coalesce(table.c.field_at, sa.literal_column("'{}'")), *paths)


def newest_wins(table: sa.Table, dialect: str, key: dict, fields: dict, at: float) -> tuple[sa.Executable, dict]:
    """Insert the row, or merge `fields` (all written at time `at`) into the existing one:
    (statement, parameters) for `conn.execute`. The statement depends only on which fields are
    set, so it is built (and compiled by SQLAlchemy) once per field set, not once per update."""
    statement = _newest_wins(table, dialect, tuple(key), tuple(sorted(fields)))
    params = {f"v_{name}": value for name, value in (key | fields).items()}
    return statement, params | {"at_": at, "stamps_": {f: at for f in fields}}


@lru_cache(maxsize=512)
def _newest_wins(table: sa.Table, dialect: str, key: tuple[str, ...], fields: tuple[str, ...]) -> sa.Executable:
    at_ = sa.bindparam("at_", type_=sa.Float)
    insert = insert_for(dialect)(table).values(
        {name: sa.bindparam(f"v_{name}", type_=table.c[name].type) for name in key + fields}
        | {"updated_at": at_, "field_at": sa.bindparam("stamps_", type_=table.c.field_at.type)}
    )
    changes: dict = {}
    stamps: dict = {}
    for field in fields:
        newer = stamp_of(table, field) <= at_
        changes[field] = sa.case((newer, insert.excluded[field]), else_=table.c[field])
        stamps[field] = sa.case((newer, at_), else_=stamp_of(table, field))
    changes["field_at"] = with_stamps(table, dialect, stamps)
    changes["updated_at"] = sa.case((sa.func.coalesce(table.c.updated_at, NEVER) < at_, at_), else_=table.c.updated_at)
    return insert.on_conflict_do_update(index_elements=list(key), set_=changes)
