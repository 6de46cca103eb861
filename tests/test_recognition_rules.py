"""What recognition does to a product's certificate (issue #10), on SQLite and PostgreSQL: upgrades that
fail or succeed, re-evaluations at the same, a lower or no star, a 1-2★ product applying again, the
renewed dossier an application needs, who recognises which star under each definition, and moving
products in flight onto the v2 definitions."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select, update

from ocop_workflow.errors import GuardFailed
from ocop_workflow.models import Certificate, Product, ProductEvent, Rating, RecognitionDecision
from ocop_workflow.services.access import load_actor
from ocop_workflow.services.products import history
from ocop_workflow.services.workflow_migration import apply_migration, plan_migration

from .helpers import (
    VN,
    certificates_of,
    is_certified,
    move,
    product_row,
    rate,
    recognise_by,
    renew,
    renewed_docs,
    submit,
    to_council,
)

OFFICER = ("commune_officer", "C1")
_LAST = select(ProductEvent).order_by(ProductEvent.seq.desc())


def last_event(db, pid: int, trigger: str | None = None) -> ProductEvent:
    stmt = _LAST.where(ProductEvent.product_id == pid)
    if trigger:
        stmt = stmt.where(ProductEvent.trigger == trigger)
    with db.session() as s:
        return s.scalars(stmt).first()


def only_certificate(db, pid: int, star: int, level: str, status: str) -> str:
    """The code of the product's one certificate, checked to be (star, level, status) today."""
    [(code, *rest)] = certificates_of(db, pid)
    assert rest == [star, level, status]
    return code


def with_3_stars(db, registry, world, upload_dir, *, at: datetime | None = None) -> int:
    """A 148 product holding a district 3★ certificate (signed at `at`, default now)."""
    pid = to_council(db, registry, world, upload_dir)
    assert rate(db, registry, pid, "rate_district", 60, now=at) == "district_recognition"
    recognise_by(db, registry, world, pid, "district", now=at)
    assert product_row(db, pid).state == "rated"
    return pid


def with_4_stars(db, registry, world, upload_dir, workflow: str = "ocop-148", *, at=None) -> int:
    """A product holding a province 4★ certificate."""
    pid = to_council(db, registry, world, upload_dir, workflow)
    if workflow == "ocop-148":
        assert rate(db, registry, pid, "rate_district", 75, now=at) == "province_review"
    assert rate(db, registry, pid, "rate_province", 80, now=at) == "province_recognition"
    recognise_by(db, registry, world, pid, "province", now=at)
    return pid


def apply(db, registry, world, pid, upload_dir, trigger: str, workflow: str = "ocop-148") -> str:
    """The commune officer files a new application, uploads what it renews and sends the dossier on."""
    officer = world.user(*OFFICER)
    assert move(db, registry, officer, pid, trigger) == "implementation"
    kind = product_row(db, pid).application_type
    renew(db, registry, officer, pid, upload_dir, application_type=kind, workflow=workflow)
    return submit(db, registry, world, pid, upload_dir, workflow)


# --- upgrades -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("score", [40, 62])
def test_a_failed_upgrade_keeps_the_valid_certificate(db, registry, world, upload_dir, score):
    """3★ district certificate, upgrade, the district scores 40 (2★) or 62 (3★ again): the product
    stays 3★ and certified, nothing new is issued, the history says the upgrade was not granted."""
    pid = with_3_stars(db, registry, world, upload_dir)
    code = only_certificate(db, pid, 3, "district", "valid")
    assert apply(db, registry, world, pid, upload_dir, "apply_upgrade") == "district_review"
    assert rate(db, registry, pid, "rate_district", score) == "rated"
    p = product_row(db, pid)
    assert (p.state, p.current_star, p.application_type) == ("rated", 3, "upgrade")
    assert certificates_of(db, pid) == [(code, 3, "district", "valid")]
    assert is_certified(db, pid)
    event = last_event(db, pid)
    assert event.trigger == "rate_district" and event.data["upgrade_not_granted"] == 3 and event.data["star"] == 3
    with db.session() as s:  # the council's own result is on record all the same
        assert s.scalars(select(Rating.score).where(Rating.event_id == event.id)).all() == [score]
        assert s.query(RecognitionDecision).count() == 1


