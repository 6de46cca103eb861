"""Bearer tokens: who is calling, as the core's Actor, and the key of the per-token rate limit.

A request is authenticated once (cached on `g`): the token is checked by the core
(`services.tokens.authenticate`) and its user loaded with `services.access.load_actor`, exactly as
a web login loads it, so the API acts with the same roles and area as the web. The token itself
is never logged nor kept beyond the request's headers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import g, request
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import SQLAlchemyError

from ocop_workflow.errors import NotFound, OcopError, PermissionDenied
from ocop_workflow.i18n import Text
from ocop_workflow.models import ApiToken
from ocop_workflow.services import tokens
from ocop_workflow.services.access import Actor, load_actor

from ..context import read_session, registry, state

log = logging.getLogger(__name__)


@dataclass
class ApiAuth:
    token: ApiToken | None = None
    actor: Actor | None = None
    error: OcopError | None = None


def bearer_token() -> str | None:
    scheme, _sep, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def authenticate() -> ApiAuth:
    """The caller of this request (or why there is none); never raises for a bad token."""
    cached = g.get("api_auth")
    if cached is not None:
        return cached
    raw = bearer_token()
    if raw is None:
        result = ApiAuth(
            error=tokens.InvalidToken(
                Text(
                    "Thiếu tiêu đề 'Authorization: Bearer <mã truy cập>'",
                    "The 'Authorization: Bearer <token>' header is missing",
                )
            )
        )
    else:
        session = read_session()  # not the writer: a POST claims it only when its view writes
        try:
            row = tokens.authenticate(session, raw)
            who = load_actor(session, row.user_id, policy=registry().policy)
        except tokens.InvalidToken as exc:
            result = ApiAuth(error=exc)
        except (NotFound, PermissionDenied):
            result = ApiAuth(
                error=tokens.InvalidToken(
                    Text("Tài khoản của mã truy cập đã bị khoá", "The token's account is deactivated")
                )
            )
        else:
            result = ApiAuth(token=row, actor=who)
            _record_use(row)
    g.api_auth = result
    return result


def _record_use(row: ApiToken) -> None:
    """Note the token's last use (at most once a minute) in a short transaction of its own, skipped
    when another writer is busy: authentication never claims the request's writer (web.context)."""
    now = datetime.now(UTC)
    if row.last_used_at is not None and row.last_used_at > now - tokens.USE_RESOLUTION:
        return
    st = state()
    lock = st.write_lock if st.db.is_sqlite else None
    if lock is not None and not lock.acquire(blocking=False):
        return
    try:
        with st.db.transaction() as session:
            tokens.mark_used(session, row.id, now=now)
    except SQLAlchemyError as exc:
        log.warning("could not record the use of API token #%s: %s", row.id, type(exc).__name__)
    finally:
        if lock is not None:
            lock.release()


def rate_limit_key() -> str:
    """Flask-Limiter's key: the token's id; callers without a valid token share their address's."""
    auth = authenticate()
    return f"api-token:{auth.token.id}" if auth.token is not None else f"api-anon:{get_remote_address()}"


def require_actor() -> Actor:
    auth = authenticate()
    if auth.error is not None:
        raise auth.error
    return auth.actor


def api_actor() -> Actor:
    return require_actor()


def api_token() -> ApiToken:
    require_actor()
    return g.api_auth.token
