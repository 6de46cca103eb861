"""A unit's programme records (services/programme.py) on SQLite and PostgreSQL: the rules that keep their
dates honest, which products an area or a chain may hold, and that each unit sees and writes only its area."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from ocop_workflow.errors import Conflict, InvalidData, NotFound, PermissionDenied
from ocop_workflow.models import Producer
from ocop_workflow.services import programme
from ocop_workflow.services.access import load_actor

from .helpers import new_product

TODAY = date(2026, 6, 15)


def _as(s, world, role: str, org: str):
    return load_actor(s, world.user(role, org))


def _field(exc: pytest.ExceptionInfo) -> str | None:
    return exc.value.details.get("field")


@pytest.fixture
def products(db, registry, world) -> dict[str, int]:
    """A product of C1's co-operative, one of its household, and one in C3 (the other district)."""
    officer = world.user("commune_officer", "C1")
    return {
        "coop": new_product(db, registry, officer, world.producers["cooperative"], name="Vải thiều sấy"),
        "household": new_product(db, registry, officer, world.producers["household"], name="Bánh đa Kế"),
        "c3": new_product(
            db, registry, world.user("commune_officer", "C3"), world.other_producer, name="Gà đồi Yên Thế"
        ),
    }


def test_material_area_rules_links_and_scope(db, registry, world, products):
    with db.transaction() as s:
        assoc = _as(s, world, "commune_association", "C1")
        area = programme.create_area(
            s, assoc, commune_id=world.orgs["C1"], name="Vùng vải Phượng Sơn", area_ha="12,5", growing_code="VN-BG.01"
        )
        assert (area.area_ha, area.growing_code, area.commune.code) == (12.5, "VN-BG.01", "C1")
        for value in ("0", "-3", "abc", "1e3", "1.250.000.000", "1.000.000,5"):
            with pytest.raises(InvalidData) as bad:
                programme.create_area(s, assoc, commune_id=world.orgs["C1"], name="X", area_ha=value)
            assert _field(bad) == "area_ha" and "không quá 1.000.000 ha" in bad.value.text.vi
        # sizes grouped as the pages show them are read as such (a single separator stays the decimal one)
        for typed, ha in (("1.250,5", 1250.5), ("1,250.5", 1250.5), ("1 250,5", 1250.5), ("1.000.000", 1e6)):
            assert programme.edit_area(s, assoc, area.id, area_ha=typed).area_ha == ha, typed
        programme.edit_area(s, assoc, area.id, area_ha="12,5")
        with pytest.raises(InvalidData) as bad:
            programme.create_area(s, assoc, commune_id=world.orgs["C1"], name="X", growing_code="VN BG 01")
        assert _field(bad) == "growing_code"
        with pytest.raises(InvalidData) as bad:
            programme.create_area(s, assoc, commune_id=world.orgs["C1"], name="X", growing_code="A" * 41)
        assert _field(bad) == "growing_code"
        district = _as(s, world, "district_association", "D1")
        with pytest.raises(InvalidData) as bad:  # an area lies in a commune, not a district
            programme.create_area(s, district, commune_id=world.orgs["D1"], name="X")
        assert _field(bad) == "commune_id"
        with pytest.raises(NotFound):  # another district's commune does not exist for C1
            programme.create_area(s, assoc, commune_id=world.orgs["C3"], name="X")
        with pytest.raises(PermissionDenied):  # a producer's own account records nothing of the unit
            programme.create_area(s, _as(s, world, "producer", "C1"), commune_id=world.orgs["C1"], name="X")
        area_id = area.id

    with db.transaction() as s:
        assoc = _as(s, world, "commune_association", "C1")
        link = programme.link_product(
            s, assoc, area_id, product_id=products["coop"], linked_on=date(2026, 3, 1), today=TODAY
        )
        with pytest.raises(Conflict):  # not linked twice while linked
            programme.link_product(s, assoc, area_id, product_id=products["coop"], linked_on=TODAY, today=TODAY)
        with pytest.raises(InvalidData) as bad:
            programme.link_product(
                s, assoc, area_id, product_id=products["household"], linked_on=TODAY + timedelta(1), today=TODAY
            )
        assert _field(bad) == "linked_on"
        with pytest.raises(NotFound):  # C1's association does not see C3's product
            programme.link_product(s, assoc, area_id, product_id=products["c3"], linked_on=TODAY, today=TODAY)
        province = _as(s, world, "province_association", "P")
        with pytest.raises(InvalidData) as bad:  # the province sees it, but it is not in the area's district
            programme.link_product(s, province, area_id, product_id=products["c3"], linked_on=TODAY, today=TODAY)
        assert _field(bad) == "product_id" and "D1" not in str(bad.value)
        with pytest.raises(InvalidData) as bad:
            programme.unlink_product(s, assoc, link.id, unlinked_on=date(2026, 2, 1), today=TODAY)
        assert _field(bad) == "unlinked_on"
        programme.unlink_product(s, assoc, link.id, unlinked_on=date(2026, 5, 1), today=TODAY)
        with pytest.raises(Conflict):
            programme.unlink_product(s, assoc, link.id, unlinked_on=TODAY, today=TODAY)
        with pytest.raises(InvalidData):  # a new link cannot overlap the one that ended
            programme.link_product(
                s, assoc, area_id, product_id=products["coop"], linked_on=date(2026, 4, 1), today=TODAY
            )
        again = programme.link_product(
            s, assoc, area_id, product_id=products["coop"], linked_on=date(2026, 5, 1), today=TODAY
        )
        assert again.unlinked_on is None

    with db.transaction() as s:
        other = _as(s, world, "district_association", "D2")
        assert programme.list_areas(s, other).total == 0
        with pytest.raises(NotFound):
            programme.get_area(s, other, area_id)
        with pytest.raises(NotFound):
            programme.edit_area(s, other, area_id, name="Y")
        district = _as(s, world, "district_association", "D1")
        assert [a.name for a in programme.list_areas(s, district).items] == ["Vùng vải Phượng Sơn"]
        assert programme.list_areas(s, district, org_id=world.orgs["C2"]).total == 0
        with pytest.raises(NotFound):  # a filter outside the area
            programme.list_areas(s, district, org_id=world.orgs["C3"])
        edited = programme.edit_area(s, district, area_id, area_ha="20", growing_code=None)
        assert (edited.area_ha, edited.growing_code) == (20.0, None)


