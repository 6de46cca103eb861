"""Issue #4: personal API tokens — the core service, the web page, the CLI, refusals, the per-token
rate limit, and that no token ever reaches a log."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from api_client import API, ApiClient, issue, problem_of
from conftest import CSRF_RE, Env, csrf, login, text
from sqlalchemy import select

from ocop_workflow.errors import InvalidData, NotFound
from ocop_workflow.models import ApiToken, User
from ocop_workflow.services import tokens


def user_row(s, env: Env, key: str) -> User:
    return s.scalars(select(User).where(User.email == env.world.emails[key])).one()


# --- the core service ---------------------------------------------------------------------------
def test_a_token_is_shown_once_and_stored_hashed(env):
    with env.db.transaction() as s:
        issued = tokens.create_token(s, user_row(s, env, "officer"), name="Phần mềm kế toán", expires_days=30)
        token, row_id = issued.token, issued.row.id
    assert tokens.parse(token) is not None and token.startswith("ocop_")
    assert token not in repr(issued)
    with env.db.session() as s:
        row = s.get(ApiToken, row_id)
        stored = [str(getattr(row, c.key)) for c in ApiToken.__table__.columns]
        assert not any(token in v or token.split("_", 2)[2] in v for v in stored)
        assert row.secret_hash == tokens.hash_token(token) and token.startswith(f"ocop_{row.prefix}_")
        assert timedelta(days=29) < row.expires_at - row.created_at <= timedelta(days=30)
        assert tokens.authenticate(s, token).id == row_id


def test_authenticate_refuses_wrong_revoked_and_expired_tokens(env):
    now = datetime.now(UTC)
    with env.db.transaction() as s:
        user = user_row(s, env, "officer")
        good = tokens.create_token(s, user, name="a").token
        short = tokens.create_token(s, user, name="b", expires_days=1, now=now - timedelta(days=2)).token
        revoked = tokens.create_token(s, user, name="c")
        tokens.revoke_token(s, revoked.row.id, user_id=user.id)
        tokens.revoke_token(s, revoked.row.id)  # again: no change
    with env.db.session() as s:
        for bad, why in (
            (good[:-2] + "xx", "not valid"),
            (short, "expired"),
            (revoked.token, "revoked"),
            ("", "not valid"),
            ("ocop_" + "x" * 500, "not valid"),
        ):
            with pytest.raises(tokens.InvalidToken) as caught:
                tokens.authenticate(s, bad)
            assert why in caught.value.message("en")
        assert [tokens.status(t) for t in tokens.list_tokens(s, user.id)] == ["revoked", "expired", "active"]


def test_create_checks_its_input_and_revoke_only_finds_own_tokens(env):
    with env.db.transaction() as s:
        officer, other = user_row(s, env, "officer"), user_row(s, env, "officer3")
        for name, days in (("", None), ("x" * 101, None), ("ok", 0), ("ok", 4000)):
            with pytest.raises(InvalidData):
                tokens.create_token(s, officer, name=name, expires_days=days)
        row = tokens.create_token(s, officer, name="mine").row
        with pytest.raises(NotFound):
            tokens.revoke_token(s, row.id, user_id=other.id)
        with pytest.raises(NotFound):
            tokens.revoke_token(s, 424242)
        for i in range(tokens.MAX_ACTIVE_PER_USER - 1):
            tokens.create_token(s, officer, name=f"t{i}")
        with pytest.raises(InvalidData, match="at most"):
            tokens.create_token(s, officer, name="one too many")


# --- refusals through the API -------------------------------------------------------------------
def test_revoked_expired_and_deactivated_tokens_get_401_problems(env):
    api = ApiClient(env.app, issue(env, "officer"))
    assert api.get(f"{API}/me").status_code == 200
    with env.db.transaction() as s:
        row = tokens.authenticate(s, api.token)
        tokens.revoke_token(s, row.id)
    body = problem_of(api.get(f"{API}/me", headers={"Accept-Language": "en"}), 401, "invalid_token")
    assert "revoked" in body["detail"]

    expiring = issue(env, "officer", days=1)
    with env.db.transaction() as s:
        tokens.authenticate(s, expiring).expires_at = datetime.now(UTC) - timedelta(seconds=1)
    body = problem_of(
        api.get(f"{API}/products", token=expiring, headers={"Accept-Language": "en"}), 401, "invalid_token"
    )
    assert "expired" in body["detail"]
    # a refused POST changes nothing either
    problem_of(
        api.post(
            f"{API}/products",
            token=expiring,
            json={"name": "x", "product_group": "food", "producer_id": env.world.producer},
        ),
        401,
        "invalid_token",
    )

    active = issue(env, "officer3")
    with env.db.transaction() as s:
        user_row(s, env, "officer3").active = False
    body = problem_of(api.get(f"{API}/me", token=active, headers={"Accept-Language": "en"}), 401, "invalid_token")
    assert "deactivated" in body["detail"]


def test_last_use_is_recorded_for_reads_and_writes(env):
    api = ApiClient(env.app, issue(env, "officer"))
    with env.db.session() as s:
        assert tokens.authenticate(s, api.token).last_used_at is None
    api.get(f"{API}/me")
    with env.db.session() as s:
        first = tokens.authenticate(s, api.token).last_used_at
    assert first is not None
    api.get(f"{API}/me")  # within a minute: not written again
    with env.db.transaction() as s:
        row = tokens.authenticate(s, api.token)
        assert row.last_used_at == first
        row.last_used_at = first - timedelta(hours=1)
    r = api.post(f"{API}/products", json={"name": "Trà", "product_group": "food", "producer_id": env.world.producer})
    assert r.status_code == 201
    with env.db.session() as s:
        assert tokens.authenticate(s, api.token).last_used_at > first - timedelta(minutes=1)


# --- rate limit per token ------------------------------------------------------------------------
@pytest.mark.app_config(API_RATE_LIMIT="3 per minute")
def test_each_token_has_its_own_rate_limit(env):
    one = ApiClient(env.app, issue(env, "officer"))
    two = one.as_(issue(env, "officer"))
    assert [one.get(f"{API}/me").status_code for _ in range(3)] == [200, 200, 200]
    r = one.get(f"{API}/me", headers={"Accept-Language": "en"})
    body = problem_of(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0 and "3 per 1 minute" in body["detail"]
    assert two.get(f"{API}/me").status_code == 200  # another token of the same user is not affected
    assert r.headers["X-RateLimit-Limit"] == "3"


# --- the web page ---------------------------------------------------------------------------------
def test_tokens_page_creates_shows_once_and_revokes(env, client):
    login(client, env, "officer")
    assert "/account/tokens" in text(client.get("/account"))
    page = client.get("/account/tokens")
    assert page.status_code == 200 and "ocop_" not in text(page)
    r = client.post(
        "/account/tokens", data={"csrf_token": csrf(client, "/account/tokens"), "name": "Kế toán", "expires": "30"}
    )
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    token = next(
        w for w in text(r).replace("<", " ").replace(">", " ").split() if w.startswith("ocop_") and tokens.parse(w)
    )
    again = text(client.get("/account/tokens"))
    assert token not in again and "Kế toán" in again  # listed, never shown again
    api = ApiClient(env.app, token)
    assert api.get(f"{API}/me").get_json()["email"] == env.world.emails["officer"]

    with env.db.session() as s:
        token_id = tokens.authenticate(s, token).id
    # another user cannot revoke it
    other = env.app.test_client()
    login(other, env, "officer3")
    other.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf(other, "/account/tokens")})
    assert api.get(f"{API}/me").status_code == 200
    # without the CSRF token nothing happens; with it the token stops working
    client.post(f"/account/tokens/{token_id}/revoke")
    assert api.get(f"{API}/me").status_code == 200
    r = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf(client, "/account/tokens")})
    assert r.status_code == 302
    problem_of(api.get(f"{API}/me"), 401, "invalid_token")


def test_tokens_page_refuses_bad_input_and_needs_a_login(env, client):
    assert client.get("/account/tokens").status_code == 302
    login(client, env, "officer")
    r = client.post(
        "/account/tokens", data={"csrf_token": csrf(client, "/account/tokens"), "name": "", "expires": "90"}
    )
    assert r.status_code == 422 and not any(tokens.parse(w) for w in text(r).split())
    assert CSRF_RE.search(text(r))


# --- the CLI --------------------------------------------------------------------------------------
def ocop(env: Env, *args: str) -> subprocess.CompletedProcess:
    environ = {
        **os.environ,
        "OCOP_DATABASE_URL": env.db.url,
        "OCOP_LANG": "en",
        "OCOP_INSTANCE_DIR": str(env.upload_dir.parent / "instance"),
    }
    return subprocess.run(
        [sys.executable, "-m", "ocop_workflow.cli", *args], capture_output=True, text=True, env=environ, timeout=120
    )


def test_cli_creates_lists_and_revokes_tokens(env):
    email = env.world.emails["psec"]
    made = ocop(env, "token", "create", "--user", email, "--name", "Báo cáo tỉnh", "--expires", "7")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert tokens.parse(token) and "shown only now" in made.stderr and token not in made.stderr
    api = ApiClient(env.app, token)
    assert api.get(f"{API}/me").get_json()["roles"][0]["role"] == "province_secretariat"

    listed = ocop(env, "token", "list", "--user", email, "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["status"]) for r in rows] == [("Báo cáo tỉnh", "active")]
    assert token not in listed.stdout and rows[0]["last_used_at"] is not None
    plain = ocop(env, "token", "list", "--user", email)
    assert "active" in plain.stdout and token not in plain.stdout

    revoked = ocop(env, "token", "revoke", str(rows[0]["id"]))
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    problem_of(api.get(f"{API}/me"), 401, "invalid_token")
    assert ocop(env, "token", "revoke", "424242").stderr.strip() == "error: API token #424242 not found"
    nobody = ocop(env, "token", "create", "--user", "nobody@test.ocop.vn")
    assert nobody.returncode == 1 and "No user" in nobody.stderr


# --- logs -----------------------------------------------------------------------------------------
def _serve_werkzeug(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return f"http://127.0.0.1:{server.server_port}", stop


def _serve_waitress(app):
    from waitress import wasyncore
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=2, ident="ocop")
    stopping = threading.Event()

    def run() -> None:  # waitress' loop, ended and closed from its own thread
        while not stopping.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)
        server.task_dispatcher.shutdown()
        wasyncore.close_all(server._map)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(10)

    return f"http://127.0.0.1:{server.effective_port}", stop


def _http(url: str, token: str, method: str = "GET", body: bytes | None = None) -> int:
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        exc.close()
        return exc.code


@pytest.mark.app_config(API_RATE_LIMIT="5 per minute")
def test_tokens_never_reach_the_logs(env, caplog):
    good = issue(env, "officer")
    revoked = issue(env, "officer")
    with env.db.transaction() as s:
        tokens.revoke_token(s, tokens.authenticate(s, revoked).id)
    wrong = good[:-4] + "AAAA"
    secrets_ = [good, revoked, wrong, good.split("_", 2)[2], revoked.split("_", 2)[2]]
    env.app.testing = False  # the production error handling, which logs unexpected errors
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy.engine", "werkzeug", "waitress", "flask_limiter", "web", "ocop_workflow"):
        caplog.set_level(logging.DEBUG, logger=name)
    statuses = []
    client = ApiClient(env.app, good)
    for token in (good, revoked, wrong):
        statuses.append(client.get(f"{API}/products", token=token).status_code)
        statuses.append(
            client.post(
                f"{API}/products/424242/transitions", token=token, json={"trigger": "x", "version": 1}
            ).status_code
        )
    for serve in (_serve_werkzeug, _serve_waitress):
        base, stop = serve(env.app)
        try:
            for token in (good, revoked, wrong):
                statuses.append(_http(f"{base}{API}/me", token))
                statuses.append(_http(f"{base}{API}/products", token, "POST", b'{"name": 1}'))
            statuses += [_http(f"{base}{API}/me", good) for _ in range(4)]  # into the rate limit
        finally:
            stop()
    assert {200, 400, 401, 404, 429} <= set(statuses)
    assert any(r.name == "werkzeug" and "/api/v1/me" in r.getMessage() for r in caplog.records)
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    logged += caplog.text
    for secret in secrets_:
        assert secret not in logged


@pytest.mark.parametrize(
    "locale,words", [("vi", ("Mã truy cập API", "Tạo mã")), ("en", ("API tokens", "Create token"))]
)
def test_tokens_page_in_both_languages(env, client, locale, words):
    login(client, env, "officer")
    client.post("/language", data={"csrf_token": csrf(client, "/"), "locale": locale})
    body = text(client.get("/account/tokens"))
    assert f'lang="{locale}"' in body and all(w in body for w in words)
    assert words[0] in text(client.get("/account"))
