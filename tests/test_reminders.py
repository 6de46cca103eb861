"""Reminders (issue #5) with a real SMTP server (aiosmtpd) and time travel, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from ocop_workflow.config import Settings
from ocop_workflow.errors import InvalidData, NotFound, PermissionDenied
from ocop_workflow.models import Certificate, MailOutbox, Notification, Rating, Reminder, User
from ocop_workflow.notify import (
    get_email_mode,
    list_mail,
    list_notifications,
    mail_counts,
    mark_read,
    open_notification,
    retry_mail,
    set_email_mode,
    unread_count,
)
from ocop_workflow.notify.outbox import claim, deliver
from ocop_workflow.notify.smtp import SmtpConfig, SmtpMailer
from ocop_workflow.reminders.recipients import Directory
from ocop_workflow.reminders.sweep import add_months, run_sweep
from ocop_workflow.services.access import Actor, load_actor
from ocop_workflow.services.certificates import revoke_certificate
from ocop_workflow.services.products import advance

from .helpers import (
    PDF,
    T0,
    VN,
    attach,
    count,
    make_products,
    move,
    new_product,
    product_row,
    rate,
    recognise,
    required_docs,
)

BASE_URL = "https://ocop.example.vn"


@pytest.fixture
def settings(db, smtp) -> Settings:
    return replace(
        Settings(),
        database_url=db.url,
        smtp_url=smtp.url,
        mail_from="OCOP Bắc Giang <ocop@example.vn>",
        base_url=BASE_URL,
        timezone="Asia/Ho_Chi_Minh",
        sweep_minutes=5,
        reminder_repeat_days=7,
        escalate_after_days=None,
        digest_hour=7,
        mail_max_attempts=3,
        mail_retry_seconds=60,
        mail_retry_max_seconds=3600,
        mail_claim_timeout_seconds=600,
        smtp_timeout_seconds=10,
        certificate_months=36,
        certificate_notice_days=(90, 30, 0),
    )


# --- helpers -----------------------------------------------------------------------------------
def set_locale(db, email: str, locale: str) -> None:
    with db.transaction() as s:
        s.scalars(select(User).where(User.email == email)).one().locale = locale


def sweep(db, registry, settings, at: datetime, **kwargs):
    return run_sweep(db, registry, settings, now=at, **kwargs)


def notifications(db, email: str) -> list[Notification]:
    with db.session() as s:
        uid = s.scalar(select(User.id).where(User.email == email))
        return list(s.scalars(select(Notification).where(Notification.user_id == uid).order_by(Notification.id)))


def forget_move_notices(db) -> None:
    """Drop the notices the setting-up moves wrote (issue #11), for tests about the sweep's own notices."""
    with db.transaction() as s:
        s.execute(text("DELETE FROM notifications WHERE kind = 'move'"))
        s.execute(text("DELETE FROM reminders WHERE kind = 'move'"))
        s.execute(text("DELETE FROM mail_outbox WHERE dedupe_key LIKE 'move:%'"))


def outbox(db) -> list[MailOutbox]:
    with db.session() as s:
        return list(s.scalars(select(MailOutbox).order_by(MailOutbox.id)))


# --- stalls ------------------------------------------------------------------------------------
def test_a_stall_gives_one_mail_and_one_notification_in_the_recipients_language(db, registry, world, settings, smtp):
    officer_c1, officer_c3 = world.user("commune_officer", "C1"), world.user("commune_officer", "C3")
    set_locale(db, officer_c1, "en")
    [p1] = make_products(db, registry, world, name="Vải thiều Lục Ngạn")
    [p3] = make_products(db, registry, world, commune="C3", name="Gà đồi Yên Thế")

    report = sweep(db, registry, settings, T0 + timedelta(days=29, hours=23))
    assert report.queued == [] and smtp.sink.messages == []

    report = sweep(db, registry, settings, T0 + timedelta(days=30, hours=1))
    assert report.stalled == 2
    assert sorted((q.product_id, q.email) for q in report.queued) == [(p1, officer_c1), (p3, officer_c3)]
    assert report.delivery.sent and not report.delivery.retry

    [en] = smtp.sink.to(officer_c1)
    assert en["Subject"] == "[OCOP] Overdue: “Vải thiều Lục Ngạn” at “Product idea”"
    body = en.get_content()
    assert "since 02/03/2026: 30 days so far" in body  # dd/mm/yyyy in English too
    assert "The time limit for this step is 30 days; it ran out on 01/04/2026." in body
    assert f"{BASE_URL}/products/{p1}" in body
    assert en["From"] == "OCOP Bắc Giang <ocop@example.vn>"
    assert en["Message-ID"].startswith("<ocop.") and en["Message-ID"].endswith("@example.vn>")
    [vi] = smtp.sink.to(officer_c3)
    assert vi["Subject"] == "[OCOP] Quá hạn: «Gà đồi Yên Thế» ở bước «Ý tưởng sản phẩm»"
    assert "đã hết vào ngày 01/04/2026" in vi.get_content() and "Đơn vị xử lý: Đồng Kỳ." in vi.get_content()
    assert len(smtp.sink.messages) == 2

    [n_en] = notifications(db, officer_c1)
    assert (n_en.title, n_en.link, n_en.kind, n_en.read_at) == (
        "Overdue: “Vải thiều Lục Ngạn” at “Product idea”",
        f"/products/{p1}",
        "stall",
        None,
    )
    [n_vi] = notifications(db, officer_c3)
    assert n_vi.title.startswith("Quá hạn")
    # nobody else: not the association officer (cannot accept ideas), not the district
    assert count(db, Notification) == 2 and count(db, Reminder) == 2

    # a second sweep (and one an hour later) sends nothing
    for at in (T0 + timedelta(days=30, hours=1), T0 + timedelta(days=30, hours=2)):
        again = sweep(db, registry, settings, at)
        assert again.queued == [] and again.delivery.sent == []
    assert len(smtp.sink.messages) == 2 and count(db, Notification) == 2
    assert {m.status for m in outbox(db)} == {"sent"}


def test_repeat_and_escalation_after_the_further_period(db, registry, world, settings, smtp):
    officer, district = world.user("commune_officer", "C1"), world.user("district_secretariat", "D1")
    [pid] = make_products(db, registry, world)
    assert [q.period for q in sweep(db, registry, settings, T0 + timedelta(days=30, hours=1)).queued] == [0]
    assert [q.period for q in sweep(db, registry, settings, T0 + timedelta(days=37, hours=1)).queued] == [1]
    # the scheduler was away for weeks: only the current period goes out, not the missed ones
    late = sweep(db, registry, settings, T0 + timedelta(days=59, hours=23))
    assert [(q.kind, q.level, q.period, q.email) for q in late.queued] == [("stall", 0, 4, officer)]
    assert smtp.sink.to(district) == []

    escalated = sweep(db, registry, settings, T0 + timedelta(days=60, hours=1))
    assert [(q.kind, q.level, q.period, q.email) for q in escalated.queued] == [("escalation", 1, 0, district)]
    [mail] = smtp.sink.to(district)
    assert mail["Subject"] == "[OCOP] Chuyển cấp: «Vải thiều Lục Ngạn» chậm xử lý tại Phượng Sơn"
    assert "chuyển lên Lục Ngạn vì Phượng Sơn chưa xử lý sau 60 ngày" in mail.get_content()
    assert [n.kind for n in notifications(db, district)] == ["escalation"]
    assert len(smtp.sink.to(officer)) == 3
    assert sweep(db, registry, settings, T0 + timedelta(days=60, hours=5)).queued == []

    # a commune straight under its province (two tiers) escalates to the province secretariat
    [p4] = make_products(db, registry, world, commune="C4", workflow="ocop-1489", at=T0 + timedelta(days=1))
    report = sweep(db, registry, settings, T0 + timedelta(days=61, hours=2))
    assert {(q.product_id, q.kind, q.email) for q in report.queued} == {
        (p4, "stall", world.user("commune_officer", "C4")),
        (p4, "escalation", world.user("province_secretariat", "P")),
    }
    assert pid not in {q.product_id for q in report.queued}


def test_escalation_delay_and_repeat_interval_are_configurable(db, registry, world, settings, smtp):
    settings = replace(settings, escalate_after_days=3, reminder_repeat_days=2)
    make_products(db, registry, world)
    assert [q.level for q in sweep(db, registry, settings, T0 + timedelta(days=32, hours=1)).queued] == [0]
    report = sweep(db, registry, settings, T0 + timedelta(days=33, hours=1))
    assert sorted((q.level, q.period) for q in report.queued) == [(1, 0)]
    report = sweep(db, registry, settings, T0 + timedelta(days=34, hours=1))
    assert sorted((q.level, q.period) for q in report.queued) == [(0, 2)]


def test_advancing_the_product_stops_its_reminders(db, registry, world, settings, smtp, upload_dir):
    officer = world.user("commune_officer", "C1")
    [pid] = make_products(db, registry, world)
    attach(db, registry, officer, pid, ["idea_registration"], upload_dir)
    assert len(sweep(db, registry, settings, T0 + timedelta(days=30, hours=1)).queued) == 1
    with db.transaction() as s:
        advance(s, registry, pid, "accept_idea", load_actor(s, officer), now=T0 + timedelta(days=31))
    for days in (37.5, 45, 61, 90):  # the old state's repeats and escalation never come
        assert sweep(db, registry, settings, T0 + timedelta(days=days)).queued == []
    # the new state has its own SLA (production plan: 60 days from the move)
    report = sweep(db, registry, settings, T0 + timedelta(days=91, hours=1))
    assert [(q.subject, q.period) for q in report.queued] == [("production_plan", 0)]
    assert len(smtp.sink.messages) == 2


def test_mail_queued_for_a_product_that_moved_on_is_cancelled(db, registry, world, settings, smtp, upload_dir):
    officer = world.user("commune_officer", "C1")
    [pid] = make_products(db, registry, world)
    attach(db, registry, officer, pid, ["idea_registration"], upload_dir)
    smtp.stop()
    at = T0 + timedelta(days=30, hours=1)
    assert sweep(db, registry, settings, at).delivery.retry
    with db.transaction() as s:
        advance(s, registry, pid, "accept_idea", load_actor(s, officer), now=at + timedelta(minutes=1))
    smtp.start()
    report = sweep(db, registry, settings, at + timedelta(minutes=5))
    assert report.delivery.cancelled and not report.delivery.sent
    assert smtp.sink.messages == [] and [m.status for m in outbox(db)] == ["cancelled"]
    assert len(notifications(db, officer)) == 1  # the in-app history stays


def test_with_the_smtp_server_down_mail_waits_and_goes_out_when_it_returns(db, registry, world, settings, smtp):
    officer = world.user("commune_officer", "C1")
    make_products(db, registry, world, 2)
    smtp.stop()
    at = T0 + timedelta(days=30, hours=1)
    report = sweep(db, registry, settings, at)
    assert len(report.queued) == 2 and len(report.delivery.retry) == 2
    assert "cannot connect" in report.delivery.summary()
    rows = outbox(db)
    assert [(r.status, r.attempts) for r in rows] == [("pending", 1), ("pending", 1)]
    assert all("cannot connect" in r.last_error for r in rows)
    assert all(r.next_attempt_at == at + timedelta(seconds=60) for r in rows)
    assert len(notifications(db, officer)) == 2  # in-app does not wait for mail

    # still down after many tries: never given up (connection failures are not the message's fault)
    for minutes in (2, 5, 10, 20, 40, 80):
        sweep(db, registry, settings, at + timedelta(minutes=minutes))
    rows = outbox(db)
    assert {r.status for r in rows} == {"pending"} and rows[0].attempts > settings.mail_max_attempts
    assert rows[0].next_attempt_at - (at + timedelta(minutes=80)) == timedelta(seconds=settings.mail_retry_max_seconds)

    smtp.start()
    soon = sweep(db, registry, settings, at + timedelta(minutes=81))
    assert soon.delivery.sent == []  # not due yet: backoff
    back = sweep(db, registry, settings, at + timedelta(minutes=80, hours=1))
    assert len(back.delivery.sent) == 2 and back.queued == []
    assert len(smtp.sink.to(officer)) == 2
    assert sweep(db, registry, settings, at + timedelta(hours=3)).delivery.sent == []
    assert len(smtp.sink.messages) == 2 and {r.status for r in outbox(db)} == {"sent"}


def test_refused_messages_fail_after_retries_and_admin_can_retry(db, registry, world, settings, smtp):
    make_products(db, registry, world)
    at = T0 + timedelta(days=30, hours=1)
    smtp.sink.reply = "451 4.3.0 try again later"
    sweep(db, registry, settings, at)
    [row] = outbox(db)
    assert (row.status, row.attempts) == ("pending", 1) and "451" in row.last_error
    sweep(db, registry, settings, at + timedelta(minutes=1))  # 2nd attempt, next in 2 min
    sweep(db, registry, settings, at + timedelta(minutes=3))  # 3rd = max attempts
    [row] = outbox(db)
    assert (row.status, row.attempts) == ("failed", 3)

    smtp.sink.reply = "550 5.1.1 no such user"
    with db.transaction() as s:
        retry_mail(s, row.id, Actor.system_actor(), now=at + timedelta(minutes=10))
    sweep(db, registry, settings, at + timedelta(minutes=10))
    [row] = outbox(db)
    assert (row.status, row.attempts) == ("failed", 1) and "550" in row.last_error  # permanent: at once

    with db.session() as s:
        admin = load_actor(s, world.user("admin", "P"))
        listed = list_mail(s, admin)
        assert [(m.id, m.status) for m in listed] == [(row.id, "failed")]
        assert mail_counts(s, admin) == {"failed": 1}
        assert list_mail(s, load_actor(s, world.user("admin", "P")), statuses=["sent"]) == []
        with pytest.raises(PermissionDenied):
            list_mail(s, load_actor(s, world.user("commune_officer", "C1")))
        with pytest.raises(InvalidData):
            list_mail(s, Actor.system_actor(), statuses=["lost"])
    smtp.sink.reply = "250 OK"
    with db.transaction() as s:
        retry_mail(s, row.id, load_actor(s, world.user("admin", "P")), now=at + timedelta(minutes=20))
    assert len(sweep(db, registry, settings, at + timedelta(minutes=20)).delivery.sent) == 1
    assert len(smtp.sink.messages) == 1


# --- exactly once: claims and crashes ----------------------------------------------------------
def test_a_crashed_claim_is_reclaimed_after_the_timeout_and_sent_once(db, registry, world, settings, smtp):
    make_products(db, registry, world)
    at = T0 + timedelta(days=30, hours=1)
    sweep(db, registry, settings, at, send=False)
    with db.transaction() as s:  # a sender claims the row and dies before sending
        assert len(claim(s, at, token="crashed", limit=10, claim_timeout=600)) == 1
    with db.transaction() as s:  # a claimed row is nobody else's
        assert claim(s, at, token="other", limit=10, claim_timeout=600) == []
    assert sweep(db, registry, settings, at + timedelta(minutes=9)).delivery.sent == []
    assert smtp.sink.messages == []
    report = sweep(db, registry, settings, at + timedelta(minutes=11))
    assert len(report.delivery.sent) == 1 and len(smtp.sink.messages) == 1
    [row] = outbox(db)
    assert (row.status, row.attempts, row.claim_token) == ("sent", 2, None)


def test_a_crash_after_the_server_accepted_resends_with_the_same_message_id(db, registry, world, settings, smtp):
    """The documented at-least-once case: the copy carries the same Message-ID."""
    make_products(db, registry, world)
    at = T0 + timedelta(days=30, hours=1)

    class Crash(BaseException):
        pass

    class CrashingMailer(SmtpMailer):
        def send(self, msg) -> None:
            super().send(msg)
            raise Crash  # the process dies before recording `sent`

    with pytest.raises(Crash):
        sweep(db, registry, settings, at, mailer_factory=lambda: CrashingMailer(SmtpConfig.from_url(settings.smtp_url)))
    assert [r.status for r in outbox(db)] == ["sending"]
    sweep(db, registry, settings, at + timedelta(minutes=11))
    assert [r.status for r in outbox(db)] == ["sent"]
    first, second = smtp.sink.messages
    assert first["Message-ID"] == second["Message-ID"]


def test_two_sweeps_at_once_send_each_reminder_exactly_once(db, registry, world, settings, smtp):
    """Two schedulers (threads with their own engines) sweep the same database at the same moment."""
    from ocop_workflow.db import Database

    make_products(db, registry, world, 30)
    smtp.sink.delay = 0.005
    at = T0 + timedelta(days=30, hours=1)
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def run() -> None:
        other = Database(db.url)
        try:
            barrier.wait(timeout=10)
            reports.append(run_sweep(other, registry, settings, now=at))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            other.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sum(len(r.queued) for r in reports) == 30
    assert sum(len(r.delivery.sent) for r in reports) == 30
    ids = smtp.sink.message_ids()
    assert len(ids) == 30 and len(set(ids)) == 30
    assert count(db, Reminder) == 30 and count(db, Notification) == 30
    assert count(db, MailOutbox, MailOutbox.status == "sent") == 30


# --- certificates ------------------------------------------------------------------------------
def rated_product(db, registry, world, upload_dir, score: float = 62.5, name: str = "Mỳ Chũ") -> int:
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["household"], name=name)
    attach(db, registry, officer, pid, ["idea_registration", "business_plan", "organisation_intro"], upload_dir)
    move(db, registry, officer, pid, "accept_idea")
    move(db, registry, officer, pid, "approve_plan")
    attach(
        db,
        registry,
        officer,
        pid,
        required_docs(registry, "ocop-148", "submit_to_district", "food", "household"),
        upload_dir,
    )
    move(db, registry, officer, pid, "submit_to_district")
    rate(db, registry, pid, "rate_district", score)
    return pid


