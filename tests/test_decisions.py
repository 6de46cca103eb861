"""Recognition decisions through the services (issue #10), on SQLite and PostgreSQL: who drafts and who
signs, which products a draft may list, the number and the date of a signature, a product that left the
awaiting state before signing (all or nothing), a signed decision that cannot be signed again or changed,
and the numbers of the certificates signing issues."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from ocop_workflow.config import Settings
from ocop_workflow.errors import Conflict, InvalidData, NotFound, PermissionDenied
from ocop_workflow.models import Certificate, Organisation, Product, RecognitionDecision
from ocop_workflow.services.access import load_actor
from ocop_workflow.services.certificates import check_format, local_day, revoke_certificate
from ocop_workflow.services.decisions import (
    awaiting_products,
    delete_draft,
    draft_decision,
    remove_product,
    sign_decision,
)

from .helpers import VN, count, move, product_row, rate, recognise_by, to_council

D1_SEC, D1_CHAIR = ("district_secretariat", "D1"), ("district_chair", "D1")


def awaiting_district(db, registry, world, upload_dir, n: int = 1, score: float = 60, at=None) -> list[int]:
    """`n` 148 products of C1 waiting for the district D1's decision."""
    out = []
    for i in range(n):
        pid = to_council(db, registry, world, upload_dir, name=f"Sản phẩm {i + 1}")
        assert rate(db, registry, pid, "rate_district", score, now=at) == "district_recognition"
        out.append(pid)
    return out


def draft(db, registry, who: str, org: str, product_ids=None, **kw) -> int:
    with db.transaction() as s:
        return draft_decision(
            s,
            registry,
            load_actor(s, who),
            organisation_id=kw.pop("org_id", None) or _org_id(s, org),
            product_ids=product_ids,
            **kw,
        ).id


def _org_id(s, code: str) -> int:
    return s.scalar(select(Organisation.id).where(Organisation.code == code))


def sign(db, registry, who: str, decision_id: int, number: str = "101/QĐ-UBND", **kw):
    with db.transaction() as s:
        signed = sign_decision(s, registry, Settings(), load_actor(s, who), decision_id, number=number, **kw)
        return [c.code for c in signed.certificates]


def decision_status(db, decision_id: int) -> str:
    with db.session() as s:
        return s.get(RecognitionDecision, decision_id).status


# --- drafting ---------------------------------------------------------------------------------------
def test_drafting_needs_the_draft_decisions_permission(db, registry, world, upload_dir):
    [pid] = awaiting_district(db, registry, world, upload_dir)
    for who in (world.user("district_chair", "D1"), world.user("district_council", "D1")):
        with pytest.raises(PermissionDenied) as denied:
            draft(db, registry, who, "D1", [pid])
        assert "draft recognition decisions" in denied.value.message("en")
        assert "soạn quyết định công nhận" in denied.value.message("vi")
    officer = world.user("commune_officer", "C1")
    with pytest.raises(PermissionDenied):  # at its own commune: no role there drafts decisions
        draft(db, registry, officer, "C1", [pid])
    with pytest.raises(NotFound):  # the district above it is out of its scope
        draft(db, registry, officer, "D1", [pid])
    with pytest.raises(NotFound):  # another district's secretariat does not see D1
        draft(db, registry, world.user("district_secretariat", "D2"), "D1", [pid])
    assert count(db, RecognitionDecision) == 0
    decision_id = draft(db, registry, world.user(*D1_SEC), "D1", [pid])
    assert decision_status(db, decision_id) == "draft"


def test_a_draft_lists_only_products_awaiting_this_organisations_decision(db, registry, world, upload_dir):
    waiting = awaiting_district(db, registry, world, upload_dir)[0]
    at_council = to_council(db, registry, world, upload_dir, name="Chưa chấm")
    at_province = to_council(db, registry, world, upload_dir, name="Chờ tỉnh")
    rate(db, registry, at_province, "rate_district", 75)
    rate(db, registry, at_province, "rate_province", 80)
    secretariat = world.user(*D1_SEC)
    for wrong in (at_council, at_province):
        with pytest.raises(InvalidData) as refused:
            draft(db, registry, secretariat, "D1", [waiting, wrong])
        assert f"#{wrong}" in refused.value.message("en") and f"#{waiting}" not in refused.value.message("en")
        assert f"#{wrong}" in refused.value.message("vi")
    with pytest.raises(InvalidData):  # the province's product is not the district's to recognise
        draft(db, registry, secretariat, "D1", [at_province])
    with db.session() as s:
        d1 = s.get(Organisation, world.orgs["D1"])
        assert [p.id for p in awaiting_products(s, registry, d1)] == [waiting]
        p = s.get(Organisation, world.orgs["P"])
        assert [p_.id for p_ in awaiting_products(s, registry, p)] == [at_province]
    # no product named: every product awaiting the district
    decision_id = draft(db, registry, secretariat, "D1")
    with db.session() as s:
        entries = s.get(RecognitionDecision, decision_id).entries
        assert [(e.product_id, e.star, e.score) for e in entries] == [(waiting, 3, 60)]


