"""Notices on every move (issue #11): who is told, in which language, once; and the reminders' fixes
(counts from 1, escalation by the definition's levels, the sweep's messages translated)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from ocop_workflow.config import Settings
from ocop_workflow.i18n import Text
from ocop_workflow.models import MailOutbox, Notification, Product, ProductEvent, Reminder, User
from ocop_workflow.notify import notice_text, set_email_mode
from ocop_workflow.notify.moves import SETTINGS_KEY, notify_move
from ocop_workflow.notify.outbox import DeliveryReport
from ocop_workflow.reminders.messages import StallInfo
from ocop_workflow.reminders.sweep import (
    LEVEL_NAMES,
    NO_CERTIFICATE_RECIPIENT,
    NO_MEMBER,
    NO_ORG,
    Queued,
    SweepReport,
    _fill,
    run_sweep,
)
from ocop_workflow.services.access import load_actor
from ocop_workflow.services.products import advance

from .helpers import VN, attach, move, new_product, required_docs

BASE_URL = "https://ocop.example.vn"


@pytest.fixture
def settings(db, smtp) -> Settings:
    return replace(Settings(), database_url=db.url, smtp_url=smtp.url, base_url=BASE_URL, digest_hour=7)


def user_id(db, email: str) -> int:
    with db.session() as s:
        return s.scalar(select(User.id).where(User.email == email))


def bell(db, email: str) -> list[Notification]:
    with db.session() as s:
        return list(
            s.scalars(select(Notification).where(Notification.user_id == user_id(db, email)).order_by(Notification.id))
        )


def mails(db, email: str) -> list[MailOutbox]:
    with db.session() as s:
        return list(s.scalars(select(MailOutbox).where(MailOutbox.to_address == email).order_by(MailOutbox.id)))


def counts(db) -> tuple[int, int, int]:
    with db.session() as s:
        return (
            len(s.scalars(select(Reminder.id).where(Reminder.kind == "move")).all()),
            len(s.scalars(select(Notification.id).where(Notification.kind == "move")).all()),
            len(s.scalars(select(MailOutbox.id).where(MailOutbox.dedupe_key.like("move:%"))).all()),
        )


def at_district(db, registry, world, upload_dir, *, name: str = "Mật ong Phượng Sơn") -> int:
    """A co-operative's product of commune C1 carried by the commune officer to the district council."""
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["cooperative"], name=name)
    attach(db, registry, officer, pid, ["idea_registration", "business_plan", "organisation_intro"], upload_dir)
    move(db, registry, officer, pid, "accept_idea")
    move(db, registry, officer, pid, "approve_plan")
    docs = required_docs(registry, "ocop-148", "submit_to_district", "food", "cooperative")
    attach(db, registry, officer, pid, docs, upload_dir)
    move(db, registry, officer, pid, "submit_to_district")
    return pid


def test_a_submission_tells_the_district_not_the_actor_in_both_languages(db, registry, world, upload_dir):
    officer = world.user("commune_officer", "C1")
    secretariat, council = world.user("district_secretariat", "D1"), world.user("district_council", "D1")
    with db.transaction() as s:
        set_email_mode(s, user_id(db, council), "off")
    pid = at_district(db, registry, world, upload_dir)
    assert bell(db, officer) == [] and mails(db, officer) == []  # the actor is never told
    # the other district and the province are not the ones who must act
    assert bell(db, world.user("district_secretariat", "D2")) == []
    assert bell(db, world.user("province_secretariat", "P")) == []
    (notice,) = bell(db, secretariat)
    assert notice.kind == "move" and notice.link == f"/products/{pid}"
    vi_title, vi_body = notice_text(notice, "vi")
    en_title, en_body = notice_text(notice, "en")
    assert vi_title == "«Mật ong Phượng Sơn»: Gửi hồ sơ lên Hội đồng huyện"
    assert en_title == "“Mật ong Phượng Sơn”: Send the dossier to the district council"
    assert "commune_officer C1 (Phượng Sơn) đã thực hiện bước «Gửi hồ sơ lên Hội đồng huyện»" in vi_body
    assert "Sản phẩm nay ở bước «Hồ sơ tại Hội đồng huyện»" in vi_body
    assert "Việc cần làm tiếp:" in vi_body and "Trả lại để bổ sung" in vi_body
    assert "What to do next:" in en_body and "Return for revision" in en_body
    for text in (vi_title, vi_body, en_title, en_body):
        assert "submit_to_district" not in text and "district_review" not in text
    # one mail for the secretariat (one e-mail each, the default); none for a user who chose none
    (mail,) = mails(db, secretariat)
    assert mail.subject == "[OCOP] «Mật ong Phượng Sơn»: Gửi hồ sơ lên Hội đồng huyện"
    assert f"Xem sản phẩm: {Settings().base_url}/products/{pid}" in mail.body
    assert len(bell(db, council)) == 1 and mails(db, council) == []