def certify(db, registry, world, pid: int, number: str = "1215/QĐ-UBND", now: datetime | None = None) -> str:
    """The district chair signs the decision recognising the product's 3★: its certificate's code."""
    _decision, (code,) = recognise(
        db,
        registry,
        pid,
        drafter=world.user("district_secretariat", "D1"),
        signer=world.user("district_chair", "D1"),
        organisation_id=world.orgs["D1"],
        number=number,
        now=now,
    )
    return code


def certificate(db, code: str) -> Certificate:
    with db.session() as s:
        return s.scalars(select(Certificate).where(Certificate.code == code)).one()


def on(d: date, hour: int = 8) -> datetime:
    return datetime.combine(d, datetime.min.time(), tzinfo=VN) + timedelta(hours=hour)


def test_certificate_notices_90_30_and_0_days_before_expiry(db, registry, world, settings, smtp, upload_dir):
    officer, district = world.user("commune_officer", "C1"), world.user("district_secretariat", "D1")
    set_locale(db, district, "en")
    pid = rated_product(db, registry, world, upload_dir)
    # no certificate before the chair signs: a council's result alone gives no notice
    assert product_row(db, pid).state == "district_recognition"
    signed_at = datetime.now(UTC) - timedelta(days=400)  # the decision is dated 400 days ago
    with db.transaction() as s:  # the council's result came before it
        s.execute(update(Rating).where(Rating.product_id == pid).values(at=signed_at - timedelta(days=5)))
    code = certify(db, registry, world, pid, now=signed_at)
    forget_move_notices(db)
    cert = certificate(db, code)
    assert cert.star == 3 and cert.issued_on == signed_at.astimezone(VN).date()
    expires = cert.expires_on
    assert expires == add_months(cert.issued_on, 36)

    def notices(d: date) -> list[tuple[int, str]]:
        return sorted((q.period, q.email) for q in sweep(db, registry, settings, on(d)).queued)

    assert notices(expires - timedelta(days=91)) == []
    assert notices(expires - timedelta(days=90)) == [(90, officer), (90, district)]
    assert notices(expires - timedelta(days=90)) == []
    assert notices(expires - timedelta(days=60)) == []
    assert notices(expires - timedelta(days=30)) == [(30, officer), (30, district)]
    assert notices(expires - timedelta(days=1)) == []
    assert notices(expires) == [(0, officer), (0, district)]
    assert notices(expires + timedelta(days=1)) == []

    assert len(smtp.sink.to(officer)) == 3 and len(smtp.sink.to(district)) == 3
    subjects = [m["Subject"] for m in smtp.sink.to(district)]
    assert subjects[0] == f"[OCOP] The OCOP certificate of “Mỳ Chũ” expires in 90 days ({expires:%d/%m/%Y})"
    assert subjects[2] == f"[OCOP] The OCOP certificate of “Mỳ Chũ” expires today ({expires:%d/%m/%Y})"
    en = smtp.sink.to(district)[0].get_content()
    assert f"The certificate {code} is valid for 36 months" in en
    assert f"Apply for re-evaluation: {BASE_URL}/products/{pid}#step-apply_reevaluation" in en
    vi = smtp.sink.to(officer)[1]
    assert vi["Subject"] == f"[OCOP] Giấy chứng nhận OCOP của «Mỳ Chũ» hết hạn sau 30 ngày ({expires:%d/%m/%Y})"
    body = vi.get_content()
    assert "công nhận 3 sao" in body and "Lục Ngạn" in body and f"Giấy chứng nhận {code}" in body
    assert f"Đăng ký đánh giá lại: {BASE_URL}/products/{pid}#step-apply_reevaluation" in body
    assert [n.kind for n in notifications(db, officer)] == ["certificate"] * 3
    assert notifications(db, officer)[0].link == f"/products/{pid}#step-apply_reevaluation"


