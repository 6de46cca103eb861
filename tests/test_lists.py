"""Late work, list order and filters, and the dashboard's counts (issue #11), on SQLite and PostgreSQL.

Time travel is explicit: products enter their states at chosen moments (`now=`), the lists are read
"at" chosen moments (`ProductFilter.now`). The Tết case uses ocop-148 with `sla_calendar: working`.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from ocop_workflow.demo import load_demo
from ocop_workflow.engine import Registry, get_registry
from ocop_workflow.errors import DefinitionError
from ocop_workflow.models import Organisation, Product, Rating
from ocop_workflow.services import dashboard
from ocop_workflow.services.access import load_actor
from ocop_workflow.services.certificates import local_day, standings
from ocop_workflow.services.lateness import lateness
from ocop_workflow.services.listing import ProductFilter, list_products
from ocop_workflow.services.products import create_product

from .helpers import VN, attach, move, to_council

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"


# --- stages in the catalogue ------------------------------------------------------------------------
def test_every_state_of_every_definition_lies_in_exactly_one_stage(registry):
    stages = registry.catalogue.stages
    assert [s.key for s in stages][:3] == ["idea", "plan", "implementation"]
    for (key, version), d in registry.definitions.items():
        for state in d.states:
            holders = [s.key for s in stages if s.covers(key, state)]
            assert len(holders) == 1, (key, version, state, holders)
    labels = [s.label.vi for s in stages]
    assert len(labels) == len(set(labels))


def _copy_workflows(tmp_path: Path, catalogue: str) -> Path:
    folder = tmp_path / "workflows"
    folder.mkdir(parents=True)
    for src in WORKFLOWS.glob("ocop-*.yaml"):
        (folder / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "catalogue.yaml").write_text(catalogue, encoding="utf-8")
    return folder


def test_the_loader_refuses_a_state_in_no_stage_or_in_two(tmp_path):
    text = (WORKFLOWS / "catalogue.yaml").read_text(encoding="utf-8")
    missing = text.replace("states: {ocop-1489: [commune_review]}", "states: {}")
    assert missing != text
    with pytest.raises(DefinitionError) as exc:
        Registry.from_directory(_copy_workflows(tmp_path / "a", missing))
    assert "state 'commune_review' of ocop-1489@v1 is in no stage" in str(exc.value)
    twice = text.replace("states: {ocop-1489: [commune_review]}", "states: {ocop-1489: [commune_review, idea]}")
    with pytest.raises(DefinitionError) as exc:
        Registry.from_directory(_copy_workflows(tmp_path / "b", twice))
    assert "state 'idea' of ocop-1489@v2 is in several stages (idea, commune_review)" in str(exc.value)
    misspelt = text.replace("states: {ocop-1489: [commune_review]}", "states: {ocop-1489: [comune_review]}")
    with pytest.raises(DefinitionError) as exc:
        Registry.from_directory(_copy_workflows(tmp_path / "c", misspelt))
    assert "state 'commune_review' of ocop-1489@v2 is in no stage" in str(exc.value)


# --- late work across Tết -------------------------------------------------------------------------
@pytest.fixture
def working_registry(tmp_path, registry) -> Registry:
    """The shipped definitions, ocop-148 (both versions) with `sla_calendar: working`: the registry then
    mixes calendars (ocop-1489 counts calendar days), as a province's might."""
    folder = _copy_workflows(tmp_path, (WORKFLOWS / "catalogue.yaml").read_text(encoding="utf-8"))
    for path in folder.glob("ocop-148.v*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert "sla_calendar: calendar" in text
        path.write_text(text.replace("sla_calendar: calendar", "sla_calendar: working"), encoding="utf-8")
    reg = Registry.from_directory(folder)
    assert reg.get("ocop-148").sla_calendar == "working" and reg.get("ocop-1489").sla_calendar == "calendar"
    return reg


def _at(y: int, m: int, d: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(y, m, d, hour, minute, tzinfo=VN)


def _product(db, registry, world, name: str, entered: datetime, *, plan: Path | None = None) -> int:
    """An ocop-148 food product of C1's household in `idea` since `entered`, or in `production_plan`
    (its idea form uploaded into the folder `plan`)."""
    officer = world.user("commune_officer", "C1")
    with db.transaction() as s:
        pid = create_product(
            s,
            registry,
            load_actor(s, officer),
            name=name,
            product_group="food",
            producer_id=world.producers["household"],
            workflow_key="ocop-148",
            now=entered,
        ).id
    if plan is not None:
        attach(db, registry, officer, pid, ["idea_registration"], plan)
        move(db, registry, officer, pid, "accept_idea", now=entered)
    return pid


def _names(db, registry, email: str, **flt) -> list[str]:
    with db.session() as s:
        page = list_products(s, registry, load_actor(s, email), ProductFilter(**flt), per_page=50, rows=True)
        return [row.name for row in page.items]


def test_late_mark_and_order_most_overdue_first_across_tet(db, working_registry, world, upload_dir):
    """Tết 2026 is Monday 16 to Friday 20 February. `idea` allows 30 working days, `production_plan` 60.

    * Tết-13: enters `idea` on Friday 13 Feb, just before Tết: its 30 working days end on Friday 3 April
      (without the holiday they would end on 27 March);
    * After-Tết: enters `idea` on Monday 23 Feb: ends on Monday 6 April;
    * Plan-Jan: enters `production_plan` on Thursday 8 Jan: 60 working days end on Thursday 9 April — a
      count that ignored Tết would put it on 2 April, before both others.
    """
    reg = working_registry
    tet = _product(db, reg, world, "Tết-13", _at(2026, 2, 13))
    after = _product(db, reg, world, "After-Tết", _at(2026, 2, 23))
    plan = _product(db, reg, world, "Plan-Jan", _at(2026, 1, 8), plan=upload_dir)
    officer = world.user("commune_officer", "C1")
    with db.session() as s:
        rows = {p.id: p for p in s.scalars(select(Product))}
    d148 = reg.get("ocop-148")

    def standing(pid: int, now: datetime):
        return lateness(d148, rows[pid].state, rows[pid].state_entered_at, now)

    assert [standing(p, _at(2026, 3, 1)).deadline for p in (tet, after, plan)] == [
        date(2026, 4, 3),
        date(2026, 4, 6),
        date(2026, 4, 9),
    ]
    # before Tết (14 Feb): nothing is late; the list's deadline order is the true one, not entry order
    before = standing(tet, _at(2026, 2, 14))
    assert (before.late, before.days_waiting, before.days_left) == (False, 1, 48)
    assert _names(db, reg, officer, sort="deadline", now=_at(2026, 2, 24)) == ["Tết-13", "After-Tết", "Plan-Jan"]
    assert _names(db, reg, officer, late=True, now=_at(2026, 3, 30)) == []  # 30 weekdays, but Tết does not count
    # the last day itself is not late, until its midnight
    last = standing(tet, _at(2026, 4, 3, 23, 59))
    assert (last.late, last.days_left) == (False, 0)
    assert _names(db, reg, officer, late=True, now=_at(2026, 4, 3, 23, 59)) == []
    assert _names(db, reg, officer, late=True, now=_at(2026, 4, 4, 0, 1)) == ["Tết-13"]
    late = standing(tet, _at(2026, 4, 4, 0, 1))
    assert (late.late, late.days_late) == (True, 1)
    # 7 April: two late, the most overdue first; the one still in time comes after them
    on_7th = _at(2026, 4, 7, 9)
    assert [standing(p, on_7th).days_late for p in (tet, after)] == [4, 1]
    assert (standing(plan, on_7th).late, standing(plan, on_7th).days_left) == (False, 2)
    assert _names(db, reg, officer, late=True, now=on_7th) == ["After-Tết", "Tết-13"]  # default: newest move first
    assert _names(db, reg, officer, late=True, sort="deadline", now=on_7th) == ["Tết-13", "After-Tết"]
    assert _names(db, reg, officer, sort="deadline", now=on_7th) == ["Tết-13", "After-Tết", "Plan-Jan"]
    # 10 April: all three late, most overdue first
    assert _names(db, reg, officer, late=True, sort="deadline", now=_at(2026, 4, 10)) == [
        "Tết-13",
        "After-Tết",
        "Plan-Jan",
    ]
    assert _names(db, reg, officer, sort="waiting") == ["Plan-Jan", "Tết-13", "After-Tết"]


def test_calendar_day_limits_and_products_without_a_limit(db, registry, world):
    """The shipped definitions count calendar days: a rated product has no deadline and sorts last."""
    officer = world.user("commune_officer", "C1")
    a = _product(db, registry, world, "Mới", _at(2026, 3, 1))  # idea: 30 days, until 31 March 10:00
    b = _product(db, registry, world, "Cũ", _at(2026, 2, 1))
    d = registry.get("ocop-148")
    with db.session() as s:
        entered = s.get(Product, a).state_entered_at
    assert lateness(d, "idea", entered, _at(2026, 3, 31, 9)).late is False
    assert lateness(d, "idea", entered, _at(2026, 3, 31, 10)).late is True
    assert lateness(d, "idea", entered, _at(2026, 3, 31, 10)).deadline == date(2026, 3, 31)
    assert lateness(d, "rated", entered, _at(2027, 1, 1)).deadline is None
    assert _names(db, registry, officer, late=True, now=_at(2026, 3, 31, 9)) == ["Cũ"]
    assert _names(db, registry, officer, late=True, now=_at(2026, 3, 31, 10)) == ["Mới", "Cũ"]
    with db.transaction() as s:
        s.get(Product, b).state = "rated"
    assert _names(db, registry, officer, sort="deadline") == ["Mới", "Cũ"]
    assert _names(db, registry, officer, late=True, now=_at(2026, 12, 1)) == ["Mới"]


# --- sorting, districts and the returned mark --------------------------------------------------
def test_sorting_by_each_column_and_the_returned_mark(db, registry, world, upload_dir):
    psec = world.user("province_secretariat", "P")
    sent = to_council(db, registry, world, upload_dir, name="Bưởi Hồng Giang", commune="C2")
    _product(db, registry, world, "Ấm trà Phượng Sơn", _at(2026, 3, 1))
    to_council(db, registry, world, upload_dir, name="Gà đồi Đồng Kỳ", commune="C3")
    move(db, registry, world.user("district_secretariat", "D1"), sent, "return_for_revision", comment="Bổ sung")
    with db.session() as s:
        page = list_products(s, registry, load_actor(s, psec), ProductFilter(sort="name"), rows=True)
        rows = {r.name: r for r in page.items}
    assert [r.name for r in page.items] == ["Ấm trà Phượng Sơn", "Bưởi Hồng Giang", "Gà đồi Đồng Kỳ"]
    assert {n: (r.district_name, r.commune_name, r.returned) for n, r in rows.items()} == {
        "Ấm trà Phượng Sơn": ("Lục Ngạn", "Phượng Sơn", False),
        "Bưởi Hồng Giang": ("Lục Ngạn", "Hồng Giang", True),
        "Gà đồi Đồng Kỳ": ("Yên Thế", "Đồng Kỳ", False),
    }
    # by district, then commune: Lục Ngạn (Hồng Giang, Phượng Sơn), then Yên Thế
    assert _names(db, registry, psec, sort="commune") == ["Bưởi Hồng Giang", "Ấm trà Phượng Sơn", "Gà đồi Đồng Kỳ"]
    # by the cycle: idea < implementation (the returned one) < district council
    assert _names(db, registry, psec, sort="state") == ["Ấm trà Phượng Sơn", "Bưởi Hồng Giang", "Gà đồi Đồng Kỳ"]
    assert _names(db, registry, psec, sort="waiting") == ["Ấm trà Phượng Sơn", "Gà đồi Đồng Kỳ", "Bưởi Hồng Giang"]
    assert _names(db, registry, psec, sort="deadline")[0] == "Ấm trà Phượng Sơn"  # entered in March: 30 days
    assert _names(db, registry, psec, stage="district_council") == ["Gà đồi Đồng Kỳ"]
    assert _names(db, registry, psec, stage="implementation") == ["Bưởi Hồng Giang"]
    assert _names(db, registry, psec, stage="no-such-stage") == []
    with db.session() as s:
        assert s.get(Product, sent).state == "implementation"


# --- the dashboard's counts on the demo data ----------------------------------------------------------
DEMO_NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
def demo_db(db, tmp_path):
    registry = get_registry()
    load_demo(db, registry, tmp_path / "uploads", seed=2024, now=DEMO_NOW)
    return db, registry


DEMO_USERS = ("tinh.bacgiang@demo.ocop.vn", "huyen.lucngan@demo.ocop.vn", "xa.phuongson@demo.ocop.vn")


def test_dashboard_counts_equal_a_direct_count_on_the_demo(demo_db):
    """For the province, a district and a commune (one demo load per database: it takes seconds)."""
    db, registry = demo_db
    for email in DEMO_USERS:
        _check_counts(db, registry, email)
    _check_drill_down(db)


def _check_counts(db, registry, email: str) -> None:
    with db.session() as s:
        who = load_actor(s, email)
        products = list(s.scalars(select(Product).where(who.object_filter(Product.commune_id, Product.producer_id))))
        orgs = {o.id: o for o in s.scalars(select(Organisation))}
        everything, waiting = dashboard.stage_counts(s, registry, who)
        counted = dashboard.census(s, who)
        area = dashboard.area_counts(s, who, None, counted)
        drill = {line.org_id: dashboard.area_counts(s, who, line.org_id) for line in area.lines if line.has_children}
        years = dashboard.rating_year_counts(s, who)
        stars = dashboard.star_counts(s, who, counted)
        standings_today = standings(s, [p.id for p in products], local_day())
        listed_stars = {n: list_products(s, registry, who, ProductFilter(star=n)).total for n in range(1, 6)}
        mine = {p.id for p in products}
        finals = [(r.at.year, r.product_id) for r in s.scalars(select(Rating).where(Rating.final.is_(True)))]
    assert products, email
    # per stage: the direct count of the products whose state the catalogue puts in that stage
    direct = Counter(registry.catalogue.stage_of(p.workflow_key, p.state).key for p in products)
    assert {c.key: c.count for c in everything} == dict(direct)
    assert [c.key for c in everything] == [s.key for s in registry.catalogue.stages if s.key in direct]
    assert sum(c.count for c in everything) == len(products)
    for counts in (everything, waiting):  # never two lines with one label
        assert len({c.label.vi for c in counts}) == len(counts)

    # per district (or whatever lies one level below the top of the area), and per commune under each
    def under(org_id: int) -> int:
        return sum(1 for p in products if orgs[p.commune_id].path.startswith(orgs[org_id].path))

    assert {line.org_id: line.count for line in area.lines} == {line.org_id: under(line.org_id) for line in area.lines}
    assert area.total == len(products)
    for org_id, view in drill.items():
        assert {x.org_id: x.count for x in view.lines} == {x.org_id: under(x.org_id) for x in view.lines}
        assert view.total == under(org_id)
    assert counted.per_group == dict(Counter(p.product_group for p in products))
    # per star as the list's star filter means it (a tile links there): 1-2★ by the product's star, 3-5★ while a
    # certificate of that star counts today; and each tile equals the list it links to
    held = standings_today
    direct_stars = Counter(p.current_star for p in products if p.current_star and p.current_star < 3)
    direct_stars.update(held[p.id].star for p in products if p.id in held and held[p.id].certified)
    assert stars == dict(direct_stars)
    assert stars == {n: total for n, total in listed_stars.items() if total}
    per_year = {y: len({pid for yy, pid in finals if yy == y and pid in mine}) for y, _pid in finals}
    assert dict(years) == {y: n for y, n in per_year.items() if n}
    assert [y for y, _n in years] == sorted(dict(years), reverse=True)


def _check_drill_down(db) -> None:
    """The province sees its ten districts and drills down to the three communes of one."""
    with db.session() as s:
        who = load_actor(s, "tinh.bacgiang@demo.ocop.vn")
        area = dashboard.area_counts(s, who)
        assert area.parent is not None and area.parent.level == "province"
        assert len(area.lines) == 10 and {line.level for line in area.lines} == {"district"}
        luc_ngan = next(line for line in area.lines if "Lục Ngạn" in line.name)
        communes = dashboard.area_counts(s, who, luc_ngan.org_id)
        assert [o.name for o in communes.trail][-1] == luc_ngan.name
        assert len(communes.lines) == 3 and {line.level for line in communes.lines} == {"commune"}
        assert communes.total == luc_ngan.count > 0
