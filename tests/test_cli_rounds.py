"""`ocop council`, `ocop round` and `ocop sheet` end to end, as a district office would type them:
a council set up, a round opened, paper sheets typed in from the XLSX form, the refusals, closing,
and the minutes written and filed."""

from __future__ import annotations

import io
import json
import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from docx import Document as Docx
from openpyxl import load_workbook
from sqlalchemy import select

from ocop_workflow.db import Database
from ocop_workflow.models import Document, Organisation
from ocop_workflow.services import directory
from ocop_workflow.services.access import Actor

from .rounds_setup import MEMBERS, to_district_review
from .test_cli import run
from .world import build_world

CHAIR, MEMBER1, MEMBER2, SECRETARY = (m[0] for m in MEMBERS)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"OCOP_INSTANCE_DIR": str(tmp_path / "instance"), "OCOP_LANG": "en"})
    env.pop("OCOP_DATABASE_URL", None)
    return env


def _people(db: Database, registry) -> None:
    with db.transaction() as s:
        district = s.scalars(select(Organisation).where(Organisation.code == "D1")).one()
        for email, name, _position in MEMBERS:
            user = directory.create_user(s, email=email, name=name, password=None)
            directory.add_membership(
                s, registry, user, district, "district_council", actor=Actor.system_actor(registry.policy)
            )


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(result, message: str) -> None:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr


