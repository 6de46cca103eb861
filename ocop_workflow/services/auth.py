"""Logging in and looking after one's own account: authenticate (with throttling), change the
password, choose the language. The web's views only call these.

**Throttling.** Every failed login is a row in `login_failures`, once under the e-mail typed and
once under the client's address. A login is refused, before its password is even checked, while
the e-mail has `account_limit` failures within the window, or the address `ip_limit` (defaults
10 and 100 in 15 minutes, see Settings). The per-account limit is the strict one: it stops a guess
at one password from anywhere; the per-address limit is loose, so one throttled address behind a
NAT (a commune office, a mobile operator) does not lock out every user behind it, yet it still
stops one machine spraying passwords over many accounts. The counts live in the database, so every
web process sees the same ones and a restart clears nothing. Two concurrent failures may both pass
the check: the limit may be overshot by the number of requests in flight, never more. A successful
login clears its account's failures (not its address's).

**Same answer time.** Unknown e-mails, accounts without a password (created for the histories,
never logged in) and deactivated accounts run one argon2 verification like a wrong password does
(against DUMMY_HASH when there is no hash), and every failure writes the same rows, so the answer
time does not tell whether an account exists.

Plain functions over a SQLAlchemy Session; the caller commits (also after a failed login, so the
failure is counted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..errors import InvalidData, OcopError
from ..i18n import LOCALES, Text
from ..models import LoginFailure, User
from ..passwords import check_password, hash_password, needs_rehash, verify_password
from . import sessions as login_sessions
from . import tokens
from .access import Actor

# argon2id of a random password with argon2-cffi's default parameters (the ones new hashes get);
# recomputed at import should those defaults ever change, so it always costs what a real hash costs
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2OTqwk5IbxY7Il6r2BtgQ$ziVKzgd8dm0IRRO6ELnRMX5GcF7VYlvVzJWtuXDmUIQ"
if needs_rehash(DUMMY_HASH):  # pragma: no cover - only after an argon2-cffi upgrade
    DUMMY_HASH = hash_password("not-a-password-0123456789")

ACCOUNT, ADDRESS = "account", "ip"
KEY_LENGTH = 254


class LoginFailed(OcopError):
    """Wrong e-mail or password, no password, or a deactivated account: one answer for all."""

    code = "login_failed"

    def __init__(self) -> None:
        super().__init__(
            Text(
                "Sai e-mail hoặc mật khẩu, hoặc tài khoản đã bị khoá.",
                "Wrong e-mail or password, or the account is deactivated.",
            )
        )


class LoginThrottled(OcopError):
    """Too many failed logins for this account or from this address (HTTP 429). `retry_after` in seconds."""

    code = "login_throttled"

    def __init__(self, kind: str, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        if kind == ACCOUNT:
            text = Text(
                f"Tài khoản này có quá nhiều lần đăng nhập sai. Vui lòng thử lại sau {minutes} phút.",
                f"Too many failed logins for this account. Try again in {minutes} minutes.",
            )
        else:
            text = Text(
                f"Có quá nhiều lần đăng nhập sai từ địa chỉ của bạn. Vui lòng thử lại sau {minutes} phút.",
                f"Too many failed logins from your address. Try again in {minutes} minutes.",
            )
        super().__init__(text, kind=kind, retry_after=retry_after)
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginLimits:
    """How many failures within `window` lock an account and an address."""

    account_limit: int = 10
    ip_limit: int = 100
    window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: object) -> LoginLimits:
        return cls(
            account_limit=settings.login_account_limit,
            ip_limit=settings.login_ip_limit,
            window=timedelta(minutes=settings.login_window_minutes),
        )


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _keys(email: str, ip: str | None) -> list[tuple[str, str]]:
    keys = [(ACCOUNT, email[:KEY_LENGTH])]
    if ip:
        keys.append((ADDRESS, ip[:KEY_LENGTH]))
    return keys


def throttled_for(
    session: Session, email: str, ip: str | None, limits: LoginLimits, *, now: datetime | None = None
) -> LoginThrottled | None:
    """Why a login for `email` from `ip` must wait now (the longer wait if both), or None."""
    at = _now(now)
    worst: LoginThrottled | None = None
    for kind, key in _keys(email.strip().lower(), ip):
        limit = limits.account_limit if kind == ACCOUNT else limits.ip_limit
        if limit <= 0:
            continue
        recent = session.scalars(
            select(LoginFailure.at)
            .where(LoginFailure.kind == kind, LoginFailure.key == key, LoginFailure.at > at - limits.window)
            .order_by(LoginFailure.at.desc())
            .limit(limit)
        ).all()
        if len(recent) >= limit:
            # the oldest of the last `limit` failures must leave the window before one more try
            wait = math.ceil((recent[-1] + limits.window - at).total_seconds())
            if worst is None or wait > worst.retry_after:
                worst = LoginThrottled(kind, max(wait, 1))
    return worst


def record_failure(
    session: Session, email: str, ip: str | None, limits: LoginLimits, *, now: datetime | None = None
) -> None:
    """Count a failed login against the account and the address; forget failures past the window."""
    at = _now(now)
    session.execute(
        delete(LoginFailure).where(LoginFailure.at <= at - limits.window).execution_options(synchronize_session=False)
    )
    session.add_all([LoginFailure(kind=kind, key=key, at=at) for kind, key in _keys(email.strip().lower(), ip)])
    session.flush()


@dataclass(frozen=True)
class LoginCheck:
    """What `check_login` found, for `finish_login`: never the password itself."""

    email: str
    ip: str | None
    user_id: int | None
    verified_hash: str | None  # the stored hash the password matched; None: no match
    new_hash: str | None = None  # the same password hashed with today's parameters (rehash on login)


def check_login(
    session: Session,
    email: str,
    password: str,
    *,
    ip: str | None = None,
    limits: LoginLimits | None = None,
    now: datetime | None = None,
) -> LoginCheck:
    """The reading half of a login: throttling (LoginThrottled), the user, one argon2 verification.

    Writes nothing, so a caller may run it outside its write transaction (and SQLite's writer lock):
    the ~0.2 s of argon2 then never holds up another user's write.
    """
    limits = limits or LoginLimits()
    email = (email or "").strip().lower()
    waiting = throttled_for(session, email, ip, limits, now=now)
    if waiting is not None:
        raise waiting
    user = session.scalars(select(User).where(User.email == email)).one_or_none()
    stored = user.password_hash if user is not None and user.password_hash else DUMMY_HASH
    ok = verify_password(stored, password) and stored is not DUMMY_HASH and user.active
    if not ok:
        return LoginCheck(email, ip, None, None)
    return LoginCheck(email, ip, user.id, stored, hash_password(password) if needs_rehash(stored) else None)


def finish_login(
    session: Session, check: LoginCheck, *, limits: LoginLimits | None = None, now: datetime | None = None
) -> User:
    """The writing half: count a failure (LoginFailed), or return the user, rehashed, failures cleared.

    The account is read again: deactivated or given a new password since `check_login`, it fails.
    """
    limits = limits or LoginLimits()
    user = session.get(User, check.user_id) if check.verified_hash is not None else None
    if user is None or not user.active or user.password_hash != check.verified_hash:
        record_failure(session, check.email, check.ip, limits, now=now)
        raise LoginFailed()
    if check.new_hash:
        user.password_hash = check.new_hash
    session.execute(
        delete(LoginFailure)
        .where(LoginFailure.kind == ACCOUNT, LoginFailure.key == check.email[:KEY_LENGTH])
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return user


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    ip: str | None = None,
    limits: LoginLimits | None = None,
    now: datetime | None = None,
) -> User:
    """The active user with this e-mail and password; LoginThrottled or LoginFailed otherwise.

    A password hash made with older argon2 parameters is replaced on success (rehash on login).
    `check_login` then `finish_login` in one session.
    """
    check = check_login(session, email, password, ip=ip, limits=limits, now=now)
    return finish_login(session, check, limits=limits, now=now)


@dataclass(frozen=True)
class PasswordChanged:
    sessions_ended: int
    tokens_revoked: int


def change_password(
    session: Session,
    actor: Actor,
    current: str,
    new: str,
    *,
    revoke_tokens: bool,
    keep_session: int | None = None,
    now: datetime | None = None,
) -> PasswordChanged:
    """Set a new password after checking the current one and the password rule.

    Every login of the user except `keep_session` (the one making the change) ends, with its
    remember cookie; with `revoke_tokens`, so do all the user's API tokens (the user chooses: a
    token in a script is often why a password is *not* suspected).
    """
    user = actor.user
    if not verify_password(user.password_hash, current):
        raise InvalidData(Text("Mật khẩu hiện tại không đúng.", "The current password is wrong."), field="current")
    check_password(new, email=user.email, name=user.name)
    user.password_hash = hash_password(new)
    ended = login_sessions.end_user_sessions(session, user.id, keep=keep_session, now=now)
    revoked = tokens.revoke_user_tokens(session, user.id, now=now) if revoke_tokens else 0
    session.flush()
    return PasswordChanged(ended, revoked)


def unknown_locale() -> InvalidData:
    return InvalidData(
        Text(f"Ngôn ngữ phải là một trong {', '.join(LOCALES)}", f"The language must be one of {', '.join(LOCALES)}"),
        field="locale",
    )


def set_locale(session: Session, actor: Actor, locale: str) -> User:
    """The user's language for the interface and for mail."""
    if locale not in LOCALES:
        raise unknown_locale()
    actor.user.locale = locale
    session.flush()
    return actor.user


__all__ = [
    "DUMMY_HASH",
    "LoginCheck",
    "LoginFailed",
    "LoginLimits",
    "LoginThrottled",
    "PasswordChanged",
    "authenticate",
    "change_password",
    "check_login",
    "finish_login",
    "record_failure",
    "set_locale",
    "throttled_for",
    "unknown_locale",
]
