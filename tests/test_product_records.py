"""A product's programme records (services/product_records.py) on SQLite and PostgreSQL: who may record
what, the rules of dates, platforms, addresses and amounts, and scope (out of the area is not found)."""

from __future__ import annotations

from datetime import date

import pytest

from ocop_workflow.errors import Conflict, InvalidData, NotFound, PermissionDenied
from ocop_workflow.models import MaterialArea, MaterialAreaProduct, ProductRevenue
from ocop_workflow.services import product_records as records
from ocop_workflow.services.access import load_actor

from .helpers import count, new_product

TODAY = date(2026, 12, 2)


@pytest.fixture
def product(db, registry, world) -> int:
    return new_product(db, registry, world.user("commune_officer", "C1"), world.producers["cooperative"])


@pytest.fixture
def platforms(registry):
    return registry.catalogue.ecommerce_platforms


def _as(s, world, role: str, org: str):
    return load_actor(s, world.user(role, org))


def test_supports_follow_the_acting_unit_and_its_rules(db, world, product):
    with db.transaction() as s:
        district = records.add_support(
            s, _as(s, world, "district_association", "D1"), product, started_on=date(2025, 3, 1), today=TODAY
        )
        assert district.organisation.code == "D1"  # the acting membership's unit
        commune = records.add_support(
            s,
            _as(s, world, "commune_association", "C1"),
            product,
            started_on=date(2025, 4, 1),
            officer=world.user("commune_association", "C1"),
            note="Hướng dẫn bao bì",
            today=TODAY,
        )
        assert (commune.organisation.code, commune.officer.email) == ("C1", world.user("commune_association", "C1"))
        # the province names the district's unit explicitly (it covers it)
        province = _as(s, world, "province_association", "P")
        assert [o.code for o in records.support_organisations(s, province, commune.product)] == ["C1", "D1", "P"]
        with pytest.raises(Conflict) as exc:  # D1 already supports it, not ended
            records.add_support(s, province, product, organisation_id=world.orgs["D1"], started_on=TODAY, today=TODAY)
        assert exc.value.details["field"] == "organisation_id"
        ended = records.end_support(s, province, district.id, ended_on=date(2026, 1, 31), today=TODAY)
        assert ended.ended_on == date(2026, 1, 31)
        again = records.add_support(
            s, province, product, organisation_id=world.orgs["D1"], started_on=date(2026, 6, 1), today=TODAY
        )
        listed = records.list_supports(s, province, product)
        assert [x.id for x in listed] == [again.id, commune.id, district.id]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"started_on": date(2026, 12, 3)}, "started_on"),  # the future
        ({"started_on": None}, "started_on"),
        ({"started_on": TODAY, "organisation_id": "C3"}, "organisation_id"),  # another district's unit
        ({"started_on": TODAY, "organisation_id": "VN"}, "organisation_id"),  # not an association level of it
        ({"started_on": TODAY, "officer": "commune_officer@C1"}, "officer"),  # not an association role
        ({"started_on": TODAY, "officer": "district_association@D1"}, "officer"),  # not of the commune's unit
        ({"started_on": TODAY, "officer": "nobody@example.org"}, "officer"),
        ({"started_on": TODAY, "note": "x\x00y"}, "note"),
    ],
)
def test_a_support_refuses_bad_input_by_field(db, world, product, kwargs, field):
    kwargs = dict(kwargs)
    if kwargs.get("organisation_id"):
        kwargs["organisation_id"] = world.orgs[kwargs["organisation_id"]]
    if "@" in str(kwargs.get("officer", "")) and not kwargs["officer"].startswith("nobody"):
        role, org = kwargs["officer"].split("@")
        kwargs["officer"] = world.user(role, org)
    with db.transaction() as s:
        who = _as(s, world, "province_association", "P")
        kwargs.setdefault("organisation_id", world.orgs["C1"])
        with pytest.raises(InvalidData) as exc:
            records.add_support(s, who, product, today=TODAY, **kwargs)
        assert exc.value.details["field"] == field
        assert exc.value.text.vi and exc.value.text.en and exc.value.text.vi != exc.value.text.en
    assert count(db, records.ProductSupport) == 0


