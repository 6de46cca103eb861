"""Personal API tokens: create (the secret is returned once), list, revoke, and authenticate.

A token reads `ocop_<prefix>_<secret>`: `prefix` is 12 hex characters, public, unique, and finds
the row; `secret` is 32 random bytes (URL-safe base64). Only the SHA-256 of the whole token is
stored: with 256 bits of entropy a slow password hash adds nothing, and a fast one keeps every
API request cheap. A token acts as its user, with the roles the user holds that day (the caller
loads the Actor with `services.access.load_actor`), so it can never do more than the user.

Nothing here logs or keeps a token's secret. The caller commits.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..errors import InvalidData, NotFound, OcopError
from ..i18n import Text
from ..models import ApiToken, User
from ..validation import check_text

SCHEME = "ocop"
PREFIX_BYTES = 6  # 12 hex characters
SECRET_BYTES = 32
MAX_NAME = 100
MAX_DAYS = 3650
MAX_ACTIVE_PER_USER = 20
MAX_TOKEN_LENGTH = 200
# `last_used_at` is written at most this often per token (a read request then costs no write)
USE_RESOLUTION = timedelta(minutes=1)
TOKEN_RE = re.compile(r"ocop_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


class InvalidToken(OcopError):
    """No valid token: missing, malformed, unknown, revoked or expired (HTTP 401)."""

    code = "invalid_token"


@dataclass(frozen=True)
class IssuedToken:
    """A token just created: the row, and the token itself, which is shown once and never stored."""

    row: ApiToken
    token: str = ""

    def __repr__(self) -> str:  # never print the secret by accident
        return f"IssuedToken(id={self.row.id}, prefix={self.row.prefix!r})"


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def status(row: ApiToken, now: datetime | None = None) -> str:
    """ "active", "expired" or "revoked"."""
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= _now(now):
        return "expired"
    return "active"


def _active_condition(now: datetime):
    return (ApiToken.revoked_at.is_(None)) & or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now)


def create_token(
    session: Session, user: User, *, name: str, expires_days: int | None = None, now: datetime | None = None
) -> IssuedToken:
    """A new token for `user`, valid for `expires_days` days (None: until revoked)."""
    at = _now(now)
    check_text(name, Text("Tên mã truy cập", "Token name"))  # before strip(), which drops some silently
    name = (name or "").strip()
    problems: list[Text] = []
    if not name:
        problems.append(Text("Tên mã truy cập không được để trống", "The token name is required"))
    elif len(name) > MAX_NAME:
        problems.append(
            Text(f"Tên mã truy cập dài quá {MAX_NAME} ký tự", f"The token name is over {MAX_NAME} characters")
        )
    if expires_days is not None and not 1 <= expires_days <= MAX_DAYS:
        problems.append(
            Text(f"Thời hạn phải từ 1 đến {MAX_DAYS} ngày", f"The lifetime must be from 1 to {MAX_DAYS} days")
        )
    if not user.active:
        problems.append(Text("Tài khoản đã bị khoá", "This account is deactivated"))
    active = session.scalars(select(ApiToken.id).where(ApiToken.user_id == user.id, _active_condition(at))).all()
    if len(active) >= MAX_ACTIVE_PER_USER:
        problems.append(
            Text(
                f"Mỗi người dùng có tối đa {MAX_ACTIVE_PER_USER} mã đang hiệu lực; hãy thu hồi bớt",
                f"A user may hold at most {MAX_ACTIVE_PER_USER} active tokens; revoke some first",
            )
        )
    if problems:
        raise InvalidData(Text("; ".join(p.vi for p in problems), "; ".join(p.en for p in problems)))
    while True:
        prefix = secrets.token_hex(PREFIX_BYTES)
        if session.scalar(select(ApiToken.id).where(ApiToken.prefix == prefix)) is None:
            break
    token = f"{SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    row = ApiToken(
        user_id=user.id,
        name=name,
        prefix=prefix,
        secret_hash=hash_token(token),
        created_at=at,
        expires_at=at + timedelta(days=expires_days) if expires_days else None,
    )
    session.add(row)
    session.flush()
    return IssuedToken(row, token)


def list_tokens(session: Session, user_id: int) -> list[ApiToken]:
    """A user's tokens, newest first, revoked and expired ones included."""
    stmt = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
    return list(session.scalars(stmt))


def _not_found(token_id: object) -> NotFound:
    return NotFound(Text(f"Không tìm thấy mã truy cập #{token_id}", f"API token #{token_id} not found"))


def revoke_token(
    session: Session, token_id: int, *, user_id: int | None = None, now: datetime | None = None
) -> ApiToken:
    """Revoke a token (again: no change). With `user_id`, only that user's own tokens are found."""
    row = session.get(ApiToken, token_id)
    if row is None or (user_id is not None and row.user_id != user_id):
        raise _not_found(token_id)
    if row.revoked_at is None:
        row.revoked_at = _now(now)
        session.flush()
    return row


def revoke_user_tokens(session: Session, user_id: int, *, now: datetime | None = None) -> int:
    """Revoke every token of a user still unrevoked (a password change, by the user's choice); how many."""
    stmt = (
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=_now(now))
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount


def parse(token: str | None) -> tuple[str, str] | None:
    """(prefix, whole token) of a well-formed token, else None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    match = TOKEN_RE.fullmatch(token)
    return (match.group(1), token) if match else None


_REFUSED = Text("Mã truy cập không hợp lệ", "The API token is not valid")


def authenticate(session: Session, token: str | None, *, now: datetime | None = None) -> ApiToken:
    """The active token row for `token`; InvalidToken otherwise. Says why only to whoever holds the secret."""
    parsed = parse(token)
    if parsed is None:
        raise InvalidToken(_REFUSED)
    prefix, whole = parsed
    row = session.scalars(select(ApiToken).where(ApiToken.prefix == prefix)).one_or_none()
    expected = row.secret_hash if row is not None else "0" * 64
    if not hmac.compare_digest(expected, hash_token(whole)) or row is None:
        raise InvalidToken(_REFUSED)
    state = status(row, now)
    if state == "revoked":
        raise InvalidToken(Text("Mã truy cập đã bị thu hồi", "The API token has been revoked"))
    if state == "expired":
        raise InvalidToken(Text("Mã truy cập đã hết hạn", "The API token has expired"))
    return row


def mark_used(session: Session, token_id: int, *, now: datetime | None = None) -> bool:
    """Record a use, at most once per USE_RESOLUTION (a conditional UPDATE); True if written."""
    at = _now(now)
    stmt = (
        update(ApiToken)
        .where(
            ApiToken.id == token_id, or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < at - USE_RESOLUTION)
        )
        .values(last_used_at=at)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount == 1


__all__ = [
    "InvalidToken",
    "IssuedToken",
    "authenticate",
    "create_token",
    "hash_token",
    "list_tokens",
    "mark_used",
    "parse",
    "revoke_token",
    "revoke_user_tokens",
    "status",
]