def test_a_successful_upgrade_supersedes_the_certificate(db, registry, world, upload_dir):
    pid = with_3_stars(db, registry, world, upload_dir)
    [(old_code, *_)] = certificates_of(db, pid)
    assert apply(db, registry, world, pid, upload_dir, "apply_upgrade") == "district_review"
    assert rate(db, registry, pid, "rate_district", 75) == "province_review"
    assert rate(db, registry, pid, "rate_province", 80) == "province_recognition"
    assert is_certified(db, pid)  # the 3★ certificate counts until the province signs
    _decision, [new_code] = recognise_by(db, registry, world, pid, "province")
    p = product_row(db, pid)
    assert (p.state, p.current_star) == ("upgraded", 4)
    assert certificates_of(db, pid) == [
        (new_code, 4, "province", "valid"),
        (old_code, 3, "district", "superseded"),
    ]
    assert new_code != old_code
    with db.session() as s:
        old = s.scalar(select(Certificate).where(Certificate.code == old_code))
        new = s.scalar(select(Certificate).where(Certificate.code == new_code))
        assert (old.superseded_by_id, old.superseded_on) == (new.id, new.issued_on)


# --- re-evaluations -----------------------------------------------------------------------------------
def test_a_re_evaluation_at_the_same_star_renews_the_certificate(db, registry, world, upload_dir):
    first = datetime(2024, 6, 10, 9, 0, tzinfo=VN)
    pid = with_3_stars(db, registry, world, upload_dir, at=first)
    old_code = only_certificate(db, pid, 3, "district", "valid")
    assert apply(db, registry, world, pid, upload_dir, "apply_reevaluation") == "district_review"
    assert rate(db, registry, pid, "rate_district", 58) == "district_recognition"
    _d, [new_code] = recognise_by(db, registry, world, pid, "district")
    assert product_row(db, pid).state == "rated"  # same star: renewed, not upgraded
    assert certificates_of(db, pid) == [(new_code, 3, "district", "valid"), (old_code, 3, "district", "superseded")]
    with db.session() as s:
        old = s.scalar(select(Certificate).where(Certificate.code == old_code))
        new = s.scalar(select(Certificate).where(Certificate.code == new_code))
        assert old.expires_on == date(2027, 6, 10) and new.expires_on > old.expires_on


def test_a_re_evaluation_at_a_lower_star_supersedes_the_certificate(db, registry, world, upload_dir):
    pid = with_4_stars(db, registry, world, upload_dir)
    old_code = only_certificate(db, pid, 4, "province", "valid")
    assert apply(db, registry, world, pid, upload_dir, "apply_reevaluation") == "district_review"
    # 60 at the district: 3★, which the district recognises under 148
    assert rate(db, registry, pid, "rate_district", 60) == "district_recognition"
    assert is_certified(db, pid)
    _d, [new_code] = recognise_by(db, registry, world, pid, "district")
    p = product_row(db, pid)
    assert (p.state, p.current_star) == ("rated", 3)
    assert certificates_of(db, pid) == [(new_code, 3, "district", "valid"), (old_code, 4, "province", "superseded")]


def test_a_re_evaluation_below_3_stars_ends_the_certificate(db, registry, world, upload_dir):
    pid = with_3_stars(db, registry, world, upload_dir)
    [(code, *_)] = certificates_of(db, pid)
    assert apply(db, registry, world, pid, upload_dir, "apply_reevaluation") == "district_review"
    assert rate(db, registry, pid, "rate_district", 40) == "rated"
    p = product_row(db, pid)
    assert (p.state, p.current_star) == ("rated", 2)
    assert certificates_of(db, pid) == [(code, 3, "district", "superseded")]
    assert not is_certified(db, pid)
    assert last_event(db, pid).data["certificate_ended"] == code
    with db.session() as s:  # ended, with no successor
        assert s.scalar(select(Certificate.superseded_by_id).where(Certificate.code == code)) is None
    # it is a product without a certificate now: it may apply again, not for an upgrade
    with pytest.raises(GuardFailed):
        move(db, registry, world.user(*OFFICER), pid, "apply_upgrade")
    assert move(db, registry, world.user(*OFFICER), pid, "apply_again") == "implementation"


