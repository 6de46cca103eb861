"""Web benchmark: 100,000 products in SQLite, the app under waitress, 16 concurrent connections.

    .venv/bin/python bench/web.py [--products 100000] [--seconds 10] [--connections 16] [--processes 2]
                                  [--threads 1] [--loadgen auto|wrk|python] [--db FILE] [--keep] [--json]

Fills a fresh SQLite file (bulk inserts: products with their history, a dossier for some), starts
`waitress` in subprocesses serving the OCOP app and, mounted next to it, a minimal Flask app
(`/mini/ping`) as the floor of the stack. It logs two users in, then measures with a load
generator, for each endpoint in turn and at a fixed number of keep-alive connections: the minimal
endpoint, the filtered product list (state + group, pages 1-3), the list with a name search, the
product detail (random products) and an advance (return for revision, each request on another
product). It prints requests/s, p50 and p99, their ratios to the minimal endpoint, and the server's
CPU time per request (from /proc: the cost of a request whatever else the machine is doing).

The load generator is `wrk` (apt-get install wrk) with a Lua script per endpoint: it runs in C and
leaves the CPU to the server, which a Python load generator would not on a small machine. Without
wrk (or with --loadgen python) a thread pool of http.client connections does the same, less
precisely. Budget: list and detail p99 < 100 ms at 16 connections.

With --processes N, N waitress processes accept on one listening socket, as `ocop serve
--processes N` does (SQLite in WAL mode lets readers run side by side; writers queue on a lock
file, web.context.WriteLock). The default, 2 processes x 1 thread, is one process per core of the
2-core machine the budget was set on: more threads per process cost more CPU per request (they
contend for the GIL), more processes use more cores. --db FILE reuses a database
filled by an earlier run with --keep (the advance takes products still in district review).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "mat-khau-bench"
USER_AGENT = "ocop-bench"  # flask-login's strong session protection binds the session to it
WORDS = [
    "Vải thiều",
    "Gà đồi",
    "Mì Chũ",
    "Rượu làng Vân",
    "Bánh đa Kế",
    "Cam Bố Hạ",
    "Mật ong",
    "Chè xanh",
    "Nấm hương",
    "Miến dong",
    "Tương",
    "Gạo nếp",
    "Na dai",
    "Bưởi",
    "Trà hoa vàng",
    "Dầu lạc",
]
PLACES = ["Lục Ngạn", "Yên Thế", "Tân Yên", "Lạng Giang", "Sơn Động", "Việt Yên", "Hiệp Hòa", "Lục Nam"]
STATES = [
    ("idea", 10),
    ("production_plan", 10),
    ("implementation", 25),
    ("district_review", 15),
    ("province_review", 10),
    ("central_review", 2),
    ("rated", 23),
    ("upgraded", 2),
    ("withdrawn", 3),
]
GROUPS = ["food", "beverages", "herbal", "handicrafts", "ornamental", "tourism"]
PATH_BEFORE = {
    "idea": [],
    "production_plan": ["idea"],
    "implementation": ["idea", "production_plan"],
    "district_review": ["idea", "production_plan", "implementation"],
}
LIST_STATES = ["rated", "implementation", "district_review"]
SEARCHES = ["vai+thieu", "ga+doi", "mat+ong"]


# --- filling ---------------------------------------------------------------------------------------
def fill(url: str, n_products: int, n_advance: int) -> None:
    from sqlalchemy import insert

    from ocop_workflow import migrate_db
    from ocop_workflow.db import Database
    from ocop_workflow.engine import get_registry
    from ocop_workflow.models import Document, Product, ProductEvent
    from ocop_workflow.passwords import hash_password
    from ocop_workflow.services import directory, producers
    from ocop_workflow.services.access import Actor

    try:  # the column exists from migration 0003 on (this script also measures older trees)
        from ocop_workflow.folding import fold_name
    except ImportError:
        fold_name = None
    has_folded = fold_name is not None and "name_folded" in Product.__table__.c

    migrate_db.upgrade(url)
    db = Database(url)
    registry = get_registry()
    rng = random.Random(7)
    hashed = hash_password(PASSWORD)
    with db.transaction() as s:
        directory.create_organisation(s, code="VN", name="Việt Nam", level="central")
        directory.create_organisation(s, code="P", name="Bắc Giang", level="province", parent_code="VN")
        communes = []
        for d in range(10):
            directory.create_organisation(
                s, code=f"D{d}", name=f"Huyện {PLACES[d % 8]} {d}", level="district", parent_code="P"
            )
            for c in range(10):
                communes.append(
                    directory.create_organisation(
                        s, code=f"C{d}_{c}", name=f"Xã {c} {PLACES[d % 8]}", level="commune", parent_code=f"D{d}"
                    )
                )
        users = {"province": ("province_council", "P"), "dsec": ("district_secretariat", "D0")}
        for key, (role, code) in users.items():
            user = directory.create_user(s, email=f"{key}@bench.vn", name=key, password=None)
            user.password_hash = hashed
            directory.add_membership(s, registry, user, directory.get_org(s, code), role, actor=Actor.system_actor())
        producers = [
            producers.create_producer(
                s, Actor.system_actor(), name=f"HTX {c.name}", kind="cooperative_group", commune=c
            )
            for c in communes
        ]
        producer_ids = [(p.id, p.commune_id) for p in producers]
        d0 = [(p.id, p.commune_id) for p in producers[:10]]
    states = [s for s, _ in STATES]
    weights = [w for _, w in STATES]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    fingerprint = "0" * 64
    with db.engine.begin() as conn:
        chunk = 10_000
        pid = 0
        for base in range(0, n_products, chunk):
            products, events = [], []
            for _ in range(min(chunk, n_products - base)):
                pid += 1
                if pid <= n_advance:
                    state, (producer_id, commune_id) = "district_review", d0[pid % 10]
                else:
                    state = rng.choices(states, weights)[0]
                    producer_id, commune_id = producer_ids[rng.randrange(len(producer_ids))]
                path = PATH_BEFORE.get(state, ["idea", "production_plan", "implementation", "district_review"])
                at = start + timedelta(minutes=rng.randrange(600_000))
                star = rng.choice([3, 3, 3, 4, 4, 5]) if state in ("rated", "upgraded") else None
                name = f"{rng.choice(WORDS)} {rng.choice(PLACES)} {pid}"
                row = {
                    "id": pid,
                    "name": name,
                    "product_group": rng.choice(GROUPS),
                    "subgroup": None,
                    "producer_id": producer_id,
                    "commune_id": commune_id,
                    "workflow_key": "ocop-148",
                    "workflow_version": 1,
                    "state": state,
                    "state_entered_at": at,
                    "current_star": star,
                    "application_type": "first_rating",
                    "history_count": len(path) + 1,
                    "created_at": at,
                    "version": 1,
                }
                if has_folded:
                    row["name_folded"] = fold_name(name)
                products.append(row)
                prev = None
                for seq, st in enumerate([*path, state], start=1):
                    events.append(
                        {
                            "product_id": pid,
                            "seq": seq,
                            "workflow_key": "ocop-148",
                            "workflow_version": 1,
                            "from_state": prev,
                            "to_state": st,
                            "trigger": "create" if prev is None else "bench",
                            "actor_id": None,
                            "at": at,
                            "comment": None,
                            "score": None,
                            "data": {},
                            "dossier_fingerprint": fingerprint,
                        }
                    )
                    prev = st
            conn.execute(insert(Product.__table__), products)
            conn.execute(insert(ProductEvent.__table__), events)
        docs = []
        for pid in range(1, 201):
            for i, doc_type in enumerate(
                [
                    "idea_registration",
                    "business_plan",
                    "organisation_intro",
                    "registration_form",
                    "self_assessment_report",
                    "product_story",
                ]
            ):
                docs.append(
                    {
                        "product_id": pid,
                        "doc_type": doc_type,
                        "original_name": f"Hồ sơ {doc_type}.pdf",
                        "stored_name": f"{pid:08d}{i:02d}" + "0" * 22,
                        "size": 123_456,
                        "sha256": "0" * 64,
                        "content_type": "application/pdf",
                        "uploaded_by_id": None,
                        "uploaded_at": start,
                        "replaces_id": None,
                        "current": True,
                    }
                )
        conn.execute(insert(Document.__table__), docs)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    db.dispose()


def advance_candidates(url: str) -> list[tuple[int, int]]:
    """(id, version) of products in district review in district D0, where the bench secretary works."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.id, p.version FROM products p JOIN organisations o ON o.id = p.commune_id "
                "WHERE p.state = 'district_review' AND o.path LIKE '/VN/P/D0/%' ORDER BY p.id"
            )
        ).all()
    engine.dispose()
    return [(pid, version) for pid, version in rows]


