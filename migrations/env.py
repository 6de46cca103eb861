"""Alembic environment: batch mode on SQLite, the URL from the config or OCOP_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from ocop_workflow.config import Settings
from ocop_workflow.db import make_engine
from ocop_workflow.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or Settings().database_url


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=url.startswith("sqlite")
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    if sqlite:
        _sqlite_foreign_keys(connection, on=False)
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _check_foreign_keys(connection)
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)


def _sqlite_foreign_keys(connection, *, on: bool) -> None:
    """SQLite's own procedure for schema changes that copy a table (batch mode: create a new table, copy,
    drop the old one, rename): foreign keys off while the tables are swapped, then checked before the
    commit. With them on, dropping a table that other rows point at fails ("FOREIGN KEY constraint
    failed") or cascades. The pragma is a no-op inside a transaction, so it goes to the driver directly,
    outside SQLAlchemy's transaction (the engine runs pysqlite in autocommit and emits BEGIN itself)."""
    if connection.in_transaction():
        return  # a caller's transaction: the pragma could not take effect
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _check_foreign_keys(connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the migration leaves rows whose foreign keys point nowhere: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
