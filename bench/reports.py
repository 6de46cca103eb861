"""Benchmark: a plan's full progress report over a province of 100,000 products and 1,000,000 history rows.

    .venv/bin/python bench/reports.py [--products 100000] [--events-per-product 10] [--runs 5] [--db FILE]

A fresh SQLite database (the Alembic schema, with migration 0012's indexes) gets one province of
DISTRICTS districts with COMMUNES communes each, producers, and PRODUCTS products with their history
(on average `--events-per-product` events along the cycle, 2019–2026), certificates (a third of the
products; some upgraded, some revoked), association supports, e-commerce listings, raw-material links,
revenues, value chains, sales points and training sessions, in the proportions of a real province
(inserted with executemany, not timed; the build time is printed). Then a plan shaped like Decision
615's (each-year, whole-period, share and ratio targets and two districts' own targets) is loaded.

Timed: `progress.plan_report` for the province as of today and as of a past day, and for one district,
each in a fresh session (nothing cached between runs): best and median of `--runs`. Budget: under 1 s
each. `--no-indexes` drops migration 0012's indexes first, to measure what they buy. Exit status 1
when the budget is missed, 2 when a check fails (the report's totals against direct SQL counts).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ocop_workflow.db import Database  # noqa: E402
from ocop_workflow.engine import get_registry  # noqa: E402
from ocop_workflow.migrate_db import upgrade  # noqa: E402
from ocop_workflow.models import Organisation, Plan  # noqa: E402
from ocop_workflow.reports import progress  # noqa: E402
from ocop_workflow.services.access import Actor  # noqa: E402
from ocop_workflow.services.milestones import fill_from_history  # noqa: E402

BUDGET_SECONDS = 1.0
TODAY = date(2026, 12, 2)
PAST = date(2024, 6, 30)
DISTRICTS, COMMUNES = 10, 20
# The cycle a product's history walks (ocop-148), then round again for an upgrade; a return for
# revision goes back to implementation.
CYCLE = (
    "idea",
    "production_plan",
    "implementation",
    "district_review",
    "implementation",
    "district_review",
    "province_review",
    "province_recognition",
    "rated",
    "implementation",
    "district_review",
    "province_review",
    "province_recognition",
    "upgraded",
)
INDEXES_0012 = ("ix_product_events_report",)


def _dt(at: datetime) -> str:
    """How SQLAlchemy stores an (UTC) datetime on SQLite."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _day(d: date) -> str:
    return d.isoformat()


def _products(rnd: random.Random, n_products: int, events_per_product: int, producers, districts, now) -> tuple:
    """The products with their history, certificates, supports, listings, links and revenues (rows)."""
    start0 = date(2019, 1, 1)
    span = (date(2026, 6, 1) - start0).days
    products, events, certs, supports, listings, links, revenues = [], [], [], [], [], [], []
    cert_id = 0
    for pid in range(1, n_products + 1):
        producer = producers[rnd.randrange(len(producers))]
        commune = producer[3]
        day = start0 + timedelta(days=rnd.randrange(span))
        n = max(1, min(2 * events_per_product - 1, int(rnd.expovariate(1 / events_per_product)) + 1))
        seq_states = [CYCLE[i] if i < len(CYCLE) else ("implementation", "district_review")[i % 2] for i in range(n)]
        at = datetime(day.year, day.month, day.day, 3, tzinfo=UTC)
        prev = None
        for seq, state in enumerate(seq_states, start=1):
            if at.date() > TODAY:
                break
            events.append((pid, seq, "ocop-148", 2, prev, state, "t", _dt(at), "{}", ""))
            prev = state
            at += timedelta(days=rnd.randint(5, 90), hours=rnd.randint(0, 12))
        products.append(
            (
                pid,
                f"Sản phẩm {pid}",
                "food",
                producer[0],
                commune,
                "ocop-148",
                2,
                prev,
                _dt(at),
                len(seq_states),
                now,
                1,
            )
        )
        if "rated" in seq_states and rnd.random() < 0.9:
            cert_id += 1
            issued = day + timedelta(days=rnd.randint(200, 700))
            star = rnd.choice((3, 3, 3, 4, 4, 5))
            revoked = _day(issued + timedelta(days=200)) if rnd.random() < 0.02 else None
            superseded = None
            second = None
            if rnd.random() < 0.15:
                later = issued + timedelta(days=rnd.randint(300, 900))
                superseded = _day(later)
                second = (later, min(5, star + 1))
            certs.append(
                (cert_id, f"B-{cert_id}", pid, producer[0], f"Sản phẩm {pid}", "x", star, "province", 2,
                 _day(issued), _day(issued + timedelta(days=1096)), superseded, revoked, now)
            )  # fmt: skip
            if second is not None:
                cert_id += 1
                certs.append(
                    (cert_id, f"B-{cert_id}", pid, producer[0], f"Sản phẩm {pid}", "x", second[1], "province", 2,
                     _day(second[0]), _day(second[0] + timedelta(days=1096)), None, None, now)
                )  # fmt: skip
            if rnd.random() < 0.5:
                for _ in range(rnd.randint(1, 2)):
                    listed = issued + timedelta(days=rnd.randint(0, 400))
                    removed = _day(listed + timedelta(days=rnd.randint(30, 600))) if rnd.random() < 0.3 else None
                    platform = rnd.choice(("postmart", "voso", "shopee"))
                    listings.append((pid, platform, f"https://x/{pid}", _day(listed), removed, now))
            if rnd.random() < 0.7:
                for year in (issued.year - 1, issued.year, issued.year + 1):
                    amount = rnd.randint(100, 10_000) * 1_000_000
                    revenues.append((pid, year, amount, _dt(datetime(year + 1, 1, 15, 2, tzinfo=UTC))))
        if rnd.random() < 0.4:
            s0 = day + timedelta(days=rnd.randint(-60, 120))
            ended = _day(s0 + timedelta(days=rnd.randint(30, 900))) if rnd.random() < 0.3 else None
            supports.append((pid, rnd.choice(districts + [2, commune]), _day(s0), ended, now))
        if rnd.random() < 0.1:
            linked = day + timedelta(days=rnd.randint(0, 500))
            unlinked = _day(linked + timedelta(days=rnd.randint(30, 900))) if rnd.random() < 0.2 else None
            links.append((rnd.randint(1, 1000), pid, _day(linked), unlinked, now))
    return products, events, certs, supports, listings, links, revenues