def test_a_product_is_in_one_draft_only(db, registry, world, upload_dir):
    a, b = awaiting_district(db, registry, world, upload_dir, 2)
    secretariat = world.user(*D1_SEC)
    draft(db, registry, secretariat, "D1", [a])
    with pytest.raises(InvalidData) as refused:
        draft(db, registry, secretariat, "D1", [a, b])
    assert f"#{a}" in refused.value.message("en") and "another draft" in refused.value.message("en")
    with db.session() as s:
        assert [p.id for p in awaiting_products(s, registry, s.get(Organisation, world.orgs["D1"]))] == [b]
    assert count(db, RecognitionDecision) == 1


def test_nothing_awaiting_nothing_to_draft(db, registry, world, upload_dir):
    with pytest.raises(InvalidData) as refused:
        draft(db, registry, world.user(*D1_SEC), "D1")
    assert "No product awaits" in refused.value.message("en")


# --- signing ----------------------------------------------------------------------------------------
def test_signing_needs_the_levels_own_chair(db, registry, world, upload_dir):
    [pid] = awaiting_district(db, registry, world, upload_dir)
    decision_id = draft(db, registry, world.user(*D1_SEC), "D1", [pid])
    for who in (world.user(*D1_SEC), world.user("province_chair", "P"), world.user("province_secretariat", "P")):
        with pytest.raises(PermissionDenied) as denied:
            sign(db, registry, who, decision_id)
        assert "sign recognition decisions" in denied.value.message("en")
    with pytest.raises(NotFound):  # another district's chair does not even see it
        sign(db, registry, world.user("district_chair", "D2"), decision_id)
    assert decision_status(db, decision_id) == "draft" and count(db, Certificate) == 0
    assert product_row(db, pid).state == "district_recognition"
    [code] = sign(db, registry, world.user(*D1_CHAIR), decision_id)
    with db.session() as s:
        decision = s.get(RecognitionDecision, decision_id)
        assert (decision.status, decision.number, decision.signed_on) == ("signed", "101/QĐ-UBND", local_day())
        assert decision.signer_title == "CHỦ TỊCH"
        cert = s.scalar(select(Certificate).where(Certificate.code == code))
        assert (cert.product_id, cert.star, cert.decision_id, cert.issued_on) == (pid, 3, decision_id, local_day())
    assert product_row(db, pid).state == "rated"


def test_the_number_is_unique_in_the_organisation(db, registry, world, upload_dir):
    a, b = awaiting_district(db, registry, world, upload_dir, 2)
    chair = world.user(*D1_CHAIR)
    sign(db, registry, chair, draft(db, registry, world.user(*D1_SEC), "D1", [a]), number="15/QĐ-UBND")
    second = draft(db, registry, world.user(*D1_SEC), "D1", [b])
    with pytest.raises(Conflict) as taken:
        sign(db, registry, chair, second, number="15/QĐ-UBND")
    assert "15/QĐ-UBND" in taken.value.message("en") and "Lục Ngạn" in taken.value.message("vi")
    with pytest.raises(Conflict):  # the same number typed in another case is the same number
        sign(db, registry, chair, second, number="15/qđ-ubnd ")
    assert (decision_status(db, second), product_row(db, b).state) == ("draft", "district_recognition")
    for bad in ("", "   ", "x" * 41, "15/QĐ\nUBND"):
        with pytest.raises(InvalidData):
            sign(db, registry, chair, second, number=bad)
    sign(db, registry, chair, second, number="16/QĐ-UBND")
    # another organisation may use the same number: D2 signs its own 15/QĐ-UBND
    c3 = to_council(db, registry, world, upload_dir, commune="C3", name="Gà đồi")
    rate(db, registry, c3, "rate_district", 60)
    recognise_by(db, registry, world, c3, "district", commune="C3", number="15/QĐ-UBND")
    assert product_row(db, c3).state == "rated"


