"""A province's programme over 2019–2026, small enough to count by hand (tests/test_report_figures.py).

On top of tests/world.py (VN > P > D1 > C1, C2; P > D2 > C3; P > C4) it adds a district D3 with its
commune C5, both abolished on 30/06/2024, and writes the records directly (the report reads dates, not
how they were made): nine products with their history, supports, certificates (one expired, one revoked,
one superseded), listings, raw-material links and revenues; three value chains, three sales points and
nine training or outreach sessions. Every date is chosen against the three as-of days of the tests,
30/06/2023, 31/12/2024 and 02/12/2026; the docstring of each record says which count it tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from ocop_workflow.db import Database
from ocop_workflow.engine import Registry
from ocop_workflow.models import (
    Certificate,
    EcommerceListing,
    MaterialArea,
    MaterialAreaProduct,
    Plan,
    PlanTarget,
    Producer,
    Product,
    ProductEvent,
    ProductRevenue,
    ProductSupport,
    SalesPoint,
    Training,
    TrainingAttendance,
    ValueChain,
)
from ocop_workflow.services import directory
from ocop_workflow.services.certificates import VN_TZ
from ocop_workflow.services.milestones import fill_from_history

from .world import World, build_world

AT_A, AT_B, AT_C = date(2023, 6, 30), date(2024, 12, 31), date(2026, 12, 2)


def moment(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A moment of `day` in Vietnam's time, stored as UTC like the history."""
    return datetime.combine(day, time(hour, minute), VN_TZ).astimezone(UTC)


@dataclass
class PlanWorld:
    world: World
    plan_id: int = 0
    products: dict[str, int] = field(default_factory=dict)  # P1.. -> id
    targets: dict[str, int] = field(default_factory=dict)  # a label -> target id


# (from_state, to_state, day[, hour, minute]) per product; the first row creates it at the idea.
_ROUTE_148 = ("idea", "production_plan", "implementation", "district_review")
_ROUTE_1489 = ("idea", "production_plan", "implementation", "commune_review")


def _product(s, ids, name, commune, events, workflow="ocop-148"):
    producer = Producer(name=f"Chủ thể {name}", kind="household", commune_id=ids[commune])
    s.add(producer)
    s.flush()
    last = events[-1]
    p = Product(
        name=name,
        product_group="food",
        producer_id=producer.id,
        commune_id=ids[commune],
        workflow_key=workflow,
        workflow_version=1,
        state=last[1],
        state_entered_at=moment(last[2]),
        history_count=len(events),
    )
    s.add(p)
    s.flush()
    for seq, (from_state, to_state, day, *hm) in enumerate(events, start=1):
        s.add(
            ProductEvent(
                product_id=p.id,
                seq=seq,
                workflow_key=workflow,
                workflow_version=1,
                from_state=from_state,
                to_state=to_state,
                trigger="t",
                at=moment(day, *hm) if hm else moment(day),
                dossier_fingerprint="",
            )
        )
    return p


def _cert(s, p, code, star, issued, expires, *, org, revoked=None, superseded=None):
    s.add(
        Certificate(
            code=code,
            product_id=p.id,
            producer_id=p.producer_id,
            product_name=p.name,
            producer_name="x",
            star=star,
            level="province",
            organisation_id=org,
            issued_on=issued,
            expires_on=expires,
            revoked_on=revoked,
            superseded_on=superseded,
        )
    )


