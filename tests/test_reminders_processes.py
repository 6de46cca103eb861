"""Reminders across real OS processes: two concurrent sweeps, the `ocop reminders` commands, `ocop scheduler`."""

from __future__ import annotations

import os
import re
import select as os_select
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ocop_workflow.models import MailOutbox, Notification, Reminder

from .helpers import T0, count, make_products
from .mail import SmtpServer

OCOP = [sys.executable, "-m", "ocop_workflow.cli"]
# Says "ready" on a pipe once everything is imported, then waits for a line on its stdin: the start signal,
# given to both processes at once so they begin their sweep at the same moment.
GATED = """
import os, sys
from ocop_workflow.cli import main
os.write(int(os.environ["OCOP_TEST_READY_FD"]), b"ready")
sys.stdin.readline()
sys.argv = ["ocop", *sys.argv[1:]]
main()
"""


def start_gated(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """Start `ocop ARGS` behind the gate; returns the process and the read end of its readiness pipe."""
    ready_r, ready_w = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-c", GATED, *args],
        env={**env, "OCOP_TEST_READY_FD": str(ready_w)},
        pass_fds=(ready_w,),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(ready_w)
    return proc, ready_r


def wait_ready(proc: subprocess.Popen, ready_r: int, timeout: float = 60) -> None:
    """Block until the gated process says it is ready; fail with its output if it died or never did."""
    try:
        readable, _, _ = os_select.select([ready_r], [], [], timeout)
        said = os.read(ready_r, 16) if readable else b""
    finally:
        os.close(ready_r)
    if said != b"ready":
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"gated process not ready after {timeout} s (exit {proc.returncode}): {out}{err}")


@pytest.fixture
def env(db, smtp, tmp_path) -> dict[str, str]:
    e = dict(os.environ)
    e.update(
        {
            "OCOP_DATABASE_URL": db.url,
            "OCOP_SMTP_URL": smtp.url,
            "OCOP_MAIL_FROM": "OCOP <ocop@example.vn>",
            "OCOP_BASE_URL": "https://ocop.example.vn",
            "OCOP_INSTANCE_DIR": str(tmp_path / "instance"),
            "OCOP_LANG": "en",
        }
    )
    for name in (
        "OCOP_ESCALATE_AFTER_DAYS",
        "OCOP_REMINDER_REPEAT_DAYS",
        "OCOP_DIGEST_HOUR",
        "OCOP_TIMEZONE",
        "OCOP_WORKFLOWS_DIR",
    ):
        e.pop(name, None)
    return e


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([*OCOP, *args], capture_output=True, text=True, env=env, timeout=120)


def test_two_scheduler_processes_send_each_of_100_reminders_exactly_once(db, registry, world, smtp, env, tmp_path):
    make_products(db, registry, world, 100)
    smtp.sink.delay = 0.002  # both processes are still delivering when the other starts
    at = (T0 + timedelta(days=30, hours=1)).isoformat()
    gated = [start_gated(["reminders", "sweep", "--at", at], env) for _ in range(2)]
    for proc, ready in gated:
        wait_ready(proc, ready)  # both have imported everything and wait at the gate
    procs = [proc for proc, _ready in gated]
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [p.communicate(timeout=180) for p in procs]
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    queued = [int(re.search(r"queued (\d+) new reminder", out).group(1)) for out, _ in outputs]
    sent = [int(re.search(r"mail: sent (\d+)", out).group(1)) for out, _ in outputs]
    assert sum(queued) == 100 and sum(sent) == 100, outputs

    ids = smtp.sink.message_ids()
    assert len(ids) == 100 and len(set(ids)) == 100
    assert {m["To"] for m in smtp.sink.messages} == {world.user("commune_officer", "C1")}
    assert count(db, Reminder) == 100 and count(db, Notification) == 100
    assert count(db, MailOutbox, MailOutbox.status == "sent") == 100 and count(db, MailOutbox) == 100
    with db.session() as s:
        assert s.scalar(select(func.max(MailOutbox.attempts))) == 1


def test_reminders_sweep_command_dry_run_and_outbox(db, registry, world, smtp, env):
    [pid] = make_products(db, registry, world)
    dry = run(["reminders", "sweep", "--at", "2026-04-01T10:00", "--dry-run"], env)
    assert dry.returncode == 0, dry.stderr
    assert "sweep as of 2026-04-01T10:00+07:00 (dry run): 1 stalled product(s)" in dry.stdout
    # the state by its label, the count a reader sees, the e-mail choice in words (issue #11: no keys)
    line = f"“Vải thiều Lục Ngạn” (#{pid}): overdue at “Product idea”, reminder 1 → commune_officer.c1@test.ocop.vn"
    assert f"{line} (one e-mail each)" in dry.stdout
    assert "dry run: nothing written, nothing sent" in dry.stdout
    assert count(db, Reminder) == 0 and count(db, MailOutbox) == 0 and smtp.sink.messages == []

    queued = run(["reminders", "sweep", "--at", "2026-04-01T10:00", "--no-send"], env)
    assert "queued 1 new reminder(s):" in queued.stdout and "mail:" not in queued.stdout
    waiting = run(["reminders", "outbox"], env)
    assert waiting.returncode == 0 and waiting.stdout.startswith("pending 1")
    assert "commune_officer.c1@test.ocop.vn" in waiting.stdout

    real = run(["reminders", "sweep", "--at", "2026-04-01T03:05:00+00:00"], env)
    assert real.returncode == 0, real.stderr
    assert "queued 0 new reminder(s)" in real.stdout and "mail: sent 1, to retry 0" in real.stdout
    assert len(smtp.sink.messages) == 1
    listed = run(["reminders", "outbox", "--status", "sent"], env)
    assert "sent" in listed.stdout and "[OCOP] Quá hạn" in listed.stdout

    bad = run(["reminders", "sweep", "--at", "next tuesday"], env)
    assert bad.returncode != 0 and "not an ISO date/time" in bad.stderr and "Traceback" not in bad.stderr
    missing = run(["reminders", "retry", "999"], env)
    assert missing.returncode == 1 and missing.stderr.strip() == "error: No message #999"


def test_ocop_scheduler_process_sweeps_and_stops_on_sigterm(db, registry, world, smtp, env):
    make_products(db, registry, world, 2, at=datetime.now(UTC) - timedelta(days=31))
    proc = subprocess.Popen(
        [*OCOP, "scheduler"],
        env={**env, "OCOP_SWEEP_MINUTES": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert smtp.sink.wait_for(2, timeout=60), f"{len(smtp.sink.messages)} mail(s) after 60 s, exit {proc.poll()}"
        assert len(smtp.sink.messages) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "scheduler: a sweep every 1 min (Asia/Ho_Chi_Minh)" in out
    assert "SMTP smtp://127.0.0.1:" in out
    assert "queued 2 new reminder(s)" in err  # the sweep's report goes to the log


def test_smtp_server_helper_is_reusable():
    server = SmtpServer()
    server.start()
    server.stop()
    server.start()  # the same port again, as the "server comes back" tests do
    server.stop()