def test_ending_a_support_checks_its_dates(db, world, product):
    with db.transaction() as s:
        who = _as(s, world, "commune_association", "C1")
        sup = records.add_support(s, who, product, started_on=date(2026, 5, 1), today=TODAY)
        for day in (date(2026, 4, 30), date(2026, 12, 3)):
            with pytest.raises(InvalidData) as exc:
                records.end_support(s, who, sup.id, ended_on=day, today=TODAY)
            assert exc.value.details["field"] == "ended_on"
        records.end_support(s, who, sup.id, ended_on=date(2026, 5, 1), today=TODAY)  # the same day is fine
        with pytest.raises(Conflict):
            records.end_support(s, who, sup.id, ended_on=TODAY, today=TODAY)
        with pytest.raises(NotFound):  # the support is of another product than the one named
            records.end_support(s, who, sup.id, product_id=product + 1000, today=TODAY)


def test_who_may_record_and_who_sees(db, registry, world, product):
    other = new_product(db, registry, world.user("commune_officer", "C3"), world.other_producer, name="Gà đồi")
    with db.transaction() as s:
        with pytest.raises(PermissionDenied):  # an OCOP office does not record the association's support
            records.add_support(s, _as(s, world, "commune_officer", "C1"), product, started_on=TODAY, today=TODAY)
        with pytest.raises(NotFound):  # another district's product does not exist for a commune user
            records.add_support(s, _as(s, world, "commune_association", "C1"), other, started_on=TODAY, today=TODAY)
        with pytest.raises(NotFound):
            records.list_listings(s, _as(s, world, "district_association", "D1"), other)
        sup = records.add_support(s, _as(s, world, "commune_association", "C3"), other, started_on=TODAY, today=TODAY)
        with pytest.raises(NotFound):  # nor does its support
            records.end_support(s, _as(s, world, "district_association", "D1"), sup.id, today=TODAY)
        # the producer's own account declares its revenue and listings, not another producer's
        mine = _as(s, world, "producer", "C1")
        records.set_revenue(s, mine, product, 2025, "1.250.000.000", today=TODAY)
        household = new_product_in(s, registry, world)
        with pytest.raises(NotFound):
            records.set_revenue(s, mine, household, 2025, "1", today=TODAY)
        with pytest.raises(PermissionDenied):  # a council member reads, does not record
            records.set_revenue(s, _as(s, world, "district_council", "D1"), product, 2025, "1", today=TODAY)


def new_product_in(s, registry, world) -> int:
    from ocop_workflow.services.products import create_product

    return create_product(
        s,
        registry,
        _as(s, world, "commune_officer", "C1"),
        name="Bánh đa",
        product_group="food",
        producer_id=world.producers["household"],
    ).id


def test_listings(db, world, product, platforms):
    with db.transaction() as s:
        who = _as(s, world, "producer", "C1")
        url = "https://shopee.vn/vai-thieu-luc-ngan-i.123.456"
        first = records.add_listing(
            s, who, product, platform="shopee", url=f"  {url} ", listed_on=date(2025, 6, 1), platforms=platforms
        )
        assert first.url == url
        with pytest.raises(Conflict):
            records.add_listing(s, who, product, platform="shopee", url=url, listed_on=TODAY, platforms=platforms)
        # the same address on another platform, or once removed, is a new listing
        records.add_listing(s, who, product, platform="other", url=url, listed_on=TODAY, platforms=platforms)
        with pytest.raises(InvalidData) as exc:
            records.remove_listing(s, who, first.id, removed_on=date(2025, 5, 31), today=TODAY)
        assert exc.value.details["field"] == "removed_on"
        records.remove_listing(s, who, first.id, removed_on=date(2025, 12, 31), today=TODAY)
        with pytest.raises(Conflict):
            records.remove_listing(s, who, first.id, today=TODAY)
        again = records.add_listing(
            s, who, product, platform="shopee", url=url, listed_on=date(2026, 2, 1), platforms=platforms, today=TODAY
        )
        assert [x.id for x in records.list_listings(s, who, product)][-1] == first.id  # removed ones last
        assert again.removed_on is None