# --- 1-2★ products and expired certificates apply again ----------------------------------------------
def test_a_2_star_product_applies_again_under_the_same_product(db, registry, world, upload_dir):
    officer = world.user(*OFFICER)
    pid = to_council(db, registry, world, upload_dir)
    assert rate(db, registry, pid, "rate_district", 45) == "rated"
    assert product_row(db, pid).current_star == 2 and not is_certified(db, pid)
    for trigger, expected in (
        (
            "apply_upgrade",
            ("cần giấy chứng nhận OCOP 3 hoặc 4 sao còn hiệu lực", "a valid OCOP certificate of 3 or 4 stars"),
        ),
        ("apply_reevaluation", ("cần giấy chứng nhận OCOP còn hiệu lực", "a valid OCOP certificate is needed")),
    ):
        with pytest.raises(GuardFailed) as refused:
            move(db, registry, officer, pid, trigger)
        assert expected[0] in refused.value.message("vi") and expected[1] in refused.value.message("en")
        assert "và/and" not in refused.value.message("vi") + refused.value.message("en")  # one language each
    assert product_row(db, pid).state == "rated"
    events_before = product_row(db, pid).history_count

    assert apply(db, registry, world, pid, upload_dir, "apply_again") == "district_review"
    assert product_row(db, pid).application_type == "first_rating"
    assert rate(db, registry, pid, "rate_district", 64) == "district_recognition"
    recognise_by(db, registry, world, pid, "district")
    p = product_row(db, pid)
    assert (p.id, p.state, p.current_star) == (pid, "rated", 3) and is_certified(db, pid)
    with db.session() as s:
        events = history(s, load_actor(s, officer), pid)
        triggers = [e.trigger for e in events]
        assert [e.seq for e in events] == list(range(1, len(events) + 1))  # one history, continued
        assert len(events) > events_before
        assert triggers.count("rate_district") == 2 and "apply_again" in triggers
        assert triggers[-1] == "recognise"
        assert [r.score for r in s.scalars(select(Rating).where(Rating.product_id == pid).order_by(Rating.id))] == [
            45,
            64,
        ]


def test_apply_again_is_for_products_without_a_valid_certificate(db, registry, world, upload_dir):
    pid = with_3_stars(db, registry, world, upload_dir)
    with pytest.raises(GuardFailed) as refused:
        move(db, registry, world.user(*OFFICER), pid, "apply_again")
    assert "must not hold a valid OCOP certificate" in refused.value.message("en")


def test_an_expired_certificate_allows_apply_again(db, registry, world, upload_dir):
    """Signed in June 2022, valid 36 months: expired in June 2025, so today (and from then on) the
    product applies again; an upgrade or a re-evaluation needs a valid certificate."""
    pid = with_3_stars(db, registry, world, upload_dir, at=datetime(2022, 6, 10, 10, 0, tzinfo=VN))
    code = only_certificate(db, pid, 3, "district", "expired")
    assert not is_certified(db, pid)
    officer = world.user(*OFFICER)
    for trigger in ("apply_upgrade", "apply_reevaluation"):
        with pytest.raises(GuardFailed):
            move(db, registry, officer, pid, trigger)
    assert apply(db, registry, world, pid, upload_dir, "apply_again") == "district_review"
    assert rate(db, registry, pid, "rate_district", 66) == "district_recognition"
    _d, [new_code] = recognise_by(db, registry, world, pid, "district")
    assert certificates_of(db, pid)[0] == (new_code, 3, "district", "valid")
    # renewed after it expired: the old one stays expired (it was not superseded while it counted)
    assert certificates_of(db, pid)[1] == (code, 3, "district", "expired")
    assert product_row(db, pid).state == "rated"


