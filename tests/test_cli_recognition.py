"""`ocop decision` and `ocop certificate` as a district office would type them, on SQLite and PostgreSQL: a
decision drafted and signed, the certificates listed and shown as of other days (`--at`), one revoked, the
PDF written, a province's number format set; every refusal one translated line and exit code 1. And the
list's status filter (SQL) agrees with `status_of` (Python) on every day around each boundary."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from ocop_workflow.cli import Context, cli
from ocop_workflow.db import Database
from ocop_workflow.models import Certificate
from ocop_workflow.services.access import Actor
from ocop_workflow.services.certificate_lists import STATUSES, list_certificates
from ocop_workflow.services.certificates import local_day, status_of

from .helpers import rate, recognise
from .rounds_setup import to_district_review

NUMBER = "12/QĐ-UBND"


class Ocop:
    """`ocop` in-process against the test's database, in English (OCOP_LANG=en)."""

    def __init__(self, db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        self.url = db.engine.url.render_as_string(hide_password=False)
        self.tmp_path = tmp_path
        monkeypatch.setenv("OCOP_LANG", "en")
        monkeypatch.setenv("OCOP_INSTANCE_DIR", str(tmp_path / "instance"))

    def __call__(self, *args: str):
        ctx = Context()
        ctx.settings = replace(ctx.settings, database_url=self.url, upload_dir=self.tmp_path / "uploads")
        try:
            return CliRunner().invoke(cli, list(args), obj=ctx)
        finally:
            if ctx._db is not None:
                ctx._db.dispose()

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.exit_code == 0, (result.output, result.exception)
        return result.stdout

    def refused(self, message: str, *args: str) -> None:
        result = self(*args)
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr


@pytest.fixture
def ocop(db, monkeypatch, tmp_path) -> Ocop:
    return Ocop(db, monkeypatch, tmp_path)


def awaiting(db, registry, world, upload_dir, name: str) -> int:
    pid = to_district_review(db, registry, world, upload_dir, name=name)
    assert rate(db, registry, pid, "rate_district", 60) == "district_recognition"
    return pid


def test_a_decision_signed_and_its_certificates_on_the_command_line(db, registry, world, upload_dir, ocop):
    lychee = awaiting(db, registry, world, upload_dir, "Vải thiều Lục Ngạn")
    honey = awaiting(db, registry, world, upload_dir, "Mật ong Phượng Sơn")
    dsec, dchair = world.user("district_secretariat", "D1"), world.user("district_chair", "D1")

    psec = world.user("province_secretariat", "P")
    ocop.refused("not allowed", "decision", "draft", "--organisation", "D1", "--as", psec)
    ocop.refused("No organisation with code D9", "decision", "draft", "--organisation", "D9", "--as", dsec)
    out = ocop.ok(
        "decision", "draft", "--organisation", "D1", "--product", str(lychee), "--product", str(honey), "--as", dsec
    )
    assert "drafted" in out and "Vải thiều Lục Ngạn 3★" in out
    rows = json.loads(ocop.ok("decision", "list", "--json"))
    assert [(r["status"], [p["id"] for p in r["products"]]) for r in rows] == [("draft", [lychee, honey])]
    did = str(rows[0]["id"])

    tomorrow = (local_day() + timedelta(days=1)).isoformat()
    ocop.refused("is in the future", "decision", "sign", did, "--number", NUMBER, "--date", tomorrow, "--as", dchair)
    ocop.refused("not allowed", "decision", "sign", did, "--number", NUMBER, "--as", dsec)
    ocop.refused("changed", "decision", "sign", did, "--number", NUMBER, "--version", "99", "--as", dchair)
    assert ocop("decision", "sign", did, "--number", NUMBER, "--date", "2026-02-30", "--as", dchair).exit_code == 2
    out = ocop.ok("decision", "sign", did, "--number", NUMBER, "--as", dchair)
    assert f"signed: {NUMBER} of {local_day().isoformat()}" in out
    codes = [line.split()[0] for line in out.splitlines()[1:]]
    assert len(codes) == 2 and all(c.startswith("OCOP-P-") for c in codes)
    ocop.refused("already signed", "decision", "sign", did, "--number", "13/QĐ-UBND", "--as", dchair)
    assert "Signed" in ocop.ok("decision", "list", "--status", "signed")

    # listed and shown today, and as of other days (the status is computed from the dates)
    listed = json.loads(ocop.ok("certificate", "list", "--json"))
    assert sorted(r["code"] for r in listed["items"]) == sorted(codes) and listed["total"] == 2
    assert {r["status"] for r in listed["items"]} == {"valid"}
    code = codes[0]
    shown = json.loads(ocop.ok("certificate", "show", code, "--json"))
    expires = date.fromisoformat(shown["expires_on"])
    assert (shown["status"], shown["decision_number"], shown["star"]) == ("valid", NUMBER, 3)
    assert "Valid, expiring soon" in ocop.ok("certificate", "show", code, "--at", str(expires - timedelta(days=1)))
    assert "Expired (expired)" in ocop.ok("certificate", "show", code, "--at", str(expires))
    expired = json.loads(ocop.ok("certificate", "list", "--status", "expired", "--at", str(expires), "--json"))
    assert sorted(r["code"] for r in expired["items"]) == sorted(codes)
    assert "0 certificate(s)" in ocop.ok("certificate", "list", "--status", "expired")
    assert "0 certificate(s)" in ocop.ok("certificate", "list", "--as", world.user("commune_officer", "C3"))
    assert "2 certificate(s)" in ocop.ok("certificate", "list", "--as", world.user("commune_officer", "C1"))

    # revoked from today: still valid yesterday, revoked today, and not twice
    ocop.refused(
        "not allowed",
        "certificate",
        "revoke",
        code,
        "--reason",
        "x",
        "--decision-number",
        "5/QĐ",
        "--as",
        world.user("commune_officer", "C1"),
    )
    ocop.refused(
        "A reason for the revocation is required",
        "certificate",
        "revoke",
        code,
        "--reason",
        " ",
        "--decision-number",
        "5/QĐ",
        "--as",
        dsec,
    )
    reason = "Không còn đạt tiêu chuẩn an toàn thực phẩm"
    out = ocop.ok("certificate", "revoke", code, "--reason", reason, "--decision-number", "5/QĐ-UBND", "--as", dsec)
    assert f"revoked from {local_day().isoformat()} by decision 5/QĐ-UBND" in out
    assert "Revoked (revoked)" in ocop.ok("certificate", "show", code)
    yesterday = str(local_day() - timedelta(days=1))
    assert "Valid (valid)" in ocop.ok("certificate", "show", code, "--at", yesterday)
    ocop.refused(
        "cannot be revoked",
        "certificate",
        "revoke",
        code,
        "--reason",
        reason,
        "--decision-number",
        "6/QĐ",
        "--as",
        dsec,
    )
    revoked = json.loads(ocop.ok("certificate", "list", "--status", "revoked", "--json"))["items"]
    assert [r["code"] for r in revoked] == [code] and revoked[0]["revoke_reason"] == reason

    # the PDF, and unknown codes
    out_file = ocop.tmp_path / "gcn.pdf"
    assert "bytes" in ocop.ok("certificate", "pdf", code, "-o", str(out_file))
    assert out_file.read_bytes().startswith(b"%PDF")
    ocop.refused("There is no OCOP certificate numbered “OCOP-X-1”", "certificate", "show", "OCOP-X-1")
    ocop.refused("There is no OCOP certificate numbered", "certificate", "pdf", "../../etc/passwd", "-o", "x.pdf")


def test_a_provinces_certificate_number_format(db, registry, world, upload_dir, ocop):
    psec = world.user("province_secretariat", "P")
    shown = ocop.ok("certificate", "format", "--province", "P").strip()
    assert shown == "P: OCOP-{province}-{year}-{seq:05d} (the default)"
    fmt = ("certificate", "format", "--province")
    ocop.refused("it must hold {province} and {seq}", *fmt, "P", "GCN-{year}", "--as", psec)
    ocop.refused(
        "not allowed",
        "certificate",
        "format",
        "--province",
        "P",
        "BG-{province}-{seq:04d}",
        "--as",
        world.user("district_secretariat", "D1"),
    )
    ocop.refused("not a province", "certificate", "format", "--province", "D1", "BG-{province}-{seq:04d}", "--as", psec)
    assert ocop("certificate", "format", "--province", "P", "BG-{province}-{seq:04d}").exit_code == 2  # needs --as
    out = ocop.ok("certificate", "format", "--province", "P", "BG-{province}-{star}S-{seq:04d}", "--as", psec)
    assert "e.g. BG-P-4S-0001" in out

    pid = awaiting(db, registry, world, upload_dir, "Vải thiều Lục Ngạn")
    _did, codes = recognise(
        db,
        registry,
        [pid],
        drafter=world.user("district_secretariat", "D1"),
        signer=world.user("district_chair", "D1"),
        organisation_id=world.orgs["D1"],
    )
    assert codes == ["BG-P-3S-0001"]
    again = ocop.ok("certificate", "format", "--province", "P", "BG-{province}-{star}S-{seq:04d}", "--as", psec)
    assert "e.g. BG-P-4S-0002" in again  # the preview is the next number, not the first
    assert "(the default)" in ocop.ok("certificate", "format", "--province", "P", "--clear", "--as", psec)


def test_the_status_filter_agrees_with_status_of_on_every_day(db, registry, world, upload_dir):
    """The list's SQL (`status_condition`) against `status_of`, on each day around issue, the notice window,
    expiry, a superseding and a revocation."""
    pid = awaiting(db, registry, world, upload_dir, "Vải thiều Lục Ngạn")
    _did, (code,) = recognise(
        db,
        registry,
        [pid],
        drafter=world.user("district_secretariat", "D1"),
        signer=world.user("district_chair", "D1"),
        organisation_id=world.orgs["D1"],
    )
    issued, expires = date(2023, 9, 5), date(2026, 9, 5)
    notice = 90
    key_days = [issued, expires - timedelta(days=notice), expires, date(2025, 1, 10), date(2025, 6, 1)]
    days = sorted({d + timedelta(days=k) for d in key_days for k in (-1, 0, 1)})
    system = Actor.system_actor(registry.policy)
    cases = (
        ({}, {"valid", "expiring", "expired"}),
        ({"superseded_on": date(2025, 1, 10)}, {"valid", "superseded"}),
        ({"revoked_on": date(2025, 6, 1)}, {"valid", "revoked"}),
    )
    for ended, statuses_seen in cases:
        values = {"issued_on": issued, "expires_on": expires, "superseded_on": None, "revoked_on": None, **ended}
        with db.transaction() as s:
            s.execute(update(Certificate).where(Certificate.code == code).values(**values))
        with db.session() as s:
            cert = s.scalars(select(Certificate).where(Certificate.code == code)).one()
            seen = set()
            for day in days:
                expected = status_of(cert, day, notice)
                seen.add(expected)
                for status in STATUSES:
                    page = list_certificates(s, system, today=day, statuses=[status], notice_days=notice)
                    found = [c.code for c in page.items]
                    assert found == ([code] if status == expected else []), (ended, day, status, expected)
        assert seen >= statuses_seen
