"""Fixtures: every database test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from OCOP_TEST_DATABASE_URL (a server URL; tests create and drop their
own databases on it) or from a throwaway cluster started here. Each test gets a fresh
database cloned from a migrated template, so migrations run once per session.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ocop_workflow import migrate_db
from ocop_workflow.db import Database
from ocop_workflow.engine import Registry, get_registry

from .mail import SmtpServer
from .pg import TempPostgres
from .world import World, build_world

# The suite's products follow ocop-148 unless a test says otherwise: the operator's pin (issue #11), so
# that the date rule (ocop-1489 from 06/07/2025) is tested on its own (tests/test_workflow_dates.py).
os.environ.setdefault("OCOP_DEFAULT_WORKFLOW", "ocop-148")

BACKENDS = ["sqlite", "postgresql"]
if os.environ.get("OCOP_TEST_BACKENDS"):
    BACKENDS = os.environ["OCOP_TEST_BACKENDS"].split(",")


@pytest.fixture(scope="session")
def registry() -> Registry:
    return get_registry()


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    given = os.environ.get("OCOP_TEST_DATABASE_URL")
    if given:
        yield given
        return
    server = TempPostgres()
    try:
        yield server.url
    finally:
        server.stop()


def _admin_engine(server_url: str):
    return create_engine(make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_template(pg_server_url: str) -> Iterator[str]:
    name = f"ocop_tpl_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine(pg_server_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    migrate_db.upgrade(url)
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.sqlite3"
    migrate_db.upgrade(f"sqlite:///{path}")
    return path


def new_database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if backend == "sqlite":
        path = tmp_path / "ocop.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        db = Database(f"sqlite:///{path}")
        yield db
        db.dispose()
        return
    server_url = request.getfixturevalue("pg_server_url")
    template = request.getfixturevalue("pg_template")
    name = f"ocop_t_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    db = Database(make_url(server_url).set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh migrated database, once on SQLite and once on PostgreSQL."""
    yield from new_database(request.param, request, tmp_path)


@pytest.fixture
def sqlite_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    yield from new_database("sqlite", request, tmp_path)


@pytest.fixture
def world(db: Database, registry: Registry) -> World:
    return build_world(db, registry)


@pytest.fixture
def upload_dir(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def empty_database_url(db: Database, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no tables) on the backend of `db`, for tests that run the migrations themselves."""
    if db.engine.dialect.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.sqlite3'}"
        return
    server = request.getfixturevalue("pg_server_url")
    admin = _admin_engine(server)
    name = f"ocop_mig_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free local port; `smtp.sink` holds what it accepted."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