def test_no_certificate_notice_below_3_stars_or_before_the_decision(db, registry, world, settings, smtp, upload_dir):
    low = rated_product(db, registry, world, upload_dir, score=45, name="Mỳ Chũ gạo lứt")  # 2★: no certificate
    waiting = rated_product(db, registry, world, upload_dir, score=62.5)  # 3★, no decision signed yet
    assert product_row(db, low).state == "rated" and product_row(db, waiting).state == "district_recognition"
    today = datetime.now(UTC).astimezone(VN).date()
    for days in (0, 400, 36 * 31 - 90, 36 * 31 - 30, 36 * 31):
        assert sweep(db, registry, settings, on(today + timedelta(days=days))).certificates == 0


def test_no_certificate_notice_after_revocation(db, registry, world, settings, smtp, upload_dir):
    pid = rated_product(db, registry, world, upload_dir)
    code = certify(db, registry, world, pid)
    forget_move_notices(db)
    expires = certificate(db, code).expires_on
    # a sweep as of the 90-day mark, SMTP down: the notices wait in the outbox
    smtp.stop()
    report = sweep(db, registry, settings, on(expires - timedelta(days=90)))
    assert {(q.product_id, q.period) for q in report.queued} == {(pid, 90)}
    with db.transaction() as s:
        revoke_certificate(
            s,
            load_actor(s, world.user("district_chair", "D1")),
            code,
            reason="Sản phẩm không duy trì chất lượng như hồ sơ đánh giá",
            decision_number="45/QĐ-UBND",
        )
    smtp.start()
    later = sweep(db, registry, settings, on(expires - timedelta(days=90), hour=9))
    assert later.certificates == 0 and later.queued == []
    assert len(later.delivery.cancelled) == 2 and not later.delivery.sent and not smtp.sink.messages
    assert sweep(db, registry, settings, on(expires - timedelta(days=30))).queued == []
    assert sweep(db, registry, settings, on(expires)).queued == []


