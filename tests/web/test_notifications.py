"""Issue #5 in the web: the bell with the unread count, the list, mark as read, the link to the
product, the e-mail choice (single mails or a daily digest), and the admin's mail outbox."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from conftest import csrf, login, text
from sqlalchemy import func, select

from ocop_workflow.config import Settings
from ocop_workflow.models import MailOutbox, Notification, NotificationPreference, Product, User
from ocop_workflow.reminders.scheduler import SweepJob
from ocop_workflow.reminders.sweep import run_sweep

BADGE = re.compile(r'id="bell">[^<]*<span class="badge">(\d+)</span>')


def _user_id(env, key: str) -> int:
    with env.db.session() as s:
        return s.scalar(select(User.id).where(User.email == env.world.emails[key]))


def _stall(env, product_id: int, days: int = 40) -> None:
    with env.db.transaction() as s:
        s.get(Product, product_id).state_entered_at = datetime.now(UTC) - timedelta(days=days)


def _sweep(env) -> None:
    settings = replace(Settings(), database_url=env.db.url, smtp_url=None)
    run_sweep(env.db, env.app.extensions["ocop"].registry, settings, send=False)


def _bell(client, path: str = "/") -> int | None:
    match = BADGE.search(text(client.get(path)))
    return int(match.group(1)) if match else None


def test_a_sweep_rings_the_bell_and_opening_the_notice_leads_to_the_product(env, client):
    pid = env.product(name="Mật ong bạc hà")
    _stall(env, pid)  # 40 days in `idea`, whose SLA is 30
    login(client, env, "officer")
    assert _bell(client) is None  # nothing yet (and the count is now kept for a minute)
    _sweep(env)
    with client.session_transaction() as sess:
        sess.pop("ocop_bell", None)  # a minute later
    assert _bell(client) == 1
    page = text(client.get("/notifications/"))
    assert "Mật ong bạc hà" in page and 'class="card unread"' in page
    with env.db.session() as s:
        note = s.scalars(select(Notification).where(Notification.user_id == _user_id(env, "officer"))).one()
    r = client.post(f"/notifications/{note.id}/open", data={"csrf_token": csrf(client, "/notifications/")})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/products/{pid}")
    assert _bell(client) is None  # read: the badge is gone at once
    with env.db.session() as s:
        assert s.get(Notification, note.id).read_at is not None


def _notify(env, key: str, n: int, link: str | None = None) -> list[int]:
    uid = _user_id(env, key)
    with env.db.transaction() as s:
        rows = [
            Notification(user_id=uid, kind="stall", title=f"Nhắc việc {i}", body="Sản phẩm chậm tiến độ", link=link)
            for i in range(n)
        ]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


def test_mark_all_as_read_and_paging(env, client):
    _notify(env, "officer", 35)
    login(client, env, "officer")
    assert _bell(client) == 35
    first = text(client.get("/notifications/"))
    assert first.count('class="card unread"') == 30 and "before=" in first
    older = re.search(r'href="(/notifications/\?before=\d+)"', first).group(1)
    assert text(client.get(older)).count('class="card unread"') == 5
    r = client.post("/notifications/read", data={"csrf_token": csrf(client, "/notifications/")}, follow_redirects=True)
    assert "Đã đánh dấu 35 thông báo là đã đọc." in text(r)
    assert _bell(client) is None


def test_another_users_notification_is_not_found_and_forms_need_csrf(env, client):
    [theirs] = _notify(env, "officer3", 1, link="/products/1")
    login(client, env, "officer")
    token = csrf(client, "/notifications/")
    assert client.post(f"/notifications/{theirs}/open", data={"csrf_token": token}).status_code == 404
    assert client.post("/notifications/424242/open", data={"csrf_token": token}).status_code == 404
    with env.db.session() as s:
        assert s.get(Notification, theirs).read_at is None
    [mine] = _notify(env, "officer", 1)
    assert client.post("/notifications/read", data={}).status_code == 400  # no CSRF token
    with env.db.session() as s:
        assert s.get(Notification, mine).read_at is None
    assert "Thông báo" in text(client.get("/notifications/"))


def test_a_link_that_leaves_the_site_is_not_followed(env, client):
    [nid] = _notify(env, "officer", 1, link="//evil.example/phish")
    login(client, env, "officer")
    r = client.post(f"/notifications/{nid}/open", data={"csrf_token": csrf(client, "/notifications/")})
    assert r.status_code == 302 and r.headers["Location"].endswith("/notifications/")


def test_the_email_choice_is_saved_and_checked(env, client):
    login(client, env, "officer")
    token = csrf(client, "/notifications/")
    r = client.post("/notifications/email", data={"csrf_token": token, "mode": "digest"}, follow_redirects=True)
    assert "Đã lưu cách nhận thư của bạn." in text(r)
    with env.db.session() as s:
        assert s.get(NotificationPreference, _user_id(env, "officer")).email_mode == "digest"
    assert re.search(r'<input checked[^>]*value="digest"', text(client.get("/notifications/")))
    r = client.post("/notifications/email", data={"csrf_token": token, "mode": "every-hour"})
    assert r.status_code == 422 and "Lựa chọn không hợp lệ." in text(r) and "Not a valid choice" not in text(r)
    with env.db.session() as s:
        assert s.get(NotificationPreference, _user_id(env, "officer")).email_mode == "digest"


def _failed_mail(env, key: str) -> int:
    uid = _user_id(env, key)
    with env.db.transaction() as s:
        row = MailOutbox(
            dedupe_key=f"test-{key}",
            kind="reminder",
            user_id=uid,
            to_address=env.world.emails[key],
            locale="vi",
            subject="[OCOP] Nhắc việc",
            body="…",
            status="failed",
            attempts=8,
            next_attempt_at=datetime.now(UTC),
            last_error="550 mailbox unavailable",
        )
        s.add(row)
        s.flush()
        return row.id


def test_admin_sees_failed_mail_with_its_error_and_sends_it_again(env, client):
    oid = _failed_mail(env, "officer")
    login(client, env, "admin")
    page = text(client.get("/admin/outbox"))
    assert "550 mailbox unavailable" in page and env.world.emails["officer"] in page
    assert "Hàng đợi thư" in text(client.get("/admin/users"))  # reachable from the admin pages
    r = client.post(
        f"/admin/outbox/{oid}/retry", data={"csrf_token": csrf(client, "/admin/outbox")}, follow_redirects=True
    )
    assert "Thư sẽ được gửi lại ở lượt quét tới." in text(r)
    with env.db.session() as s:
        row = s.get(MailOutbox, oid)
        assert (row.status, row.attempts) == ("pending", 0)
    assert (
        client.post("/admin/outbox/424242/retry", data={"csrf_token": csrf(client, "/admin/outbox")}).status_code == 404
    )


def test_the_outbox_is_for_admins_only(env, client):
    oid = _failed_mail(env, "officer")
    login(client, env, "officer")
    assert client.get("/admin/outbox").status_code == 403
    token = csrf(client, "/notifications/")
    assert client.post(f"/admin/outbox/{oid}/retry", data={"csrf_token": token}).status_code == 403
    with env.db.session() as s:
        assert s.get(MailOutbox, oid).status == "failed"
        assert s.scalar(select(func.count()).select_from(MailOutbox)) == 1


@pytest.mark.parametrize(
    "locale,words", [("vi", ("Thông báo", "Thư nhắc việc")), ("en", ("Notifications", "Reminder e-mails"))]
)
def test_the_pages_speak_the_users_language(env, client, locale, words):
    _notify(env, "admin", 1)
    _failed_mail(env, "admin")
    login(client, env, "admin")
    client.post("/language", data={"csrf_token": csrf(client, "/"), "locale": locale})
    page = text(client.get("/notifications/"))
    assert all(w in page for w in words)
    outbox = text(client.get("/admin/outbox"))
    assert ("Hàng đợi thư" if locale == "vi" else "Mail outbox") in outbox


def test_serve_with_scheduler_is_refused_on_postgresql(monkeypatch):
    from click.testing import CliRunner

    from web.cli import serve

    monkeypatch.setenv("OCOP_DATABASE_URL", "postgresql+psycopg://ocop@db.example/ocop")
    monkeypatch.setenv("OCOP_LANG", "en")
    result = CliRunner().invoke(serve, ["--with-scheduler", "--port", "1"])
    assert result.exit_code == 2 and "ocop scheduler" in result.output and "Traceback" not in result.output


def test_serve_with_scheduler_sweeps_inside_the_server_on_sqlite(env, monkeypatch):
    """The embedded scheduler runs its first sweep at once: a stalled product gets its notice."""
    import web.cli as web_cli

    pid = env.product(name="Chè Bản Ven")
    _stall(env, pid)
    monkeypatch.setenv("OCOP_DATABASE_URL", env.db.url)
    monkeypatch.delenv("OCOP_SMTP_URL", raising=False)
    served = {}
    swept = threading.Event()
    sweep = SweepJob.__call__

    def signalling_sweep(self: SweepJob) -> None:  # tells the fake server when the first sweep is over
        sweep(self)
        swept.set()

    monkeypatch.setattr(SweepJob, "__call__", signalling_sweep)

    def fake_waitress(app, **kwargs):
        assert swept.wait(20), "the embedded scheduler did not sweep within 20 s"
        with env.db.session() as s:
            served["notified"] = bool(s.scalar(select(func.count()).select_from(Notification)))

    monkeypatch.setattr("waitress.serve", fake_waitress)
    from click.testing import CliRunner

    result = CliRunner().invoke(web_cli.serve, ["--with-scheduler", "--port", "1"])
    assert result.exit_code == 0, result.output
    assert "reminder scheduler" in result.output and served.get("notified")