def build(path: Path, n_products: int, events_per_product: int, seed: int = 12) -> dict[str, int]:
    """The province and its records; returns how many rows of each kind went in."""
    rnd = random.Random(seed)
    upgrade(f"sqlite:///{path}")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    now = _dt(datetime(2026, 12, 1, tzinfo=UTC))
    orgs = [(1, "VN", "Việt Nam", "central", None, "/VN/"), (2, "24", "Bắc Giang", "province", 1, "/VN/24/")]
    communes, districts = [], []
    next_id = 3
    for d in range(DISTRICTS):
        did = next_id
        next_id += 1
        districts.append(did)
        orgs.append((did, f"2{d:02d}", f"Huyện {d}", "district", 2, f"/VN/24/2{d:02d}/"))
        for c in range(COMMUNES):
            code = f"2{d:02d}{c:02d}"
            orgs.append((next_id, code, f"Xã {d}.{c}", "commune", did, f"/VN/24/2{d:02d}/{code}/"))
            communes.append(next_id)
            next_id += 1
    conn.executemany("INSERT INTO organisations (id, code, name, level, parent_id, path) VALUES (?,?,?,?,?,?)", orgs)
    producers = [(i + 1, f"Chủ thể {i}", "household", communes[i % len(communes)]) for i in range(len(communes) * 10)]
    conn.executemany("INSERT INTO producers (id, name, kind, commune_id) VALUES (?,?,?,?)", producers)

    start0 = date(2019, 1, 1)
    span = (date(2026, 6, 1) - start0).days
    products, events, certs, supports, listings, links, revenues = _products(
        rnd, n_products, events_per_product, producers, districts, now
    )
    conn.executemany(
        "INSERT INTO products (id, name, product_group, producer_id, commune_id, workflow_key, workflow_version, state,"
        " state_entered_at, history_count, created_at, version, application_type)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'first_rating')",
        products,
    )
    conn.executemany(
        "INSERT INTO product_events (product_id, seq, workflow_key, workflow_version, from_state, to_state, trigger,"
        " at, data, dossier_fingerprint) VALUES (?,?,?,?,?,?,?,?,?,?)",
        events,
    )
    conn.executemany(
        "INSERT INTO certificates (id, code, product_id, producer_id, product_name, producer_name, star, level,"
        " organisation_id, issued_on, expires_on, superseded_on, revoked_on, created_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        certs,
    )
    conn.executemany(
        "INSERT INTO product_supports (product_id, organisation_id, started_on, ended_on, recorded_at)"
        " VALUES (?,?,?,?,?)",
        supports,
    )
    conn.executemany(
        "INSERT INTO ecommerce_listings (product_id, platform, url, listed_on, removed_on, recorded_at)"
        " VALUES (?,?,?,?,?,?)",
        listings,
    )
    areas = [(i, f"Vùng {i}", communes[i % len(communes)], now) for i in range(1, 1001)]
    conn.executemany("INSERT INTO material_areas (id, name, commune_id, recorded_at) VALUES (?,?,?,?)", areas)
    conn.executemany(
        "INSERT INTO material_area_products (area_id, product_id, linked_on, unlinked_on, recorded_at)"
        " VALUES (?,?,?,?,?)",
        links,
    )
    conn.executemany("INSERT INTO product_revenues (product_id, year, amount, declared_at) VALUES (?,?,?,?)", revenues)
    units = districts + communes
    chains = []
    for i in range(500):
        s0 = start0 + timedelta(days=rnd.randrange(span))
        working = _day(s0 + timedelta(days=rnd.randint(60, 400))) if rnd.random() < 0.7 else None
        stopped = _day(s0 + timedelta(days=rnd.randint(400, 1200))) if rnd.random() < 0.2 else None
        chains.append((f"Chuỗi {i}", rnd.choice(units), f"HTX {i}", _day(s0), working, stopped, now))
    conn.executemany(
        "INSERT INTO value_chains (name, organisation_id, lead_name, started_on, working_from, stopped_on,"
        " recorded_at) VALUES (?,?,?,?,?,?,?)",
        chains,
    )
    points = []
    for i in range(300):
        opened = start0 + timedelta(days=rnd.randrange(span))
        closed = _day(opened + timedelta(days=rnd.randint(90, 1500))) if rnd.random() < 0.25 else None
        points.append((f"Điểm bán {i}", rnd.choice(units), "địa chỉ", _day(opened), closed, now))
    conn.executemany(
        "INSERT INTO sales_points (name, organisation_id, address, opened_on, closed_on, recorded_at)"
        " VALUES (?,?,?,?,?,?)",
        points,
    )
    trainings, attendance = [], []
    for i in range(1, 3001):
        kind = "outreach" if rnd.random() < 0.5 else "training"
        trainings.append(
            (i, kind, rnd.choice(units + [2]), _day(start0 + timedelta(days=rnd.randrange(span))), f"T{i}", now)
        )
        for role in ("association_officer", "cooperative_manager", "ocop_officer"):
            if rnd.random() < 0.6:
                attendance.append((i, role, rnd.randint(1, 60)))
    conn.executemany(
        "INSERT INTO trainings (id, kind, organisation_id, held_on, topic, recorded_at) VALUES (?,?,?,?,?,?)", trainings
    )
    conn.executemany("INSERT INTO training_attendance (training_id, role, people) VALUES (?,?,?)", attendance)
    conn.commit()
    conn.close()
    # The history went in as rows: set the products' milestones from it, as the migration does.
    db = Database(f"sqlite:///{path}")
    with db.engine.begin() as sa_conn:
        fill_from_history(sa_conn, get_registry().catalogue)
    db.engine.dispose()
    conn = sqlite3.connect(path)
    conn.execute("ANALYZE")
    conn.close()
    return {
        "products": len(products),
        "history rows": len(events),
        "certificates": len(certs),
        "supports": len(supports),
        "listings": len(listings),
        "material links": len(links),
        "revenues": len(revenues),
        "value chains": len(chains),
        "sales points": len(points),
        "trainings": len(trainings),
    }