def test_a_renewed_certificate_gets_its_own_notices(db, registry, world, settings, smtp, upload_dir):
    officer = world.user("commune_officer", "C1")
    pid = rated_product(db, registry, world, upload_dir)
    old = certify(db, registry, world, pid, number="1215/QĐ-UBND")
    expires = certificate(db, old).expires_on
    notice_day = on(expires - timedelta(days=90), hour=9)
    # a late mail (SMTP down) for a certificate that is then renewed by a re-evaluation is cancelled
    smtp.stop()
    report = sweep(db, registry, settings, notice_day)
    assert {q.product_id for q in report.queued} == {pid} and len(report.queued) == 2
    move(db, registry, officer, pid, "apply_reevaluation")
    attach(
        db,
        registry,
        officer,
        pid,
        ["registration_form", "self_assessment_report", "lab_test_report"],
        upload_dir,
        content=PDF + b"renewed",
    )
    move(db, registry, officer, pid, "submit_to_district")
    assert rate(db, registry, pid, "rate_district", 65) == "district_recognition"
    new = certify(db, registry, world, pid, number="1300/QĐ-UBND")
    forget_move_notices(db)
    assert certificate(db, old).superseded_by_id == certificate(db, new).id
    smtp.start()
    later = sweep(db, registry, settings, notice_day + timedelta(minutes=5))
    # the old notices are cancelled; the new certificate (signed today as well) gets its own
    assert len(later.delivery.cancelled) == 2 and len(later.delivery.sent) == 2
    with db.session() as s:
        sent = s.scalars(select(Reminder.subject).where(Reminder.outbox_id.in_(later.delivery.sent))).all()
    assert set(sent) == {new} and len(smtp.sink.messages) == 2
    assert all(new in m.get_content() for m in smtp.sink.messages)


