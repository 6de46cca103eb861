"""Certificates (issue #10): their status on exact dates, computed and never stored stale (the pure rule,
the SQL rule, the page's standing and the guards of the applications all agree), revocation by the
level that issued them, and the public lookup by code. Time travel is explicit (`now=`, dates)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ocop_workflow.errors import Conflict, GuardFailed, InvalidData, NotFound, PermissionDenied
from ocop_workflow.models import Certificate
from ocop_workflow.services.access import load_actor
from ocop_workflow.services.certificates import (
    STATUS_LABELS,
    add_months,
    get_certificate,
    get_visible_certificate,
    held_certificate,
    local_day,
    revoke_certificate,
    standings,
    status_of,
    valid_on,
)

from .helpers import VN, certificates_of, is_certified, move, product_row, rate, recognise_by, renew, submit, to_council

ISSUED = date(2023, 9, 5)
EXPIRES = date(2026, 9, 5)  # 36 months later: expired FROM this day
OFFICER = ("commune_officer", "C1")


def at(d: date, hour: int = 9) -> datetime:
    return datetime(d.year, d.month, d.day, hour, 0, tzinfo=VN)


def certified_on(db, registry, world, upload_dir, day: date = ISSUED) -> tuple[int, str]:
    """A 148 product whose district 3★ certificate was signed on `day` (rated the same morning)."""
    pid = to_council(db, registry, world, upload_dir)
    assert rate(db, registry, pid, "rate_district", 61, now=at(day, 8)) == "district_recognition"
    _d, [code] = recognise_by(db, registry, world, pid, "district", now=at(day, 10))
    return pid, code


def load(db, code: str) -> Certificate:
    with db.session() as s:
        return s.scalar(select(Certificate).where(Certificate.code == code))


# --- the rule on exact dates -----------------------------------------------------------------------
def test_status_on_exact_dates_without_a_database():
    cert = Certificate(code="X", issued_on=ISSUED, expires_on=add_months(ISSUED, 36))
    assert cert.expires_on == EXPIRES
    notice_starts = EXPIRES - timedelta(days=90)
    assert notice_starts == date(2026, 6, 7)
    assert [status_of(cert, d) for d in (ISSUED, date(2026, 6, 6), notice_starts, date(2026, 9, 4), EXPIRES)] == [
        "valid",
        "valid",
        "expiring",
        "expiring",
        "expired",
    ]
    assert status_of(cert, date(2030, 1, 1)) == "expired"
    assert status_of(cert, date(2026, 8, 6), notice_days=30) == "expiring"
    assert status_of(cert, date(2026, 8, 5), notice_days=30) == "valid"
    cert.superseded_on = date(2025, 1, 1)
    assert (status_of(cert, date(2024, 12, 31)), status_of(cert, date(2025, 1, 1))) == ("valid", "superseded")
    cert.revoked_on = date(2024, 2, 20)  # revoked wins over superseded and expired
    assert (status_of(cert, date(2024, 2, 19)), status_of(cert, date(2024, 2, 20))) == ("valid", "revoked")
    assert status_of(cert, date(2027, 1, 1)) == "revoked"
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29) and add_months(date(2023, 2, 28), 36) == date(
        2026, 2, 28
    )


def test_status_labels_in_plain_words():
    assert STATUS_LABELS["valid"].vi == "Còn hiệu lực" and STATUS_LABELS["expired"].vi == "Đã hết hạn"
    assert STATUS_LABELS["revoked"].vi == "Đã bị thu hồi" and STATUS_LABELS["revoked"].en == "Revoked"


def test_a_certificate_issued_2023_09_05_on_exact_dates(db, registry, world, upload_dir):
    pid, code = certified_on(db, registry, world, upload_dir)
    cert = load(db, code)
    assert (cert.issued_on, cert.expires_on) == (ISSUED, EXPIRES)
    expected = {
        date(2023, 9, 4): None,  # before the decision: nothing counts yet
        ISSUED: "valid",
        date(2026, 6, 6): "valid",  # 91 days before expiry
        date(2026, 6, 7): "expiring",  # 90 days: the first notice's window
        date(2026, 9, 4): "expiring",  # the last day it counts
        EXPIRES: "expired",
        date(2026, 12, 1): "expired",
    }
    with db.session() as s:
        for day, status in expected.items():
            counts = status in ("valid", "expiring")
            standing = standings(s, [pid], day).get(pid)
            if status is not None:
                assert (standing.code, standing.status, standing.certified) == (code, status, counts), day
            in_sql = s.scalar(select(func.count()).select_from(Certificate).where(valid_on(day)))
            assert in_sql == (1 if counts else 0), day
            held = held_certificate(s, pid, day)
            assert (held.code if held else None) == (code if counts else None), day
    # today (2026-12 or later): expired, so not certified
    assert not is_certified(db, pid) and certificates_of(db, pid)[0][3] == "expired"


def test_the_applications_see_the_status_of_their_day(db, registry, world, upload_dir):
    """On the expiry day a re-evaluation is refused (no valid certificate) and a new first application
    would be accepted; the day before, the re-evaluation is accepted."""
    pid, _code = certified_on(db, registry, world, upload_dir)
    officer = world.user(*OFFICER)
    for trigger in ("apply_reevaluation", "apply_upgrade"):
        with pytest.raises(GuardFailed) as refused:
            move(db, registry, officer, pid, trigger, now=at(EXPIRES))
        assert "valid OCOP certificate" in refused.value.message("en")
    with pytest.raises(GuardFailed):  # still valid the day before: not a new first application
        move(db, registry, officer, pid, "apply_again", now=at(date(2026, 9, 4)))
    assert move(db, registry, officer, pid, "apply_reevaluation", now=at(date(2026, 9, 4))) == "implementation"
    assert product_row(db, pid).application_type == "re_evaluation"


def test_superseded_from_the_day_the_upgrade_is_signed(db, registry, world, upload_dir):
    pid, old_code = certified_on(db, registry, world, upload_dir)
    officer = world.user(*OFFICER)
    assert move(db, registry, officer, pid, "apply_upgrade", now=at(date(2024, 5, 2))) == "implementation"
    renew(db, registry, officer, pid, upload_dir, application_type="upgrade")
    submit(db, registry, world, pid, upload_dir)
    assert rate(db, registry, pid, "rate_district", 75, now=at(date(2024, 5, 10))) == "province_review"
    assert rate(db, registry, pid, "rate_province", 82, now=at(date(2024, 5, 15))) == "province_recognition"
    _d, [new_code] = recognise_by(db, registry, world, pid, "province", now=at(date(2024, 5, 20)))
    old, new = load(db, old_code), load(db, new_code)
    assert (old.superseded_on, old.superseded_by_id, new.issued_on) == (date(2024, 5, 20), new.id, date(2024, 5, 20))
    assert (status_of(old, date(2024, 5, 19)), status_of(old, date(2024, 5, 20))) == ("valid", "superseded")
    assert new.expires_on == date(2027, 5, 20) and product_row(db, pid).state == "upgraded"
    with db.session() as s:
        assert standings(s, [pid], date(2024, 5, 19))[pid].code == old_code
        assert standings(s, [pid], date(2024, 5, 20))[pid].code == new_code


# --- revocation -----------------------------------------------------------------------------------
def revoke(db, who: str, code: str, **kw):
    kw.setdefault("reason", "Sản phẩm vi phạm quy định về nhãn")
    kw.setdefault("decision_number", "45/QĐ-UBND")
    with db.transaction() as s:
        return revoke_certificate(s, load_actor(s, who), code, **kw).revoked_on


def test_revocation_by_the_recognising_level_only(db, registry, world, upload_dir):
    pid = to_council(db, registry, world, upload_dir)
    rate(db, registry, pid, "rate_district", 60)
    _d, [code] = recognise_by(db, registry, world, pid, "district")
    with pytest.raises(NotFound):  # another district does not see it
        revoke(db, world.user("district_chair", "D2"), code)
    for who in (world.user("province_chair", "P"), world.user(*OFFICER), world.user("district_council", "D1")):
        with pytest.raises(PermissionDenied) as denied:
            revoke(db, who, code)
        assert "revoke OCOP certificates" in denied.value.message("en")
    assert certificates_of(db, pid)[0][3] == "valid"
    assert revoke(db, world.user("district_chair", "D1"), code) == local_day()  # today by default
    assert certificates_of(db, pid)[0][3] == "revoked" and not is_certified(db, pid)
    with db.session() as s:
        cert = s.scalar(select(Certificate).where(Certificate.code == code))
        assert (cert.revoke_reason, cert.revoke_decision) == ("Sản phẩm vi phạm quy định về nhãn", "45/QĐ-UBND")
        assert cert.revoked_by_id == load_actor(s, world.user("district_chair", "D1")).id
    with pytest.raises(Conflict) as twice:
        revoke(db, world.user("district_chair", "D1"), code)
    assert "Revoked" in twice.value.message("en") and "Đã bị thu hồi" in twice.value.message("vi")
    # without a valid certificate the product applies again
    assert move(db, registry, world.user(*OFFICER), pid, "apply_again") == "implementation"


def test_revocation_needs_a_reason_a_number_and_a_sensible_day(db, registry, world, upload_dir):
    pid, code = certified_on(db, registry, world, upload_dir, date(2024, 1, 15))
    chair = world.user("district_chair", "D1")
    when = {"now": at(date(2024, 3, 1))}
    for bad in ("", "   "):
        with pytest.raises(InvalidData) as refused:
            revoke(db, chair, code, reason=bad, **when)
        assert "reason" in refused.value.message("en")
    with pytest.raises(InvalidData):
        revoke(db, chair, code, reason="x" * 2001, **when)
    for bad in ("", "  ", "1" * 41):
        with pytest.raises(InvalidData):
            revoke(db, chair, code, decision_number=bad, **when)
    for day in (date(2024, 3, 2), date(2024, 1, 14)):  # in the future, before the issue
        with pytest.raises(InvalidData) as refused:
            revoke(db, chair, code, revoked_on=day, **when)
        assert "15/01/2024" in refused.value.message("en")
    assert load(db, code).revoked_on is None
    # revoked as of an earlier day: revoked from that day, valid the day before
    assert revoke(db, chair, code, revoked_on=date(2024, 2, 20), **when) == date(2024, 2, 20)
    cert = load(db, code)
    assert (status_of(cert, date(2024, 2, 19)), status_of(cert, date(2024, 2, 20))) == ("valid", "revoked")
    with db.session() as s:
        assert held_certificate(s, pid, date(2024, 2, 19)) is not None
        assert held_certificate(s, pid, date(2024, 2, 20)) is None


def test_an_expired_certificate_is_not_revoked(db, registry, world, upload_dir):
    _pid, code = certified_on(db, registry, world, upload_dir, date(2022, 1, 10))
    with pytest.raises(Conflict) as refused:
        revoke(db, world.user("district_chair", "D1"), code)
    assert "Expired" in refused.value.message("en")


# --- looking a certificate up ------------------------------------------------------------------------
def test_lookup_by_code_and_clear_not_found(db, registry, world, upload_dir):
    pid, code = certified_on(db, registry, world, upload_dir)
    with db.session() as s:
        assert get_certificate(s, code).product_id == pid
        assert get_certificate(s, f"  {code} ").product_id == pid
        for bad in ("OCOP-P-2023-99999", "", "<script>alert(1)</script>", "a" * 100, "ÔCOP-1", "x/../y"):
            with pytest.raises(NotFound) as missing:
                get_certificate(s, bad)
            assert "Không có giấy chứng nhận OCOP nào mang số" in missing.value.message("vi")
            assert "There is no OCOP certificate numbered" in missing.value.message("en")
        with pytest.raises(NotFound) as missing:  # never echoes a page of input
            get_certificate(s, "a" * 100)
        assert "a" * 40 in missing.value.message("en") and "a" * 41 not in missing.value.message("en")
        # signed in: in scope (the product's commune, or the issuing level), else not found
        for insider in (world.user(*OFFICER), world.user("district_chair", "D1"), world.user("province_chair", "P")):
            assert get_visible_certificate(s, load_actor(s, insider), code).code == code
        for outsider in (world.user("commune_officer", "C3"), world.user("district_secretariat", "D2")):
            with pytest.raises(NotFound):
                get_visible_certificate(s, load_actor(s, outsider), code)