def test_a_return_tells_the_commune_and_the_producer_with_the_comment(db, registry, world, upload_dir):
    officer, producer = world.user("commune_officer", "C1"), world.user("producer", "C1")
    pid = at_district(db, registry, world, upload_dir)
    move(
        db,
        registry,
        world.user("district_secretariat", "D1"),
        pid,
        "return_for_revision",
        comment="Thiếu phiếu kiểm nghiệm",
    )
    (to_officer,) = bell(db, officer)
    (to_producer,) = bell(db, producer)
    _t, body = notice_text(to_officer, "vi")
    assert "Ý kiến: Thiếu phiếu kiểm nghiệm" in body and "Lục Ngạn" in body
    assert "Việc cần làm tiếp:" in body and "Gửi hồ sơ lên Hội đồng huyện" in body  # the officer can resubmit
    _t, body = notice_text(to_producer, "en")
    assert "Comment: Thiếu phiếu kiểm nghiệm" in body and "What to do next" not in body
    assert notice_text(to_producer, "en")[0] == "“Mật ong Phượng Sơn”: Return for revision"
    # the producer accounts of another commune hear nothing
    assert bell(db, world.user("producer", "C3")) == []
    assert bell(db, world.user("district_secretariat", "D1"))  # told of the submission before, not of its own return
    assert len(bell(db, world.user("district_secretariat", "D1"))) == 1


def test_notifying_one_event_twice_queues_it_once(db, registry, world, upload_dir):
    pid = at_district(db, registry, world, upload_dir)
    before = counts(db)
    assert before == (2, 2, 2)  # the district secretariat and the council member, each by mail
    with db.transaction() as s:
        event = s.scalars(
            select(ProductEvent).where(ProductEvent.product_id == pid).order_by(ProductEvent.seq.desc())
        ).first()
        event.by = load_actor(s, world.user("commune_officer", "C1"))
        product = s.get(Product, pid)
        assert notify_move(s, registry, None, product, event, now=datetime.now(UTC)) == 0
    assert counts(db) == before


def test_a_failed_move_tells_nobody(db, registry, world, upload_dir):
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["cooperative"])
    with pytest.raises(Exception), db.transaction() as s:  # noqa: B017 - the guard's error, whatever it is
        advance(s, registry, pid, "accept_idea", load_actor(s, officer))  # no idea registration: refused
    assert counts(db) == (0, 0, 0)


def test_mail_single_once_digest_in_the_digest_off_none(db, registry, world, upload_dir, settings, smtp):
    secretariat, council = world.user("district_secretariat", "D1"), world.user("district_council", "D1")
    with db.transaction() as s:
        set_email_mode(s, user_id(db, council), "digest")
        s.info[SETTINGS_KEY] = settings
    pid = at_district(db, registry, world, upload_dir)
    # the product moves on before the sweep: a notice of what happened still goes out (never cancelled)
    move(db, registry, secretariat, pid, "return_for_revision", comment="Thiếu nhãn")
    first = datetime.now(UTC).astimezone(VN).replace(hour=9, minute=0) + timedelta(days=1)
    run_sweep(db, registry, settings, now=first)
    run_sweep(db, registry, settings, now=first + timedelta(minutes=5))
    (single,) = smtp.sink.to(secretariat)  # of the submission; not told of its own return
    assert single["Subject"] == "[OCOP] «Mật ong Phượng Sơn»: Gửi hồ sơ lên Hội đồng huyện"
    (digest,) = smtp.sink.to(council)
    assert "Tóm tắt" in digest["Subject"]
    assert "«Mật ong Phượng Sơn»: Gửi hồ sơ lên Hội đồng huyện" in digest.get_content()
    assert f"/products/{pid}" in digest.get_content()
    # each mail says where its reader chooses how mail comes, with the link
    for mail in (single, digest):
        assert re.search(r"tại trang Thông báo: https?://\S+/notifications/", mail.get_content())


