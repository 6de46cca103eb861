"""Every indicator equals a count made by hand (tests/plan_world.py says why each record counts or not),
at three as-of days, on SQLite and PostgreSQL; statuses, the units table, the scope and the drill-down."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from ocop_workflow.errors import NotFound
from ocop_workflow.models import (
    Certificate,
    EcommerceListing,
    Organisation,
    Plan,
    PlanTarget,
    ProductSupport,
    SalesPoint,
    Training,
    TrainingAttendance,
)
from ocop_workflow.reports import progress
from ocop_workflow.reports.indicators import BY_KEY, COUNT, RATIO
from ocop_workflow.reports.model import Figure
from ocop_workflow.reports.windows import period_window, year_window
from ocop_workflow.services.access import Actor, load_actor

from .plan_world import AT_A, AT_B, AT_C, build_plan_world, moment

# indicator -> its figure over the whole plan period (2022–2025) in the province, as of AT_A, AT_B, AT_C
WHOLE_PERIOD = {
    "new_supported": (1, 4, 5),  # P1 | +P3 (support after the idea, before the day), P4, P7 | +P9
    "reached_3_star": (1, 4, 5),  # P2 | +P1, P3 (revoked later), P6 (4★) | +P9
    "reached_4_star": (0, 1, 2),  # - | P6 | +P1 (its upgrade)
    "registered_3_star_share": (50.0, 80.0, 500 / 7),  # P2 of P1,P2 | 4 of 5 (not P4) | 5 of 7 (not P4, P8)
    "upgraded": (1, 1, 2),  # P5's re-rating | P5 | +P1
    "recognised": (2, 4, 4),  # P2, P5 | P1, P2, P5, P6 (P3 revoked) | P1, P5, P6, P9 (P2 expired)
    "on_ecommerce": (1, 2, 3),  # P5 | P1, P5 | P1, P5, P9
    "material_linked": (2, 1, 1),  # P1, P6 | P1 (P6 unlinked) | P1
    "value_chains_started": (2, 3, 3),
    "value_chains_working": (1, 1, 1),  # CH1 | CH2 (CH1 stopped) | CH2
    "sales_point_districts": (200 / 3, 100.0, 50.0),  # D1, D3 of 3 | D1, D2 of 2 (D3 gone) | D1 of 2
    "revenue_growth": (None, 1.25, 430 / 300),  # - | P2 250/200 | (250+180)/(200+100)
    "trained_association_officers": (50, 50, 55),  # T1 30 + T2 20 (held on the day) | same | + T9 5
    "trained_cooperative_managers": (10, 25, 25),
    "outreach_communes": (40.0, 50.0, 75.0),  # C1, C5 of 5 | C1, C3 of 4 | C1, C2, C3 of 4
}
DATES = (AT_A, AT_B, AT_C)


@pytest.fixture
def pworld(db, registry):
    return build_plan_world(db, registry)


def _org(s, code: str) -> Organisation:
    return s.query(Organisation).filter_by(code=code).one()


def _close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)


def test_every_indicator_equals_the_hand_count_at_three_days(db, pworld):
    assert set(WHOLE_PERIOD) == set(BY_KEY)
    with db.transaction() as s:
        province = _org(s, "P")
        wrong = {}
        for key, expected in WHOLE_PERIOD.items():
            for at, want in zip(DATES, expected, strict=True):
                got = progress.figure(s, key, period_window(2022, 2025, at), province, at).value
                if not _close(got, want):
                    wrong[(key, at)] = (got, want)
        assert wrong == {}


def test_areas_and_years_equal_the_hand_count(db, pworld):
    with db.transaction() as s:
        d1, c1 = _org(s, "D1"), _org(s, "C1")
        whole_c = period_window(2022, 2025, AT_C)
        in_d1 = {
            "new_supported": 4,  # P1, P3, P4, P7
            "reached_3_star": 2,  # P1, P3
            "recognised": 1,  # P1
            "on_ecommerce": 1,
            "value_chains_started": 2,  # CH1 (the district's), CH3 (C1's)
            "sales_point_districts": 100.0,
            "trained_association_officers": 20,
            "outreach_communes": 100.0,  # C1, C2
            "registered_3_star_share": 50.0,  # P1, P3 of P1, P3, P4, P8
        }
        got = {k: progress.figure(s, k, whole_c, d1, AT_C).value for k in in_d1}
        assert got == pytest.approx(in_d1)
        whole_b = period_window(2022, 2025, AT_B)
        in_c1 = {"new_supported": 3, "recognised": 1, "outreach_communes": 100.0, "value_chains_started": 1}
        assert {k: progress.figure(s, k, whole_b, c1, AT_B).value for k in in_c1} == pytest.approx(in_c1)
        assert progress.figure(s, "sales_point_districts", whole_b, c1, AT_B).value is None  # no district in a commune
        province = _org(s, "P")
        yearly = {(2023, AT_A): 1, (2023, AT_B): 2, (2024, AT_A): 0, (2024, AT_B): 2, (2025, AT_C): 1}
        got = {(y, at): progress.figure(s, "new_supported", year_window(y, at), province, at).value for y, at in yearly}
        assert got == yearly


def _report(s, pw, at, actor=None, org=None):
    plan = s.get(Plan, pw.plan_id)
    return progress.plan_report(s, actor or Actor.system_actor(), plan, at, org)


def _statuses(pw, report) -> dict[str, str]:
    by_id = {v: k for k, v in pw.targets.items()}
    return {by_id[t.target_id]: t.status for t in report.targets}


def test_statuses_units_and_yearly_figures(db, pworld):
    with db.transaction() as s:
        a, b, c = (_report(s, pworld, at) for at in DATES)
        assert a.organisation.code == "P"
        assert _statuses(pworld, a) == {
            "new_supported 2022": "behind",  # P2, P6 had no support
            "new_supported 2023": "on_track",  # 1 by 30/06, pro rata 181/365 × 2 = 0.99
            "new_supported 2024": "not_started",
            "new_supported 2025": "not_started",
            "recognised": "behind",  # 2, below 3, a stock while open
            "upgraded": "on_track",  # 1, at most 1, still open
            "sales_point_districts 2023": "behind",
            "revenue_growth": "no_data",
            "registered_3_star_share": "behind",  # 50 % < 60 %
        }
        assert _statuses(pworld, b) == {
            "new_supported 2022": "behind",
            "new_supported 2023": "met",
            "new_supported 2024": "met",
            "new_supported 2025": "not_started",
            "recognised": "met",  # 4, between 3 and 5: within the range
            "upgraded": "on_track",
            "sales_point_districts 2023": "behind",
            "revenue_growth": "behind",  # 1.25 < 1.5
            "registered_3_star_share": "met",
        }
        assert _statuses(pworld, c) == {
            "new_supported 2022": "behind",
            "new_supported 2023": "met",
            "new_supported 2024": "met",
            "new_supported 2025": "behind",
            "recognised": "met",  # 4 on 31/12/2025
            "upgraded": "behind",  # 2 > 1
            "sales_point_districts 2023": "behind",
            "revenue_growth": "behind",
            "registered_3_star_share": "met",
        }
        # the district's own target is not the province's: it is in the units table, not the province's list
        assert pworld.targets["new_supported D1 2024"] not in {t.target_id for t in b.targets}
        progress_bar = {t.target_id: t.progress for t in b.targets}
        assert progress_bar[pworld.targets["revenue_growth"]] == pytest.approx(1.25 / 1.5)
        assert progress_bar[pworld.targets["new_supported 2024"]] == 1.0

        # units: the province's children existing on the day (D3 closed on 30/06/2024)
        assert sorted(u.organisation.code for u in a.units) == ["C4", "D1", "D2", "D3"]
        assert sorted(u.organisation.code for u in b.units) == ["C4", "D1", "D2"]
        units = {u.organisation.code: u for u in b.units}
        d1 = {r.target_id: r for r in units["D1"].results}
        d2 = {r.target_id: r for r in units["D2"].results}
        own = d1[pworld.targets["new_supported D1 2024"]]
        assert (own.low, own.figure.value, own.status) == (3, 2, "behind")  # P4, P7 of its own 3
        assert pworld.targets["new_supported 2024"] not in d1  # its own target replaces the province's
        shared = d2[pworld.targets["new_supported 2024"]]
        assert shared.low == pytest.approx(2 / 3)  # the province's 2 among D1, D2, C4
        assert shared.figure.value == 0 and shared.status == "behind"
        rec = d1[pworld.targets["recognised"]]
        assert (rec.low, rec.high) == (pytest.approx(1), pytest.approx(5 / 3))
        share = d1[pworld.targets["sales_point_districts 2023"]]
        assert (share.low, share.figure.value, share.status) == (100, 100.0, "met")  # shares apply unchanged
        ranked = [u.progress for u in b.units]
        assert ranked == sorted(ranked, reverse=True)
        assert units["D1"].behind == sum(1 for r in units["D1"].results if r.status == "behind")

        # yearly: one figure a plan year up to the as-of day
        assert [(p.year, p.figure.value) for p in a.yearly["new_supported"]] == [(2022, 0), (2023, 1)]
        assert [(p.year, p.figure.value) for p in c.yearly["new_supported"]] == [
            (2022, 0),
            (2023, 2),
            (2024, 2),
            (2025, 1),
        ]
        assert [p.figure.value for p in c.yearly["recognised"]] == [2, 3, 4, 4]  # 2022: P2 and P5 (first)


def _agree(members, result) -> None:
    ind = BY_KEY[result.indicator]
    if ind.unit == RATIO or ind.counts == "people":
        assert sum(m.value for m in members) == result.figure.numerator
    else:
        assert len(members) == result.figure.numerator, result.indicator
    if ind.unit == COUNT:
        assert result.figure.value == result.figure.numerator


def test_members_agree_with_the_figures(db, pworld):
    with db.transaction() as s:
        plan = s.get(Plan, pworld.plan_id)
        system = Actor.system_actor()
        province = _org(s, "P")
        for at in DATES:
            report = progress.plan_report(s, system, plan, at)
            for result in report.targets:
                _agree(progress.members(s, system, plan, result.target_id, at), result)
            # the report's figures (SQL aggregates) equal the items counted one by one (`figure`)
            for key, points in report.yearly.items():
                for point in points:
                    exact = progress.figure(s, key, year_window(point.year, at), province, at)
                    assert _close(point.figure.value, exact.value), (key, point.year, at)
            for unit in report.units:
                org = s.get(Organisation, unit.organisation.id)
                for result in unit.results:
                    _agree(progress.members(s, system, plan, result.target_id, at, org), result)
        recognised = progress.members(s, system, plan, pworld.targets["recognised"], AT_B)
        assert [(m.district, m.commune, m.name) for m in recognised] == [
            (None, "Tân Sơn", "Bánh đa"),
            ("Lục Ngạn", "Phượng Sơn", "Vải thiều"),
            ("Yên Thế", "Đồng Kỳ", "Cam"),
            ("Yên Thế", "Đồng Kỳ", "Gà đồi"),
        ]
        assert recognised[1].kind == "product" and recognised[1].on == date(2023, 9, 1)
        assert recognised[1].detail == "3★ · T-1A"
        d1 = _org(s, "D1")
        own = progress.members(s, system, plan, pworld.targets["new_supported D1 2024"], AT_B)
        assert sorted(m.name for m in own) == ["Mật ong", "Rượu"]  # the district's target: its area
        shared = progress.members(s, system, plan, pworld.targets["new_supported 2024"], AT_B, d1)
        assert [m.name for m in shared] == ["Mật ong", "Rượu"]  # the province's target in D1's area
        with pytest.raises(NotFound):
            progress.members(s, system, plan, 10**6, AT_B)
        with pytest.raises(NotFound):  # D2's report has no D1 target
            progress.members(s, system, plan, pworld.targets["new_supported D1 2024"], AT_B, _org(s, "D2"))


def _values(report) -> tuple:
    body = dataclasses.asdict(report)
    body.pop("computed_at")
    return body


def test_a_past_report_is_unchanged_by_later_records(db, pworld):
    with db.transaction() as s:
        before = _values(_report(s, pworld, AT_B))
    after_b = date(2025, 1, 2)
    with db.transaction() as s:
        p4 = pworld.products["P4"]
        s.add(ProductSupport(product_id=p4, organisation_id=pworld.world.orgs["C1"], started_on=after_b))
        p = s.get(Certificate, s.query(Certificate.id).filter_by(code="T-2A").scalar())
        p.revoked_on = after_b  # a revocation dated after the report's day
        s.add(
            Certificate(
                code="T-4A",
                product_id=p4,
                producer_id=p.producer_id,
                product_name="Rượu",
                producer_name="x",
                star=4,
                level="province",
                organisation_id=pworld.world.orgs["P"],
                issued_on=after_b,
                expires_on=date(2028, 1, 2),
            )
        )
        s.add(EcommerceListing(product_id=p4, platform="shopee", url="https://s/4", listed_on=after_b))
        s.add(SalesPoint(name="SP4", organisation_id=pworld.world.orgs["C3"], address="d", opened_on=after_b))
        t = Training(kind="training", organisation_id=pworld.world.orgs["C1"], held_on=after_b, topic="late")
        t.attendance = [TrainingAttendance(role="association_officer", people=9)]
        s.add(t)
    with db.transaction() as s:
        assert _values(_report(s, pworld, AT_B)) == before
        later = _report(s, pworld, AT_C)
        assert _values(later) != before


def test_a_commune_user_sees_only_its_commune(db, pworld):
    world = pworld.world
    with db.transaction() as s:
        plan = s.get(Plan, pworld.plan_id)
        commune = load_actor(s, world.user("commune_association", "C1"))
        report = progress.plan_report(s, commune, plan, AT_B)
        assert report.organisation.code == "C1" and report.units == []
        by_indicator = {t.indicator: t.figure.value for t in report.targets if t.year is None}
        assert by_indicator["recognised"] == 1  # P1 only, of the province's four
        names = {m.name for m in progress.members(s, commune, plan, pworld.targets["recognised"], AT_B)}
        assert names == {"Vải thiều"}
        for code in ("D1", "C2", "P"):
            with pytest.raises(NotFound):
                progress.plan_report(s, commune, plan, AT_B, _org(s, code))
        district = load_actor(s, world.user("district_association", "D1"))
        assert progress.plan_report(s, district, plan, AT_B).organisation.code == "D1"
        assert progress.plan_report(s, district, plan, AT_B, _org(s, "C1")).organisation.code == "C1"
        with pytest.raises(NotFound):
            progress.plan_report(s, district, plan, AT_B, _org(s, "C3"))
        province = load_actor(s, world.user("province_association", "P"))
        assert progress.plan_report(s, province, plan, AT_B).organisation.code == "P"
        with pytest.raises(NotFound):  # outside the plan owner's subtree
            progress.plan_report(s, province, plan, AT_B, _org(s, "VN"))
        producer = load_actor(s, world.user("producer", "C1"))
        with pytest.raises(NotFound):
            progress.plan_report(s, producer, plan, AT_B)


def test_the_day_of_an_event_is_vietnams(db, pworld):
    """P3's idea was accepted at 23:30 on 31/12/2023 and P4's at 00:30 on 01/01/2024, Vietnam time."""
    with db.transaction() as s:
        province = _org(s, "P")
        assert moment(date(2024, 1, 1), 0, 30).day == 31  # stored as 31/12/2023 17:30 UTC
        y2023 = progress.figure(s, "new_supported", year_window(2023, AT_C), province, AT_C)
        y2024 = progress.figure(s, "new_supported", year_window(2024, AT_C), province, AT_C)
        assert (y2023.value, y2024.value) == (2, 2)  # P1, P3 | P4, P7


def test_the_reports_aggregates_equal_the_items_for_every_indicator(db, pworld):
    """A plan with every indicator, for each year and the whole period: each figure of the report (the
    province's and each unit's, from SQL aggregates) equals `figure` (the items one by one)."""
    with db.transaction() as s:
        province = _org(s, "P")
        plan = Plan(
            name="Mọi chỉ tiêu",
            basis_number="1/KH",
            basis_date=date(2022, 1, 1),
            organisation_id=province.id,
            body="office",
            first_year=2022,
            last_year=2025,
        )
        position = 0
        for key in BY_KEY:
            for year in (None, 2022, 2023, 2024, 2025):
                position += 1
                plan.targets.append(
                    PlanTarget(
                        position=position,
                        indicator=key,
                        organisation_id=province.id,
                        year=year,
                        comparison="at_least",
                        low=1,
                    )
                )
        s.add(plan)
        s.flush()
        system = Actor.system_actor()
        compared = 0
        for at in DATES:
            report = progress.plan_report(s, system, plan, at)
            areas = [(province, report.targets)] + [
                (s.get(Organisation, u.organisation.id), u.results) for u in report.units
            ]
            for org, results in areas:
                for r in results:
                    exact = progress.figure(s, r.indicator, r.window, org, at)
                    assert _close(r.figure.value, exact.value), (r.indicator, r.year, org.code, at)
                    assert _close(r.figure.numerator, exact.numerator), (r.indicator, r.year, org.code, at)
                    compared += 1
        assert compared == 3 * 75 + (4 + 3 + 3) * 75  # the province's and its units' (4, 3, 3 on the days)


@pytest.mark.parametrize(
    ("key", "comparison", "low", "high", "at", "value", "expected"),
    [
        # a flow count, window 2024 open on 01/07/2024 (183 of 366 days: pro rata 5 of 10)
        ("new_supported", "at_least", 10, None, date(2024, 7, 1), 5, ("on_track", 0.5)),
        ("new_supported", "at_least", 10, None, date(2024, 7, 1), 4, ("behind", 0.4)),
        ("new_supported", "at_least", 10, None, date(2024, 7, 1), 10, ("met", 1.0)),
        ("new_supported", "at_least", 10, None, date(2025, 1, 1), 9, ("behind", 0.9)),  # closed
        ("new_supported", "at_least", 10, None, date(2023, 12, 31), 0, ("not_started", 0.0)),
        ("upgraded", "between", 10, 20, date(2024, 7, 1), 6, ("on_track", 0.6)),
        ("upgraded", "between", 10, 20, date(2024, 7, 1), 12, ("met", 1.0)),  # the floor reached
        ("upgraded", "between", 10, 20, date(2025, 1, 1), 12, ("met", 1.0)),
        ("upgraded", "between", 10, 20, date(2024, 7, 1), 25, ("met", 1.0)),  # above the ceiling: more than planned
        ("upgraded", "at_most", None, 4, date(2024, 7, 1), 3, ("on_track", 1.0)),
        ("upgraded", "at_most", None, 4, date(2025, 1, 1), 4, ("met", 1.0)),
        ("upgraded", "at_most", None, 4, date(2024, 7, 1), 5, ("behind", 0.8)),
        # a stock and a share below target while open are behind, whatever the pace
        ("recognised", "at_least", 10, None, date(2024, 7, 1), 9, ("behind", 0.9)),
        ("outreach_communes", "share_at_least", 80, None, date(2024, 7, 1), 60.0, ("behind", 0.75)),
        ("outreach_communes", "share_at_least", 80, None, date(2024, 7, 1), 80.0, ("met", 1.0)),
        ("revenue_growth", "at_least", 1.5, None, date(2024, 7, 1), None, ("no_data", 0.0)),
    ],
)
def test_status_and_progress(key, comparison, low, high, at, value, expected):
    fig = Figure(value, value or 0, 1 if BY_KEY[key].unit != COUNT else None)
    status, bar = progress.status_and_progress(key, comparison, low, high, year_window(2024, at), fig)
    assert (status, pytest.approx(bar)) == (expected[0], pytest.approx(expected[1]))


def test_a_units_own_target_stands_with_its_indicator(db, pworld):
    """A district's own target written at the end of the plan is listed with its indicator's other rows."""
    with db.transaction() as s:
        plan = s.get(Plan, pworld.plan_id)
        s.add(
            PlanTarget(
                plan_id=plan.id,
                position=100,
                indicator="recognised",
                organisation_id=pworld.world.orgs["D1"],
                year=None,
                comparison="at_least",
                low=1,
            )
        )
    with db.transaction() as s:
        report = _report(s, pworld, AT_B, org=_org(s, "D1"))
        order = [t.indicator for t in report.targets]
        plan = s.get(Plan, pworld.plan_id)
        planned = list(dict.fromkeys(t.indicator for t in sorted(plan.targets, key=lambda t: t.position)))
        assert list(dict.fromkeys(order)) == [k for k in planned if k in order]  # each indicator's rows together
        mine = next(t for t in report.targets if t.indicator == "recognised")
        assert mine.organisation.code == "D1" and order.index("recognised") < len(order) - 1