def test_a_sweep_at_an_earlier_time_sees_the_certificates_as_they_stood_then(
    db, registry, world, settings, smtp, upload_dir
):
    """`ocop reminders sweep --at`: a certificate renewed today still counted yesterday."""
    officer = world.user("commune_officer", "C1")
    pid = rated_product(db, registry, world, upload_dir)
    today = datetime.now(UTC).astimezone(VN).date()
    signed_at = on(add_months(today, -36) + timedelta(days=60))  # it expires in 60 days
    with db.transaction() as s:
        s.execute(update(Rating).where(Rating.product_id == pid).values(at=signed_at - timedelta(days=5)))
    old = certify(db, registry, world, pid, now=signed_at)
    assert (certificate(db, old).expires_on - today).days == 60
    move(db, registry, officer, pid, "apply_reevaluation")
    attach(
        db,
        registry,
        officer,
        pid,
        ["registration_form", "self_assessment_report", "lab_test_report"],
        upload_dir,
        content=PDF + b"renewed",
    )
    move(db, registry, officer, pid, "submit_to_district")
    rate(db, registry, pid, "rate_district", 66)
    new = certify(db, registry, world, pid, number="1301/QĐ-UBND")
    assert certificate(db, old).superseded_on == today
    yesterday = sweep(db, registry, settings, on(today - timedelta(days=1), hour=10), dry_run=True)
    assert [(q.product_id, q.period, q.subject) for q in yesterday.queued if q.email == officer] == [(pid, 90, old)]
    now = sweep(db, registry, settings, on(today, hour=10), dry_run=True)
    assert now.certificates == 0 and now.queued == []
    assert new != old