def product_count(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT max(id) FROM products")).scalar() or 0
    engine.dispose()
    return n


# --- serving ---------------------------------------------------------------------------------------
SERVER = r"""
import logging
import socket
import sys
from flask import Flask
from waitress import serve
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from dataclasses import replace
from pathlib import Path
from ocop_workflow.config import Settings
from web import create_app

logging.getLogger("waitress.queue").setLevel(logging.ERROR)
url, upload_dir, fd, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
settings = replace(Settings(), database_url=url, upload_dir=Path(upload_dir), secret_key="bench",
                   instance_path=Path(upload_dir) / "instance")
app = create_app(settings, {"SESSION_COOKIE_SECURE": False})
mini = Flask("mini")

@mini.get("/ping")
def ping():
    return "ok"

sock = socket.socket(fileno=fd)
serve(DispatcherMiddleware(app, {"/mini": mini}), sockets=[sock], threads=threads,
      connection_limit=200, channel_timeout=30, ident="bench", _quiet=True)
"""


def start_servers(url: str, workdir: Path, processes: int, threads: int) -> tuple[int, list[subprocess.Popen]]:
    """N waitress processes accepting on one listening socket; returns the port and the processes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    port = sock.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SERVER, url, str(workdir), str(sock.fileno()), str(threads)],
            env=env,
            cwd=str(workdir),
            pass_fds=(sock.fileno(),),
        )
        for _ in range(processes)
    ]
    sock.close()
    return port, procs


def wait_for(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"GET /mini/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if sock.recv(16).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def cpu_seconds(procs: list[subprocess.Popen]) -> float:
    """User + system CPU time the server processes have used so far (Linux /proc; 0 elsewhere)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for proc in procs:
        try:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def drain(port: int, timeout: float = 300) -> None:
    """Wait until requests still queued in the server from the last run are done (the floor answers fast),
    so that a slow endpoint's backlog does not count against the next one."""
    deadline = time.monotonic() + timeout
    fast = 0
    while fast < 3 and time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        t0 = time.perf_counter()
        conn.request("GET", "/mini/ping")
        conn.getresponse().read()
        conn.close()
        fast = fast + 1 if time.perf_counter() - t0 < 0.02 else 0
        time.sleep(0.05)


class Client:
    """A keep-alive connection carrying one user's session cookie."""

    def __init__(self, port: int, cookie: str = "") -> None:
        self.port, self.cookie = port, cookie
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        headers = {"User-Agent": USER_AGENT}
        if self.cookie:
            headers["Cookie"] = self.cookie
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        for header, value in resp.getheaders():
            if header.lower() == "set-cookie" and value.startswith("ocop_session="):
                self.cookie = value.split(";", 1)[0]
        return resp.status, text


def login(port: int, email: str) -> tuple[str, str]:
    """A session cookie (with its CSRF secret) and a CSRF token for `email`."""
    c = Client(port)
    _, html = c.request("GET", "/login")
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    status, _ = c.request("POST", "/login", {"csrf_token": token, "email": email, "password": PASSWORD})
    assert status == 302, status
    _, html = c.request("GET", "/")
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    return c.cookie, token


# --- load: one workload is a list of (method, path, form, expected status) -------------------------
class Workload:
    def __init__(
        self,
        name: str,
        cookie: str,
        requests: list[tuple[str, str, dict | None, int]],
        cycle: bool = True,
        budget: bool = False,
    ) -> None:
        self.name, self.cookie, self.requests, self.cycle, self.budget = name, cookie, requests, cycle, budget


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_script(w: Workload) -> str:
    """Each wrk thread takes requests i, i + threads, ... of the list (once each unless it cycles)."""
    reqs = ",\n".join(
        "{" + ", ".join((_lua_string(m), _lua_string(p), _lua_string(urlencode(b) if b else ""))) + "}"
        for m, p, b, _ in w.requests
    )
    expect = w.requests[0][3]
    return f"""
local reqs = {{
{reqs}
}}
local cycle = {"true" if w.cycle else "false"}
local threads = {{}}
local nthreads = 0
wrk.headers["User-Agent"] = {_lua_string(USER_AGENT)}
wrk.headers["Cookie"] = {_lua_string(w.cookie)}

function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
  table.insert(threads, thread)
end

function init(args)
  nthreads_seen = tonumber(args[1])
  nxt = tid
  bad = 0
  extra = 0
end

function request()
  if nxt >= #reqs then
    if cycle then nxt = nxt % #reqs else extra = extra + 1; nxt = nxt % #reqs end
  end
  local r = reqs[nxt + 1]
  nxt = nxt + nthreads_seen
  if r[1] == "POST" then
    -- wrk.format takes these headers instead of wrk.headers, not in addition
    local h = {{["Content-Type"] = "application/x-www-form-urlencoded"}}
    for k, v in pairs(wrk.headers) do h[k] = v end
    return wrk.format("POST", r[2], h, r[3])
  end
  return wrk.format(r[1], r[2])
end

function response(status, headers, body)
  if status ~= {expect} then bad = bad + 1 end
end

function done(summary, latency, requests)
  local b, x = 0, 0
  for _, t in ipairs(threads) do b = b + t:get("bad"); x = x + t:get("extra") end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {{"requests": %d, "duration_us": %d, "socket_errors": %d, "bad_status": %d, "reused": %d, ' ..
    '"p50": %.3f, "p90": %.3f, "p99": %.3f, "max": %.3f}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, b, x,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
"""


def run_wrk(w: Workload, port: int, seconds: float, connections: int, wrk_threads: int, workdir: Path) -> dict:
    script = workdir / f"{re.sub(r'[^a-z]+', '_', w.name.lower())}.lua"
    script.write_text(wrk_script(w), encoding="utf-8")
    cmd = [
        "wrk",
        f"-t{wrk_threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}/",
        "--",
        str(wrk_threads),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    data = json.loads(line[len("WRKJSON ") :])
    return {
        "name": w.name,
        "requests": data["requests"],
        "errors": data["socket_errors"] + data["bad_status"],
        "rps": data["requests"] / (data["duration_us"] / 1e6),
        "p50": data["p50"],
        "p99": data["p99"],
        "max": data["max"],
        "budget": w.budget,
        "reused": data["reused"],
    }


def run_python(w: Workload, port: int, seconds: float, connections: int) -> dict:
    """The fallback load generator: keep-alive http.client connections in threads (it competes for the CPU)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for r in w.requests:
        todo.put(r)
    stop = time.monotonic() + seconds

    def worker() -> None:
        client = Client(port, w.cookie)
        mine = []
        while time.monotonic() < stop:
            try:
                req = todo.get_nowait()
            except queue.Empty:
                break
            if w.cycle:
                todo.put(req)
            method, path, body, expect = req
            t0 = time.perf_counter()
            status, _ = client.request(method, path, body)
            mine.append(time.perf_counter() - t0)
            if status != expect:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    n = len(latencies)
    return {
        "name": w.name,
        "requests": n,
        "errors": errors[0],
        "rps": n / elapsed if elapsed else 0,
        "p50": statistics.median(latencies) * 1000 if n else 0,
        "p99": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else 0,
        "max": latencies[-1] * 1000 if n else 0,
        "budget": w.budget,
        "reused": 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="waitress worker threads per process")
    parser.add_argument("--processes", type=int, default=2, help="waitress processes on one socket")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--db", help="reuse this SQLite file (filled by an earlier run with --keep)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and its database")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()
    loadgen = args.loadgen
    if loadgen == "auto":
        loadgen = "wrk" if shutil.which("wrk") else "python"
    if loadgen == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk); use --loadgen python")

    workdir = Path(tempfile.mkdtemp(prefix="ocop-bench-"))
    if args.db:
        url = f"sqlite:///{Path(args.db).resolve()}"
        n_products = product_count(url)
        print(f"reusing {args.db} ({n_products:,} products)")
    else:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        n_products = args.products
        t0 = time.monotonic()
        fill(url, n_products, min(20_000, n_products // 5))
        print(f"filled {n_products:,} products with history in {time.monotonic() - t0:.1f} s ({workdir})")
    port, servers = start_servers(url, workdir, args.processes, args.threads)
    results = []
    try:
        wait_for(port)
        cookie, _ = login(port, "province@bench.vn")
        dsec_cookie, dsec_token = login(port, "dsec@bench.vn")
        rng = random.Random(1)
        lists = [
            (
                "GET",
                f"/products?state={rng.choice(LIST_STATES)}&group={rng.choice(GROUPS)}&page={rng.randint(1, 3)}",
                None,
                200,
            )
            for _ in range(2000)
        ]
        searches = [("GET", f"/products?q={rng.choice(SEARCHES)}&state=rated", None, 200) for _ in range(300)]
        details = [("GET", f"/products/{rng.randrange(1, n_products + 1)}", None, 200) for _ in range(5000)]
        advances = [
            (
                "POST",
                f"/products/{pid}/advance",
                {
                    "csrf_token": dsec_token,
                    "trigger": "return_for_revision",
                    "expected_version": str(version),
                    "confirm": "y",
                    "comment": "Bổ sung hồ sơ (bench)",
                },
                302,
            )
            for pid, version in advance_candidates(url)
        ]
        plan = [
            Workload("minimal Flask endpoint", cookie, [("GET", "/mini/ping", None, 200)]),
            Workload("product list (state+group)", cookie, lists, budget=True),
            Workload("product list (name search)", cookie, searches),
            Workload("product detail", cookie, details, budget=True),
            Workload("advance (return for revision)", dsec_cookie, advances, cycle=False),
        ]
        for w in plan[1:4]:  # warm up: caches, compiled templates, SQLite pages
            warm = Workload(w.name, w.cookie, w.requests[:50])
            if loadgen == "wrk":
                run_wrk(warm, port, 2, 4, 1, workdir)
            else:
                run_python(warm, port, 2, 4)
            drain(port)
        for w in plan:
            cpu0 = cpu_seconds(servers)
            if loadgen == "wrk":
                result = run_wrk(w, port, args.seconds, args.connections, args.wrk_threads, workdir)
            else:
                result = run_python(w, port, args.seconds, args.connections)
            drain(port)  # the CPU of requests still queued when the load stopped counts too
            result["cpu_ms"] = (cpu_seconds(servers) - cpu0) * 1000 / max(1, result["requests"])
            results.append(result)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=10)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    floor = results[0]
    print(
        f"\n{args.connections} connections, {args.seconds:g} s each, load generator {loadgen}, "
        f"waitress {args.processes} process(es) x {args.threads} threads, SQLite, {n_products:,} products"
    )
    print(
        f"{'endpoint':<32}{'requests':>9}{'errors':>7}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'req/s vs min':>14}{'p99 vs min':>12}{'server CPU ms/req':>19}  budget"
    )
    for r in results:
        budget = ""
        if r["budget"]:
            budget = "ok (p99 < 100 ms)" if r["p99"] < 100 else "OVER 100 ms"
        if r.get("reused"):
            budget += f" ({r['reused']} repeated requests: ran out of products)"
        print(
            f"{r['name']:<32}{r['requests']:>9}{r['errors']:>7}{r['rps']:>9.1f}{r['p50']:>8.1f}{r['p99']:>8.1f}"
            f"{r['rps'] / floor['rps']:>13.2f}x{r['p99'] / floor['p99']:>11.1f}x{r['cpu_ms']:>19.2f}  {budget}"
        )
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