def test_a_signed_decision_tells_its_drafter_and_the_commune(db, registry, world, upload_dir):
    from .helpers import rate, recognise

    pid = at_district(db, registry, world, upload_dir)
    assert rate(db, registry, pid, "rate_district", 62.5) == "district_recognition"
    chair, drafter = world.user("district_chair", "D1"), world.user("district_secretariat", "D1")
    # the result waits for a decision: the chair is told to sign it, the secretariat to draft it
    waiting = [notice_text(n, "vi")[1] for n in bell(db, chair) if "Chờ UBND huyện" in notice_text(n, "vi")[1]]
    assert waiting and "Việc cần làm tiếp: Ký quyết định công nhận" in waiting[-1]
    assert "Soạn quyết định công nhận" in notice_text(bell(db, drafter)[-1], "vi")[1]
    n_drafter = len(bell(db, drafter))
    recognise(db, registry, pid, drafter=drafter, signer=chair, organisation_id=world.orgs["D1"], number="77/QĐ-UBND")
    told = bell(db, drafter)[n_drafter:]
    assert len(told) == 1 and "Ký quyết định công nhận (UBND huyện)" in notice_text(told[0], "vi")[0]
    last = bell(db, world.user("commune_officer", "C1"))[-1]
    assert "Đã đánh giá, phân hạng" in notice_text(last, "vi")[1]
    # the notice names the decision, its date and the star recognised, in each language
    assert "Quyết định công nhận số 77/QĐ-UBND ngày " in notice_text(last, "vi")[1]
    assert ", 3 sao." in notice_text(last, "vi")[1]
    assert "Recognition decision No. 77/QĐ-UBND of " in notice_text(last, "en")[1]
    assert bell(db, world.user("producer", "C1"))[-1].id == max(n.id for n in bell(db, world.user("producer", "C1")))
    assert not [n for n in bell(db, chair) if "Ký quyết định" in notice_text(n, "vi")[0]]  # not the signer


# --- reminders -------------------------------------------------------------------------------------
def stall(db, pid: int, days: int) -> None:
    with db.transaction() as s:
        s.execute(
            update(Product).where(Product.id == pid).values(state_entered_at=datetime.now(UTC) - timedelta(days=days))
        )


def test_reminder_counts_start_at_1_even_after_500_days(db, registry, world, settings, smtp):
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["household"], name="Bánh đa Kế")
    stall(db, pid, 500)
    now = datetime.now(UTC)
    run_sweep(db, registry, settings, now=now)
    (first,) = [n for n in bell(db, officer) if n.kind == "stall"]
    assert "lần nhắc" not in first.title and "(reminder" not in notice_text(first, "en")[0]
    run_sweep(db, registry, settings, now=now + timedelta(days=7))
    second = [n for n in bell(db, officer) if n.kind == "stall"][-1]
    assert second.title.endswith("(lần nhắc 2)") and notice_text(second, "en")[0].endswith("(reminder 2)")


def test_escalation_under_1489_skips_the_district(db, registry, world, settings, smtp):
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["household"], workflow="ocop-1489", name="Gà đồi")
    stall(db, pid, 200)
    report = run_sweep(db, registry, settings, now=datetime.now(UTC), send=False)
    escalated = {q.email for q in report.queued if q.kind == "escalation"}
    assert escalated == {world.user("province_secretariat", "P")}
    # the three-tier definition still escalates from the commune to its district
    other = new_product(db, registry, officer, world.producers["household"], workflow="ocop-148", name="Vải")
    stall(db, other, 200)
    report = run_sweep(db, registry, settings, now=datetime.now(UTC) + timedelta(minutes=1), send=False)
    assert {q.email for q in report.queued if q.kind == "escalation" and q.product_id == other} == {
        world.user("district_secretariat", "D1")
    }