# --- working days ------------------------------------------------------------------------------
@pytest.fixture
def working_registry(tmp_path, registry):
    """The shipped ocop-148 definition with `sla_calendar: working`."""
    from ocop_workflow.engine import Registry

    folder = tmp_path / "workflows"
    folder.mkdir()
    source = registry.definitions[("ocop-148", 1)].path
    yaml_text = Path(source).read_text(encoding="utf-8")
    assert "sla_calendar: calendar" in yaml_text
    (folder / "ocop-148.v1.yaml").write_text(
        yaml_text.replace("sla_calendar: calendar", "sla_calendar: working"), encoding="utf-8"
    )
    (folder / "catalogue.yaml").write_text(Path(registry.catalogue.path).read_text(encoding="utf-8"), encoding="utf-8")
    reg = Registry.from_directory(folder)
    assert reg.get("ocop-148", 1).sla_calendar == "working"
    return reg


def test_working_day_slas_skip_tet_and_weekends(db, working_registry, world, settings, smtp):
    """Entered on Friday 13 Feb 2026, just before Tết (16-20 Feb): 30 working days end on Friday 3 April."""
    officer = world.user("commune_officer", "C1")
    set_locale(db, officer, "en")
    [pid] = make_products(db, working_registry, world, at=datetime(2026, 2, 13, 10, 0, tzinfo=VN))

    def queued(at: datetime) -> list:
        return sweep(db, working_registry, settings, at).queued

    assert queued(datetime(2026, 3, 16, 9, 0, tzinfo=VN)) == []  # 30 calendar days have passed
    assert queued(datetime(2026, 3, 30, 9, 0, tzinfo=VN)) == []  # 30 weekdays too, ignoring Tết
    assert queued(datetime(2026, 4, 3, 23, 59, tzinfo=VN)) == []  # the last working day is not over
    [q] = queued(datetime(2026, 4, 4, 0, 1, tzinfo=VN))
    assert (q.product_id, q.email, q.level, q.period) == (pid, officer, 0, 0)
    [mail] = smtp.sink.to(officer)
    assert "The time limit for this step is 30 working days; it ran out on 03/04/2026." in mail.get_content()
    # escalation after 30 further working days, which end on Wednesday 20 May (27 April, the observed
    # Hùng Kings day, 30 April and 1 May are holidays); the weekly repeat counts working days as well
    assert [(x.level, x.period) for x in queued(datetime(2026, 5, 20, 23, 59, tzinfo=VN))] == [(0, 4)]
    assert [(x.level, x.period) for x in queued(datetime(2026, 5, 21, 0, 1, tzinfo=VN))] == [(1, 0)]


