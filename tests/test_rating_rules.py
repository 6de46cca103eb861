"""The rating rules of issue #9, on both definitions and both databases: who a result is credited
to, what a lower score at a higher level does, no score on steps that take none, and a rating
only from a council's verdict (or the system)."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import select

from ocop_workflow.engine import Registry, load_directory, star_for_score
from ocop_workflow.errors import DefinitionError, InvalidData, PermissionDenied
from ocop_workflow.models import Certificate, ProductEvent, Rating
from ocop_workflow.reminders.sweep import add_months, run_sweep
from ocop_workflow.services.access import load_actor
from ocop_workflow.services.products import Verdict, advance, score_outcomes

from .helpers import (
    VN,
    attach,
    certificates_of,
    is_certified,
    move,
    new_product,
    product_row,
    rate,
    recognise,
    recognise_by,
    required_docs,
)

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
_LAST_EVENT = select(ProductEvent).order_by(ProductEvent.seq.desc())


def to_first_council(db, registry, world, upload_dir, workflow: str) -> int:
    """A food product of a household at the state its first council scores: district_review (148) or
    province_review (1489)."""
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["household"], workflow=workflow)
    attach(db, registry, officer, pid, ["idea_registration", "business_plan", "organisation_intro"], upload_dir)
    move(db, registry, officer, pid, "accept_idea")
    move(db, registry, officer, pid, "approve_plan")
    submit = "submit_to_district" if workflow == "ocop-148" else "submit_for_commune_review"
    attach(db, registry, officer, pid, required_docs(registry, workflow, submit, "food", "household"), upload_dir)
    move(db, registry, officer, pid, submit)
    if workflow == "ocop-1489":
        attach(db, registry, officer, pid, ["commune_assessment_report", "request_letter"], upload_dir)
        move(db, registry, officer, pid, "send_to_province")
    return pid


def ratings(db, pid: int) -> list[tuple[str, int | None, float, int, bool]]:
    with db.session() as s:
        rows = s.scalars(select(Rating).where(Rating.product_id == pid).order_by(Rating.id)).all()
        return [(r.level, r.organisation_id, r.score, r.star, r.final) for r in rows]


def final_rating(db, pid: int) -> tuple[str, int | None, float, int, bool]:
    return [r for r in ratings(db, pid) if r[4]][-1]


def to_province(db, registry, world, upload_dir, workflow: str, district_score: float = 75) -> int:
    pid = to_first_council(db, registry, world, upload_dir, workflow)
    if workflow == "ocop-148":
        assert rate(db, registry, pid, "rate_district", district_score) == "province_review"
    return pid


# --- the central council below 90: the province's 4★ stands, credited to the province -----------------
@pytest.mark.parametrize("workflow", ["ocop-148", "ocop-1489"])
@pytest.mark.parametrize("central", [85, 60, 89.99])
def test_central_below_90_keeps_the_provinces_4_stars_credited_to_the_province(
    db, registry, world, upload_dir, workflow, central
):
    pid = to_province(db, registry, world, upload_dir, workflow, 92)
    assert rate(db, registry, pid, "rate_province", 91) == "central_review"
    # the province's 4★ stands: the product waits for the province's decision, not the ministry's
    assert rate(db, registry, pid, "rate_central", central) == "province_recognition"
    assert not is_certified(db, pid)
    recognise_by(db, registry, world, pid, "province")
    p = product_row(db, pid)
    assert (p.state, p.current_star, is_certified(db, pid)) == ("rated", 4, True)
    assert [c[1:] for c in certificates_of(db, pid)] == [(4, "province", "valid")]
    province, central_org = world.orgs["P"], world.orgs["VN"]
    assert final_rating(db, pid) == ("province", province, 91, 4, True)
    central_row = [r for r in ratings(db, pid) if r[0] == "central"]
    # the central result is kept, not final, with its own band ("not recognised at 5★")
    assert central_row == [("central", central_org, central, star_for_score(central), False)]
    with db.session() as s:
        event = s.scalars(
            _LAST_EVENT.where(ProductEvent.product_id == pid, ProductEvent.trigger == "rate_central")
        ).first()
        assert event.data["not_recognised_at"] == 5 and event.data["recognised_by"] == "province"
        assert event.data["star"] == 4


@pytest.mark.parametrize("workflow", ["ocop-148", "ocop-1489"])
def test_central_90_or_more_recognises_5_stars(db, registry, world, upload_dir, workflow):
    pid = to_province(db, registry, world, upload_dir, workflow, 92)
    rate(db, registry, pid, "rate_province", 91)
    assert rate(db, registry, pid, "rate_central", 90) == "central_recognition"
    recognise_by(db, registry, world, pid, "central")
    assert final_rating(db, pid) == ("central", world.orgs["VN"], 90, 5, True)
    assert (product_row(db, pid).state, product_row(db, pid).current_star) == ("rated", 5)
    assert [c[1:] for c in certificates_of(db, pid)] == [(5, "central", "valid")]


def test_certificate_notices_after_a_central_refusal_go_to_the_province(db, registry, world, upload_dir, smtp):
    """The certificate-expiry notices follow the final rating's organisation: the province that
    recognised the 4★, not the central council that did not recognise 5★."""
    from dataclasses import replace

    from ocop_workflow.config import Settings

    settings = replace(Settings(), smtp_url=smtp.url, base_url="http://ocop.test", certificate_notice_days=(90,))
    pid = to_province(db, registry, world, upload_dir, "ocop-148", 92)
    rate(db, registry, pid, "rate_province", 91)
    assert rate(db, registry, pid, "rate_central", 85) == "province_recognition"
    _decision, (code,) = recognise(
        db,
        registry,
        pid,
        drafter=world.user("province_secretariat", "P"),
        signer=world.user("province_chair", "P"),
        organisation_id=world.orgs["P"],
    )
    with db.session() as s:
        issued = s.scalar(select(Certificate.issued_on).where(Certificate.code == code))
    expires = add_months(issued, 36)
    when = datetime.combine(expires - timedelta(days=90), datetime.min.time(), tzinfo=VN) + timedelta(hours=9)
    report = run_sweep(db, registry, settings, now=when)
    told = {q.email for q in report.queued if q.product_id == pid}
    assert world.user("province_secretariat", "P") in told
    assert world.user("central_council", "VN") not in told
    assert isinstance(expires, date)


# --- one rule for a lower score at a higher level -----------------------------------------------------
@pytest.mark.parametrize(
    ("province", "star", "recogniser"),
    [(60, 3, "district"), (40, 2, None), (70, 4, "province")],
)
def test_148_own_band_the_provinces_score_decides(db, registry, world, upload_dir, province, star, recogniser):
    """The province's score decides the star; who recognises it is the definition's `by_star` (148:
    the district recognises 3★ whichever council scored it); below 3★ nothing is recognised."""
    assert registry.latest("ocop-148").evaluation.lower_score == "own_band"
    pid = to_province(db, registry, world, upload_dir, "ocop-148", 75)
    expected = f"{recogniser}_recognition" if recogniser else "rated"
    assert rate(db, registry, pid, "rate_province", province) == expected
    assert final_rating(db, pid) == ("province", world.orgs["P"], province, star, True)
    assert ratings(db, pid)[0] == ("district", world.orgs["D1"], 75, 3, False)
    if recogniser:
        assert not is_certified(db, pid)
        recognise_by(db, registry, world, pid, recogniser)
    p = product_row(db, pid)
    assert (p.state, p.current_star, is_certified(db, pid)) == ("rated", star, recogniser is not None)


@pytest.mark.parametrize(("province", "star"), [(60, 3), (40, 2)])
def test_1489_province_is_the_first_council_its_band_decides(db, registry, world, upload_dir, province, star):
    pid = to_province(db, registry, world, upload_dir, "ocop-1489")
    assert rate(db, registry, pid, "rate_province", province) == ("province_recognition" if star >= 3 else "rated")
    assert ratings(db, pid) == [("province", world.orgs["P"], province, star, True)]


def _registry_with(tmp_path: Path, lower_score: str) -> Registry:
    folder = tmp_path / "workflows-previous"
    shutil.copytree(WORKFLOWS, folder)
    for name in ("ocop-148.v1.yaml", "ocop-1489.v1.yaml", "ocop-148.v2.yaml", "ocop-1489.v2.yaml"):
        path = folder / name
        path.write_text(
            re.sub(r"^  lower_score: own_band$", f"  lower_score: {lower_score}", path.read_text("utf-8"), flags=re.M),
            "utf-8",
        )
    return Registry.from_directory(folder)


@pytest.mark.parametrize("province", [60, 40])
def test_previous_level_stands_keeps_the_districts_result(db, registry, world, upload_dir, tmp_path, province):
    other = _registry_with(tmp_path, "previous_level_stands")
    assert other.latest("ocop-148").evaluation.lower_score == "previous_level_stands"
    pid = to_province(db, registry, world, upload_dir, "ocop-148", 75)
    assert rate(db, other, pid, "rate_province", province) == "district_recognition"  # the district's 3★ stands
    assert final_rating(db, pid) == ("district", world.orgs["D1"], 75, 3, True)
    assert ("province", world.orgs["P"], province, 3 if province >= 50 else 2, False) in ratings(db, pid)
    assert product_row(db, pid).current_star == 3
    # a score that confirms the district's band is the province's own result under either rule
    pid2 = to_province(db, registry, world, upload_dir, "ocop-148", 75)
    rate(db, other, pid2, "rate_province", 80)
    assert final_rating(db, pid2) == ("province", world.orgs["P"], 80, 4, True)
    # the central council's refusal is the same under both rules
    pid3 = to_province(db, registry, world, upload_dir, "ocop-1489")
    rate(db, other, pid3, "rate_province", 95)
    rate(db, other, pid3, "rate_central", 60)
    assert final_rating(db, pid3) == ("province", world.orgs["P"], 95, 4, True)


# --- what the form says each score range will do ------------------------------------------------------
def test_score_outcomes_say_where_each_range_leads(registry, tmp_path):
    d148, d1489 = registry.latest("ocop-148"), registry.latest("ocop-1489")
    district = [(o.min, o.below, o.destination, o.stars, o.result.en) for o in score_outcomes(d148, "district_review")]
    assert district == [
        (0, 50, "rated", (1, 2), "not recognised"),
        (50, 70, "district_recognition", (3, 3), "recognised by the district"),  # v2: waits for its decision
        (70, None, "province_review", (3, 3), "forwarded to the province"),
    ]
    # the province's council under 148: a 3★ result is the district's to recognise, 4★ the province's
    province = [(o.min, o.below, o.destination, o.stars, o.result.en) for o in score_outcomes(d148, "province_review")]
    assert province[1:3] == [
        (50, 70, "district_recognition", (3, 3), "recognised by the district"),
        (70, 90, "province_recognition", (4, 4), "recognised by the province"),
    ]
    central = score_outcomes(d1489, "central_review")
    assert [(o.min, o.below, o.stars) for o in central] == [(0, 90, None), (90, None, (5, 5))]
    # below 90 the province's 4★ stands and waits for the province; 90+ waits for the ministry
    assert [o.destination for o in central] == ["province_recognition", "central_recognition"]
    assert [(o.stars, o.destination) for o in score_outcomes(d1489, "province_review")][1] == (
        (3, 4),
        "province_recognition",
    )
    assert "không công nhận 5 sao" in central[0].result.vi and central[1].result.en == "recognised by the central level"
    assert central[0].range_text.vi == "từ 0 đến dưới 90 điểm" and central[1].range_text.en == "90 to 100 points"
    assert [o.result.en for o in score_outcomes(d1489, "province_review")][1] == "recognised by the province"
    assert score_outcomes(d148, "implementation") == []
    other = _registry_with(tmp_path, "previous_level_stands").latest("ocop-148")
    assert "that level's result stands" in score_outcomes(other, "province_review")[1].result.en


def test_labels_say_what_happens(registry):
    labels = {t.label.vi for t in registry.latest("ocop-148").transitions}
    assert "Chấm điểm và công nhận cấp huyện" not in labels
    forward = registry.latest("ocop-148").candidates("district_review", "rate_district")[1]
    assert "gửi lên tỉnh" in forward.label.vi and "forwarded to the province" in forward.label.en


# --- no score on a step that takes none ---------------------------------------------------------------
@pytest.mark.parametrize("workflow", ["ocop-148", "ocop-1489"])
def test_a_score_on_a_step_without_one_is_refused(db, registry, world, upload_dir, workflow):
    pid = to_first_council(db, registry, world, upload_dir, workflow)
    role, org = ("district_secretariat", "D1") if workflow == "ocop-148" else ("province_secretariat", "P")
    secretariat = world.user(role, org)
    before = product_row(db, pid)
    with pytest.raises(InvalidData) as refused:
        move(db, registry, secretariat, pid, "return_for_revision", comment="x", score=7)
    assert "không nhận điểm" in refused.value.message("vi") and "takes no score" in refused.value.message("en")
    after = product_row(db, pid)
    assert (after.state, after.version) == (before.state, before.version)
    assert move(db, registry, secretariat, pid, "return_for_revision", comment="x") == "implementation"
    with db.session() as s:
        last = s.scalars(_LAST_EVENT.where(ProductEvent.product_id == pid)).first()
        assert last.score is None


# --- a rating only from a council's verdict -----------------------------------------------------------
def test_a_person_cannot_type_a_rating_in(db, registry, world, upload_dir):
    pid = to_first_council(db, registry, world, upload_dir, "ocop-148")
    with pytest.raises(PermissionDenied) as refused:
        move(db, registry, world.user("district_council", "D1"), pid, "rate_district", score=75)
    assert "đợt đánh giá" in refused.value.message("vi") and "evaluation round" in refused.value.message("en")
    assert product_row(db, pid).state == "district_review"


def test_a_verdict_rates_with_the_councils_organisation_and_round(db, registry, world, upload_dir):
    pid = to_first_council(db, registry, world, upload_dir, "ocop-148")
    secretary = world.user("district_secretariat", "D1")  # closes the round; its role does not rate
    verdict = Verdict(7, "Đợt 1/2026", 3, world.orgs["D1"], 66.67, None, members_present=(1, 2, 3))
    with db.transaction() as s:
        move_ = advance(s, registry, pid, "rate_district", load_actor(s, secretary), verdict=verdict)
        assert (move_.to_state, move_.score) == ("district_recognition", 66.67)
        assert move_.data["round"] == {"id": 7, "name": "Đợt 1/2026", "council_id": 3}
        assert move_.data["recognised_by"] == "district"
    assert ratings(db, pid) == [("district", world.orgs["D1"], 66.67, 3, True)]

    # a mandatory criterion failed by the majority caps the star
    pid2 = to_province(db, registry, world, upload_dir, "ocop-148", 75)
    capped = Verdict(8, "Đợt 2/2026", 4, world.orgs["P"], 85, 3)
    with db.transaction() as s:
        secretary = load_actor(s, world.user("province_secretariat", "P"))
        done = advance(s, registry, pid2, "rate_province", secretary, verdict=capped)
        assert done.data["star_cap"] == 3
    assert final_rating(db, pid2) == ("province", world.orgs["P"], 85, 3, True)


def test_a_verdict_is_refused_where_it_does_not_belong(db, registry, world, upload_dir):
    pid = to_first_council(db, registry, world, upload_dir, "ocop-148")
    verdict = Verdict(1, "Đợt 1", 1, world.orgs["D1"], 75, None)
    with db.transaction() as s:
        actor = load_actor(s, world.user("district_secretariat", "D1"))
        with pytest.raises(InvalidData):  # not a rating step (and it takes no score)
            advance(s, registry, pid, "return_for_revision", actor, comment="x", verdict=verdict)
        with pytest.raises(InvalidData) as twice:  # the score comes from the verdict alone
            advance(s, registry, pid, "rate_district", actor, data={"score": 99}, verdict=verdict)
        assert "đợt đánh giá" in twice.value.message("vi")
    assert product_row(db, pid).state == "district_review"


# --- the evaluation block -----------------------------------------------------------------------------
def test_the_shipped_definitions_state_their_rule(registry):
    for key in ("ocop-148", "ocop-1489"):
        ev = registry.latest(key).evaluation
        assert ev.quorum == Fraction(2, 3) and ev.rounding == "half_up" and ev.decimals == 2
        assert ev.criteria_set == key and ev.lower_score == "own_band"
        assert ev.source.startswith("148/QĐ-TTg")
    assert "1489/QĐ-TTg" in registry.latest("ocop-1489").evaluation.source
    central = registry.latest("ocop-148").candidates("central_review", "rate_central")[0]
    assert (central.rating.min_star, central.rating.max_star) == (5, 5)


def test_evaluation_defaults_and_fractions(tmp_path):
    folder = tmp_path / "wf"
    shutil.copytree(WORKFLOWS, folder)
    path = folder / "ocop-1489.v2.yaml"  # the latest versions
    text = path.read_text("utf-8")
    text = re.sub(r"^evaluation:\n(  .*\n|  #.*\n)+", "", text, flags=re.M)
    path.write_text(text, "utf-8")
    p148 = folder / "ocop-148.v2.yaml"
    p148.write_text(p148.read_text("utf-8").replace('  quorum: "2/3"', "  quorum: 0.75"), "utf-8")
    _cat, defs = load_directory(folder)
    by_key = {d.key: d for d in defs if d.version == 2}
    default = by_key["ocop-1489"].evaluation
    assert (default.lower_score, default.quorum, default.decimals, default.criteria_set) == (
        "own_band",
        Fraction(2, 3),
        2,
        "ocop-1489",
    )
    assert by_key["ocop-148"].evaluation.quorum == Fraction(3, 4)
    p148.write_text(p148.read_text("utf-8").replace("  quorum: 0.75", "  quorum: 1.5"), "utf-8")
    with pytest.raises(DefinitionError) as bad:
        load_directory(folder)
    assert re.search(r"ocop-148\.v2\.yaml:\d+: evaluation: quorum must be above 0 and at most 1", str(bad.value))