@pytest.mark.parametrize(
    ("platform", "url", "field"),
    [
        ("amazon", "https://amazon.com/x", "platform"),
        ("shopee", "ftp://shopee.vn/x", "url"),
        ("shopee", "javascript:alert(1)", "url"),
        ("shopee", "https://", "url"),
        ("shopee", "https://shopee", "url"),
        ("shopee", "https://shop ee.vn/x", "url"),
        ("shopee", "https://user:pw@shopee.vn/x", "url"),
        ("shopee", "https://shopee.vn:port/x", "url"),
        ("shopee", "https://shopee.vn/" + "a" * 490, "url"),  # over 500 characters
        ("shopee", "", "url"),
    ],
)
def test_a_listing_refuses_bad_platforms_and_addresses(db, world, product, platforms, platform, url, field):
    with db.transaction() as s:
        who = _as(s, world, "commune_officer", "C1")
        with pytest.raises(InvalidData) as exc:
            records.add_listing(s, who, product, platform=platform, url=url, listed_on=TODAY, platforms=platforms)
        assert exc.value.details["field"] == field


def test_revenue_is_one_figure_a_year_replaced_by_a_new_declaration(db, world, product):
    with db.transaction() as s:
        producer = _as(s, world, "producer", "C1")
        first = records.set_revenue(s, producer, product, 2025, "1.250.000.000", today=TODAY)
        assert first.amount == 1_250_000_000
        officer = _as(s, world, "commune_officer", "C1")
        second = records.set_revenue(s, officer, product, "2025", "1250000001", today=TODAY)
        assert second.id == first.id and second.amount == 1_250_000_001 and second.declared_by_id == officer.id
        records.set_revenue(s, officer, product, 2024, 0, today=TODAY)
        assert [(r.year, r.amount) for r in records.list_revenues(s, officer, product)] == [
            (2025, 1_250_000_001),
            (2024, 0),
        ]
    assert count(db, ProductRevenue) == 2


@pytest.mark.parametrize(
    ("year", "amount", "field"),
    [
        (1999, "1", "year"),
        (2027, "1", "year"),
        ("20x5", "1", "year"),
        (2025, "-5", "amount"),
        (2025, "1.250,5", "amount"),
        (2025, "85,5", "amount"),
        (2025, "1.25.000", "amount"),
        (2025, "1e9", "amount"),
        (2025, "", "amount"),
        (2025, "9" * 19, "amount"),
    ],
)
def test_revenue_refuses_bad_years_and_amounts(db, world, product, year, amount, field):
    with db.transaction() as s:
        with pytest.raises(InvalidData) as exc:
            records.set_revenue(s, _as(s, world, "producer", "C1"), product, year, amount, today=TODAY)
        assert exc.value.details["field"] == field


@pytest.mark.parametrize(
    ("typed", "value"),
    [("1250000000", 1_250_000_000), ("1.250.000.000", 1_250_000_000), ("1,250,000,000", 1_250_000_000),
     ("1 250 000 000", 1_250_000_000), (" 0 ", 0), ("750.000 đ", 750_000), ("1.250", 1250),
     ("1.250,000", None), ("12.50", None), ("+5", None), ("1_000", None)],
)  # fmt: skip
def test_amounts_as_people_type_them(typed, value):
    assert records.parse_amount(typed) == value


def test_areas_a_product_is_tied_to(db, world, product):
    with db.transaction() as s:
        area = MaterialArea(name="Vùng vải VietGAP Phượng Sơn", commune_id=world.orgs["C1"], area_ha=120.5)
        s.add(area)
        s.flush()
        s.add(MaterialAreaProduct(area_id=area.id, product_id=product, linked_on=date(2024, 5, 1)))
    with db.session() as s:
        who = _as(s, world, "district_association", "D1")
        (link,) = records.list_areas(s, who, product)
        assert (link.area.name, link.area.commune.code) == ("Vùng vải VietGAP Phượng Sơn", "C1")
        view = records.product_records(s, who, link.product)
        assert view.may_support and view.may_market and not view.empty
        # the district's officer names its own unit or the commune's it covers, never the province's
        assert [o.code for o in view.organisations] == ["C1", "D1"]