def test_value_chain_members_products_and_dates(db, registry, world, products):
    with db.transaction() as s:
        c2_producer = s.scalars(
            select(Producer.id).where(Producer.commune_id == world.orgs["C2"]).order_by(Producer.id)
        ).first()
        district = _as(s, world, "district_association", "D1")
        chain = programme.create_chain(
            s,
            district,
            organisation_id=world.orgs["D1"],
            name="Chuỗi vải thiều Lục Ngạn",
            lead_producer_id=world.producers["cooperative"],
            members=[world.producers["household"], c2_producer],
            products=[products["coop"], products["household"]],
            started_on=date(2025, 1, 10),
            today=TODAY,
        )
        assert chain.lead_name == "Chủ thể cooperative" and len(chain.members) == 2
        assert chain.status_on(date(2025, 6, 1)) == "building"
        with pytest.raises(InvalidData) as bad:  # a member from another district
            programme.create_chain(
                s,
                district,
                organisation_id=world.orgs["D1"],
                name="X",
                lead_name="HTX X",
                members=[world.other_producer],
                started_on=TODAY,
                today=TODAY,
            )
        assert _field(bad) == "members"
        with pytest.raises(InvalidData) as bad:  # a product of neither the lead nor a member
            programme.create_chain(
                s,
                district,
                organisation_id=world.orgs["D1"],
                name="X",
                lead_name="HTX X",
                members=[world.producers["household"]],
                products=[products["coop"]],
                started_on=TODAY,
                today=TODAY,
            )
        assert _field(bad) == "products"
        with pytest.raises(InvalidData) as bad:  # without a lead
            programme.create_chain(s, district, organisation_id=world.orgs["D1"], name="X", started_on=TODAY)
        assert _field(bad) == "lead_name"
        with pytest.raises(InvalidData) as bad:  # a chain is a commune's or a district's
            programme.create_chain(
                s,
                _as(s, world, "province_association", "P"),
                organisation_id=world.orgs["P"],
                name="X",
                lead_name="Y",
                started_on=TODAY,
            )
        assert _field(bad) == "organisation_id"
        chain_id = chain.id

    with db.transaction() as s:
        district = _as(s, world, "district_association", "D1")
        with pytest.raises(InvalidData) as bad:
            programme.update_chain(s, district, chain_id, working_from=date(2024, 12, 31), today=TODAY)
        assert _field(bad) == "working_from"
    with db.transaction() as s:
        district = _as(s, world, "district_association", "D1")
        with pytest.raises(InvalidData) as bad:
            programme.update_chain(s, district, chain_id, working_from=TODAY + timedelta(1), today=TODAY)
        assert _field(bad) == "working_from"
    with db.transaction() as s:
        district = _as(s, world, "district_association", "D1")
        programme.update_chain(s, district, chain_id, working_from=date(2025, 9, 1), today=TODAY)
        with pytest.raises(InvalidData) as bad:  # stopped before it worked
            programme.update_chain(s, district, chain_id, stopped_on=date(2025, 8, 1), today=TODAY)
        assert _field(bad) == "stopped_on"
    with db.transaction() as s:
        district = _as(s, world, "district_association", "D1")
        chain = programme.update_chain(s, district, chain_id, stopped_on=date(2026, 3, 1), today=TODAY)
        assert [chain.status_on(d) for d in (date(2025, 10, 1), date(2026, 3, 1))] == ["working", "stopped"]
        chain = programme.update_chain(s, district, chain_id, members=[], products=[products["coop"]])
        assert chain.members == [] and [p.id for p in chain.products] == [products["coop"]]
        with pytest.raises(InvalidData):  # the household left: its product cannot stay
            programme.update_chain(s, district, chain_id, products=[products["household"]])
    with db.transaction() as s:
        commune = _as(s, world, "commune_association", "C1")
        with pytest.raises(NotFound):  # a district's chain lies above a commune's area
            programme.get_chain(s, commune, chain_id)
        assert programme.list_chains(s, commune).total == 0
        assert programme.list_chains(s, _as(s, world, "province_association", "P")).total == 1


