"""Accounts: login and logout, login rate limit, password change ending other sessions, deactivation."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import PASSWORD, csrf, login, text
from sqlalchemy import select

from ocop_workflow.config import Settings
from ocop_workflow.models import User


def _login(client, email: str, password: str, **extra):
    return client.post("/login", data={"csrf_token": csrf(client), "email": email, "password": password, **extra})


def test_login_and_logout(env, client):
    r = _login(client, "Officer@Test.ocop.vn ", PASSWORD)
    assert r.status_code == 302 and r.headers["Location"] == "/"
    cookie = client.get_cookie("ocop_session")
    assert cookie is not None and cookie.http_only
    assert client.get("/").status_code == 200
    r = client.post("/logout", data={"csrf_token": csrf(client, "/")})
    assert r.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_shows_a_message(env, client):
    r = _login(client, "officer@test.ocop.vn", "sai-mat-khau")
    assert r.status_code == 200
    assert "Sai e-mail hoặc mật khẩu" in text(r)
    assert client.get("/").status_code == 302


def test_next_must_stay_on_the_site(env, client):
    r = client.post(
        "/login?next=//evil.example/x",
        data={"csrf_token": csrf(client), "email": "officer@test.ocop.vn", "password": PASSWORD},
    )
    assert r.headers["Location"] == "/"


def test_pages_need_login(client):
    r = client.get("/products")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_secure_cookie_settings_by_default(tmp_path, web_template, monkeypatch):
    from conftest import make_app

    app, db = make_app(tmp_path, web_template, SESSION_COOKIE_SECURE=True)
    try:
        assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
        from web import create_app

        monkeypatch.delenv("OCOP_SECURE_COOKIES", raising=False)
        default = create_app(
            replace(Settings(), secret_key="k", database_url=app.config["DATABASE_URL"], instance_path=tmp_path / "i2")
        )
        assert default.config["SESSION_COOKIE_SECURE"] and default.config["REMEMBER_COOKIE_SECURE"]
        default.extensions["ocop"].db.dispose()
        monkeypatch.setenv("OCOP_SECURE_COOKIES", "0")  # plain HTTP, said by the operator
        plain = create_app(
            replace(Settings(), secret_key="k", database_url=app.config["DATABASE_URL"], instance_path=tmp_path / "i3")
        )
        assert not plain.config["SESSION_COOKIE_SECURE"] and not plain.config["REMEMBER_COOKIE_SECURE"]
        plain.extensions["ocop"].db.dispose()
    finally:
        db.dispose()


def test_ocop_serve_drops_secure_cookies_only_on_loopback_when_the_operator_said_nothing(monkeypatch):
    from web.cli import _local_overrides

    monkeypatch.delenv("OCOP_SECURE_COOKIES", raising=False)
    plain = {"SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False}
    assert _local_overrides("127.0.0.1", Settings()) == plain
    assert _local_overrides("0.0.0.0", Settings()) == {}  # behind a TLS proxy
    monkeypatch.setenv("OCOP_SECURE_COOKIES", "1")
    assert _local_overrides("127.0.0.1", Settings()) == {}


def test_secret_key_is_generated_in_the_instance_folder(tmp_path, web_template, monkeypatch):
    from web import create_app

    monkeypatch.delenv("OCOP_SECRET_KEY", raising=False)
    monkeypatch.setenv("OCOP_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.setenv("OCOP_INSTANCE_DIR", str(tmp_path / "inst"))
    first = create_app()  # everything from the environment
    second = create_app(Settings())
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32
    assert (tmp_path / "inst" / "secret_key").stat().st_mode & 0o077 == 0
    for app in (first, second):
        app.extensions["ocop"].db.dispose()


@pytest.mark.app_config(LOGIN_ACCOUNT_LIMIT=3)
def test_login_rate_limit_gives_a_clear_message(env, client):
    for _ in range(3):
        assert _login(client, "officer@test.ocop.vn", "sai-mat-khau").status_code == 200
    r = _login(client, "officer@test.ocop.vn", PASSWORD)
    assert r.status_code == 429
    assert "có quá nhiều lần đăng nhập sai" in text(r)
    assert client.get("/login").status_code == 200  # looking at the form is not limited


def test_password_change_ends_other_sessions(env):
    phone, laptop = env.app.test_client(), env.app.test_client()
    login(phone, env, "officer")
    login(laptop, env, "officer")
    assert laptop.get("/").status_code == 200
    r = phone.post(
        "/account",
        data={
            "csrf_token": csrf(phone, "/account"),
            "current": PASSWORD,
            "new": "mat-khau-moi-456",
            "confirm": "mat-khau-moi-456",
        },
    )
    assert r.status_code == 302, text(r)
    assert phone.get("/").status_code == 200  # this session goes on
    assert laptop.get("/").status_code == 302  # the other one is logged out
    r = _login(env.app.test_client(), "officer@test.ocop.vn", "mat-khau-moi-456")
    assert r.status_code == 302


def test_password_change_checks_fields(env, client):
    login(client, env, "officer")
    r = client.post(
        "/account", data={"csrf_token": csrf(client, "/account"), "current": "sai", "new": "ngan", "confirm": "khac"}
    )
    assert r.status_code == 200
    body = text(r)
    assert "Nhập từ 8 đến 200 ký tự." in body
    assert "Hai mật khẩu không khớp." in body


def test_deactivated_user_is_logged_out(env, client):
    login(client, env, "officer")
    admin = env.app.test_client()
    login(admin, env, "admin")
    with env.db.session() as s:
        uid = s.scalar(select(User.id).where(User.email == env.world.emails["officer"]))
    r = admin.post(f"/admin/users/{uid}/active", data={"csrf_token": csrf(admin, "/"), "active": "0"})
    assert r.status_code == 302
    assert client.get("/").status_code == 302
    assert _login(env.app.test_client(), "officer@test.ocop.vn", PASSWORD).status_code == 200


def test_language_choice_is_remembered_on_the_user(env, client):
    login(client, env, "officer")
    assert "Đăng xuất" in text(client.get("/"))
    r = client.post("/language", data={"csrf_token": csrf(client, "/"), "locale": "en", "next": "/products"})
    assert r.headers["Location"] == "/products"
    assert "Log out" in text(client.get("/"))
    with env.db.session() as s:
        assert s.scalar(select(User.locale).where(User.email == env.world.emails["officer"])) == "en"
    other = env.app.test_client()
    login(other, env, "officer")
    assert 'lang="en"' in text(other.get("/"))


def test_anonymous_language_choice(client):
    client.post("/language", data={"csrf_token": csrf(client), "locale": "en"})
    assert "Log in" in text(client.get("/login"))
