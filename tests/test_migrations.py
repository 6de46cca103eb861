"""Alembic: the migrations build the schema the models describe, up and down, on both databases."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from ocop_workflow import migrate_db


def _fresh_url(request, tmp_path, backend: str) -> tuple[str, callable]:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'm.sqlite3'}", lambda: None
    server = request.getfixturevalue("pg_server_url")
    admin = create_engine(make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"ocop_mig_{tmp_path.name[-8:].replace('-', '_').lower()}"
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server).set(database=name).render_as_string(hide_password=False), drop


def test_upgrade_check_downgrade(request, tmp_path, db):
    backend = db.engine.dialect.name
    url, drop = _fresh_url(request, tmp_path, "sqlite" if backend == "sqlite" else "postgresql")
    try:
        migrate_db.upgrade(url)
        migrate_db.check(url)  # raises if models and migrations disagree
        engine = create_engine(url)
        tables = set(inspect(engine).get_table_names())
        assert {"organisations", "users", "memberships", "producers", "products", "product_events",
                "documents", "ratings", "alembic_version"} <= tables
        fks = inspect(engine).get_foreign_keys("products")
        assert all(fk["name"] and fk["name"].startswith("fk_products_") for fk in fks)
        engine.dispose()
        migrate_db.downgrade(url, "base")
        engine = create_engine(url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        migrate_db.upgrade(url)  # and up again
    finally:
        drop()
