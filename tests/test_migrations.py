"""Alembic: the migrations build the schema the models describe, up and down, on both databases."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

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


def test_0010_keeps_notifications_and_accepts_move_notices(empty_database_url):
    """0010 rewrites the reminders' kind check (SQLite copies the table in batch mode) while notifications point at
    reminders: nothing is lost, a move notice is accepted, and down again the old kinds still hold."""
    url = empty_database_url
    migrate_db.upgrade(url, "0009")
    engine = create_engine(url)
    at = "2026-01-05 01:00:00+00:00"
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO organisations (id, code, name, level, path) VALUES (1, 'C', 'Xã', 'commune', '/C/')")
        )
        conn.execute(
            text(
                "INSERT INTO users (id, email, name, active, locale, created_at) "
                "VALUES (1, 'a@x.vn', 'A', true, 'vi', :at)"
            ),
            {"at": at},
        )
        conn.execute(text("INSERT INTO producers (id, name, kind, commune_id) VALUES (1, 'HTX', 'cooperative', 1)"))
        conn.execute(
            text(
                "INSERT INTO products (id, name, name_folded, product_group, producer_id, commune_id, workflow_key, "
                "workflow_version, state, state_entered_at, application_type, history_count, created_at, version, "
                "application_started_at) VALUES (1, 'Chè', 'che', 'food', 1, 1, 'ocop-148', 1, 'idea', :at, "
                "'first_rating', 1, :at, 1, :at)"
            ),
            {"at": at},
        )
        conn.execute(
            text(
                "INSERT INTO reminders (id, kind, product_id, subject, anchor_at, level, period, user_id, due_at, "
                "created_at, mail_mode) VALUES (1, 'stall', 1, 'idea', :at, 0, 0, 1, :at, :at, 'off')"
            ),
            {"at": at},
        )
        conn.execute(
            text(
                "INSERT INTO notifications (id, user_id, reminder_id, product_id, kind, title, body, created_at) "
                "VALUES (1, 1, 1, 1, 'stall', 'Quá hạn', 'b', :at)"
            ),
            {"at": at},
        )
    engine.dispose()
    migrate_db.upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT reminder_id FROM notifications")).scalars().all() == [1]
        conn.execute(
            text(
                "INSERT INTO reminders (id, kind, product_id, subject, anchor_at, level, period, user_id, due_at, "
                "created_at, mail_mode) VALUES (2, 'move', 1, '7', :at, 0, 0, 1, :at, :at, 'off')"
            ),
            {"at": at},
        )
    engine.dispose()
    migrate_db.downgrade(url, "0009")
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM reminders")).scalars().all() == [1]
        assert conn.execute(text("SELECT count(*) FROM notifications")).scalar() == 1
    engine.dispose()