# --- the renewed dossier --------------------------------------------------------------------------------
def test_an_upgrade_without_re_uploaded_documents_is_refused_listing_them(db, registry, world, upload_dir):
    officer = world.user(*OFFICER)
    pid = with_3_stars(db, registry, world, upload_dir)
    assert move(db, registry, officer, pid, "apply_upgrade") == "implementation"
    docs = renewed_docs(registry, "ocop-148", "upgrade", "food", "household")
    assert set(docs) == {"registration_form", "self_assessment_report", "lab_test_report"}
    version = product_row(db, pid).version
    with pytest.raises(GuardFailed) as refused:
        move(db, registry, officer, pid, "submit_to_district")
    vi, en = refused.value.message("vi"), refused.value.message("en")
    labels = registry.catalogue.document_types
    for doc in docs:
        assert f"phải nộp lại «{labels[doc].vi}»" in vi
        assert f"“{labels[doc].en}” must be uploaded again" in en
    for doc in ("business_plan", "product_story"):  # what the application does not renew is not asked for
        assert labels[doc].en not in en
    assert product_row(db, pid).version == version  # refused: nothing changed
    # one of them uploaded again: the refusal lists the two others only
    from .helpers import attach

    attach(db, registry, officer, pid, ["lab_test_report"], upload_dir, content=b"%PDF-1.4 new lab report")
    with pytest.raises(GuardFailed) as refused:
        move(db, registry, officer, pid, "submit_to_district")
    en = refused.value.message("en")
    assert labels["lab_test_report"].en not in en and labels["registration_form"].en in en
    renew(db, registry, officer, pid, upload_dir, application_type="upgrade")
    assert move(db, registry, officer, pid, "submit_to_district") == "district_review"


# --- who recognises what, per definition ------------------------------------------------------------------
def test_148_the_district_recognises_3_stars(db, registry, world, upload_dir):
    assert registry.latest("ocop-148").recognition.by_star[3] == "district"
    pid = to_council(db, registry, world, upload_dir, "ocop-148")
    assert rate(db, registry, pid, "rate_district", 55) == "district_recognition"
    decision_id, [code] = recognise_by(db, registry, world, pid, "district")
    with db.session() as s:
        decision = s.get(RecognitionDecision, decision_id)
        assert (decision.level, decision.organisation_id, decision.status) == ("district", world.orgs["D1"], "signed")
        assert decision.drafted_by_id == load_actor(s, world.user("district_secretariat", "D1")).id
        assert decision.signer_id == load_actor(s, world.user("district_chair", "D1")).id
        cert = s.scalar(select(Certificate).where(Certificate.code == code))
        assert (cert.star, cert.level, cert.organisation_id, cert.decision_id) == (
            3,
            "district",
            world.orgs["D1"],
            decision_id,
        )


@pytest.mark.parametrize(("score", "star"), [(55, 3), (80, 4)])
def test_1489_the_province_recognises_3_and_4_stars(db, registry, world, upload_dir, score, star):
    assert registry.latest("ocop-1489").recognition.by_star[star] == "province"
    pid = to_council(db, registry, world, upload_dir, "ocop-1489", commune="C4")
    assert product_row(db, pid).state == "province_review"
    assert rate(db, registry, pid, "rate_province", score) == "province_recognition"
    recognise_by(db, registry, world, pid, "province", commune="C4")
    assert [c[1:] for c in certificates_of(db, pid)] == [(star, "province", "valid")]
    assert product_row(db, pid).state == "rated"


def test_1489_the_centre_recognises_5_stars(db, registry, world, upload_dir):
    pid = to_council(db, registry, world, upload_dir, "ocop-1489", commune="C4")
    assert rate(db, registry, pid, "rate_province", 92) == "central_review"
    assert rate(db, registry, pid, "rate_central", 93) == "central_recognition"
    decision_id, [code] = recognise_by(db, registry, world, pid, "central", commune="C4")
    with db.session() as s:
        decision = s.get(RecognitionDecision, decision_id)
        assert decision.signer_id == load_actor(s, world.user("central_chair", "VN")).id
        assert decision.drafted_by_id == load_actor(s, world.user("central_council", "VN")).id
        cert = s.scalar(select(Certificate).where(Certificate.code == code))
        assert (cert.star, cert.level, cert.organisation_id) == (5, "central", world.orgs["VN"])


def test_1489_central_below_90_the_provinces_4_stars_stand(db, registry, world, upload_dir):
    pid = to_council(db, registry, world, upload_dir, "ocop-1489", commune="C4")
    assert rate(db, registry, pid, "rate_province", 91) == "central_review"
    assert rate(db, registry, pid, "rate_central", 70) == "province_recognition"
    recognise_by(db, registry, world, pid, "province", commune="C4")
    assert [c[1:] for c in certificates_of(db, pid)] == [(4, "province", "valid")]


