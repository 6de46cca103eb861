"""Benchmark: advance N products through the whole ocop-148 cycle, services vs raw sqlite3.

    .venv/bin/python bench/engine.py [--products N] [--db PATH] [--actors reload|cached|both] [--profile FILE]
                                     [--interleave P] [--peers [--peers-dir DIR]] [--rounds R]

Setup (not timed) builds one SQLite database with the Alembic migration: an organisation
tree (VN / province / district / commune), one user per role with memberships, a
co-operative group (the producer kind with the fewest required documents) and N "tourism"
products created through `create_product` (state `idea`, one create event each). Their
dossiers (the six documents ocop-148 requires for tourism / cooperative_group) are inserted
in bulk with SQLAlchemy: no files are written, that is not what is measured. The seeded
file is then copied with the sqlite3 backup API, so every timed phase starts from the same
migrated schema and the same rows, each on its own fresh file.

Timed phases, each product walked through the whole cycle before the next one:
accept_idea, approve_plan, submit_to_district, rate_district (75 -> province_review, 3*),
rate_province (85 -> rated, 4*): 5 advances per product, each in its own committed
transaction (BEGIN IMMEDIATE ... COMMIT), as one user request would be. The phases run one after
another, or with `--interleave P` take turns P products at a time (each keeps its own database and
connection), so that a change of load on a shared machine falls on all of them alike.

* services/reload: `with db.transaction() as s:` + `load_actor(s, user_id)` + `advance(...)`;
  the actor is re-loaded in every transaction, as a web request would (realistic).
* services/cached: the same, but each user's Actor is loaded once, in its own session, and
  reused detached across transactions (the Database sessions use expire_on_commit=False, so
  the user, memberships and organisations stay loaded; `advance` only reads ids and paths
  from them and never adds them to the session, so no merge is needed).
* raw: stdlib sqlite3 with the PRAGMAs of ocop_workflow/db.py; per advance one transaction
  that reads the product row and its current documents, updates the product (state,
  state_entered_at, version+1 WHERE version=old, history_count, current_star; first, as
  `advance` does), inserts the product_events row (same columns, same JSON data, same
  dossier fingerprint) and the ratings row on rating steps. The transitions are hard-coded:
  it is the floor.

Then (not timed) every database is checked: all products `rated`, 4*, version 6, six
history rows (create + 5) and two ratings each, and the services' rows equal the raw ones
(times and ids aside). Exit status 1 when the budget (1,000 advances/s through the services,
judged on the realistic reload variant when it ran) is missed, 2 when a check fails.

`--peers` then runs the peer benchmarks (`../shared/peers/run_all.sh`, the same workload done
with SpiffWorkflow, django-viewflow, a naive transitions+SQLAlchemy advance and raw sqlite3) with
the same N, as a child of this process, right after the phases above, and prints one table of
every path's advances/s and ratios. It judges the two budgets of issue #8 on figures of this one
run: services/reload at least 1.3x the best tool peer, and raw sqlite3 (the same writes, above)
at most 4x faster than services/reload; exit status 1 when either is missed. `--rounds R` repeats
the phases (each on a fresh copy of the seeded database) and the peers R times and judges the
medians, since a shared machine's load drifts within a run. The peers' venv
follows run_all.sh: `PEERS_VENV=DIR` reuses one, otherwise a scratch one is installed from the
configured pip index.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bulk import insert_documents  # a sibling module: the bench runs as a script
from sqlalchemy import update

from ocop_workflow.db import Database
from ocop_workflow.engine import Registry, get_registry
from ocop_workflow.migrate_db import upgrade
from ocop_workflow.models import Product
from ocop_workflow.notify.moves import ENABLED_KEY as NOTICES_KEY
from ocop_workflow.services.access import Actor, load_actor
from ocop_workflow.services.directory import add_membership, create_organisation, create_user
from ocop_workflow.services.producers import create_producer
from ocop_workflow.services.products import Verdict, advance, create_product

BUDGET = 1000.0  # advances per second through the services
# Whether a move writes its notices (issue #11: in its own transaction, to the people who act next). On by
# default; `--no-notices` measures the move alone, the workload the peers and the raw sqlite3 phase do.
NOTICES = [True]
PEER_FACTOR = 1.3  # services/reload must be at least this many times the best tool peer ...
RAW_FACTOR = 4.0  # ... and raw sqlite3 at most this many times faster than services/reload
PEERS_DIR = Path(__file__).resolve().parents[2] / "shared" / "peers"
TOOL_PEERS = ("spiff_bench", "viewflow_bench", "transitions_naive")
WORKFLOW = "ocop-148"
# The workload the peers run too: the five-step route of version 1 to `rated` 4★. Version 2 sends a 4★
# result to the province's recognition decision (a signing step the peers have no counterpart of), so the
# products are pinned to version 1; the steps' code path is the same (version 2's rating step adds one
# indexed read of the certificate the product holds).
WORKFLOW_VERSION = 1
GROUP = "tourism"
PRODUCER_KIND = "cooperative_group"
CREATE_BATCH = 1000

USERS = {  # key: (e-mail, organisation code, role)
    "officer": ("officer@bench.ocop.vn", "BG-LN-TT", "commune_officer"),
    "district": ("district@bench.ocop.vn", "BG-LN", "district_council"),
    "province": ("province@bench.ocop.vn", "BG", "province_council"),
    "central": ("central@bench.ocop.vn", "VN", "central_council"),
    "producer": ("producer@bench.ocop.vn", "BG-LN-TT", "producer"),
}


@dataclass(frozen=True)
class Step:
    trigger: str
    user: str
    score: float | None
    from_state: str
    to_state: str
    # only for the raw baseline, which does not consult the definition
    rating_level: str | None = None
    org_code: str | None = None
    star: int | None = None
    final: bool = False


CYCLE = (
    Step("accept_idea", "officer", None, "idea", "production_plan"),
    Step("approve_plan", "officer", None, "production_plan", "implementation"),
    Step("submit_to_district", "officer", None, "implementation", "district_review"),
    Step("rate_district", "district", 75, "district_review", "province_review", "district", "BG-LN", 3, False),
    Step("rate_province", "province", 85, "province_review", "rated", "province", "BG", 4, True),
)
FINAL_STATE, FINAL_STAR = "rated", 4
EVENTS_PER_PRODUCT = 1 + len(CYCLE)
RATINGS_PER_PRODUCT = sum(1 for s in CYCLE if s.rating_level)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def required_documents(registry: Registry) -> list[str]:
    """Every document type some step of the cycle requires for a tourism product of a co-operative group."""
    definition = registry.get(WORKFLOW, WORKFLOW_VERSION)
    needed: list[str] = []
    for step in CYCLE:
        for tdef in definition.candidates(step.from_state, step.trigger):
            if tdef.documents:
                needed += [d for d in tdef.documents.required_for(GROUP, PRODUCER_KIND) if d not in needed]
    return needed


# --------------------------------------------------------------------------- setup (not timed)


@dataclass
class World:
    user_ids: dict[str, int]
    org_ids: dict[str, int]
    product_ids: list[int]
    doc_types: list[str]


def seed(path: Path, registry: Registry, n_products: int) -> World:
    url = sqlite_url(path)
    upgrade(url)
    db = Database(url)
    system = Actor.system_actor(registry.policy)
    with db.transaction() as s:
        vn = create_organisation(s, code="VN", name="Việt Nam", level="central")
        bg = create_organisation(s, code="BG", name="Tỉnh Bắc Giang", level="province", parent_code="VN")
        ln = create_organisation(s, code="BG-LN", name="Huyện Lục Ngạn", level="district", parent_code="BG")
        tt = create_organisation(s, code="BG-LN-TT", name="Xã Tân Mộc", level="commune", parent_code="BG-LN")
        orgs = {o.code: o for o in (vn, bg, ln, tt)}
        producer = create_producer(s, system, name="Tổ hợp tác du lịch cộng đồng", kind=PRODUCER_KIND, commune=tt)
        producer_id = producer.id
        user_ids = {}
        for key, (email, org_code, role) in USERS.items():
            user = create_user(s, email=email, name=key, password=None)
            bound = producer if role in registry.policy.acts_for_producer else None
            add_membership(s, registry, user, orgs[org_code], role, actor=system, producer=bound)
            user_ids[key] = user.id
        org_ids = {code: o.id for code, o in orgs.items()}

    product_ids: list[int] = []
    for start in range(0, n_products, CREATE_BATCH):
        with db.transaction() as s:
            actor = load_actor(s, user_ids["producer"])
            for i in range(start, min(start + CREATE_BATCH, n_products)):
                product = create_product(
                    s,
                    registry,
                    actor,
                    name=f"Homestay sinh thái #{i + 1}",
                    product_group=GROUP,
                    producer_id=producer_id,
                    workflow_key=WORKFLOW,
                )
                product_ids.append(product.id)
            s.flush()
            # see WORKFLOW_VERSION; a Core UPDATE, so the products' own version stays as created
            s.execute(
                update(Product.__table__)
                .where(Product.__table__.c.id.in_(product_ids[start:]))
                .values(workflow_version=WORKFLOW_VERSION)
            )

    doc_types = required_documents(registry)
    insert_documents(db, product_ids, doc_types, user_ids["producer"])
    db.dispose()
    return World(user_ids, org_ids, product_ids, doc_types)


def copy_database(src: Path, dst: Path) -> None:
    """A consistent copy (the sqlite3 backup API) of the seeded, migrated database."""
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()


# --------------------------------------------------------------------------- timed phases


Timings = tuple[float, float]  # (wall seconds, CPU seconds)
PhaseRunner = Generator[Timings, list[int] | None, None]


def services_phase(path: Path, registry: Registry, world: World, *, reload_actor: bool) -> PhaseRunner:
    """Walk the products it is sent through the cycle with `advance`, one committed transaction
    per advance; yields the time each batch took (a primed generator: send a list of ids, None ends)."""
    db = Database(sqlite_url(path))
    cached: dict[str, Actor] = {}
    if not reload_actor:
        with db.session() as s:
            cached = {key: load_actor(s, uid) for key, uid in world.user_ids.items()}
    user_ids = world.user_ids
    # a council's rating comes from a round: the secretary's close passes the round's verdict
    plan = [
        (
            step,
            user_ids[step.user],
            Verdict(1, "bench", 1, world.org_ids[step.org_code], step.score, None) if step.score is not None else None,
        )
        for step in CYCLE
    ]
    try:
        pids = yield (0.0, 0.0)
        while pids is not None:
            started, cpu = time.perf_counter(), time.process_time()
            for pid in pids:
                for step, uid, verdict in plan:
                    with db.transaction() as s:
                        if not NOTICES[0]:
                            s.info[NOTICES_KEY] = False  # the peers' workload: the move alone, nobody told
                        actor = load_actor(s, uid) if reload_actor else cached[step.user]
                        event = advance(s, registry, pid, step.trigger, actor, verdict=verdict)
                    if event.to_state != step.to_state:
                        raise AssertionError(
                            f"product {pid}: {step.trigger} went to {event.to_state}, not {step.to_state}"
                        )
            pids = yield (time.perf_counter() - started, time.process_time() - cpu)
    finally:
        db.dispose()


def run_services(path: Path, registry: Registry, world: World, *, reload_actor: bool) -> Timings:
    """Every product through the cycle with `advance` (see `services_phase`)."""
    return run_phase(services_phase(path, registry, world, reload_actor=reload_actor), world.product_ids)


def run_phase(runner: PhaseRunner, pids: list[int]) -> Timings:
    next(runner)
    try:
        return runner.send(pids)
    finally:
        runner.close()


def _sa_datetime(at: datetime) -> str:
    """How SQLAlchemy's DateTime stores an (UTC, naive) datetime on SQLite."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def raw_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)  # autocommit: we emit BEGIN ourselves
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def run_raw(path: Path, world: World) -> Timings:
    """Every product through the cycle with stdlib sqlite3 (see `raw_phase`)."""
    return run_phase(raw_phase(path, world), world.product_ids)