# --- preferences: digest, no mail --------------------------------------------------------------
def test_daily_digest_instead_of_single_mails(db, registry, world, settings, smtp):
    officer, district = world.user("commune_officer", "C1"), world.user("district_secretariat", "D1")
    with db.transaction() as s:
        uid = s.scalar(select(User.id).where(User.email == officer))
        assert get_email_mode(s, uid) == "single"
        set_email_mode(s, uid, "digest")
        did = s.scalar(select(User.id).where(User.email == district))
        set_email_mode(s, did, "off")
        with pytest.raises(InvalidData):
            set_email_mode(s, uid, "weekly")
    make_products(db, registry, world, 2)
    day = datetime(2026, 4, 2, tzinfo=VN)
    report = sweep(db, registry, settings, day + timedelta(hours=6))
    assert len(report.queued) == 2 and report.digests == [] and smtp.sink.messages == []
    assert len(notifications(db, officer)) == 2  # in-app at once

    report = sweep(db, registry, settings, day + timedelta(hours=7, minutes=5))
    assert report.digests == [(uid, 2)]
    [mail] = smtp.sink.messages
    assert mail["To"] == officer and mail["Subject"] == "[OCOP] Tóm tắt nhắc việc ngày 02/04/2026: 2 mục"
    assert mail.get_content().count("• Quá hạn:") == 2
    assert sweep(db, registry, settings, day + timedelta(hours=9)).digests == []

    # escalation to a user who wants no mail: in-app only; new reminders wait for the next day's digest
    report = sweep(db, registry, settings, datetime(2026, 5, 2, 8, tzinfo=VN))
    assert {q.email for q in report.queued if q.kind == "escalation"} == {district}
    assert report.digests == [(uid, 2)]  # the repeat reminders of both products
    assert len(notifications(db, district)) == 2 and smtp.sink.to(district) == []
    assert len(smtp.sink.messages) == 2


# --- the bell ----------------------------------------------------------------------------------
def test_inbox_services_for_the_bell(db, registry, world, settings, smtp):
    officer, other = world.user("commune_officer", "C1"), world.user("commune_officer", "C3")
    make_products(db, registry, world, 3)
    make_products(db, registry, world, commune="C3")
    sweep(db, registry, settings, T0 + timedelta(days=30, hours=1))
    with db.transaction() as s:
        uid = s.scalar(select(User.id).where(User.email == officer))
        oid = s.scalar(select(User.id).where(User.email == other))
        mine = list_notifications(s, uid)
        assert len(mine) == 3 and mine[0].id > mine[-1].id  # newest first
        assert unread_count(s, uid) == 3
        assert [n.id for n in list_notifications(s, uid, limit=2, before_id=mine[0].id)] == [mine[1].id, mine[2].id]
        theirs = list_notifications(s, oid)
        assert mark_read(s, uid, [mine[0].id, theirs[0].id], now=T0 + timedelta(days=31)) == 1
        assert unread_count(s, uid) == 2 and unread_count(s, oid) == 1
        assert [n.id for n in list_notifications(s, uid, unread_only=True)] == [mine[1].id, mine[2].id]
        assert mark_read(s, uid, []) == 0
        opened = open_notification(s, uid, mine[1].id, now=T0 + timedelta(days=32))
        assert opened.link.startswith("/products/") and unread_count(s, uid) == 1
        with pytest.raises(NotFound):
            open_notification(s, oid, mine[2].id)
        assert mark_read(s, uid) == 1 and unread_count(s, uid) == 0


# --- organisation lookups ----------------------------------------------------------------------
def test_owner_falls_back_to_the_province_when_there_is_no_district(db, world):
    with db.session() as s:
        d = Directory(s, date(2026, 1, 1))
        d.load_orgs([world.orgs["C1"], world.orgs["C4"]])
        assert d.owner(world.orgs["C1"], "district").code == "D1"
        assert d.owner(world.orgs["C4"], "district").code == "P"
        assert d.owner(world.orgs["C4"], "commune").code == "C4"
        assert d.owner(world.orgs["C1"], "central").code == "VN"
        assert d.parent(d.by_code["C4"]).code == "P" and d.parent(d.by_code["VN"]) is None


