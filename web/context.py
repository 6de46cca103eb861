"""Per-request plumbing: the database session, the acting user and the registry.

GET/HEAD requests read with `db.session()`; every other method writes through
`db.write_session()` (BEGIN IMMEDIATE on SQLite). The session is committed once after a
successful response (status < 400) and rolled back otherwise.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

from flask import Flask, abort, current_app, g, request
from flask_login import current_user
from sqlalchemy.orm import Session

from ocop_workflow.db import Database
from ocop_workflow.engine import Registry
from ocop_workflow.services.access import Actor

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
    """What an app holds: its database, its workflow registry and where uploads go."""

    db: Database
    registry: Registry
    upload_dir: Path
    max_upload_bytes: int
    # SQLite has one writer at a time; queueing writers here avoids its busy-handler sleeps (long tails)
    write_lock: WriteLock | None = None

    def __post_init__(self) -> None:
        if self.write_lock is None:
            self.write_lock = _write_lock_for(self.db)


def state() -> OcopState:
    return current_app.extensions["ocop"]


def registry() -> Registry:
    return state().registry


def db_session() -> Session:
    """The request's session, opened on first use."""
    session = g.get("db_session")
    if session is None:
        st = state()
        if request.method in READ_METHODS:
            session = st.db.session()
        else:
            if st.db.is_sqlite and st.write_lock.acquire(timeout=30):
                g.ocop_write_lock = st.write_lock
            session = st.db.write_session()
        g.db_session = session
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
    def _commit(response):  # noqa: ANN001, ANN202
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
            lock = g.pop("ocop_write_lock", None)
            if lock is not None:
                lock.release()