def raw_phase(path: Path, world: World) -> PhaseRunner:
    """The same writes with stdlib sqlite3: the floor under the services (a runner like `services_phase`)."""
    conn = raw_connect(path)
    try:
        pids = yield (0.0, 0.0)
        while pids is not None:
            started, cpu = time.perf_counter(), time.process_time()
            _raw_batch(conn, world, pids)
            pids = yield (time.perf_counter() - started, time.process_time() - cpu)
    finally:
        conn.close()


def _raw_batch(conn: sqlite3.Connection, world: World, pids: list[int]) -> None:
    user_ids, org_ids = world.user_ids, world.org_ids
    plan = []
    for step in CYCLE:
        data: dict = {}
        if step.star is not None:  # what `advance` writes for a round's verdict (products._results)
            data = {"star": step.star, **({"recognised_by": step.rating_level} if step.final else {})}
            data["round"] = {"id": 1, "name": "bench", "council_id": 1}
        plan.append((step, user_ids[step.user], org_ids.get(step.org_code or ""), json.dumps(data)))
    execute = conn.execute
    for pid in pids:
        for step, actor_id, org_id, data_json in plan:
            execute("BEGIN IMMEDIATE")
            try:
                row = execute(
                    "SELECT state, version, history_count, workflow_key, workflow_version FROM products WHERE id = ?",
                    (pid,),
                ).fetchone()
                state, version, history_count, wf_key, wf_version = row
                if state != step.from_state:
                    raise AssertionError(f"product {pid} is at {state}, {step.trigger} needs {step.from_state}")
                docs = execute(
                    "SELECT id, doc_type, sha256 FROM documents WHERE product_id = ? AND current = 1 "
                    "ORDER BY doc_type, id",
                    (pid,),
                ).fetchall()
                fingerprint = hashlib.sha256("\n".join(sorted(f"{t}:{h}:{i}" for i, t, h in docs)).encode()).hexdigest()
                at = _sa_datetime(datetime.now(UTC))
                seq = history_count + 1
                if step.final:
                    cur = execute(
                        "UPDATE products SET state = ?, state_entered_at = ?, history_count = ?, current_star = ?, "
                        "version = ? WHERE id = ? AND version = ?",
                        (step.to_state, at, seq, step.star, version + 1, pid, version),
                    )
                else:
                    cur = execute(
                        "UPDATE products SET state = ?, state_entered_at = ?, history_count = ?, version = ? "
                        "WHERE id = ? AND version = ?",
                        (step.to_state, at, seq, version + 1, pid, version),
                    )
                if cur.rowcount != 1:
                    raise AssertionError(f"product {pid}: stale version {version}")
                event_id = execute(
                    "INSERT INTO product_events (product_id, seq, workflow_key, workflow_version, from_state, "
                    "to_state, trigger, actor_id, at, comment, score, data, dossier_fingerprint) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        pid,
                        seq,
                        wf_key,
                        wf_version,
                        state,
                        step.to_state,
                        step.trigger,
                        actor_id,
                        at,
                        None,
                        step.score,
                        data_json,
                        fingerprint,
                    ),
                ).lastrowid
                if step.rating_level:
                    execute(
                        "INSERT INTO ratings (product_id, event_id, level, organisation_id, score, star, final, at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (pid, event_id, step.rating_level, org_id, float(step.score), step.star, int(step.final), at),
                    )
                execute("COMMIT")
            except BaseException:
                execute("ROLLBACK")
                raise