def test_the_stalled_query_is_an_index_range_read(db, registry, world):
    """The sweep asks for `state_entered_at < cutoff` within (workflow, version, state) through an index,
    so its cost follows the stalled products, not all products."""
    from ocop_workflow.models import Product

    cutoff = datetime(2026, 1, 1, tzinfo=UTC)
    stmt = select(Product.id).where(
        Product.workflow_key == "ocop-148",
        Product.workflow_version == 1,
        Product.state == "idea",
        Product.state_entered_at < cutoff,
    )
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.is_sqlite:
        with db.session() as s:
            plan = " ".join(str(r) for r in s.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "INDEX ix_products_stalled" in plan and "state_entered_at<" in plan, plan
        return
    with db.transaction() as s:  # realistic statistics: 20,000 products in several workflows and states, 1% stalled
        s.execute(
            text("""
            INSERT INTO products (name, name_folded, product_group, producer_id, commune_id, workflow_key,
                                  workflow_version, state, state_entered_at, application_type, history_count,
                                  created_at, version)
            SELECT 'p' || g, 'p' || g, 'food', :producer, :commune,
                   CASE WHEN g % 2 = 0 THEN 'ocop-148' ELSE 'ocop-1489' END, 1,
                   (ARRAY['idea', 'production_plan', 'implementation', 'rated'])[1 + g % 4],
                   CASE WHEN g % 100 = 0 THEN TIMESTAMPTZ '2025-06-01'
                        ELSE TIMESTAMPTZ '2026-03-01' - (g % 50) * INTERVAL '1 day' END,
                   'first_rating', 1, now(), 1
              FROM generate_series(1, 20000) AS g"""),
            {"producer": world.producers["household"], "commune": world.orgs["C1"]},
        )
    with db.session() as s:
        s.execute(text("ANALYZE products"))
        plan = "\n".join(r[0] for r in s.execute(text(f"EXPLAIN {compiled}")))
    assert "Seq Scan" not in plan and "Index Cond" in plan, plan
    index_cond = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "state_entered_at <" in index_cond, plan


def test_the_scheduler_is_configured_and_runs_the_sweep(db, registry, world, settings, smtp, monkeypatch):
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    from ocop_workflow.reminders.scheduler import JOB_ID, SweepJob, build_scheduler, start_background_scheduler

    monkeypatch.setenv("OCOP_SWEEP_MINUTES", "2")
    blocking = build_scheduler(replace(Settings(), database_url=db.url))
    assert isinstance(blocking, BlockingScheduler) and str(blocking.timezone) == "Asia/Ho_Chi_Minh"
    paused = build_scheduler(Settings(), background=True)
    paused.start(paused=True)  # job defaults are applied when the scheduler starts
    try:
        [job] = paused.get_jobs()
        assert job.id == JOB_ID and job.trigger.interval == timedelta(minutes=2)
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 120)
        assert str(job.trigger.timezone) == "Asia/Ho_Chi_Minh"
    finally:
        paused.shutdown(wait=False)

    officer = world.user("commune_officer", "C1")
    make_products(db, registry, world, at=datetime.now(UTC) - timedelta(days=40))
    swept = threading.Event()

    class SignallingSweepJob(SweepJob):  # tells the test when the scheduler's first run is over
        def __call__(self) -> None:
            super().__call__()
            swept.set()

    sweep_job = SignallingSweepJob(settings, registry=registry)
    scheduler = start_background_scheduler(settings, job=sweep_job)
    try:
        assert isinstance(scheduler, BackgroundScheduler) and scheduler.running
        assert swept.wait(30), "the scheduler did not run the sweep within 30 s"
    finally:
        scheduler.shutdown()
        sweep_job.close()
    assert sweep_job.last_error is None and sweep_job.runs == 1
    assert len(smtp.sink.to(officer)) == 1 and len(notifications(db, officer)) == 1


def test_delivery_without_smtp_configured_leaves_mail_waiting(db, registry, world, settings):
    make_products(db, registry, world)
    at = T0 + timedelta(days=30, hours=1)
    report = sweep(db, registry, replace(settings, smtp_url=None), at)
    assert report.delivery.disabled and "not set" in report.delivery.summary()
    assert [(r.status, r.attempts) for r in outbox(db)] == [("pending", 0)]
    with db.transaction() as s:  # an operator may also cancel by hand; delivery then skips it
        s.execute(update(MailOutbox).values(status="cancelled"))
    assert deliver(db, settings, now=at).sent == []


def test_smtp_urls():
    c = SmtpConfig.from_url("smtps://ocop%40bg:p%C3%A1ss@mail.example.vn")
    assert (c.host, c.port, c.username, c.password, c.use_ssl, c.starttls) == (
        "mail.example.vn",
        465,
        "ocop@bg",
        "páss",
        True,
        False,
    )
    c = SmtpConfig.from_url("smtp://u:p@mail.example.vn?starttls=1")
    assert (c.port, c.starttls, c.use_ssl) == (587, True, False)
    assert SmtpConfig.from_url("smtp://relay:2525").port == 2525
    with pytest.raises(ValueError):
        SmtpConfig.from_url("http://mail.example.vn")
