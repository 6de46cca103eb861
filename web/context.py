"""Per-request plumbing: the database session, the acting user and the registry.

Each request has one SQLAlchemy session, committed once after a successful response (status <
400) and rolled back otherwise. It starts as a reader (a deferred transaction, which blocks no one)
and becomes a writer only when the request is about to write:

- `read_session()` is the request's session without claiming the writer. Authentication (the
  flask-login user loader, the API's bearer token) and the checks a view makes before receiving a
  file use it.
- `release_reads()` ends that read transaction before something slow, so a slow upload holds
  no pooled connection (PostgreSQL) or snapshot (SQLite) either.
- `db_session()` is the session a view works with. On GET/HEAD/OPTIONS it is the reader. On any
  other method its first call promotes the session (`Database.promote`): the read transaction
  ends, the process's `WriteLock` is taken (SQLite) and the next statement opens `BEGIN
  IMMEDIATE`; the lock is released after the commit or rollback, at the end of the request.

Why: SQLite has one writer at a time. When the writer was claimed at the first use of the
session, which is authentication, every POST held it for its whole duration, and an upload
holds it while its body is received and its zip directory checked (seconds), so every other
user's step waited for it. Now an upload streams and checks its file with no lock
(`services.uploads.store_upload`) and claims the writer only for its short INSERT; other POST views
call `db_session()` first and write as before. What authentication read (the user and their
memberships) stays loaded across the promotion; everything a view decides on is read after it, in
the writer's transaction, so a lost race still waits and then sees the winner's commit.
PostgreSQL has no writer lock; there the promotion only starts a new transaction.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

from flask import Flask, abort, current_app, g, request
from flask_login import current_user
from sqlalchemy.orm import Session

from ocop_workflow.config import Settings
from ocop_workflow.db import Database
from ocop_workflow.engine import Registry
from ocop_workflow.notify.moves import SETTINGS_KEY as MOVE_SETTINGS
from ocop_workflow.services.access import Actor
from ocop_workflow.services.uploads import ZipLimits

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WriteLock:
    """Queues the writers of one SQLite file: the threads of a process on a lock, then the processes
    (`ocop serve --processes N`) on an flock of `<database>.write-lock`.

    SQLite has one writer at a time and makes the others retry with sleeps of up to 100 ms (long
    tails); queued here, a writer starts as soon as the previous one is done. Same interface as
    `threading.Lock` (acquire(blocking, timeout), release). Without fcntl (Windows) or for an
    in-memory database, only the threads of one process are queued.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._thread = threading.Lock()
        self._path = path if fcntl is not None else None
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # a forked process must not share its parent's lock
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        started = time.monotonic()
        if not self._thread.acquire(blocking, timeout):
            return False
        if self._path is None:
            return True
        try:
            fd, pause = self._file(), 0.0005
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    waited = time.monotonic() - started
                    if not blocking or (timeout >= 0 and waited >= timeout):
                        self._thread.release()
                        return False
                    time.sleep(pause)
                    pause = min(pause * 2, 0.005)
        except OSError:  # no lock file (read-only folder): SQLite's own locking still applies
            return True

    def release(self) -> None:
        try:
            if self._path is not None and self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread.release()


def _write_lock_for(db: Database) -> WriteLock:
    name = db.engine.url.database if db.is_sqlite else None
    return WriteLock(Path(name + ".write-lock") if name and name != ":memory:" else None)


@dataclass
class OcopState:
    """What an app holds: its settings, its database, its workflow registry and where uploads go."""

    db: Database
    registry: Registry
    upload_dir: Path
    max_upload_bytes: int
    settings: Settings
    tz: tzinfo  # the programme's local time (Settings.timezone), for showing times
    zip_limits: ZipLimits = field(default_factory=ZipLimits)
    # SQLite has one writer at a time; queueing writers here avoids its busy-handler sleeps (long tails)
    write_lock: WriteLock | None = None

    def __post_init__(self) -> None:
        if self.write_lock is None:
            self.write_lock = _write_lock_for(self.db)


def state() -> OcopState:
    return current_app.extensions["ocop"]


def registry() -> Registry:
    return state().registry


def read_session() -> Session:
    """The request's session for reading, without claiming the database writer (see the module doc)."""
    session = g.get("db_session")
    if session is None:
        session = g.db_session = state().db.session()
    return session


def release_reads() -> None:
    """End the request's read transaction before something slow (receiving or checking a file), so
    no database connection or snapshot is held meanwhile; the next read starts a fresh one. Once
    the request writes, this does nothing (its writes are committed with the response)."""
    session = g.get("db_session")
    if session is not None and not g.get("ocop_writing") and session.in_transaction():
        session.commit()  # nothing was written; the objects read stay loaded (expire_on_commit=False)


def db_session() -> Session:
    """The request's session; on a method other than GET/HEAD/OPTIONS, a writer from the first call on."""
    session = read_session()
    if request.method not in READ_METHODS and not g.get("ocop_writing"):
        st = state()
        g.ocop_writing = True
        if st.db.is_sqlite and st.write_lock.acquire(timeout=30):
            g.ocop_write_lock = st.write_lock
        st.db.promote(session)
        session.info[MOVE_SETTINGS] = st.settings  # move notices' mail links use this site's address
    return session


def actor() -> Actor:
    """The logged-in user as the core's Actor (views are behind login_required)."""
    if not current_user.is_authenticated:
        abort(401)
    return current_user.actor


def locale() -> str:
    cached = g.get("ocop_locale")
    if cached is None:
        from flask_babel import get_locale

        loc = get_locale()
        cached = g.ocop_locale = loc.language if loc is not None else "vi"
    return cached


def rollback_request_session() -> None:
    """Roll back the request's session, if it has one, so that it can read again (error pages)."""
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def register_session_handling(app: Flask) -> None:
    @app.after_request
    def _commit(response):
        session = g.get("db_session")
        if session is not None:
            if response.status_code < 400:
                session.commit()
            else:
                session.rollback()
        return response

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        try:
            if session is not None:
                if exc is not None:
                    session.rollback()
                session.close()
        finally:
            g.pop("ocop_writing", None)
            lock = g.pop("ocop_write_lock", None)
            if lock is not None:
                lock.release()
