"""Bulk INSERT for the sweep, optionally ignoring duplicates and returning columns, on both databases.

PostgreSQL gets one statement per chunk, whatever the number of rows:

    INSERT INTO t (a, b) SELECT * FROM unnest(CAST(:a0 AS integer[]), CAST(:a1 AS text[]))
    ON CONFLICT DO NOTHING RETURNING id

— a multi-row VALUES list would make a statement of thousands of parameters that the driver
parses anew for every chunk. SQLite uses SQLAlchemy's INSERT (… ON CONFLICT DO NOTHING)
with executemany, which is cheap there. Values are given as the Python values the column
types take (aware datetimes for UTCDateTime columns).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, String, Table, Text, any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

CHUNK_PG = 5000
CHUNK_SQLITE = 500


def insert_ignoring_duplicates(session: Session, table: Table):
    """INSERT … ON CONFLICT DO NOTHING for the session's dialect (SQLite or PostgreSQL)."""
    return insert_ignoring_duplicates_for(session.get_bind().dialect.name, table)


def insert_ignoring_duplicates_for(name: str, table: Table):
    """INSERT … ON CONFLICT DO NOTHING for the dialect `name` (sqlite or postgresql)."""
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"unsupported database {name}")
    return insert(table).on_conflict_do_nothing()


def _pg_array_type(column) -> str:
    t = column.type
    if isinstance(t, TypeDecorator):
        t = t.impl_instance
    if isinstance(t, JSON):
        return "text[]"  # sent as text, cast to json per row (there is no array of a JSON parameter type)
    if isinstance(t, BigInteger):
        return "bigint[]"
    if isinstance(t, Integer):
        return "integer[]"
    if isinstance(t, Boolean):
        return "boolean[]"
    if isinstance(t, DateTime):
        return "timestamptz[]" if t.timezone else "timestamp[]"
    if isinstance(t, String | Text):
        return "text[]"
    raise TypeError(f"no array type for {column}")


def _pg_value(value: object) -> object:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)
    return value


def _pg_json(value: object) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def bulk_insert(
    session: Session,
    table: Table,
    rows: list[dict],
    *,
    returning: tuple[str, ...] = (),
    ignore_duplicates: bool = False,
) -> list:
    """Insert `rows` (dicts with the same keys); returns the `returning` columns of inserted rows."""
    if not rows:
        return []
    out: list = []
    if session.get_bind().dialect.name == "postgresql":
        columns = list(rows[0])
        types = [_pg_array_type(table.c[c]) for c in columns]
        is_json = [isinstance(table.c[c].type, JSON) for c in columns]
        picked = ", ".join(f"CAST(u{i} AS json)" if j else f"u{i}" for i, j in enumerate(is_json))
        sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {picked} FROM unnest("
            + ", ".join(f"CAST(:a{i} AS {t})" for i, t in enumerate(types))
            + f") AS u({', '.join(f'u{i}' for i in range(len(columns)))})"
        )
        if ignore_duplicates:
            sql += " ON CONFLICT DO NOTHING"
        if returning:
            sql += " RETURNING " + ", ".join(returning)
        stmt = text(sql)
        for k in range(0, len(rows), CHUNK_PG):
            chunk = rows[k : k + CHUNK_PG]
            params = {
                f"a{i}": [_pg_json(r[c]) if is_json[i] else _pg_value(r[c]) for r in chunk]
                for i, c in enumerate(columns)
            }
            result = session.execute(stmt, params)
            if returning:
                out += result.all()
        return out
    stmt = insert_ignoring_duplicates(session, table) if ignore_duplicates else table.insert()
    if returning:
        stmt = stmt.returning(*[table.c[c] for c in returning])
    for k in range(0, len(rows), CHUNK_SQLITE):
        result = session.execute(stmt, rows[k : k + CHUNK_SQLITE])
        if returning:
            out += result.all()
    return out


def in_ids(session: Session, column, ids: list[int]):
    """Conditions `column IN ids`, one per chunk: a single `= ANY(array)` on PostgreSQL, chunks of
    IN lists on SQLite (whose statements are cheap but whose parameter count is bounded)."""
    if not ids:
        return
    if session.get_bind().dialect.name == "postgresql":
        yield column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
        return
    for k in range(0, len(ids), CHUNK_SQLITE):
        yield column.in_(ids[k : k + CHUNK_SQLITE])
