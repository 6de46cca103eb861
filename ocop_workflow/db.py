"""Engine and sessions for SQLite (embedded default) and PostgreSQL (production).

SQLite gets WAL, a busy timeout and foreign keys on every connection. Writers begin
with BEGIN IMMEDIATE (`write_session`): a deferred transaction that reads and then
writes fails with "database is locked" when another writer committed in between,
whereas an immediate one waits its turn and then sees the other's commit, so a lost
race turns into the clean stale-version error. Readers stay deferred and never block.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, PoolProxiedConnection, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def _begin_with(statement: str) -> Callable[[PoolProxiedConnection], None]:
    def do_begin(connection: PoolProxiedConnection) -> None:
        connection.dbapi_connection.execute(statement)

    return do_begin


def make_engine(url: str, **kwargs) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    # The BEGIN is the dialect's (its `do_begin`, a no-op for pysqlite), not an engine event: any
    # engine event makes SQLAlchemy dispatch four event hooks around every statement, which costs
    # a workflow step more than its BEGIN. `writer_engine` begins IMMEDIATE instead.
    engine.dialect.do_begin = _begin_with("BEGIN")
    return engine


def writer_engine(engine: Engine) -> Engine:
    """The same engine (pool, events, compiled cache) for writers: on SQLite its transactions
    begin IMMEDIATE, through a copy of the dialect that differs only in `do_begin`."""
    writer = engine.execution_options()
    if engine.dialect.name == "sqlite":
        writer.dialect = copy.copy(engine.dialect)
        writer.dialect.do_begin = _begin_with("BEGIN IMMEDIATE")
    return writer


class Database:
    """One engine plus two session factories: readers and writers."""

    def __init__(self, url: str, **engine_kwargs) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._writer_engine = writer_engine(self.engine)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(self._writer_engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._reader()

    def write_session(self) -> Session:
        return self._writer()

    def promote(self, session: Session) -> None:
        """Make a reader session (`session()`) a writer from now on, keeping what it loaded.

        On SQLite, a read transaction already open is replaced in place, on the same connection:
        `COMMIT` (nothing was written in it) then `BEGIN IMMEDIATE`, so the next statement sees
        every commit made so far and the session holds the single writer. Upgrading the deferred
        transaction by simply writing in it would fail with "database is locked" whenever another
        writer committed since it began. The ORM's own state is untouched: objects loaded before
        stay loaded and changes not yet flushed are flushed inside the writer's transaction.
        Every later transaction of the session begins IMMEDIATE too. PostgreSQL needs neither:
        its transactions may write at any point.
        """
        session.bind = self._writer_engine  # its next transactions begin IMMEDIATE
        if self.is_sqlite and session.in_transaction():
            dbapi_conn = session.connection().connection.dbapi_connection
            dbapi_conn.execute("COMMIT")
            dbapi_conn.execute("BEGIN IMMEDIATE")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A writer session that commits on success and rolls back on any error."""
        with self.write_session() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