def load_plan(db: Database) -> int:
    """A plan shaped like Decision 615's and the 2023 provincial plan (every indicator, every kind of target)."""
    from ocop_workflow.models import PlanTarget

    with db.transaction() as s:
        province = s.query(Organisation).filter_by(code="24").one()
        plan = Plan(
            name="Đề án 615 (bench)",
            basis_number="615/QĐ-UBND",
            basis_date=date(2022, 4, 22),
            organisation=province,
            body="association",
            first_year=2022,
            last_year=2025,
        )
        specs = []
        for year in range(2022, 2026):
            specs += [
                ("new_supported", year, "at_least", 10, None),
                ("upgraded", year, "between", 10, 20),
                ("reached_3_star", year, "at_least", 40, None),
                ("trained_association_officers", year, "at_least", 500, None),
            ]
        specs += [
            ("reached_4_star", None, "at_least", 20, None),
            ("registered_3_star_share", None, "share_at_least", 60, None),
            ("recognised", None, "at_least", 400, None),
            ("on_ecommerce", None, "at_least", 200, None),
            ("material_linked", None, "between", 20, 30),
            ("value_chains_started", None, "at_least", 10, None),
            ("value_chains_working", None, "at_least", 4, None),
            ("sales_point_districts", 2023, "share_at_least", 100, None),
            ("revenue_growth", 2023, "at_least", 1.5, None),
            ("trained_cooperative_managers", None, "at_least", 300, None),
            ("outreach_communes", 2023, "share_at_least", 80, None),
        ]
        for i, (indicator, year, comparison, low, high) in enumerate(specs, start=1):
            plan.targets.append(
                PlanTarget(
                    position=i,
                    indicator=indicator,
                    organisation=province,
                    year=year,
                    comparison=comparison,
                    low=low,
                    high=high,
                )
            )
        for code in ("200", "201"):
            district = s.query(Organisation).filter_by(code=code).one()
            plan.targets.append(
                PlanTarget(
                    position=len(plan.targets) + 1,
                    indicator="new_supported",
                    organisation=district,
                    year=2024,
                    comparison="at_least",
                    low=3,
                )
            )
        s.add(plan)
        s.flush()
        return plan.id