def _keys(registry) -> set[str]:
    """State and trigger keys that no label contains as a word (those could only leak as keys)."""
    keys, labels = set(), []
    for d in registry.definitions.values():
        keys |= set(d.states) | {t.trigger for t in d.transitions}
        labels += [s.label.vi + " " + s.label.en for s in d.states.values()]
        labels += [t.label.vi + " " + t.label.en for t in d.transitions]
    words = set(re.findall(r"\w+", " ".join(labels)))
    return {k for k in keys if k not in words}


def test_every_sweep_message_is_translated_and_names_labels(db, registry, world, settings, smtp):
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    messages: list[str] = []
    for d in registry.definitions.values():
        for state in d.states.values():
            for level in (0, 1):
                info = StallInfo(
                    product_id=7,
                    product_name="Mỳ Chũ",
                    commune_name="Phượng Sơn",
                    state_label=state.label,
                    org_name="Lục Ngạn",
                    parent_name="Bắc Giang",
                    since=now - timedelta(days=90),
                    sla_days=30,
                    threshold=30,
                    unit=Text("ngày", "days"),
                    due_at=now,
                    now=now,
                    deadline=now.date(),
                    level=level,
                    period=69,
                    tz=VN,
                )
                tier = registry.catalogue.levels[state.level]
                names = {"state": state.label, "level": LEVEL_NAMES[level]}
                texts = [
                    _fill(NO_MEMBER, names, org="Lục Ngạn"),
                    _fill(NO_ORG, names, tier=Text(tier.vi.lower(), tier.en.lower()), commune="Phượng Sơn"),
                    NO_CERTIFICATE_RECIPIENT.format(code="OCOP-24-2026-001"),
                ]
                report = SweepReport(now=now, stalled=1, delivery=DeliveryReport(sent=[1], cancelled=[2]))
                report.queued.append(
                    Queued(
                        1,
                        "escalation" if level else "stall",
                        7,
                        "Mỳ Chũ",
                        state.key,
                        level,
                        69,
                        "a@b.vn",
                        "digest",
                        state.label,
                        1,
                    )
                )
                report.unreachable += [(7, t) for t in texts]
                for loc in ("vi", "en"):
                    for nth in (1, 2):
                        m = info.render(loc, BASE_URL, nth)
                        messages += [m.title, m.body, m.subject, m.mail_body]
                        assert "69" not in m.title  # the period since the deadline is no reminder count
                    messages += [t.get(loc) for t in texts] + report.lines(locale=loc)
    # and a real sweep's own report, in both languages
    officer = world.user("commune_officer", "C1")
    stall(db, new_product(db, registry, officer, world.producers["household"]), 300)
    report = run_sweep(db, registry, settings, now=datetime.now(UTC), send=False)
    assert report.queued
    messages += report.lines(locale="vi") + report.lines(locale="en")
    keys = _keys(registry)
    assert {"district_review", "submit_to_district", "commune_review"} <= keys
    for text in messages:
        assert "/and" not in text and "và/and" not in text, text
        leaked = [k for k in keys if re.search(rf"\b{re.escape(k)}\b", text)]
        assert not leaked, (leaked, text)
    vi = "\n".join(
        SweepReport(
            now=now,
            unreachable=[
                (7, _fill(NO_MEMBER, {"state": Text("Ý tưởng", "Idea"), "level": LEVEL_NAMES[1]}, org="Lục Ngạn"))
            ],
        ).lines(locale="vi")
    )
    assert "không có ai để nhắc cho sản phẩm #7: «Ý tưởng», chuyển cấp trên: không có thành viên nào" in vi
    assert "thư: đã gửi 1, chờ gửi lại 0, thất bại 0, đã huỷ 1" in SweepReport(
        now=now, delivery=DeliveryReport(sent=[1], cancelled=[2])
    ).lines(locale="vi")
