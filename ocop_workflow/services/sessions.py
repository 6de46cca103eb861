"""Login sessions kept on the server: one row per login, which the server can end.

Why a session id per login rather than a value derived from the user (until issue #8 the cookie
held an HMAC of the user's password hash, so a session ended only when the password changed):

- **Logout really ends the session.** A signed cookie is valid wherever it is replayed; clearing
  it in one browser does nothing to a copy taken before (from a shared computer, a proxy log, a
  stolen backup). Here logout revokes the row, and every copy of the cookie, session or remember
  cookie alike, is refused from then on.
- **Revocable per login and per user.** A password change ends every *other* login of the user
  and keeps the one that made the change; deactivation ends them all; an administrator (or the
  user, later, on a "your sessions" list: the rows hold creation, last use, browser and address)
  can end one without touching the others. A derived value can only end all of them at once.
- **A bounded life on the server.** `expires_at` caps a login (12 hours, or 7 days with "keep me
  logged in"), whatever a client does with its cookie's expiry.

The browser's cookies carry a random 256-bit token (flask-login's user id); the row holds only its
SHA-256, so a leaked database does not yield working sessions, and a fast hash suffices for a
random secret of that size (as for API tokens). One indexed lookup per request finds the row.

Plain functions over a SQLAlchemy Session; the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, select, true, update
from sqlalchemy.orm import Session, joinedload

from ..engine import Policy
from ..models import Membership, User, UserSession
from .access import Actor, actor_for

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 100
# `last_seen_at` is written at most this often per session
SEEN_RESOLUTION = timedelta(minutes=5)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class StartedSession:
    """A login just started: the row, and the token for the cookies (never stored)."""

    row: UserSession
    token: str

    def __repr__(self) -> str:  # never print the token by accident
        return f"StartedSession(id={self.row.id}, user_id={self.row.user_id})"


def start_session(
    session: Session,
    user: User,
    *,
    lifetime: timedelta,
    remember: bool = False,
    user_agent: str | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> StartedSession:
    """A new login for `user`, valid for `lifetime` unless revoked first."""
    at = _now(now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = UserSession(
        user_id=user.id,
        token_hash=hash_token(token),
        created_at=at,
        last_seen_at=at,
        expires_at=at + lifetime,
        remember=remember,
        user_agent=(user_agent or "")[:200] or None,
        ip=(ip or "")[:45] or None,
    )
    session.add(row)
    session.flush()
    return StartedSession(row, token)


@dataclass(frozen=True)
class LiveLogin:
    """The user behind a live session (as the core's Actor) and the session's id."""

    actor: Actor
    session_id: int
    last_seen_at: datetime


# one statement per request: the live session, its active user, the memberships and their organisations
_LIVE_LOGIN = (
    select(User, UserSession.id, UserSession.last_seen_at)
    .join(UserSession, UserSession.user_id == User.id)
    .options(joinedload(User.memberships).joinedload(Membership.organisation))
    .where(
        UserSession.token_hash == bindparam("token_hash"),
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > bindparam("now"),
        User.active == true(),
    )
)


def load_login(
    session: Session, token: str | None, *, now: datetime | None = None, policy: Policy | None = None
) -> LiveLogin | None:
    """The Actor of a live session token (not revoked, not expired, user active), else None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    at = _now(now)
    row = session.execute(_LIVE_LOGIN, {"token_hash": hash_token(token), "now": at}).unique().one_or_none()
    if row is None:
        return None
    user, session_id, seen = row
    return LiveLogin(actor_for(user, policy=policy), session_id, seen)


def due_for_touch(last_seen_at: datetime, *, now: datetime | None = None) -> bool:
    """Whether a use of the session is worth recording (the last one is older than SEEN_RESOLUTION)."""
    return last_seen_at <= _now(now) - SEEN_RESOLUTION


def touch(session: Session, session_id: int, last_seen_at: datetime, *, now: datetime | None = None) -> bool:
    """Record a use of the session, at most once per SEEN_RESOLUTION (a conditional UPDATE)."""
    at = _now(now)
    if last_seen_at > at - SEEN_RESOLUTION:
        return False
    stmt = (
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.last_seen_at < at - SEEN_RESOLUTION)
        .values(last_seen_at=at)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount == 1


def end_session(session: Session, session_id: int, *, now: datetime | None = None) -> None:
    """Revoke one login (logout). Ending an ended session changes nothing."""
    stmt = (
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=_now(now))
        .execution_options(synchronize_session=False)
    )
    session.execute(stmt)


def end_user_sessions(session: Session, user_id: int, *, keep: int | None = None, now: datetime | None = None) -> int:
    """Revoke every live login of a user except `keep`; how many were ended."""
    cond = [UserSession.user_id == user_id, UserSession.revoked_at.is_(None)]
    if keep is not None:
        cond.append(UserSession.id != keep)
    stmt = update(UserSession).where(*cond).values(revoked_at=_now(now)).execution_options(synchronize_session=False)
    return session.execute(stmt).rowcount


def live_sessions(session: Session, user_id: int, *, now: datetime | None = None) -> list[UserSession]:
    """A user's logins still in force, newest first (for a future "your sessions" list)."""
    stmt = (
        select(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None), UserSession.expires_at > _now(now))
        .order_by(UserSession.id.desc())
    )
    return list(session.scalars(stmt))


__all__ = [
    "LiveLogin",
    "StartedSession",
    "end_session",
    "end_user_sessions",
    "hash_token",
    "live_sessions",
    "load_login",
    "start_session",
    "touch",
]