# --------------------------------------------------------------------------- checks (not timed)


def verify(path: Path, n_products: int) -> list[str]:
    """Everything every product should look like after the cycle; an empty list when it does."""
    conn = sqlite3.connect(path)
    problems = []

    def one(sql: str, *args: object) -> object:
        return conn.execute(sql, args).fetchone()[0]

    if (n := one("SELECT count(*) FROM products")) != n_products:
        problems.append(f"{n} products, expected {n_products}")
    bad = one(
        "SELECT count(*) FROM products WHERE NOT (state = ? AND current_star = ? AND history_count = ? "
        "AND version = ?)",
        FINAL_STATE,
        FINAL_STAR,
        EVENTS_PER_PRODUCT,
        EVENTS_PER_PRODUCT,
    )
    if bad:
        problems.append(f"{bad} products not {FINAL_STATE} with {FINAL_STAR}* and {EVENTS_PER_PRODUCT} moves")
    bad = one(
        "SELECT count(*) FROM products p WHERE (SELECT count(*) FROM product_events e "
        "WHERE e.product_id = p.id) != ? OR (SELECT max(seq) FROM product_events e "
        "WHERE e.product_id = p.id) != ?",
        EVENTS_PER_PRODUCT,
        EVENTS_PER_PRODUCT,
    )
    if bad:
        problems.append(f"{bad} products without exactly {EVENTS_PER_PRODUCT} history rows (seq 1..6)")
    bad = one(
        "SELECT count(*) FROM products p WHERE (SELECT count(*) FROM ratings r "
        "WHERE r.product_id = p.id) != ? OR NOT EXISTS (SELECT 1 FROM ratings r WHERE r.product_id = p.id "
        "AND r.final AND r.star = p.current_star)",
        RATINGS_PER_PRODUCT,
    )
    if bad:
        problems.append(f"{bad} products without {RATINGS_PER_PRODUCT} ratings and a final one for their star")
    conn.close()
    return problems


