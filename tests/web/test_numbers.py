"""Issue #11: "85,5" is 85.5 where people type numbers, on the web and at the command line, and it is shown
back in the reader's format ("85,5" in Vietnamese, "85.5" in English).

On the web the number is typed in a council member's score sheet (the advance form's score belongs to a
system step nobody types); at the command line it is a paper sheet typed into the XLSX form
(`ocop sheet submit`)."""

from __future__ import annotations

from conftest import csrf, text
from rounds_world import open_round_with, setup_council
from sqlalchemy import select
from test_rounds_web import member

from ocop_workflow.models import ScoreSheet


def test_85_comma_5_is_85_point_5_on_the_web(env):
    seats = setup_council(env)
    pid = env.product(name="Vải thiều Lục Ngạn")
    env.to_district(pid)
    rid = open_round_with(env, seats, [pid])
    sheet_url = f"/rounds/{rid}/products/{pid}/sheet"
    m = member(env, "m1")
    data = {"csrf_token": csrf(m, sheet_url), "action": "submit", "expected_version": "0"}
    r = m.post(sheet_url, data=data | {"c:A": "40", "c:B": "25", "c:C": "20,5"})
    assert r.status_code in (200, 302, 303), text(r)
    with env.db.session() as s:
        sheet = s.scalars(select(ScoreSheet)).one()
        assert sheet.total == 85.5 and sheet.status == "submitted"
    page = text(m.get(sheet_url))
    assert '<strong id="total">85,50</strong>' in page, "the total is not shown as 85,50"
    # the typed answer comes back as typed (a draft reopened): "20,5", not "20.5"
    assert "85.5" not in page and "20.5" not in page
    m.post("/language", data={"csrf_token": csrf(m, sheet_url), "locale": "en", "next": sheet_url})
    assert '<strong id="total">85.50</strong>' in text(m.get(sheet_url))
    # a typed number Python would read but a person would not write is refused, translated
    r = m.post(
        sheet_url,
        data={"csrf_token": csrf(m, sheet_url), "action": "save", "expected_version": "0", "c:A": "1_0"},
    )
    assert 400 <= r.status_code < 500


def test_85_comma_5_is_85_point_5_at_the_command_line(tmp_path, registry):
    import os
    import subprocess
    import sys

    from openpyxl import load_workbook

    from ocop_workflow.db import Database
    from tests.rounds_setup import CHAIR, MEMBERS, make_council, make_round, to_district_review
    from tests.world import build_world

    env = dict(os.environ)
    env.update({"OCOP_INSTANCE_DIR": str(tmp_path / "instance"), "OCOP_LANG": "vi"})
    env.pop("OCOP_DATABASE_URL", None)

    def run(*args: str, lang: str = "vi") -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "ocop_workflow.cli", *args],
            capture_output=True,
            text=True,
            env={**env, "OCOP_LANG": lang},
            timeout=120,
        )

    assert run("db", "upgrade").returncode == 0
    db = Database(f"sqlite:///{tmp_path / 'instance' / 'ocop.sqlite3'}")
    world = build_world(db, registry)
    pid = to_district_review(db, registry, world, tmp_path / "instance" / "uploads", name="Vải thiều Lục Ngạn")
    sec = world.user("district_secretariat", "D1")
    council = make_council(db, registry, sec, world.orgs["D1"], people=MEMBERS)
    rid = make_round(db, registry, sec, council, [pid], open_it=True)
    form = tmp_path / "phieu.xlsx"
    made = run("sheet", "template", "--round", str(rid), "--product", str(pid), "--out", str(form))
    assert made.returncode == 0, made.stderr
    wb = load_workbook(form)
    ws = wb.active
    head = next(r for r in range(1, 10) if ws.cell(row=r, column=1).value == "Mã")
    ws.cell(row=head, column=6).value = CHAIR
    for i, points in enumerate(("40", "25", "20,5"), start=1):
        ws.cell(row=head + i, column=6).value = points
    wb.save(form)
    out = run("sheet", "submit", str(rid), str(pid), "--as", CHAIR, "--from-xlsx", str(form), "--draft")
    assert out.returncode == 0, out.stderr
    assert "total 85,5 (A 40; B 25; C 20,5)" in out.stdout
    with db.session() as s:
        assert s.scalars(select(ScoreSheet)).one().total == 85.5
    again = run("sheet", "submit", str(rid), str(pid), "--as", CHAIR, "--from-xlsx", str(form), lang="en")
    assert again.returncode == 0, again.stderr
    assert "submitted, total 85.5 (A 40; B 25; C 20.5)" in again.stdout
    db.dispose()