def test_1489_an_upgrade_the_centre_refuses_keeps_the_4_star_certificate(db, registry, world, upload_dir):
    pid = with_4_stars(db, registry, world, upload_dir, "ocop-1489")
    code = only_certificate(db, pid, 4, "province", "valid")
    assert apply(db, registry, world, pid, upload_dir, "apply_upgrade", "ocop-1489") == "province_review"
    assert rate(db, registry, pid, "rate_province", 94) == "central_review"
    assert rate(db, registry, pid, "rate_central", 85) == "rated"  # nothing to sign: the upgrade failed
    p = product_row(db, pid)
    assert (p.state, p.current_star) == ("rated", 4)
    assert certificates_of(db, pid) == [(code, 4, "province", "valid")]
    assert last_event(db, pid).data["upgrade_not_granted"] == 4


# --- moving products in flight onto v2 ------------------------------------------------------------------
def _as_version_1(db, pid: int) -> None:
    """Make a product look as if it had been started (and moved) under version 1."""
    with db.transaction() as s:
        s.execute(update(Product).where(Product.id == pid).values(workflow_version=1))
        s.execute(update(ProductEvent).where(ProductEvent.product_id == pid).values(workflow_version=1))


def test_same_key_migration_moves_only_older_versions(db, registry, world, upload_dir):
    on_v1 = to_council(db, registry, world, upload_dir, name="Sản phẩm v1")
    _as_version_1(db, on_v1)
    on_v2 = to_council(db, registry, world, upload_dir, name="Sản phẩm v2")
    with db.transaction() as s:
        plan = plan_migration(s, registry, "ocop-148", "ocop-148")
        assert plan.target == "ocop-148@v2"
        assert [(m.product_id, m.from_state, m.to_state) for m in plan.moves] == [
            (on_v1, "district_review", "district_review")
        ]
        assert apply_migration(s, registry, plan) == 1
    moved, kept = product_row(db, on_v1), product_row(db, on_v2)
    assert (moved.workflow_version, moved.state) == (2, "district_review")
    assert (kept.workflow_version, kept.history_count) == (2, 4)  # create, accept, approve, submit: no migration
    assert last_event(db, on_v1).data == {"from_workflow": "ocop-148@v1", "to_workflow": "ocop-148@v2"}
    with db.transaction() as s:  # run again: nothing left to move
        assert plan_migration(s, registry, "ocop-148", "ocop-148").moves == []
    # the moved product follows v2: a 3★ result waits for the district's decision
    assert rate(db, registry, on_v1, "rate_district", 60) == "district_recognition"


def test_148_to_1489_maps_the_recognition_states(db, registry, world, upload_dir):
    at_district = to_council(db, registry, world, upload_dir, name="Chờ huyện")
    rate(db, registry, at_district, "rate_district", 60)
    at_province = to_council(db, registry, world, upload_dir, name="Chờ tỉnh")
    rate(db, registry, at_province, "rate_district", 75)
    rate(db, registry, at_province, "rate_province", 80)
    at_centre = to_council(db, registry, world, upload_dir, name="Chờ Trung ương")
    rate(db, registry, at_centre, "rate_district", 95)
    rate(db, registry, at_centre, "rate_province", 95)
    rate(db, registry, at_centre, "rate_central", 95)
    with db.transaction() as s:
        plan = plan_migration(s, registry, "ocop-148", "ocop-1489")
        assert {m.product_id: (m.from_state, m.to_state) for m in plan.moves} == {
            at_district: ("district_recognition", "province_recognition"),  # no district tier under 1489
            at_province: ("province_recognition", "province_recognition"),
            at_centre: ("central_recognition", "central_recognition"),
        }
        assert apply_migration(s, registry, plan) == 3
    for pid in (at_district, at_province, at_centre):
        assert (product_row(db, pid).workflow_key, product_row(db, pid).workflow_version) == ("ocop-1489", 2)
    # under 1489 the province recognises the 3★ the district would have
    _d, codes = recognise_by(db, registry, world, [at_district, at_province], "province")
    assert len(set(codes)) == 2
    assert [c[1:] for c in certificates_of(db, at_district)] == [(3, "province", "valid")]
    assert [c[1:] for c in certificates_of(db, at_province)] == [(4, "province", "valid")]
    recognise_by(db, registry, world, at_centre, "central")
    assert [c[1:] for c in certificates_of(db, at_centre)] == [(5, "central", "valid")]
