"""Issue #10, item 6 (core): the public lookup of one certificate and the register of valid ones.

Certificates are made as an office makes them: councils' results, a recognition decision drafted by the
level's secretariat and signed by its chair (tests/helpers.recognise), an upgrade that supersedes, a
revocation by the recognising level. Time travel is the `today` the lookups are asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from ocop_workflow.errors import InvalidData, NotFound
from ocop_workflow.services import certificates as cert_service
from ocop_workflow.services.access import load_actor
from ocop_workflow.services.public_register import RegisterFilter, area_options, lookup, register

from .helpers import attach, move, new_product, rate, recognise, required_docs


@dataclass
class Certified:
    vai: str  # 3★ by the district D1 (C1): valid
    ga: str  # 3★ by the district D2 (C3): valid, another district
    mien: str  # 3★ (C1), then revoked by the district
    cam_old: str  # 3★ (C1), superseded by the upgrade below
    cam_new: str  # 4★ by the province after the upgrade
    issued: date


def _to_district_review(db, registry, world, upload_dir, *, name: str, commune: str = "C1") -> int:
    officer = world.user("commune_officer", commune)
    producer = world.producers["household"] if commune == "C1" else world.other_producer
    kind = "household" if commune == "C1" else "cooperative"
    pid = new_product(db, registry, officer, producer, name=name)
    attach(db, registry, officer, pid, ["idea_registration", "business_plan", "organisation_intro"], upload_dir)
    move(db, registry, officer, pid, "accept_idea")
    move(db, registry, officer, pid, "approve_plan")
    needed = required_docs(registry, "ocop-148", "submit_to_district", "food", kind)
    attach(db, registry, officer, pid, needed, upload_dir)
    assert move(db, registry, officer, pid, "submit_to_district") == "district_review"
    return pid


def _district_decision(db, registry, world, pids: list[int], district: str, number: str) -> list[str]:
    for pid in pids:
        assert rate(db, registry, pid, "rate_district", 60) == "district_recognition"
    _id, codes = recognise(
        db,
        registry,
        pids,
        drafter=world.user("district_secretariat", district),
        signer=world.user("district_chair", district),
        organisation_id=world.orgs[district],
        number=number,
    )
    return codes


def certify(db, registry, world, upload_dir) -> Certified:
    vai = _to_district_review(db, registry, world, upload_dir, name="Vải thiều Lục Ngạn")
    mien = _to_district_review(db, registry, world, upload_dir, name="Miến dong Phượng Sơn")
    cam = _to_district_review(db, registry, world, upload_dir, name="Cam Bố Hạ")
    ga = _to_district_review(db, registry, world, upload_dir, name="Gà đồi Yên Thế", commune="C3")
    c_vai, c_mien, c_cam = _district_decision(db, registry, world, [vai, mien, cam], "D1", "101/QĐ-UBND")
    (c_ga,) = _district_decision(db, registry, world, [ga], "D2", "202/QĐ-UBND")
    with db.transaction() as s:
        cert_service.revoke_certificate(
            s,
            load_actor(s, world.user("district_chair", "D1")),
            c_mien,
            reason="Cơ sở vi phạm an toàn thực phẩm",
            decision_number="55/QĐ-UBND",
        )
    # Cam Bố Hạ applies for an upgrade with a renewed dossier; the province recognises 4★
    officer = world.user("commune_officer", "C1")
    assert move(db, registry, officer, cam, "apply_upgrade") == "implementation"
    attach(db, registry, officer, cam, ["registration_form", "self_assessment_report", "lab_test_report"], upload_dir)
    assert move(db, registry, officer, cam, "submit_to_district") == "district_review"
    assert rate(db, registry, cam, "rate_district", 75) == "province_review"
    assert rate(db, registry, cam, "rate_province", 80) == "province_recognition"
    _id, (c_cam_new,) = recognise(
        db,
        registry,
        cam,
        drafter=world.user("province_secretariat", "P"),
        signer=world.user("province_chair", "P"),
        organisation_id=world.orgs["P"],
        number="303/QĐ-UBND",
    )
    return Certified(c_vai, c_ga, c_mien, c_cam, c_cam_new, cert_service.local_day())


@pytest.fixture
def certified(db, registry, world, upload_dir) -> Certified:
    return certify(db, registry, world, upload_dir)


def test_lookup_shows_what_the_certificate_prints_and_its_status(db, certified):
    today = certified.issued
    with db.session() as s:
        vai = lookup(s, certified.vai, today)
        assert lookup(s, f" {certified.vai.lower()} ", today).code == certified.vai  # typed in lower case
        ga = lookup(s, certified.ga, today)
    assert (vai.product_name, vai.producer_name, vai.star, vai.level) == (
        "Vải thiều Lục Ngạn",
        "Chủ thể household",
        3,
        "district",
    )
    assert (vai.commune.name, vai.district.name, vai.province.name) == ("Phượng Sơn", "Lục Ngạn", "Bắc Giang")
    assert (vai.recognised_by, vai.decision_number, vai.decision_date) == ("Lục Ngạn", "101/QĐ-UBND", today)
    assert (vai.issued_on, vai.status, vai.counts, vai.status_label.vi) == (today, "valid", True, "Còn hiệu lực")
    assert vai.product_group == "food"
    assert vai.expires_on > today + timedelta(days=365 * 2)
    assert (ga.district.code, ga.recognised_by, ga.decision_number) == ("D2", "Yên Thế", "202/QĐ-UBND")


def test_lookup_over_time_expiring_then_expired_on_the_exact_day(db, certified):
    with db.session() as s:
        expires = lookup(s, certified.vai, certified.issued).expires_on
        assert lookup(s, certified.vai, expires - timedelta(days=91)).status == "valid"
        assert lookup(s, certified.vai, expires - timedelta(days=90)).status == "expiring"
        assert lookup(s, certified.vai, expires - timedelta(days=1)).counts
        gone = lookup(s, certified.vai, expires)
    assert (gone.status, gone.counts, gone.status_label.vi) == ("expired", False, "Đã hết hạn")


def test_revoked_shows_the_date_and_decision_but_not_the_reason(db, certified):
    with db.session() as s:
        mien = lookup(s, certified.mien, certified.issued)
    assert (mien.status, mien.status_label.vi) == ("revoked", "Đã bị thu hồi")
    assert (mien.revoked_on, mien.revoke_decision) == (certified.issued, "55/QĐ-UBND")
    assert not any("an toàn thực phẩm" in str(v) for v in vars_of(mien))


def vars_of(value) -> list:
    return [getattr(value, name) for name in value.__slots__]


def test_superseded_names_the_newer_certificate(db, certified):
    with db.session() as s:
        old = lookup(s, certified.cam_old, certified.issued)
        new = lookup(s, certified.cam_new, certified.issued)
    assert (old.status, old.superseded_on, old.superseded_by) == ("superseded", certified.issued, certified.cam_new)
    assert (new.status, new.star, new.level, new.recognised_by) == ("valid", 4, "province", "Bắc Giang")
    assert new.decision_number == "303/QĐ-UBND"


@pytest.mark.parametrize(
    "code",
    ["", "   ", "NO-SUCH-CODE-1", "x" * 5000, "Vải-thiều", "../../etc/passwd", "a/b", "OCOP%00", "ab", "<script>"],
)
def test_unknown_or_malformed_codes_are_not_found(db, world, code):
    with db.session() as s, pytest.raises(NotFound) as caught:
        lookup(s, code, date(2026, 3, 2))
    assert "Không có giấy chứng nhận OCOP" in caught.value.message("vi")
    assert "There is no OCOP certificate" in caught.value.message("en")
    assert len(caught.value.message("vi")) < 200  # a page of x's is never echoed


def _codes(page) -> list[str]:
    return [c.code for c in page.items]


def test_the_register_lists_only_certificates_in_force(db, certified):
    with db.session() as s:
        page = register(s, RegisterFilter(), certified.issued)
        expires = lookup(s, certified.vai, certified.issued).expires_on
        later = register(s, RegisterFilter(), expires)
    # ordered by product name (without diacritics): Cam, Gà, Vải; revoked and superseded left out
    assert _codes(page) == [certified.cam_new, certified.ga, certified.vai]
    assert page.total == 3 and page.pages == 1
    assert all(item.counts for item in page.items)
    assert (later.total, later.items) == (0, [])  # all issued the same day: all expired on the same day


SEARCHES = [
    ("vai thieu", ["vai"]),
    ("VẢI THIỀU", ["vai"]),
    ("Vải thiều", ["vai"]),
    ("luc ngan vai", ["vai"]),
    ("ga doi", ["ga"]),
    ("household", ["cam_new", "vai"]),  # the producer's name
    ("chu the", ["cam_new", "vai"]),
    ("mien dong", []),  # revoked: not in the register
    ("dong", []),
    ("khong co", []),
]


def test_search_without_diacritics_on_product_and_producer(db, certified):
    with db.session() as s:
        for q, expected in SEARCHES:
            page = register(s, RegisterFilter(q=q), certified.issued)
            assert (q, _codes(page)) == (q, [getattr(certified, name) for name in expected])
            assert page.total == len(expected)


def test_filters_by_province_area_group_and_star(db, certified):
    today = certified.issued
    with db.session() as s:

        def codes(**kw):
            return _codes(register(s, RegisterFilter(**kw), today))

        assert codes(province="P") == [certified.cam_new, certified.ga, certified.vai]
        assert codes(area="D1") == [certified.cam_new, certified.vai]
        assert codes(area="D2") == [certified.ga]
        assert codes(area="C3") == [certified.ga]
        assert codes(area="C2") == []
        assert codes(star=4) == [certified.cam_new]
        assert codes(star=3, area="D1") == [certified.vai]
        assert codes(group="food") == [certified.cam_new, certified.ga, certified.vai]
        assert codes(group="beverages") == []
        assert codes(q="cam", star=3) == []
        options = area_options(s, "P")
    assert ("D1", "Lục Ngạn", "district") in options and ("C3", "Đồng Kỳ", "commune") in options
    assert all(code != "VN" for code, _n, _l in options)


def test_pages(db, certified):
    with db.session() as s:
        first = register(s, RegisterFilter(per_page=2), certified.issued)
        second = register(s, RegisterFilter(per_page=2, page=2), certified.issued)
        searched = register(s, RegisterFilter(q="o", per_page=1, page=2), certified.issued)
    assert (_codes(first), first.pages, first.has_next, first.has_prev) == (
        [certified.cam_new, certified.ga],
        2,
        True,
        False,
    )
    assert (_codes(second), second.has_next, second.has_prev) == ([certified.vai], False, True)
    assert searched.total == 3 and _codes(searched) == [certified.ga]


@pytest.mark.parametrize(
    ("flt", "field"),
    [
        (RegisterFilter(star=2), "star"),
        (RegisterFilter(star=6), "star"),
        (RegisterFilter(group="weapons"), "group"),
        (RegisterFilter(area="NOPE"), "area"),
        (RegisterFilter(area="x" * 500), "area"),
        (RegisterFilter(province="D1"), "province"),  # a district is not a province
        (RegisterFilter(q="x" * 101), "q"),
        (RegisterFilter(page=0), "page"),
        (RegisterFilter(per_page=101), "per_page"),
    ],
)
def test_bad_filters_are_refused_with_their_reason(db, world, registry, flt, field):
    with db.session() as s, pytest.raises(InvalidData) as caught:
        register(s, flt, date(2026, 3, 2), groups=list(registry.catalogue.product_groups))
    assert caught.value.details["field"] == field
    assert caught.value.message("vi") and caught.value.message("en") != caught.value.message("vi")