def test_a_round_on_paper_typed_in_from_the_form(cli_env, registry, tmp_path):
    ok(run(["db", "upgrade"], cli_env))
    db = Database(f"sqlite:///{tmp_path / 'instance' / 'ocop.sqlite3'}")
    world = build_world(db, registry)
    uploads = tmp_path / "instance" / "uploads"
    pid = to_district_review(db, registry, world, uploads, name="Vải thiều Lục Ngạn")
    _people(db, registry)
    sec = world.user("district_secretariat", "D1")

    out = ok(
        run(
            ["council", "create", "--org", "D1", "--name", "Hội đồng OCOP huyện Lục Ngạn",
             "--decision-number", "123/QĐ-UBND", "--decision-date", "2026-01-05", "--as", sec],
            cli_env,
        )
    )
    council = re.search(r"council #(\d+)", out).group(1)
    for email, _name, position in MEMBERS:
        ok(run(["council", "member", council, "--user", email, "--position", position, "--as", sec], cli_env))
    listed = json.loads(ok(run(["council", "list", "--json"], cli_env)))
    assert [m["position"] for m in listed[0]["members"]] == ["chair", "member", "member", "secretary"]
    refused(run(["council", "member", council, "--user", "nobody@x.vn", "--position", "member", "--as", sec], cli_env),
            "No user")

    meeting = (date.today() + timedelta(days=14)).isoformat()
    out = ok(run(["round", "create", "--council", council, "--name", "Đợt 1", "--meeting-date", meeting, "--as", sec],
                 cli_env))
    round_id = re.search(r"round #(\d+)", out).group(1)
    ok(run(["round", "add", round_id, str(pid), "--as", sec], cli_env))
    ok(run(["round", "open", round_id, "--as", sec], cli_env))
    assert json.loads(ok(run(["round", "list", "--status", "open", "--json"], cli_env)))[0]["name"] == "Đợt 1"

    # the form, filled with two members' columns headed by their e-mails
    form = tmp_path / "phieu.xlsx"
    ok(run(["sheet", "template", "--round", round_id, "--product", str(pid), "--out", str(form)], cli_env))
    wb = load_workbook(form)
    ws = wb.active
    head = next(r for r in range(1, 10) if ws.cell(row=r, column=1).value == "Mã")
    assert [ws.cell(row=head + i, column=1).value for i in (1, 2, 3)] == ["A", "B", "C"]
    ws.cell(row=head, column=6).value = CHAIR
    ws.cell(row=head, column=7).value = MEMBER1
    for i, (chair, member) in enumerate((("40", 36), ("25", "20,5"), ("25", 24.5)), start=1):
        ws.cell(row=head + i, column=6).value = chair
        ws.cell(row=head + i, column=7).value = member
    wb.save(form)

    out = ok(run(["sheet", "submit", round_id, str(pid), "--as", CHAIR, "--from-xlsx", str(form)], cli_env))
    assert "submitted, total 90" in out
    # one sheet of three: below the quorum (two thirds)
    refused(run(["round", "close", round_id, "--product", str(pid), "--as", SECRETARY], cli_env),
            "The quorum is not met: 1 of 3 members have submitted, at least 2 are needed")
    refused(run(["sheet", "submit", round_id, str(pid), "--as", MEMBER2, "--from-xlsx", str(form)], cli_env),
            f"none is headed {MEMBER2}")
    not_xlsx = tmp_path / "phieu.txt"
    not_xlsx.write_text("A;40\n")
    refused(run(["sheet", "submit", round_id, str(pid), "--as", MEMBER2, "--from-xlsx", str(not_xlsx)],
                {**cli_env, "OCOP_LANG": "vi"}), "Tệp không phải là bảng tính Excel (.xlsx)")
    refused(run(["sheet", "submit", round_id, str(pid), "--as", sec, "--from-xlsx", str(form)], cli_env),
            "Only this council's")  # the secretariat holds no seat
    out = ok(run(["sheet", "submit", round_id, str(pid), "--as", MEMBER1, "--from-xlsx", str(form)], cli_env))
    assert "submitted, total 81" in out

    refused(run(["round", "close", round_id, "--product", str(pid), "--as", CHAIR], cli_env), "Only this council's")
    out = ok(run(["round", "close", round_id, "--product", str(pid), "--as", SECRETARY], cli_env))
    assert "85.50" in out and "Forwarded to the next level" in out
    refused(run(["round", "close", round_id, "--product", str(pid), "--as", SECRETARY], cli_env),
            "already closed")
    late = tmp_path / "muon.xlsx"
    ok(run(["sheet", "template", "--group", "food", "--out", str(late)], cli_env))
    wb = load_workbook(late)
    for i, points in enumerate((30, 20, 20), start=1):
        wb.active.cell(row=head + i, column=6).value = points
    wb.save(late)
    refused(run(["sheet", "submit", round_id, str(pid), "--as", MEMBER2, "--from-xlsx", str(late)], cli_env),
            "Scoring of this product is closed")
    out = ok(run(["round", "close", round_id, "--as", SECRETARY], cli_env))
    assert "minutes filed in 1 dossiers" in out
    refused(run(["round", "close", round_id, "--as", SECRETARY], cli_env), "already closed")

    shown = ok(run(["round", "show", round_id], {**cli_env, "OCOP_LANG": "vi"}))
    assert "85,50" in shown and "Đề nghị cấp trên" in shown
    minutes = tmp_path / "bien-ban.docx"
    ok(run(["round", "minutes", round_id, "--out", str(minutes)], {**cli_env, "OCOP_LANG": "vi"}))
    cells = [c.text for t in Docx(str(minutes)).tables for row in t.rows for c in row.cells]
    assert "85,50" in cells and "Vải thiều Lục Ngạn" in cells
    table = tmp_path / "phieu-cham.xlsx"
    ok(run(["round", "sheets", round_id, "--out", str(table)], cli_env))
    rows = list(load_workbook(io.BytesIO(table.read_bytes()))["food"].iter_rows(min_row=2, values_only=True))
    assert sorted(r[-2] for r in rows if r[-2] is not None) == [81, 90]
    with db.session() as s:
        filed = s.scalars(select(Document).where(Document.product_id == pid, Document.doc_type == "council_minutes"))
        assert [d.original_name for d in filed] == ["Bien-ban-Dot-1.docx"]
    db.dispose()


def test_the_blank_form_of_a_group(cli_env, tmp_path: Path):
    out = tmp_path / "food.xlsx"
    ok(run(["sheet", "template", "--group", "food", "--out", str(out)], {**cli_env, "OCOP_LANG": "vi"}))
    ws = load_workbook(out).active
    assert "Thực phẩm" in ws["A1"].value
    refused(run(["sheet", "template", "--group", "nonsense", "--out", str(out)], cli_env), "nonsense")
