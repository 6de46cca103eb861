"""The demo's plans and programme records (ocop_workflow/demo_plans.py): what the report of now shows a reader.

The demo is loaded once per backend (SQLite and PostgreSQL) and read as the provincial association, the
district association of Lục Ngạn and the commune association of Phượng Sơn would read it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ocop_workflow.db import Database
from ocop_workflow.demo import load_demo
from ocop_workflow.demo_plans import LAGGING
from ocop_workflow.engine import get_registry
from ocop_workflow.models import Plan, ProductRevenue, SalesPoint, Training
from ocop_workflow.reports.model import BEHIND, MET
from ocop_workflow.reports.progress import plan_report
from ocop_workflow.services.access import load_actor
from ocop_workflow.services.plans import visible_plans

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
TODAY = NOW.date()
SCHEME = "615/QĐ-UBND"


def _digest(report) -> list[tuple]:
    return [(t.indicator, t.year, t.figure.value, t.status) for t in report.targets] + [
        (u.organisation.code, round(u.progress, 9), u.behind) for u in report.units
    ]


@pytest.mark.slow
def test_the_demo_report_has_met_and_behind_targets_and_lagging_lang_giang_last(db: Database, tmp_path) -> None:
    load_demo(db, get_registry(), tmp_path / "uploads", now=NOW)
    with db.session() as s:
        province = load_actor(s, "hoind.tinh@demo.ocop.vn", TODAY)
        plans = {p.basis_number: p for p in visible_plans(s, province)}
        assert set(plans) == {SCHEME, "25/KH-UBND"}
        for plan in plans.values():
            report = plan_report(s, province, plan, TODAY)
            statuses = {t.status for t in report.targets}
            assert MET in statuses and BEHIND in statuses, plan.name
            assert len(report.units) == 10
            assert report.units[-1].organisation.code == LAGGING  # Huyện Lạng Giang, clearly behind
            assert report.units[-1].progress < report.units[-2].progress - 0.2
        scheme = plan_report(s, province, plans[SCHEME], TODAY)
        assert scheme.units[0].organisation.code in ("215", "219")  # Yên Thế and Lục Ngạn lead
        # the lagging district has no sales point, ever; every other district has one by the end of 2023
        assert not s.scalar(
            select(func.count()).select_from(SalesPoint).where(SalesPoint.organisation.has(code=LAGGING))
        )
        plan_2023 = plan_report(s, province, plans["25/KH-UBND"], TODAY)
        share = next(t for t in plan_2023.targets if t.indicator == "sales_point_districts")
        assert (share.figure.numerator, share.figure.denominator, share.status) == (9, 10, BEHIND)
        # the commune association sees its commune only
        commune = load_actor(s, "hoind.phuongson@demo.ocop.vn", TODAY)
        mine = plan_report(s, commune, plans[SCHEME], TODAY)
        assert mine.organisation.code == "07606" and mine.units == []
        # an earlier day reads the records as they stood then: 2023 as of mid-2023 is still open
        mid = plan_report(s, province, plans[SCHEME], date(2023, 6, 30))
        assert all(t.status != MET or t.year is None or t.year <= 2023 for t in mid.targets)
        again = plan_report(s, province, plans[SCHEME], TODAY)
        assert _digest(again) == _digest(scheme)  # reproducible
        # revenues are declared in the first months after their year, not when `ocop demo` ran: the 2023 plan's
        # "revenue one year after recognition" (2024 over 2022) has a figure from early 2025 on, none before
        declared = s.execute(select(ProductRevenue.year, ProductRevenue.declared_at)).all()
        assert declared and all(at < NOW for _y, at in declared)
        assert all(at.year == year + 1 and at.month <= 3 and at.weekday() < 5 for year, at in declared)
        revenue = {
            day: next(
                t for t in plan_report(s, province, plans["25/KH-UBND"], day).targets if t.indicator == "revenue_growth"
            )
            for day in (date(2024, 12, 31), date(2025, 12, 31), TODAY)
        }
        assert revenue[date(2024, 12, 31)].figure.value is None
        assert revenue[date(2025, 12, 31)].figure.value > 1 and revenue[TODAY].figure.value > 1
        # a training is written down in the days after it was held, not all at the moment of loading
        held = s.execute(select(Training.held_on, Training.recorded_at)).all()
        assert all(on <= at.date() <= on + timedelta(days=14) and at < NOW for on, at in held)
        assert len({at for _on, at in held}) > len(held) // 2
        assert {p.created_at.date() for p in plans.values()} == {date(2022, 5, 2), date(2023, 2, 20)}


@pytest.mark.slow
def test_the_demo_is_deterministic_in_its_records(tmp_path) -> None:
    """Two loads with the same seed and now give the same plans and the same report."""
    from ocop_workflow import migrate_db

    digests = []
    for n in (1, 2):
        url = f"sqlite:///{tmp_path / f'demo{n}.sqlite3'}"
        migrate_db.upgrade(url)
        db = Database(url)
        load_demo(db, get_registry(), tmp_path / f"uploads{n}", now=NOW)
        with db.session() as s:
            province = load_actor(s, "hoind.tinh@demo.ocop.vn", TODAY)
            plan = s.scalars(select(Plan).where(Plan.basis_number == SCHEME)).one()
            digests.append(_digest(plan_report(s, province, plan, TODAY)))
        db.dispose()
    assert digests[0] == digests[1]
