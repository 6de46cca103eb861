"""The cycle through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ocop_workflow.errors import GuardFailed, InvalidData, InvalidTrigger, NotFound, PermissionDenied, StaleVersion
from ocop_workflow.models import Document, ProductEvent, Rating
from ocop_workflow.services import producers as producer_service
from ocop_workflow.services.access import Actor, load_actor
from ocop_workflow.services.documents import get_document, list_documents
from ocop_workflow.services.products import advance, available_triggers, get_product, history

from .helpers import (
    attach,
    certificates_of,
    is_certified,
    move,
    new_product,
    product_row,
    rate,
    recognise_by,
    renew,
    required_docs,
)

OFFICER = "commune_officer@C1"


def to_review(db, registry, world, upload_dir, *, group="food", kind="cooperative", workflow="ocop-148"):
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers[kind], group=group, workflow=workflow)
    attach(db, registry, officer, pid, ["idea_registration", "business_plan", "organisation_intro"], upload_dir)
    move(db, registry, officer, pid, "accept_idea")
    move(db, registry, officer, pid, "approve_plan")
    submit = "submit_to_district" if workflow == "ocop-148" else "submit_for_commune_review"
    attach(db, registry, officer, pid, required_docs(registry, workflow, submit, group, kind), upload_dir)
    assert move(db, registry, officer, pid, submit) in ("district_review", "commune_review")
    return pid


def test_full_148_cycle_with_return_and_upgrade(db, registry, world, upload_dir):
    pid = to_review(db, registry, world, upload_dir)
    district_sec = world.user("district_secretariat", "D1")
    with pytest.raises(GuardFailed) as refused:
        move(db, registry, district_sec, pid, "return_for_revision")
    assert "comment" in refused.value.message("en")
    assert (
        move(db, registry, district_sec, pid, "return_for_revision", comment="Thiếu phiếu kiểm nghiệm")
        == "implementation"
    )
    move(db, registry, world.user("commune_officer", "C1"), pid, "submit_to_district")
    assert rate(db, registry, pid, "rate_district", 75) == "province_review"
    assert rate(db, registry, pid, "rate_province", 82) == "province_recognition"  # 4★: the province decides
    recognise_by(db, registry, world, pid, "province")
    p = product_row(db, pid)
    assert (p.state, p.current_star) == ("rated", 4)
    [(old_code, *first)] = certificates_of(db, pid)
    assert first == [4, "province", "valid"]

    officer = world.user("commune_officer", "C1")
    move(db, registry, officer, pid, "apply_upgrade")
    assert product_row(db, pid).application_type == "upgrade"
    renew(db, registry, officer, pid, upload_dir, application_type="upgrade", kind="cooperative")
    move(db, registry, officer, pid, "submit_to_district")
    rate(db, registry, pid, "rate_district", 80)
    rate(db, registry, pid, "rate_province", 93)
    assert rate(db, registry, pid, "rate_central", 95) == "central_recognition"
    recognise_by(db, registry, world, pid, "central")
    p = product_row(db, pid)
    assert (p.state, p.current_star) == ("upgraded", 5)
    assert [c[1:] for c in certificates_of(db, pid)] == [(5, "central", "valid"), (4, "province", "superseded")]
    new_code, old = (c[0] for c in certificates_of(db, pid))
    assert old == old_code != new_code
    with db.session() as s:
        events = history(s, load_actor(s, officer), pid)
        assert [e.trigger for e in events][:2] == ["create", "accept_idea"]
        assert events[-1].to_state == "upgraded" and events[-1].trigger == "recognise"
        assert all(a.to_state == b.from_state for a, b in zip(events, events[1:], strict=False))
        returned = [e for e in events if e.trigger == "return_for_revision"]
        assert returned[0].comment == "Thiếu phiếu kiểm nghiệm"
        assert s.scalar(select(func.count()).select_from(Rating).where(Rating.product_id == pid)) == 5


def test_district_below_70_ends_at_district_and_low_scores_are_not_certified(db, registry, world, upload_dir):
    pid = to_review(db, registry, world, upload_dir)
    assert rate(db, registry, pid, "rate_district", 62.5) == "district_recognition"
    assert not is_certified(db, pid)  # not before the district's decision is signed
    recognise_by(db, registry, world, pid, "district")
    assert (product_row(db, pid).state, product_row(db, pid).current_star) == ("rated", 3)
    assert is_certified(db, pid)
    pid2 = to_review(db, registry, world, upload_dir)
    assert rate(db, registry, pid2, "rate_district", 45) == "rated"  # 2★: nothing to recognise
    p = product_row(db, pid2)
    assert p.current_star == 2 and not is_certified(db, pid2) and certificates_of(db, pid2) == []
    with pytest.raises(GuardFailed):  # only certified products can apply for an upgrade
        move(db, registry, world.user("commune_officer", "C1"), pid2, "apply_upgrade")


def test_central_review_below_90_keeps_the_province_star(db, registry, world, upload_dir):
    pid = to_review(db, registry, world, upload_dir)
    rate(db, registry, pid, "rate_district", 91)
    rate(db, registry, pid, "rate_province", 92)
    assert rate(db, registry, pid, "rate_central", 60) == "province_recognition"  # the province's 4★ stands
    recognise_by(db, registry, world, pid, "province")
    assert product_row(db, pid).current_star == 4
    assert [c[1:] for c in certificates_of(db, pid)] == [(4, "province", "valid")]


def test_refusal_lists_every_missing_document_and_changes_nothing(db, registry, world, upload_dir):
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["cooperative"], group="food")
    attach(db, registry, officer, pid, ["idea_registration", "business_plan", "organisation_intro"], upload_dir)
    move(db, registry, officer, pid, "accept_idea")
    move(db, registry, officer, pid, "approve_plan")
    before = product_row(db, pid)
    with pytest.raises(GuardFailed) as refused:
        move(db, registry, officer, pid, "submit_to_district")
    text_en, text_vi = refused.value.message("en"), refused.value.message("vi")
    for label in (
        "Laboratory test report",
        "Food-safety facility certificate",
        "Business registration certificate",
        "Co-operative classification",
        "Product story",
    ):
        assert label in text_en
    assert "Phiếu kết quả kiểm nghiệm" in text_vi
    after = product_row(db, pid)
    assert (after.state, after.version, after.history_count) == (before.state, before.version, before.history_count)


def test_documents_depend_on_product_group(registry):
    food = required_docs(registry, "ocop-148", "submit_to_district", "food", "cooperative_group")
    tourism = required_docs(registry, "ocop-148", "submit_to_district", "tourism", "cooperative_group")
    assert "lab_test_report" in food and "food_safety_certificate" in food
    assert "lab_test_report" not in tourism and "food_safety_certificate" not in tourism


def test_scope_out_of_commune_is_not_found(db, registry, world, upload_dir):
    pid = new_product(db, registry, world.user("commune_officer", "C1"), world.producers["household"])
    for outsider in (
        world.user("commune_officer", "C3"),
        world.user("district_council", "D2"),
        world.user("commune_officer", "C2"),
    ):
        with db.session() as s:
            actor = load_actor(s, outsider)
            with pytest.raises(NotFound):
                get_product(s, actor, pid)
            with pytest.raises(NotFound):
                history(s, actor, pid)
        with pytest.raises(NotFound):
            move(db, registry, outsider, pid, "accept_idea")
    with db.session() as s:  # the district and the province above do see it
        for insider in (world.user("district_council", "D1"), world.user("province_secretariat", "P")):
            assert get_product(s, load_actor(s, insider), pid).id == pid


def test_not_found_comes_before_anything_the_call_holds(db, registry, world, upload_dir):
    """`advance` reads the product first: a missing or hidden product is NotFound even with a bad
    score, an over-long comment, a stale version or an unknown trigger; the Move it returns names
    the definition, so no caller needs to read the product again."""
    pid = new_product(db, registry, world.user("commune_officer", "C1"), world.producers["household"])
    bad = [
        dict(trigger="accept_idea", score="abc"),
        dict(trigger="accept_idea", comment="x" * 5000),
        dict(trigger="accept_idea", version=99),
        dict(trigger="no_such_step", score=-1),
    ]
    for who, target in ((world.user("commune_officer", "C3"), pid), (world.user("commune_officer", "C1"), 10**9)):
        for kwargs in bad:
            kwargs = dict(kwargs)
            with pytest.raises(NotFound):
                move(db, registry, who, target, kwargs.pop("trigger"), **kwargs)
    with pytest.raises(InvalidData):  # in scope, the same score is the input's own error
        move(db, registry, world.user("commune_officer", "C1"), pid, "accept_idea", score="abc")
    assert product_row(db, pid).state == "idea"
    attach(db, registry, world.user("commune_officer", "C1"), pid, ["idea_registration"], upload_dir)
    with db.transaction() as s:
        done = advance(s, registry, pid, "accept_idea", load_actor(s, world.user("commune_officer", "C1")))
        assert (done.workflow_key, done.workflow_version, done.from_state, done.to_state) == (
            "ocop-148",
            2,  # new products start on the latest version
            "idea",
            "production_plan",
        )
        assert done.actor.email == world.user("commune_officer", "C1")


def test_wrong_role_is_permission_denied_and_invalid_trigger_is_refused(db, registry, world, upload_dir):
    pid = to_review(db, registry, world, upload_dir)
    with pytest.raises(PermissionDenied) as denied:
        move(db, registry, world.user("commune_association", "C1"), pid, "rate_district", score=80)
    assert "District council member" in denied.value.message("en")
    with pytest.raises(InvalidTrigger):
        move(db, registry, world.user("district_council", "D1"), pid, "rate_province", score=80)
    for bad in (-1, 100.5, "abc"):
        with pytest.raises(InvalidData):
            move(db, registry, world.user("district_council", "D1"), pid, "rate_district", score=bad)
    assert product_row(db, pid).state == "district_review"


def test_expected_version_mismatch_is_stale(db, registry, world, upload_dir):
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["enterprise"])
    attach(db, registry, officer, pid, ["idea_registration"], upload_dir)
    version = product_row(db, pid).version
    move(db, registry, officer, pid, "accept_idea", version=version)
    with pytest.raises(StaleVersion) as stale:
        move(db, registry, officer, pid, "withdraw", comment="Hết vốn", version=version)
    assert "reload" in stale.value.message("en")
    assert product_row(db, pid).state == "production_plan"


def test_replacing_a_document_keeps_the_old_version_and_decisions_record_the_dossier(db, registry, world, upload_dir):
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["household"])
    attach(db, registry, officer, pid, ["idea_registration"], upload_dir, filename="Phiếu đăng ký ý tưởng.pdf")
    attach(
        db,
        registry,
        officer,
        pid,
        ["idea_registration"],
        upload_dir,
        content=b"%PDF-1.7 revised",
        filename="Phiếu đăng ký (bản sửa).pdf",
    )
    move(db, registry, officer, pid, "accept_idea")
    with db.session() as s:
        actor = load_actor(s, officer)
        docs = list_documents(s, actor, pid)
        assert len(docs) == 2
        new, old = docs
        assert new.current and not old.current and new.replaces_id == old.id
        assert new.original_name == "Phiếu đăng ký (bản sửa).pdf"
        assert (upload_dir / new.stored_name).read_bytes().startswith(b"%PDF-1.7 revised")
        event = s.scalars(select(ProductEvent).where(ProductEvent.product_id == pid, ProductEvent.seq == 2)).one()
        from ocop_workflow.services.products import dossier_fingerprint

        assert event.dossier_fingerprint == dossier_fingerprint([new])
        assert event.dossier_fingerprint != dossier_fingerprint([old])
        with pytest.raises(NotFound):
            get_document(s, load_actor(s, world.user("commune_officer", "C3")), new.id)


def test_uploads_are_checked_by_content_and_size(db, registry, world, upload_dir):
    from ocop_workflow.services.documents import UploadTooLarge, attach_document

    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["household"])
    with db.transaction() as s:
        actor = load_actor(s, officer)
        kw = {"upload_dir": upload_dir, "known_types": registry.catalogue.document_types}
        with pytest.raises(InvalidData):
            attach_document(
                s, actor, pid, "business_plan", "virus.pdf", b"MZ\x90\x00" + b"\x00" * 100, max_bytes=1000, **kw
            )
        with pytest.raises(UploadTooLarge):
            attach_document(s, actor, pid, "business_plan", "big.pdf", b"%PDF-" + b"x" * 2000, max_bytes=1000, **kw)
        with pytest.raises(InvalidData):
            attach_document(s, actor, pid, "not_a_type", "a.pdf", b"%PDF-1.4", max_bytes=1000, **kw)
        assert s.scalar(select(func.count()).select_from(Document)) == 0
    assert not [p for p in upload_dir.iterdir()] if upload_dir.exists() else True


def test_available_triggers_explain_what_is_missing(db, registry, world, upload_dir):
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["household"], group="tourism")
    with db.session() as s:
        actor = load_actor(s, officer)
        options = {o.trigger: o for o in available_triggers(s, registry, actor, get_product(s, actor, pid))}
    assert set(options) == {"accept_idea", "withdraw"}
    assert not options["accept_idea"].available
    assert "Product idea registration form" in options["accept_idea"].missing[0].en
    assert options["withdraw"].needs_comment
    with db.session() as s:
        assoc = load_actor(s, world.user("commune_association", "C1"))
        opts = available_triggers(s, registry, assoc, get_product(s, assoc, pid))
        assert not any(o.role_ok for o in opts)


def test_1489_route_goes_from_commune_straight_to_province(db, registry, world, upload_dir):
    pid = to_review(db, registry, world, upload_dir, workflow="ocop-1489", group="handicrafts", kind="enterprise")
    officer = world.user("commune_officer", "C1")
    with pytest.raises(GuardFailed) as refused:
        move(db, registry, officer, pid, "send_to_province")
    assert "Commune assessment report" in refused.value.message("en")
    attach(db, registry, officer, pid, ["commune_assessment_report", "request_letter"], upload_dir)
    assert move(db, registry, officer, pid, "send_to_province") == "province_review"
    with pytest.raises(NotFound):  # no district under 1489 for another district's council either
        move(db, registry, world.user("district_council", "D2"), pid, "rate_district", score=80)
    assert rate(db, registry, pid, "rate_province", 55) == "province_recognition"  # 3★: the province decides
    recognise_by(db, registry, world, pid, "province")
    p = product_row(db, pid)
    assert (p.workflow_key, p.state, p.current_star) == ("ocop-1489", "rated", 3)
    assert [c[1:] for c in certificates_of(db, pid)] == [(3, "province", "valid")]


def test_commune_directly_under_province(db, registry, world, upload_dir):
    """After the 2025 reform communes hang straight under the province; scoping still works."""
    with db.transaction() as s:
        from ocop_workflow.models import Organisation

        c4 = s.get(Organisation, world.orgs["C4"])
        producer = producer_service.create_producer(
            s, Actor.system_actor(), name="THT Trà hoa vàng", kind="cooperative_group", commune=c4
        )
        producer_id = producer.id
    with pytest.raises(NotFound):
        new_product(db, registry, world.user("commune_officer", "C1"), producer_id, workflow="ocop-1489")
    pid = new_product(db, registry, world.user("commune_officer", "C4"), producer_id, workflow="ocop-1489")
    with db.session() as s:
        assert get_product(s, load_actor(s, world.user("province_council", "P")), pid).commune.code == "C4"