def build_plan_world(db: Database, registry: Registry) -> PlanWorld:
    world = build_world(db, registry)
    pw = PlanWorld(world)
    d = date
    with db.transaction() as s:
        directory.create_organisation(
            s, code="D3", name="Sơn Động", level="district", parent_code="P", valid_to=d(2024, 6, 30)
        )
        directory.create_organisation(
            s, code="C5", name="An Lạc", level="commune", parent_code="D3", valid_to=d(2024, 6, 30)
        )
        ids = dict(world.orgs)
        ids.update({o: directory.get_org(s, o).id for o in ("D3", "C5")})
        world.orgs.update(ids)
        P = ids["P"]

        def route(days, route=_ROUTE_148):
            """Events along the route, one a day given; a tuple (day, hour, minute) gives the time."""
            events = [(None, route[0], days[0])]
            for i, when in enumerate(days[1:]):
                when = when if isinstance(when, tuple) else (when,)
                events.append((route[i], route[i + 1], *when))
            return events

        # P1 Vải thiều (C1): idea accepted 10/03/2023, supported by D1 from 15/01/2023; submitted 05/05/2023;
        # 3★ 01/09/2023 superseded by 4★ 01/02/2025 (upgraded in 2025); listed on Shopee (open) and Voso
        # (removed 01/06/2024); tied to a raw-material area; revenue 2022 and 2024 (the latter declared 2025).
        p1 = _product(s, ids, "Vải thiều", "C1", route([d(2022, 3, 1), d(2023, 3, 10), d(2023, 4, 1), d(2023, 5, 5)]))
        s.add(ProductSupport(product_id=p1.id, organisation_id=ids["D1"], started_on=d(2023, 1, 15)))
        _cert(s, p1, "T-1A", 3, d(2023, 9, 1), d(2026, 9, 1), org=P, superseded=d(2025, 2, 1))
        _cert(s, p1, "T-1B", 4, d(2025, 2, 1), d(2028, 2, 1), org=P)
        s.add(EcommerceListing(product_id=p1.id, platform="shopee", url="https://s/1", listed_on=d(2023, 10, 1)))
        s.add(
            EcommerceListing(
                product_id=p1.id,
                platform="voso",
                url="https://v/1",
                listed_on=d(2024, 1, 1),
                removed_on=d(2024, 6, 1),
            )
        )
        area = MaterialArea(name="Vùng vải Phượng Sơn", commune_id=ids["C1"], area_ha=120.5)
        s.add(area)
        s.flush()
        s.add(MaterialAreaProduct(area_id=area.id, product_id=p1.id, linked_on=d(2023, 2, 1)))
        s.add(ProductRevenue(product_id=p1.id, year=2022, amount=100, declared_at=moment(d(2023, 1, 10))))
        s.add(ProductRevenue(product_id=p1.id, year=2024, amount=180, declared_at=moment(d(2025, 1, 10))))

        # P2 Gà đồi (C3): idea accepted 01/06/2022 but its support ended 15/05/2022 (before): not supported;
        # 3★ 15/12/2022, expired 15/12/2025; revenue 2021 and 2023 (declared 05/01/2024).
        p2 = _product(s, ids, "Gà đồi", "C3", route([d(2022, 5, 1), d(2022, 6, 1), d(2022, 7, 1), d(2022, 9, 1)]))
        s.add(
            ProductSupport(
                product_id=p2.id, organisation_id=ids["D2"], started_on=d(2022, 1, 1), ended_on=d(2022, 5, 15)
            )
        )
        _cert(s, p2, "T-2A", 3, d(2022, 12, 15), d(2025, 12, 15), org=P)
        s.add(ProductRevenue(product_id=p2.id, year=2021, amount=200, declared_at=moment(d(2023, 1, 5))))
        s.add(ProductRevenue(product_id=p2.id, year=2023, amount=250, declared_at=moment(d(2024, 1, 5))))

        # P3 Mỳ (C2): idea accepted 31/12/2023 at 23:30 Vietnam time (16:30 UTC: still 2023); supported from
        # 01/02/2024; submitted 01/03/2024, returned, submitted again 01/05/2024; 3★ 01/07/2024 revoked
        # 01/11/2024; only one year of revenue (not in the ratio).
        events = route([d(2023, 1, 1), (d(2023, 12, 31), 23, 30), d(2024, 1, 10), d(2024, 3, 1)])
        events += [
            ("district_review", "implementation", d(2024, 4, 1)),
            ("implementation", "district_review", d(2024, 5, 1)),
        ]
        p3 = _product(s, ids, "Mỳ", "C2", events)
        s.add(ProductSupport(product_id=p3.id, organisation_id=ids["C2"], started_on=d(2024, 2, 1)))
        _cert(s, p3, "T-3A", 3, d(2024, 7, 1), d(2027, 7, 1), org=P, revoked=d(2024, 11, 1))
        s.add(ProductRevenue(product_id=p3.id, year=2023, amount=50, declared_at=moment(d(2024, 1, 5))))

        # P4 Rượu (C1): idea accepted 01/01/2024 at 00:30 Vietnam time (31/12/2023 17:30 UTC: already 2024);
        # supported by the province from 01/12/2023; submitted 01/06/2024; never certified.
        p4 = _product(
            s, ids, "Rượu", "C1", route([d(2023, 6, 1), (d(2024, 1, 1), 0, 30), d(2024, 2, 1), d(2024, 6, 1)])
        )
        s.add(ProductSupport(product_id=p4.id, organisation_id=P, started_on=d(2023, 12, 1)))

        # P5 Bánh đa (C4, straight under the province): submitted in 2019; 3★ 10/01/2020 expired 10/01/2023,
        # re-rated 3★ 01/03/2023 (upgraded in 2023, not "reached"); on Postmart from 01/04/2023.
        p5 = _product(s, ids, "Bánh đa", "C4", route([d(2019, 1, 1), d(2019, 2, 1), d(2019, 3, 1), d(2019, 6, 1)]))
        _cert(s, p5, "T-5A", 3, d(2020, 1, 10), d(2023, 1, 10), org=P)
        _cert(s, p5, "T-5B", 3, d(2023, 3, 1), d(2026, 3, 1), org=P)
        s.add(EcommerceListing(product_id=p5.id, platform="postmart", url="https://p/5", listed_on=d(2023, 4, 1)))

        # P6 Cam (C3): idea accepted 01/02/2022 without support; submitted 01/11/2023; 4★ 01/03/2024; tied
        # to a raw-material area until 01/01/2024.
        p6 = _product(s, ids, "Cam", "C3", route([d(2021, 12, 1), d(2022, 2, 1), d(2022, 3, 1), d(2023, 11, 1)]))
        _cert(s, p6, "T-6A", 4, d(2024, 3, 1), d(2027, 3, 1), org=P)
        area2 = MaterialArea(name="Vùng cam Đồng Kỳ", commune_id=ids["C3"])
        s.add(area2)
        s.flush()
        s.add(
            MaterialAreaProduct(area_id=area2.id, product_id=p6.id, linked_on=d(2022, 1, 1), unlinked_on=d(2024, 1, 1))
        )

        # P7 Mật ong (C1): idea accepted 01/05/2024, supported 01/04/2024–01/12/2024; never submitted.
        p7 = _product(s, ids, "Mật ong", "C1", route([d(2024, 4, 1), d(2024, 5, 1)]))
        s.add(
            ProductSupport(
                product_id=p7.id, organisation_id=ids["C1"], started_on=d(2024, 4, 1), ended_on=d(2024, 12, 1)
            )
        )

        # P8 Lạc (C2): idea accepted 01/03/2025 but its support starts 05/12/2026 (after the last as-of day);
        # submitted 01/06/2025; 3★ on 10/12/2026 (after it too).
        p8 = _product(s, ids, "Lạc", "C2", route([d(2025, 1, 1), d(2025, 3, 1), d(2025, 4, 1), d(2025, 6, 1)]))
        s.add(ProductSupport(product_id=p8.id, organisation_id=ids["C2"], started_on=d(2026, 12, 5)))
        _cert(s, p8, "T-8A", 3, d(2026, 12, 10), d(2029, 12, 10), org=P)

        # P9 Chè (C4, ocop-1489): idea accepted 01/08/2025, supported from 01/07/2025; first submitted to the
        # commune's check 01/09/2025; 3★ 01/12/2025; on Voso from 15/12/2025.
        p9 = _product(
            s,
            ids,
            "Chè",
            "C4",
            route([d(2025, 7, 1), d(2025, 8, 1), d(2025, 8, 15), d(2025, 9, 1)], _ROUTE_1489),
            workflow="ocop-1489",
        )
        s.add(ProductSupport(product_id=p9.id, organisation_id=P, started_on=d(2025, 7, 1)))
        _cert(s, p9, "T-9A", 3, d(2025, 12, 1), d(2028, 12, 1), org=P)
        s.add(EcommerceListing(product_id=p9.id, platform="voso", url="https://v/9", listed_on=d(2025, 12, 15)))
        pw.products = {f"P{i}": p.id for i, p in enumerate((p1, p2, p3, p4, p5, p6, p7, p8, p9), start=1)}

        # Value chains: CH1 (D1) building 2022, working 2023, stopped 01/10/2024; CH2 (C3) building 2023,
        # working from 01/02/2024; CH3 (C1) building from 01/08/2024.
        s.add(
            ValueChain(
                name="CH1",
                organisation_id=ids["D1"],
                lead_name="HTX 1",
                started_on=d(2022, 6, 1),
                working_from=d(2023, 1, 1),
                stopped_on=d(2024, 10, 1),
            )
        )
        s.add(
            ValueChain(
                name="CH2",
                organisation_id=ids["C3"],
                lead_name="HTX 2",
                started_on=d(2023, 5, 1),
                working_from=d(2024, 2, 1),
            )
        )
        s.add(ValueChain(name="CH3", organisation_id=ids["C1"], lead_name="HTX 3", started_on=d(2024, 8, 1)))

        # Sales points: SP1 in C1 (D1) from 01/03/2023; SP2 in D2 01/05/2024 until 31/01/2025; SP3 in D3.
        s.add(SalesPoint(name="SP1", organisation_id=ids["C1"], address="a", opened_on=d(2023, 3, 1)))
        s.add(
            SalesPoint(
                name="SP2", organisation_id=ids["D2"], address="b", opened_on=d(2024, 5, 1), closed_on=d(2025, 1, 31)
            )
        )
        s.add(SalesPoint(name="SP3", organisation_id=ids["D3"], address="c", opened_on=d(2022, 1, 1)))

        def session_(kind, org, day, topic, **people):
            t = Training(kind=kind, organisation_id=ids[org], held_on=day, topic=topic)
            t.attendance = [TrainingAttendance(role=r, people=n) for r, n in people.items()]
            s.add(t)

        session_("training", "P", d(2022, 10, 1), "T1", association_officer=30, cooperative_manager=10)
        session_("training", "D1", d(2023, 6, 30), "T2", association_officer=20)  # on the first as-of day
        session_("training", "C3", d(2024, 3, 15), "T3", cooperative_manager=15)
        session_("outreach", "C1", d(2023, 5, 1), "T4", association_officer=100)  # outreach: not training
        session_("outreach", "C3", d(2024, 9, 9), "T5")
        session_("outreach", "C2", d(2025, 3, 3), "T6", ocop_officer=4)
        session_("outreach", "D1", d(2023, 6, 1), "T7")  # a district's outreach: no commune's
        session_("outreach", "C5", d(2022, 5, 5), "T8")
        session_("training", "C3", d(2025, 4, 4), "T9", association_officer=5)

        plan = Plan(
            name="Đề án thử",
            basis_number="615/QĐ-UBND",
            basis_date=d(2022, 4, 22),
            organisation_id=P,
            body="association",
            first_year=2022,
            last_year=2025,
        )
        s.add(plan)
        s.flush()
        pw.plan_id = plan.id
        specs = [(f"new_supported {y}", "new_supported", "P", y, "at_least", 2, None) for y in range(2022, 2026)]
        specs += [
            ("new_supported D1 2024", "new_supported", "D1", 2024, "at_least", 3, None),
            ("recognised", "recognised", "P", None, "between", 3, 5),
            ("upgraded", "upgraded", "P", None, "at_most", None, 1),
            ("sales_point_districts 2023", "sales_point_districts", "P", 2023, "share_at_least", 100, None),
            ("revenue_growth", "revenue_growth", "P", None, "at_least", 1.5, None),
            ("registered_3_star_share", "registered_3_star_share", "P", None, "share_at_least", 60, None),
        ]
        for label, indicator, org, year, comparison, low, high in specs:
            t = PlanTarget(
                plan_id=plan.id,
                position=len(pw.targets) + 1,
                indicator=indicator,
                organisation_id=ids[org],
                year=year,
                comparison=comparison,
                low=low,
                high=high,
            )
            s.add(t)
            s.flush()
            pw.targets[label] = t.id
        # the history went in as rows, not moves: the products' milestones from it, as the migration sets them
        fill_from_history(s.connection(), registry.catalogue)
    return pw
