"""Plans as data (issue #12): who sees a plan, loading and replacing one, deleting one (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocop_workflow.errors import NotFound, PermissionDenied
from ocop_workflow.models import Plan
from ocop_workflow.reports.plans import PlanFileError, read_plan
from ocop_workflow.services import plans
from ocop_workflow.services.access import Actor, load_actor

PLANS_DIR = Path(__file__).resolve().parents[1] / "ocop_workflow" / "data" / "plans"

PLAN = """\
kind: plan
name: "Kế hoạch OCOP tỉnh P"
basis: {number: "12/KH-UBND", date: 2023-02-10}
organisation: "P"
body: office
years: [2023, 2024]
targets:
  - {indicator: new_supported, each_year: true, at_least: 10}
  - {indicator: reached_3_star, at_least: 4}
  - {indicator: new_supported, organisation: "D1", year: 2024, at_least: 3}
"""

DISTRICT_PLAN = PLAN.replace('organisation: "P"', 'organisation: "D2"').replace(
    '  - {indicator: new_supported, organisation: "D1", year: 2024, at_least: 3}\n', ""
)


def _load(s, world, key: str, text: str = PLAN) -> Plan:
    return plans.load_plan(s, load_actor(s, key), read_plan(text.encode(), "plan.yaml"))


def test_load_creates_targets_then_replaces_them(db, world):
    with db.transaction() as s:
        plan = _load(s, world, world.user("province_secretariat", "P"))
        first_id = plan.id
        got = [(t.indicator, t.organisation.code, t.year, t.comparison, t.low) for t in plan.targets]
    assert got == [
        ("new_supported", "P", 2023, "at_least", 10),
        ("new_supported", "P", 2024, "at_least", 10),
        ("reached_3_star", "P", None, "at_least", 4),
        ("new_supported", "D1", 2024, "at_least", 3),
    ]
    with db.transaction() as s:  # the same organisation and name: the plan's targets are replaced
        plan = _load(s, world, world.user("province_association", "P"), PLAN.replace("at_least: 4}", "at_least: 6}"))
        assert plan.id == first_id
        assert [t.low for t in plan.targets if t.indicator == "reached_3_star"] == [6]
        assert len(plan.targets) == 4
    with db.session() as s:
        assert s.query(Plan).count() == 1


def test_a_refused_load_writes_nothing_and_lists_every_problem(db, world):
    bad = PLAN.replace('organisation: "D1"', 'organisation: "C3"').replace("at_least: 4}", "at_least: 4, year: 2030}")
    with db.transaction() as s, pytest.raises(PlanFileError) as refused:
        _load(s, world, world.user("province_secretariat", "P"), bad)
    assert len(refused.value.problems) == 1  # 2030 is outside the period: reported by the file check
    assert "2030" in refused.value.problems[0].text.en
    wrong_org = PLAN.replace('organisation: "D1"', 'organisation: "XX"')
    with db.transaction() as s, pytest.raises(PlanFileError) as refused:
        _load(s, world, world.user("province_secretariat", "P"), wrong_org)
    assert refused.value.problems[0].place == "plan.yaml:10"
    assert "XX" in refused.value.problems[0].text.vi
    outside = DISTRICT_PLAN.replace("at_least: 4}", 'at_least: 4, organisation: "C1"}')
    with db.transaction() as s, pytest.raises(PlanFileError) as refused:
        _load(s, world, world.user("district_secretariat", "D2"), outside)
    assert "C1" in refused.value.problems[0].text.en and "not under" in refused.value.problems[0].text.en
    with db.session() as s:
        assert s.query(Plan).count() == 0


def test_only_the_owner_level_manages_a_plan(db, world):
    with db.transaction() as s, pytest.raises(PermissionDenied):
        _load(s, world, world.user("district_secretariat", "D1"), PLAN)  # a district cannot set the province's plan
    with db.transaction() as s, pytest.raises(PermissionDenied):
        _load(s, world, world.user("commune_association", "C1"), PLAN)
    with db.transaction() as s:
        plan_id = _load(s, world, world.user("province_association", "P")).id
    with db.transaction() as s, pytest.raises(PermissionDenied):
        plans.delete_plan(s, load_actor(s, world.user("district_association", "D1")), plan_id)
    with db.transaction() as s:
        plans.delete_plan(s, load_actor(s, world.user("province_association", "P")), plan_id)
    with db.session() as s:
        assert s.query(Plan).count() == 0


def test_a_plan_is_visible_where_areas_overlap(db, world):
    with db.transaction() as s:
        province_plan = _load(s, world, world.user("province_secretariat", "P")).id
        district_plan = _load(s, world, world.user("district_association", "D2"), DISTRICT_PLAN).id

    def seen(key: str) -> set[int]:
        with db.session() as s:
            return {p.id for p in plans.visible_plans(s, load_actor(s, key))}

    assert seen(world.user("province_council", "P")) == {province_plan, district_plan}
    assert seen(world.user("commune_association", "C1")) == {province_plan}  # its own area within the province
    assert seen(world.user("commune_officer", "C3")) == {province_plan, district_plan}
    assert seen(world.user("district_association", "D1")) == {province_plan}
    assert seen(world.user("producer", "C1")) == set()  # a producer's account reads no reports
    with db.session() as s:
        assert {p.id for p in plans.visible_plans(s, Actor.system_actor())} == {province_plan, district_plan}
        with pytest.raises(NotFound):
            plans.get_visible_plan(s, load_actor(s, world.user("district_association", "D1")), district_plan)
        with pytest.raises(NotFound):
            plans.get_visible_plan(s, load_actor(s, world.user("province_council", "P")), 987654)
        assert plans.get_visible_plan(s, load_actor(s, world.user("commune_officer", "C3")), district_plan).id


def test_the_demo_plan_files_load(db, world):
    """The shipped plans load wherever the province is "24" (the demo's tree is built the same way)."""
    for path in sorted(PLANS_DIR.glob("*.yaml")):
        source = read_plan(path.read_bytes(), path.name)
        assert source.problems == [], path
        assert source.organisation == "24"
    demo = read_plan((PLANS_DIR / "615-hoi-nong-dan-2022-2025.yaml").read_bytes(), "615.yaml")
    assert demo.basis_number == "615/QĐ-UBND" and str(demo.basis_date) == "2022-04-22"
    assert (demo.first_year, demo.last_year, demo.body) == (2022, 2025, "association")
    yearly = [t for t in demo.targets if t.indicator == "new_supported" and t.organisation is None]
    assert [t.year for t in yearly] == [2022, 2023, 2024, 2025]
    upgraded = [t for t in demo.targets if t.indicator == "upgraded"]
    assert {(t.low, t.high) for t in upgraded} == {(10, 20)} and "20" in upgraded[0].note