SAME_ROWS = {
    "products": "id, state, current_star, history_count, version, application_type",
    "product_events": "product_id, seq, workflow_key, workflow_version, from_state, to_state, trigger, actor_id, "
    "comment, score, data, dossier_fingerprint",
    "ratings": "product_id, level, organisation_id, score, star, final",
}


def compare(path: Path, other: Path) -> list[str]:
    """Rows (times and generated ids aside) that differ between two of the benchmark's databases."""
    conn = sqlite3.connect(path)
    conn.execute("ATTACH DATABASE ? AS other", (str(other),))
    problems = []
    for table, cols in SAME_ROWS.items():
        for a, b in (("main", "other"), ("other", "main")):
            n = conn.execute(
                f"SELECT count(*) FROM (SELECT {cols} FROM {a}.{table} EXCEPT SELECT {cols} FROM {b}.{table})"
            ).fetchone()[0]
            if n:
                problems.append(f"{table}: {n} rows of {path.name} ({a}) not in {other.name} ({b})")
    conn.close()
    return problems


# --------------------------------------------------------------------------- peers


_PEER_LINE = re.compile(r"^(\w+): ([0-9.]+) advances/s")


def run_peers(peers_dir: Path, n_products: int) -> dict[str, float]:
    """Run `run_all.sh --products N` (a child process) and return each peer's advances/s."""
    script = peers_dir / "run_all.sh"
    if not script.is_file():
        raise SystemExit(f"no peer benchmarks at {script} (give --peers-dir)")
    print(f"timing the peers ({script} --products {n_products}) ...", file=sys.stderr)
    proc = subprocess.run(
        ["bash", str(script), "--products", str(n_products)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    for line in proc.stdout.splitlines():
        print(f"  peers| {line}", file=sys.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"{script} failed with exit status {proc.returncode}")
    rates = {m[1]: float(m[2]) for line in proc.stdout.splitlines() if (m := _PEER_LINE.match(line))}
    missing = [p for p in ("raw_sqlite", *TOOL_PEERS) if p not in rates]
    if missing:
        raise SystemExit(f"{script} printed no rate for {', '.join(missing)}")
    return rates


def peer_table(ours: dict[str, float], peers: dict[str, float]) -> tuple[list[str], bool]:
    """One table of every path (ours and the peers, one run), the ratios, and the issue #8 verdicts."""
    raw, peer_raw = ours["raw sqlite3"], peers["raw_sqlite"]
    lines = [f"{'path':<30} {'advances/s':>11} {'raw/this':>9} {'peer raw/this':>14}"]
    for name, rate in ours.items():
        lines.append(f"{'ocop ' + name:<30} {rate:>11.0f} {raw / rate:>8.1f}x {'':>14}")
    for name, rate in peers.items():
        lines.append(f"{'peer ' + name:<30} {rate:>11.0f} {raw / rate:>8.1f}x {peer_raw / rate:>13.1f}x")
    lines.append(
        "(raw/this: ocop raw sqlite3, the same writes as the services, per path's rate; peer raw/this: "
        "the peers' own raw_sqlite, whose advance writes less)"
    )
    services = ours.get("services/reload")
    if services is None:
        lines.append("no verdict: the budgets are judged on services/reload (run with --actors reload or both)")
        return lines, False
    best = max(TOOL_PEERS, key=lambda p: peers[p])
    vs_peer, vs_raw = services / peers[best], raw / services
    ok_peer, ok_raw = vs_peer >= PEER_FACTOR, vs_raw <= RAW_FACTOR
    lines.append(
        f"{'PASS' if ok_peer else 'FAIL'}: services/reload {services:.0f}/s is {vs_peer:.2f}x the best "
        f"peer ({best} {peers[best]:.0f}/s); budget >= {PEER_FACTOR}x"
    )
    lines.append(
        f"{'PASS' if ok_raw else 'FAIL'}: raw sqlite3 {raw:.0f}/s is {vs_raw:.2f}x services/reload; "
        f"budget <= {RAW_FACTOR:g}x"
    )
    return lines, ok_peer and ok_raw


# --------------------------------------------------------------------------- main


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def time_phases(
    paths: dict[str, Path],
    seeded: Path,
    registry: Registry,
    world: World,
    variants: list[str],
    profile: Path | None,
    interleave: int = 0,
) -> dict[str, Timings]:
    """Each phase on its own fresh copy of the seeded database: (wall seconds, CPU seconds) per phase.
    With `interleave` > 0 the phases take turns, that many products at a time, so that a change of
    load on a shared machine falls on all of them alike; otherwise each runs whole, one after another."""
    for key in [*variants, "raw"]:
        remove_database(paths[key])
        copy_database(seeded, paths[key])
    runners: dict[str, PhaseRunner] = {
        **{
            f"services/{key}": services_phase(paths[key], registry, world, reload_actor=key == "reload")
            for key in variants
        },
        "raw sqlite3": raw_phase(paths["raw"], world),
    }
    profilers = {name: cProfile.Profile() for name in runners if profile is not None and name != "raw sqlite3"}
    results = {name: (0.0, 0.0) for name in runners}
    pids = world.product_ids
    size = interleave if interleave > 0 else len(pids)
    try:
        for runner in runners.values():
            next(runner)
        if interleave > 0:
            print(f"timing {', '.join(runners)}, taking turns {size} products at a time ...", file=sys.stderr)
        for start in range(0, len(pids), size):
            batch = pids[start : start + size]
            for name, runner in runners.items():
                if interleave <= 0:
                    print(f"timing {name} ...", file=sys.stderr)
                prof = profilers.get(name)
                if prof is not None:
                    prof.enable()
                try:
                    wall, cpu = runner.send(batch)
                finally:
                    if prof is not None:
                        prof.disable()
                results[name] = (results[name][0] + wall, results[name][1] + cpu)
    finally:
        for runner in runners.values():
            runner.close()
    for name, prof in profilers.items():
        out = profile.with_suffix(profile.suffix + "." + name.split("/")[1])
        prof.dump_stats(out)
        print(f"  profile written to {out} (cProfile overhead is in this phase's figure)", file=sys.stderr)
    return results


def print_phases(results: dict[str, tuple[float, float]], advances: int) -> None:
    raw_rate = advances / results["raw sqlite3"][0]
    print(
        f"{'phase':<18} {'advances':>9} {'seconds':>9} {'advances/s':>11} {'raw/this':>9}"
        f" {'cpu s':>8} {'adv/cpu-s':>10}"
    )
    for name, (seconds, cpu) in results.items():
        rate = advances / seconds
        print(
            f"{name:<18} {advances:>9} {seconds:>9.2f} {rate:>11.0f} {raw_rate / rate:>8.1f}x"
            f" {cpu:>8.2f} {advances / cpu:>10.0f}"
        )
    print(
        "(seconds, advances/s and raw/this are wall-clock; cpu s is this process's CPU time, which other"
        " load on the machine inflates less)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--products", type=int, default=10_000, help="products to walk through the cycle")
    parser.add_argument(
        "--db",
        type=Path,
        help="services database file (must not exist; the other phases use "
        "siblings .cached/.raw/.seed); a temporary folder otherwise",
    )
    parser.add_argument(
        "--actors",
        choices=("reload", "cached", "both"),
        default="both",
        help="services variant(s): actor re-loaded per transaction, loaded once, or both",
    )
    parser.add_argument(
        "--no-notices",
        action="store_true",
        help="moves tell nobody (the peers' and raw sqlite3's workload: the move alone); default: notices on",
    )
    parser.add_argument("--profile", type=Path, help="cProfile the services phase(s) into FILE[.reload|.cached]")
    parser.add_argument(
        "--peers",
        action="store_true",
        help="then run the peer benchmarks with the same N and judge the issue #8 budgets",
    )
    parser.add_argument("--peers-dir", type=Path, default=PEERS_DIR, help=f"where run_all.sh is (default {PEERS_DIR})")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat the phases (and the peers) this many times on fresh copies and judge the "
        "medians of each round's figures (a noisy machine); default 1",
    )
    parser.add_argument(
        "--interleave",
        type=int,
        default=0,
        metavar="P",
        help="let the phases take turns, P products at a time, so that the load of a shared "
        "machine falls on them alike (default 0: each phase whole, one after another)",
    )
    args = parser.parse_args(argv)
    NOTICES[0] = not args.no_notices
    print(f"notices: {'on (each move tells the people who act next)' if NOTICES[0] else 'off (the move alone)'}")
    if args.products < 1:
        parser.error("--products must be at least 1")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory(prefix="ocop-bench-")
        base = Path(tmp.name) / "services.sqlite3"
    else:
        base = args.db.resolve()
    paths = {
        "reload": base,
        "cached": base.with_suffix(".cached" + base.suffix),
        "raw": base.with_suffix(".raw" + base.suffix),
    }
    seeded = base.with_suffix(".seed" + base.suffix)
    taken = [str(p) for p in [*paths.values(), seeded] if p.exists()]
    if taken:
        parser.error(f"refusing to overwrite {', '.join(taken)}")
    base.parent.mkdir(parents=True, exist_ok=True)
    variants = ["reload", "cached"] if args.actors == "both" else [args.actors]

    try:
        registry = get_registry()
        n = args.products
        t0 = time.perf_counter()
        world = seed(seeded, registry, n)
        print(
            f"setup: {n} products, {len(world.doc_types)} documents each ({', '.join(world.doc_types)}), "
            f"{time.perf_counter() - t0:.1f} s, databases in {base.parent}",
            file=sys.stderr,
        )
        advances = n * len(CYCLE)
        rounds: list[dict[str, float]] = []  # per round: path -> advances/s (ours and the peers')
        verdicts: list[bool] = []
        for r in range(1, args.rounds + 1):
            if args.rounds > 1:
                print(f"round {r} of {args.rounds}", file=sys.stderr)
                print(f"--- round {r} of {args.rounds}")
            results = time_phases(paths, seeded, registry, world, variants, args.profile, args.interleave)
            print()
            print_phases(results, advances)
            print()
            problems = []
            for key in [*variants, "raw"]:
                problems += [f"{key}: {p}" for p in verify(paths[key], n)]
            for key in variants:
                problems += compare(paths[key], paths["raw"])
            if problems:
                print("CHECK FAILED\n  " + "\n  ".join(problems))
                return 2
            print(
                f"check: all {n} products {FINAL_STATE} with {FINAL_STAR}*, {EVENTS_PER_PRODUCT} history rows "
                f"and {RATINGS_PER_PRODUCT} ratings each, services rows = raw rows"
            )
            rates = {name: advances / seconds for name, (seconds, _cpu) in results.items()}
            ok = budget_line(rates, variants)
            if args.peers:
                peers = run_peers(args.peers_dir, n)
                lines, peers_ok = peer_table(rates, peers)
                print()
                print("\n".join(lines))
                ok = ok and peers_ok
                rates.update({f"peer {name}": rate for name, rate in peers.items()})
            rounds.append(rates)
            verdicts.append(ok)
        if args.rounds == 1:
            return 0 if verdicts[0] else 1
        medians = {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}
        print()
        print(f"--- medians of {args.rounds} rounds")
        ok = budget_line({k: v for k, v in medians.items() if not k.startswith("peer ")}, variants)
        if args.peers:
            peers = {k.removeprefix("peer "): v for k, v in medians.items() if k.startswith("peer ")}
            lines, peers_ok = peer_table({k: v for k, v in medians.items() if not k.startswith("peer ")}, peers)
            print("\n".join(lines))
            ok = ok and peers_ok
            print(
                "per round: services/reload / best peer = "
                + ", ".join(
                    f"{r['services/reload'] / max(r['peer ' + p] for p in TOOL_PEERS):.2f}x"
                    for r in rounds
                    if "services/reload" in r
                )
                + "; raw sqlite3 / services/reload = "
                + ", ".join(f"{r['raw sqlite3'] / r['services/reload']:.2f}x" for r in rounds if "services/reload" in r)
            )
        return 0 if ok else 1
    finally:
        if tmp is not None:
            tmp.cleanup()


def budget_line(rates: dict[str, float], variants: list[str]) -> bool:
    """The 1,000 advances/s budget, judged on services/reload when it ran; prints the verdict."""
    services = {key: rates[f"services/{key}"] for key in variants}
    judged = "reload" if "reload" in services else variants[0]  # the realistic variant when it ran
    others = ", ".join(
        f"services/{k} {r:.0f}/s {'meets' if r >= BUDGET else 'misses'} it" for k, r in services.items() if k != judged
    )
    verdict = "BUDGET OK" if services[judged] >= BUDGET else "BUDGET MISSED"
    print(
        f"{verdict}: services/{judged} {services[judged]:.0f} advances/s, budget {BUDGET:.0f}"
        + (f" ({others})" if others else "")
    )
    return services[judged] >= BUDGET


if __name__ == "__main__":
    sys.exit(main())
