"""Benchmark: the process figures (issue #12, item 3) over 100,000 products and 1,000,000 history rows.

    .venv/bin/python bench/process.py [--products N] [--events-per-product 10] [--db PATH] [--keep]

Setup (not timed): a migrated SQLite file with one province, 10 districts of 10 communes, a producer
per commune and N products on ocop-148 v2, each with a history of `--events-per-product` rows
(create, accept_idea, approve_plan, submit_to_district, a return for revision and a second submission,
the district's and the province's rating, the recognition, an edit of the details), 1 to 45 days
apart from a start between 2018 and 2025, inserted in bulk with sqlite3. Timed: `process_figures`
as the province (the whole history), a district and a commune, as of today and as of a past day,
each run twice (the first run reads the file cold from the page cache). Exit status 1 when the
province's run as of today takes more than the budget (`--budget`, 3 s).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocop_workflow import migrate_db
from ocop_workflow.db import Database
from ocop_workflow.engine import get_registry
from ocop_workflow.models import Organisation
from ocop_workflow.reports.process import process_figures
from ocop_workflow.services import directory
from ocop_workflow.services.access import Actor

MOVES = [
    ("create", None, "idea"),
    ("accept_idea", "idea", "production_plan"),
    ("approve_plan", "production_plan", "implementation"),
    ("submit_to_district", "implementation", "district_review"),
    ("return_for_revision", "district_review", "implementation"),
    ("submit_to_district", "implementation", "district_review"),
    ("rate_district", "district_review", "province_review"),
    ("rate_province", "province_review", "province_recognition"),
    ("recognise", "province_recognition", "rated"),
    ("edit", "rated", "rated"),
]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite text form of a UTC datetime


def seed(path: Path, products: int, per_product: int) -> None:
    url = f"sqlite:///{path}"
    migrate_db.upgrade(url)
    db = Database(url)
    communes: list[int] = []
    with db.transaction() as s:
        directory.create_organisation(s, code="VN", name="Việt Nam", level="central")
        directory.create_organisation(s, code="24", name="Bắc Giang", level="province", parent_code="VN")
        for d in range(10):
            directory.create_organisation(s, code=f"D{d}", name=f"Huyện {d}", level="district", parent_code="24")
            for c in range(10):
                org = directory.create_organisation(
                    s, code=f"C{d}{c}", name=f"Xã {d}{c}", level="commune", parent_code=f"D{d}"
                )
                communes.append(org.id)
    db.dispose()
    rnd = random.Random(12)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.executemany(
        "INSERT INTO producers (name, kind, commune_id) VALUES (?, 'cooperative', ?)",
        [(f"HTX {i}", commune) for i, commune in enumerate(communes)],
    )
    producer_of = dict(con.execute("SELECT commune_id, id FROM producers").fetchall())
    start = datetime(2018, 1, 1, tzinfo=UTC)
    product_rows, event_rows = [], []
    for pid in range(1, products + 1):
        commune = communes[pid % len(communes)]
        at = start + timedelta(days=rnd.randrange(0, 8 * 365), seconds=rnd.randrange(0, 86400))
        moves = MOVES[:per_product] if per_product <= len(MOVES) else MOVES + [MOVES[-1]] * (per_product - len(MOVES))
        for seq, (trigger, source, dest) in enumerate(moves, start=1):
            if seq > 1:
                at += timedelta(days=rnd.randrange(1, 46), seconds=rnd.randrange(0, 86400))
            event_rows.append((pid, seq, source, dest, trigger, _stamp(at)))
        product_rows.append(
            (
                pid,
                f"Sản phẩm {pid}",
                f"san pham {pid}",
                producer_of[commune],
                commune,
                moves[-1][2],
                _stamp(at),
                len(moves),
            )
        )
    con.executemany(
        "INSERT INTO products (id, name, name_folded, product_group, producer_id, commune_id, workflow_key, "
        "workflow_version, state, state_entered_at, application_type, history_count, created_at, version) "
        "VALUES (?, ?, ?, 'food', ?, ?, 'ocop-148', 2, ?, ?, 'first_rating', ?, '2018-01-01 00:00:00.000000', 1)",
        product_rows,
    )
    con.executemany(
        "INSERT INTO product_events (product_id, seq, workflow_key, workflow_version, from_state, to_state, trigger, "
        "at, data, dossier_fingerprint) VALUES (?, ?, 'ocop-148', 2, ?, ?, ?, ?, '{}', '')",
        event_rows,
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--events-per-product", type=int, default=10)
    ap.add_argument("--db", type=Path, help="reuse (or create) this SQLite file")
    ap.add_argument("--budget", type=float, default=3.0, help="seconds allowed for the province as of today")
    args = ap.parse_args()
    path = args.db or Path(tempfile.mkdtemp()) / "process.sqlite3"
    if not path.exists():
        t0 = time.perf_counter()
        seed(path, args.products, args.events_per_product)
        print(f"seeded {path} in {time.perf_counter() - t0:.1f} s")
    db = Database(f"sqlite:///{path}")
    registry = get_registry()
    system = Actor.system_actor(registry.policy)
    today = date.today()
    runs = [("province", "24", today), ("province", "24", date(2022, 6, 30)), ("district", "D3", today)]
    runs.append(("commune", "C37", today))
    worst_province = 0.0
    with db.session() as s:
        events = s.execute(text("SELECT count(*) FROM product_events")).scalar_one()
        print(f"{events:,} history rows")
        for what, code, at in runs:
            org = s.query(Organisation).filter_by(code=code).one()
            for attempt in (1, 2):
                t0 = time.perf_counter()
                report = process_figures(s, registry, system, at, org=org)
                took = time.perf_counter() - t0
                if what == "province" and at == today:
                    worst_province = max(worst_province, took if attempt == 2 else 0.0)
                ended = sum(r.ended for r in report.rows)
                opened = sum(r.open for r in report.rows)
                print(
                    f"{what:8} {code:4} as of {at}  run {attempt}: {took:6.2f} s  "
                    f"({report.events:,} rows read, {ended:,} stays ended in {report.year}, {opened:,} open)"
                )
    db.dispose()
    if worst_province > args.budget:
        print(f"over budget: {worst_province:.2f} s > {args.budget:.1f} s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
