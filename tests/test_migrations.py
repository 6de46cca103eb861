"""Alembic: the migrations build the schema the models describe, up and down, on both databases."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from ocop_workflow import migrate_db


def test_upgrade_check_downgrade(empty_database_url):
    url = empty_database_url
    migrate_db.upgrade(url)
    migrate_db.check(url)  # raises if models and migrations disagree
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    assert {
        "organisations",
        "users",
        "memberships",
        "producers",
        "products",
        "product_events",
        "documents",
        "ratings",
        "alembic_version",
    } <= tables
    fks = inspect(engine).get_foreign_keys("products")
    assert all(fk["name"] and fk["name"].startswith("fk_products_") for fk in fks)
    engine.dispose()
    migrate_db.downgrade(url, "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate_db.upgrade(url)  # and up again