def test_a_number_comes_back_the_next_year(db, registry, world, upload_dir):
    """Decree 30/2020, Art. 15: document numbers restart at 01 on 1 January."""
    [old] = awaiting_district(db, registry, world, upload_dir, at=datetime(2025, 3, 10, 15, 0, tzinfo=VN))
    chair = world.user(*D1_CHAIR)
    sign(
        db,
        registry,
        chair,
        draft(db, registry, world.user(*D1_SEC), "D1", [old]),
        "1/QĐ-UBND",
        signed_on=date(2025, 3, 12),
    )
    [new] = awaiting_district(db, registry, world, upload_dir)
    sign(db, registry, chair, draft(db, registry, world.user(*D1_SEC), "D1", [new]), "1/QĐ-UBND")  # this year
    assert product_row(db, new).state == "rated"


def test_the_signing_date_is_neither_in_the_future_nor_before_the_result(db, registry, world, upload_dir):
    rated_at = datetime(2025, 3, 10, 15, 0, tzinfo=VN)
    [pid] = awaiting_district(db, registry, world, upload_dir, at=rated_at)
    decision_id = draft(db, registry, world.user(*D1_SEC), "D1", [pid])
    chair = world.user(*D1_CHAIR)
    tomorrow = local_day() + timedelta(days=1)
    with pytest.raises(InvalidData) as future:
        sign(db, registry, chair, decision_id, signed_on=tomorrow)
    assert "in the future" in future.value.message("en") and "ở tương lai" in future.value.message("vi")
    with pytest.raises(InvalidData) as early:
        sign(db, registry, chair, decision_id, signed_on=date(2025, 3, 9))
    assert "10/03/2025" in early.value.message("en")
    assert decision_status(db, decision_id) == "draft" and count(db, Certificate) == 0
    [code] = sign(db, registry, chair, decision_id, signed_on=date(2025, 3, 10))  # the day of the result: fine
    with db.session() as s:
        cert = s.scalar(select(Certificate).where(Certificate.code == code))
        assert (cert.issued_on, cert.expires_on) == (date(2025, 3, 10), date(2028, 3, 10))


def test_a_product_returned_after_drafting_refuses_the_signature_and_nothing_is_written(
    db, registry, world, upload_dir
):
    a, b = awaiting_district(db, registry, world, upload_dir, 2)
    decision_id = draft(db, registry, world.user(*D1_SEC), "D1", [a, b])
    assert (
        move(db, registry, world.user(*D1_SEC), a, "return_for_revision", comment="Thiếu phiếu kiểm nghiệm")
        == "implementation"
    )
    with db.session() as s:
        before_b = s.get(Product, b).version
    with pytest.raises(Conflict) as refused:
        sign(db, registry, world.user(*D1_CHAIR), decision_id)
    assert f"#{a} Sản phẩm 1" in refused.value.message("en") and f"#{b}" not in refused.value.message("en")
    assert "không còn chờ quyết định công nhận" in refused.value.message("vi")
    assert count(db, Certificate) == 0 and decision_status(db, decision_id) == "draft"
    after_b = product_row(db, b)
    assert (after_b.state, after_b.version) == ("district_recognition", before_b)
    with db.session() as s:
        assert s.get(RecognitionDecision, decision_id).number is None
    # taken out of the draft, the rest is signed
    with db.transaction() as s:
        remove_product(s, load_actor(s, world.user(*D1_SEC)), decision_id, a)
    [code] = sign(db, registry, world.user(*D1_CHAIR), decision_id)
    assert product_row(db, b).state == "rated" and product_row(db, a).state == "implementation"
    with db.session() as s:
        assert s.scalar(select(Certificate.product_id).where(Certificate.code == code)) == b


