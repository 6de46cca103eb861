"""Benchmark: one reminder sweep over many products of which few are stalled.

    .venv/bin/python bench/reminders.py [--scenarios 100000:1000,10000:1000,100000:2000] [--postgres URL|temp]

For each scenario TOTAL:STALLED a fresh database (the Alembic schema) gets an organisation tree
(VN / province / 10 districts / 100 communes), a commune OCOP officer in every commune, a district
secretariat in every district, a producer per commune, and TOTAL products of ocop-148 inserted in
bulk (not timed): STALLED of them past their state's SLA (idea, production plan, implementation,
district review; past the SLA but not yet at the escalation), the others either inside their SLA
or in a final state (rated, entered years ago — a scan of all products would read them all).

Timed: `run_sweep(..., send=False)` as of one fixed moment — find the stalled products (one index
range read per workflow/version/state), resolve the owning organisations and their members, insert
the reminder rows (ON CONFLICT DO NOTHING RETURNING), the in-app notifications and the outbox mail,
commit. Mail delivery is not timed (it is bound by the SMTP server). Then the same sweep again,
which must queue nothing. The budget: the first sweep of 100,000 products / 1,000 stalled under
1 second; its time should follow the stalled products (10k/1k ≈ 100k/1k, 100k/2k ≈ 2 × 100k/1k).
Exit status 1 when the budget is missed, 2 when a check fails.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ocop_workflow.config import Settings  # noqa: E402
from ocop_workflow.db import Database  # noqa: E402
from ocop_workflow.engine import get_registry  # noqa: E402
from ocop_workflow.migrate_db import upgrade  # noqa: E402
from ocop_workflow.models import (  # noqa: E402
    MailOutbox,
    Membership,
    Notification,
    Organisation,
    Producer,
    Product,
    Reminder,
    User,
)
from ocop_workflow.reminders.sweep import find_stalled, run_sweep  # noqa: E402

BUDGET_SECONDS = 1.0
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
DISTRICTS, COMMUNES_PER_DISTRICT = 10, 10
# (state, SLA days) of ocop-148 that a product can stall in, and the final state
ACTIVE = [("idea", 30), ("production_plan", 60), ("implementation", 180), ("district_review", 30)]
CHUNK = 5000


def build_world(db: Database) -> list[tuple[int, int]]:
    """Organisations, users, memberships, producers; returns (commune id, producer id) pairs."""
    pairs = []
    with db.transaction() as s:
        vn = Organisation(code="VN", name="Việt Nam", level="central", path="/VN/")
        p = Organisation(code="BG", name="Bắc Giang", level="province", parent=vn, path="/VN/BG/")
        s.add_all([vn, p])
        for d in range(DISTRICTS):
            district = Organisation(code=f"D{d}", name=f"Huyện {d}", level="district", parent=p, path=f"/VN/BG/D{d}/")
            secretary = User(email=f"sec.d{d}@bench.ocop.vn", name=f"Thường trực {d}", locale="vi", active=True)
            s.add_all(
                [district, secretary, Membership(user=secretary, organisation=district, role="district_secretariat")]
            )
            for c in range(COMMUNES_PER_DISTRICT):
                code = f"C{d}_{c}"
                commune = Organisation(
                    code=code, name=f"Xã {d}.{c}", level="commune", parent=district, path=f"/VN/BG/D{d}/{code}/"
                )
                officer = User(
                    email=f"officer.{code.lower()}@bench.ocop.vn",
                    name=f"Cán bộ {code}",
                    locale="en" if c % 3 == 0 else "vi",
                    active=True,
                )
                producer = Producer(name=f"HTX {code}", kind="cooperative_group", commune=commune)
                s.add_all(
                    [commune, officer, producer, Membership(user=officer, organisation=commune, role="commune_officer")]
                )
                s.flush()
                pairs.append((commune.id, producer.id))
    return pairs


def fill_products(db: Database, pairs: list[tuple[int, int]], total: int, stalled: int, seed: int = 5) -> None:
    rnd = random.Random(seed)
    rows = []
    for i in range(total):
        commune_id, producer_id = pairs[i % len(pairs)]
        if i < stalled:  # past the SLA, before the escalation
            state, sla = ACTIVE[i % len(ACTIVE)]
            entered = NOW - timedelta(days=sla + 1 + rnd.random() * (sla - 2))
        elif i % 5 == 0:  # rated years ago: old, but a final state has no SLA
            state, entered = "rated", NOW - timedelta(days=400 + rnd.random() * 1500)
        else:  # inside the SLA
            state, sla = ACTIVE[i % len(ACTIVE)]
            entered = NOW - timedelta(days=rnd.random() * (sla - 1))
        rows.append(
            {
                "name": f"Sản phẩm {i}",
                "product_group": "tourism",
                "producer_id": producer_id,
                "commune_id": commune_id,
                "workflow_key": "ocop-148",
                "workflow_version": 1,
                "state": state,
                "state_entered_at": entered,
                "application_type": "first_rating",
                "history_count": 1,
                "created_at": entered,
                "version": 1,
            }
        )
    rnd.shuffle(rows)  # stalled products are not the first ids
    with db.transaction() as s:
        for k in range(0, len(rows), CHUNK):
            s.execute(insert(Product), rows[k : k + CHUNK])
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


class Target:
    """Fresh databases for the scenarios: SQLite files, or databases on a PostgreSQL server."""

    def __init__(self, pg_url: str | None) -> None:
        self.pg_url = pg_url
        self.tmp = Path(tempfile.mkdtemp(prefix="ocop-bench-rem-"))
        self.created: list[str] = []
        self._template: Path | None = None

    def new(self) -> Database:
        if self.pg_url is None:
            if self._template is None:
                self._template = self.tmp / "template.sqlite3"
                upgrade(f"sqlite:///{self._template}")
            path = self.tmp / f"{uuid.uuid4().hex[:8]}.sqlite3"
            shutil.copy(self._template, path)
            return Database(f"sqlite:///{path}")
        name = f"ocop_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(make_url(self.pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        url = make_url(self.pg_url).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        return Database(url)

    def close(self) -> None:
        if self.pg_url and self.created:
            admin = create_engine(make_url(self.pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                for name in self.created:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_scenario(target: Target, registry, settings: Settings, total: int, stalled: int) -> dict:
    db = target.new()
    try:
        t = time.perf_counter()
        pairs = build_world(db)
        fill_products(db, pairs, total, stalled)
        setup = time.perf_counter() - t

        with db.session() as s:  # the finding query alone
            t = time.perf_counter()
            found = len(find_stalled(s, registry, settings, NOW))
            find_time = time.perf_counter() - t
        t = time.perf_counter()
        first = run_sweep(db, registry, settings, now=NOW, send=False)
        first_time = time.perf_counter() - t
        t = time.perf_counter()
        again = run_sweep(db, registry, settings, now=NOW + timedelta(minutes=5), send=False)
        again_time = time.perf_counter() - t

        with db.session() as s:
            counts = {
                m.__tablename__: s.scalar(select(func.count()).select_from(m))
                for m in (Product, Reminder, Notification, MailOutbox)
            }
        problems = []
        if found != stalled or first.stalled != stalled:
            problems.append(f"found {found}/{first.stalled} stalled, expected {stalled}")
        if len(first.queued) != stalled or counts["reminders"] != stalled or counts["notifications"] != stalled:
            problems.append(f"queued {len(first.queued)}, rows {counts}, expected {stalled} each")
        if counts["mail_outbox"] != stalled:
            problems.append(f"{counts['mail_outbox']} mails queued, expected {stalled}")
        if again.queued:
            problems.append(f"the repeated sweep queued {len(again.queued)}")
        if counts["products"] != total:
            problems.append(f"{counts['products']} products, expected {total}")
        return {
            "total": total,
            "stalled": stalled,
            "setup": setup,
            "find": find_time,
            "first": first_time,
            "again": again_time,
            "problems": problems,
            "plan": _plan(db),
        }
    finally:
        db.dispose()


def _plan(db: Database) -> str:
    stmt = select(Product.id).where(
        Product.workflow_key == "ocop-148",
        Product.workflow_version == 1,
        Product.state == "idea",
        Product.state_entered_at < NOW - timedelta(days=30),
    )
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    with db.session() as s:
        if db.is_sqlite:
            return "; ".join(str(r[-1]) for r in s.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        return "; ".join(r[0].strip() for r in s.execute(text(f"EXPLAIN {compiled}")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenarios", default="100000:1000,10000:1000,100000:2000", help="comma-separated TOTAL:STALLED pairs"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL|temp",
        help="a PostgreSQL server URL (databases are created and dropped), or 'temp' for a "
        "throwaway cluster (tests/pg.py); default: SQLite files",
    )
    args = parser.parse_args()
    scenarios = [tuple(int(x) for x in pair.split(":")) for pair in args.scenarios.split(",")]

    server = None
    pg_url = args.postgres
    if pg_url == "temp":
        from tests.pg import TempPostgres

        server = TempPostgres()
        pg_url = server.url
    registry = get_registry(ROOT / "workflows")
    settings = replace(
        Settings(),
        smtp_url=None,
        timezone="Asia/Ho_Chi_Minh",
        reminder_repeat_days=7,
        escalate_after_days=None,
        digest_hour=7,
    )
    target = Target(pg_url)
    results = []
    try:
        for total, stalled in scenarios:
            results.append(run_scenario(target, registry, settings, total, stalled))
    finally:
        target.close()
        if server is not None:
            server.stop()

    backend = "PostgreSQL" if pg_url else "SQLite"
    print(f"reminder sweep on {backend} (first sweep: find + queue {{reminder, notification, mail}} + commit)")
    print(f"{'products':>9} {'stalled':>8} {'find':>9} {'sweep':>9} {'again':>9}   per stalled product")
    for r in results:
        print(
            f"{r['total']:>9,} {r['stalled']:>8,} {r['find'] * 1000:>7.1f}ms {r['first'] * 1000:>7.1f}ms "
            f"{r['again'] * 1000:>7.1f}ms   {r['first'] / r['stalled'] * 1e6:.0f} µs"
        )
    print(f"query plan: {results[0]['plan']}")
    failed = [p for r in results for p in r["problems"]]
    for p in failed:
        print(f"CHECK FAILED: {p}")
    if failed:
        return 2
    budget = [r for r in results if (r["total"], r["stalled"]) == (100_000, 1_000)]
    if budget:
        verdict = "within" if budget[0]["first"] < BUDGET_SECONDS else "OVER"
        print(
            f"budget: 100,000 products / 1,000 stalled in {budget[0]['first']:.3f} s — {verdict} "
            f"the {BUDGET_SECONDS:.0f} s budget"
        )
        if budget[0]["first"] >= BUDGET_SECONDS:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