def test_sales_points_and_trainings(db, registry, world):
    with db.transaction() as s:
        d2 = _as(s, world, "district_association", "D2")
        point = programme.create_sales_point(
            s,
            d2,
            organisation_id=world.orgs["D2"],
            name="Điểm bán OCOP Yên Thế",
            address="Thị trấn Cầu Gồ",
            opened_on=date(2023, 5, 1),
            today=TODAY,
        )
        with pytest.raises(InvalidData) as bad:
            programme.create_sales_point(
                s,
                d2,
                organisation_id=world.orgs["C3"],
                name="X",
                address="Y",
                opened_on=date(2023, 5, 1),
                closed_on=date(2023, 4, 1),
                today=TODAY,
            )
        assert _field(bad) == "closed_on"
        with pytest.raises(InvalidData) as bad:
            programme.create_sales_point(
                s, d2, organisation_id=world.orgs["C3"], name="X", address="", opened_on=TODAY, today=TODAY
            )
        assert _field(bad) == "address"
        with pytest.raises(InvalidData) as bad:
            programme.close_sales_point(s, d2, point.id, closed_on=date(2023, 1, 1), today=TODAY)
        assert _field(bad) == "closed_on"
        programme.close_sales_point(s, d2, point.id, closed_on=date(2026, 1, 31), today=TODAY)
        with pytest.raises(Conflict):
            programme.close_sales_point(s, d2, point.id, closed_on=TODAY, today=TODAY)
        point_id = point.id

    with db.transaction() as s:
        c1 = _as(s, world, "commune_association", "C1")
        with pytest.raises(NotFound):
            programme.close_sales_point(s, c1, point_id, closed_on=TODAY, today=TODAY)
        assert programme.list_sales_points(s, c1).total == 0
        # a commune OCOP officer reads nothing but may record (permissions.yaml); a council member may not
        with pytest.raises(PermissionDenied):
            programme.create_sales_point(
                s,
                _as(s, world, "district_council", "D1"),
                organisation_id=world.orgs["D1"],
                name="X",
                address="Y",
                opened_on=TODAY,
                today=TODAY,
            )

        training = programme.create_training(
            s,
            registry,
            c1,
            organisation_id=world.orgs["C1"],
            kind="training",
            held_on=date(2026, 4, 2),
            topic="Xây dựng câu chuyện sản phẩm",
            people={"association_officer": "12", "producer": 30, "ocop_officer": ""},
            today=TODAY,
        )
        assert [(a.role, a.people) for a in training.attendance] == [("association_officer", 12), ("producer", 30)]
        for people in ({}, {"producer": "0"}, {"producer": "2,5"}, {"producer": -1}, {"farmer": 3}):
            with pytest.raises(InvalidData) as bad:
                programme.create_training(
                    s,
                    registry,
                    c1,
                    organisation_id=world.orgs["C1"],
                    kind="outreach",
                    held_on=TODAY,
                    topic="T",
                    people=people,
                    today=TODAY,
                )
            assert _field(bad) == "people", people
        with pytest.raises(InvalidData) as bad:
            programme.create_training(
                s,
                registry,
                c1,
                organisation_id=world.orgs["C1"],
                kind="party",
                held_on=TODAY,
                topic="T",
                people={"producer": 1},
                today=TODAY,
            )
        assert _field(bad) == "kind"
        edited = programme.edit_training(s, registry, c1, training.id, people={"producer": 25}, today=TODAY)
        assert [(a.role, a.people) for a in edited.attendance] == [("producer", 25)]
        assert programme.counts(s, c1) == {"areas": 0, "chains": 0, "sales_points": 0, "trainings": 1}
        assert programme.list_trainings(s, _as(s, world, "district_association", "D2")).total == 0