def test_a_signed_decision_cannot_be_signed_again_or_changed(db, registry, world, upload_dir):
    a, b = awaiting_district(db, registry, world, upload_dir, 2)
    decision_id = draft(db, registry, world.user(*D1_SEC), "D1", [a, b])
    sign(db, registry, world.user(*D1_CHAIR), decision_id, number="7/QĐ-UBND")
    with pytest.raises(Conflict) as again:
        sign(db, registry, world.user(*D1_CHAIR), decision_id, number="8/QĐ-UBND")
    assert "already signed" in again.value.message("en")
    secretariat = world.user(*D1_SEC)
    with db.transaction() as s:
        with pytest.raises(Conflict):
            remove_product(s, load_actor(s, secretariat), decision_id, a)
        with pytest.raises(Conflict):
            delete_draft(s, load_actor(s, secretariat), decision_id)
    with db.session() as s:
        decision = s.get(RecognitionDecision, decision_id)
        assert (decision.number, len(decision.entries)) == ("7/QĐ-UBND", 2)
    assert count(db, Certificate) == 2


def test_a_draft_can_be_deleted_and_its_products_drafted_again(db, registry, world, upload_dir):
    [pid] = awaiting_district(db, registry, world, upload_dir)
    secretariat = world.user(*D1_SEC)
    decision_id = draft(db, registry, secretariat, "D1", [pid])
    with db.transaction() as s:
        with pytest.raises(InvalidData):  # the last product cannot be removed: delete the draft
            remove_product(s, load_actor(s, secretariat), decision_id, pid)
        delete_draft(s, load_actor(s, secretariat), decision_id)
    assert count(db, RecognitionDecision) == 0
    draft(db, registry, secretariat, "D1", [pid])


# --- certificate numbers ------------------------------------------------------------------------------
def _codes(db) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(Certificate.code).order_by(Certificate.id)))


def test_codes_follow_the_provinces_format_increase_and_never_repeat(db, registry, world, upload_dir):
    with db.transaction() as s:
        s.execute(update(Organisation).where(Organisation.code == "P").values(certificate_format="BG-{year}-{seq:04d}"))
    year = local_day().year
    a, b, c = awaiting_district(db, registry, world, upload_dir, 3)
    recognise_by(db, registry, world, a, "district")
    recognise_by(db, registry, world, b, "district")  # one after the other, in the same province
    assert _codes(db) == [f"BG-{year}-0001", f"BG-{year}-0002"]
    with db.transaction() as s:  # a revoked number is never given again
        revoke_certificate(
            s, load_actor(s, world.user(*D1_CHAIR)), f"BG-{year}-0002", reason="Vi phạm nhãn", decision_number="9/QĐ"
        )
    recognise_by(db, registry, world, c, "district")
    assert _codes(db) == [f"BG-{year}-0001", f"BG-{year}-0002", f"BG-{year}-0003"]
    # two products in one decision: consecutive numbers in the decision's order
    d, e = awaiting_district(db, registry, world, upload_dir, 2)
    _id, codes = recognise_by(db, registry, world, [d, e], "district")
    assert codes == [f"BG-{year}-0004", f"BG-{year}-0005"]


def test_the_default_format_names_the_province_and_the_year(db, registry, world, upload_dir):
    [pid] = awaiting_district(db, registry, world, upload_dir)
    _id, [code] = recognise_by(db, registry, world, pid, "district")
    assert code == f"OCOP-P-{local_day().year}-00001"


@pytest.mark.parametrize(
    ("fmt", "reason"),
    [
        ("OCOP-{year}-{seq}", "it must hold {province} and {seq}"),
        ("OCOP-{province}-{year}", "it must hold {province} and {seq}"),
        ("{province}-{seq}-{district}", "unknown fields: district"),
        ("OCOP {province}/{seq}", "use only letters, digits, dots and dashes"),
        ("Số-{province}-{seq}", "use only letters, digits, dots and dashes"),
        ("X" * 81 + "{province}{seq}", "longer than 80 characters"),
    ],
)
def test_a_bad_format_is_refused_with_the_reason(fmt, reason):
    with pytest.raises(InvalidData) as refused:
        check_format(fmt)
    assert reason in refused.value.message("en")
    assert "Mẫu số giấy chứng nhận không hợp lệ" in refused.value.message("vi")


def test_good_formats_pass():
    for fmt in ("OCOP-{province}-{year}-{seq:05d}", "{province}.{level}.{star}.{seq:06d}", " BG-{province}{seq} "):
        assert check_format(fmt) == fmt.strip()
