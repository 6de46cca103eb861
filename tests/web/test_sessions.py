"""Issue #8, sessions that end: logout, password change and deactivation end the server-side
session, so copies of the session and remember cookies taken before stop working; API tokens stop
on a password change when the user asks, and while the account is deactivated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import PASSWORD, csrf, login, text
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ocop_workflow.models import User, UserSession
from ocop_workflow.services import sessions, tokens

NEW_PASSWORD = "dua-hau-may-bay-7"


def _login(client: FlaskClient, email: str, password: str, **extra):
    return client.post("/login", data={"csrf_token": csrf(client), "email": email, "password": password, **extra})


def _copy_cookies(env, source: FlaskClient, *names: str) -> FlaskClient:
    """A second browser holding a copy of `source`'s cookies (as a thief would)."""
    other = env.app.test_client()
    for name in names:
        cookie = source.get_cookie(name)
        assert cookie is not None, f"no {name} cookie"
        other.set_cookie(name, cookie.value)
    return other


def _uid(env, key: str) -> int:
    with env.db.session() as s:
        return s.scalar(select(User.id).where(User.email == env.world.emails[key]))


def _token(env, key: str) -> str:
    with env.db.transaction() as s:
        return tokens.create_token(s, s.get(User, _uid(env, key)), name="script").token


def _api_me(env, token: str) -> int:
    return env.app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_copied_session_cookie_is_refused_after_logout(env, client):
    assert _login(client, "officer@test.ocop.vn", PASSWORD).status_code == 302
    thief = _copy_cookies(env, client, "ocop_session")
    assert thief.get("/").status_code == 200  # the copy works while the login lasts
    assert client.post("/logout", data={"csrf_token": csrf(client, "/")}).status_code == 302
    assert client.get("/").status_code == 302
    r = thief.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_a_copied_remember_cookie_is_refused_after_logout(env, client):
    assert _login(client, "officer@test.ocop.vn", PASSWORD, remember="y").status_code == 302
    thief = _copy_cookies(env, client, "ocop_remember")  # only the long-lived cookie
    assert thief.get("/").status_code == 200
    fresh = _copy_cookies(env, thief, "ocop_remember")
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    assert thief.get("/").status_code == 302
    assert fresh.get("/").status_code == 302


def test_each_login_is_a_row_holding_only_a_hash(env, client):
    _login(client, "officer@test.ocop.vn", PASSWORD)
    with env.db.session() as s:
        row = s.scalars(select(UserSession)).one()
        assert row.user_id == _uid(env, "officer") and row.revoked_at is None
        assert timedelta(hours=11) < row.expires_at - row.created_at <= timedelta(hours=12)
    cookie = client.get_cookie("ocop_session").value
    with env.db.session() as s:  # the cookie's token is not in the table
        assert s.scalar(select(func.count()).select_from(UserSession).where(UserSession.token_hash == cookie)) == 0
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    with env.db.session() as s:
        assert s.scalars(select(UserSession)).one().revoked_at is not None


def test_an_expired_session_is_refused(env, client):
    login(client, env, "officer")
    assert client.get("/").status_code == 200
    with env.db.transaction() as s:
        for row in s.scalars(select(UserSession)):
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert client.get("/").status_code == 302


def test_password_change_ends_other_sessions_and_remember_cookies_but_keeps_tokens(env):
    phone, laptop = env.app.test_client(), env.app.test_client()
    assert _login(phone, "officer@test.ocop.vn", PASSWORD).status_code == 302
    assert _login(laptop, "officer@test.ocop.vn", PASSWORD, remember="y").status_code == 302
    remembered = _copy_cookies(env, laptop, "ocop_remember")
    token = _token(env, "officer")
    r = phone.post(
        "/account",
        data={"csrf_token": csrf(phone, "/account"), "current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert r.status_code == 302, text(r)
    assert phone.get("/").status_code == 200  # this session goes on
    assert laptop.get("/").status_code == 302
    assert remembered.get("/").status_code == 302  # the remember cookie died with its session
    assert _api_me(env, token) == 200  # tokens stay unless asked
    assert _login(env.app.test_client(), "officer@test.ocop.vn", NEW_PASSWORD).status_code == 302


def test_password_change_revokes_api_tokens_when_asked(env, client):
    login(client, env, "officer")
    token = _token(env, "officer")
    assert _api_me(env, token) == 200
    page = text(client.get("/account"))
    assert "Thu hồi luôn mọi mã truy cập API của tôi" in page
    r = client.post(
        "/account",
        data={
            "csrf_token": csrf(client, "/account"),
            "current": PASSWORD,
            "new": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "revoke_tokens": "y",
        },
        follow_redirects=True,
    )
    assert "Đã thu hồi các mã truy cập API của bạn (1)" in text(r)
    assert _api_me(env, token) == 401
    assert client.get("/").status_code == 200


def test_deactivation_ends_every_session_for_good_and_stops_tokens(env, client):
    login(client, env, "officer")
    remembered = env.app.test_client()
    assert _login(remembered, "officer@test.ocop.vn", PASSWORD, remember="y").status_code == 302
    remember_copy = _copy_cookies(env, remembered, "ocop_remember")
    token = _token(env, "officer")
    admin = login(env.app.test_client(), env, "admin")
    uid = _uid(env, "officer")
    assert (
        admin.post(f"/admin/users/{uid}/active", data={"csrf_token": csrf(admin, "/"), "active": "0"}).status_code
        == 302
    )
    assert client.get("/").status_code == 302
    assert _api_me(env, token) == 401
    assert (
        admin.post(f"/admin/users/{uid}/active", data={"csrf_token": csrf(admin, "/"), "active": "1"}).status_code
        == 302
    )
    # reactivated: the old sessions and remember cookies stay ended; the user logs in again
    assert client.get("/").status_code == 302
    assert remember_copy.get("/").status_code == 302
    assert _api_me(env, token) == 200  # a token is a deliberate credential: it works again
    with env.db.session() as s:
        assert sessions.live_sessions(s, uid) == []


def test_the_session_token_is_looked_up_in_one_statement(env, client):
    """The login is found with its user, memberships and organisations in a single query."""
    from sqlalchemy import event

    login(client, env, "officer")
    engine = env.db.engine
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        if "user_sessions" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/account").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(seen) == 1