def time_report(db: Database, plan_id: int, at: date, org_code: str | None, runs: int) -> tuple[list[float], object]:
    times, report = [], None
    registry = get_registry()
    for _ in range(runs):
        with db.transaction() as s:
            plan = s.get(Plan, plan_id)
            org = s.query(Organisation).filter_by(code=org_code).one() if org_code else None
            t0 = time.perf_counter()
            report = progress.plan_report(s, Actor.system_actor(registry.policy), plan, at, org, registry=registry)
            times.append(time.perf_counter() - t0)
    return times, report


def check(path: Path, report) -> list[str]:
    """The report's figures against direct SQL counts (as of the report's day)."""
    problems = []
    conn = sqlite3.connect(path)
    at = report.at.isoformat()
    by = {(t.indicator, t.year): t.figure for t in report.targets}
    recognised = conn.execute(
        "SELECT COUNT(DISTINCT product_id) FROM certificates WHERE issued_on <= :d AND expires_on > :d"
        " AND (revoked_on IS NULL OR revoked_on > :d) AND (superseded_on IS NULL OR superseded_on > :d)",
        {"d": min(at, "2025-12-31")},
    ).fetchone()[0]
    if by[("recognised", None)].value != recognised:
        problems.append(f"recognised {by[('recognised', None)].value} != SQL {recognised}")
    first3 = conn.execute(
        "SELECT COUNT(*) FROM (SELECT product_id, MIN(issued_on) d FROM certificates WHERE star >= 3"
        " GROUP BY product_id) WHERE d BETWEEN '2024-01-01' AND MIN(:d, '2024-12-31')",
        {"d": at},
    ).fetchone()[0]
    if report.at >= date(2024, 1, 1) and by[("reached_3_star", 2024)].value != first3:
        problems.append(f"reached_3_star 2024 {by[('reached_3_star', 2024)].value} != SQL {first3}")
    total_units = sum(u.results[0].figure.numerator for u in report.units if u.results)
    first = report.targets[0] if report.targets else None
    shared = report.units and first is not None and first.indicator == "new_supported"
    if shared and total_units != first.figure.numerator:
        problems.append(f"units' new_supported sum {total_units} != province's {first.figure}")
    conn.close()
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--events-per-product", type=int, default=13)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", type=Path, help="database file (must not exist); a temporary folder otherwise")
    parser.add_argument("--no-indexes", action="store_true", help="drop migration 0012's indexes before timing")
    args = parser.parse_args(argv)
    folder = None
    if args.db is None:
        folder = tempfile.TemporaryDirectory(prefix="ocop-bench-reports-")
        args.db = Path(folder.name) / "reports.sqlite3"
    t0 = time.perf_counter()
    counts = build(args.db, args.products, args.events_per_product)
    print(f"build: {time.perf_counter() - t0:.1f} s; " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    if args.no_indexes:
        conn = sqlite3.connect(args.db)
        for name in INDEXES_0012:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
        conn.commit()
        conn.close()
        print("indexes of 0012 dropped")
    db = Database(f"sqlite:///{args.db}")
    plan_id = load_plan(db)
    missed, problems = False, []
    for label, at, org in (
        ("province, today", TODAY, None),
        ("province, past", PAST, None),
        ("district", TODAY, "200"),
    ):
        times, report = time_report(db, plan_id, at, org, args.runs)
        best, median = min(times), statistics.median(times)
        ok = median < BUDGET_SECONDS
        missed |= not ok
        print(
            f"plan_report {label} (as of {at.isoformat()}): best {best:.3f} s, median {median:.3f} s over "
            f"{len(times)} runs; {len(report.targets)} targets, {len(report.units)} units "
            f"(budget < {BUDGET_SECONDS:.2f} s{'' if ok else ': budget MISSED'})"
        )
        if org is None:
            problems += check(args.db, report)
    db.dispose()
    print("checks: ok" if not problems else "checks FAILED:\n  " + "\n  ".join(problems))
    if folder is not None:
        folder.cleanup()
    return 2 if problems else (1 if missed else 0)


if __name__ == "__main__":
    sys.exit(main())
