"""`ocop plan` and `ocop report plan` end to end, as a provincial office would type them."""

from __future__ import annotations

import io
import json
import os
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ocop_workflow.db import Database
from ocop_workflow.models import Organisation, SalesPoint, ValueChain

from .test_cli import run
from .world import build_world

PLAN = """\
kind: plan
name: "Kế hoạch OCOP tỉnh P"
basis: {number: "12/KH-UBND", date: 2023-02-10}
organisation: "P"
body: association
years: [2023, 2024]
targets:
  - {indicator: value_chains_started, each_year: true, at_least: 1, note: "mỗi năm một mô hình"}
  - {indicator: sales_point_districts, year: 2024, share_at_least: 100}
"""


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"OCOP_INSTANCE_DIR": str(tmp_path / "instance"), "OCOP_LANG": "en"})
    env.pop("OCOP_DATABASE_URL", None)
    return env


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_plans_load_show_report_and_refusals(cli_env, registry, tmp_path):
    ok(run(["db", "upgrade"], cli_env))
    db = Database(f"sqlite:///{tmp_path / 'instance' / 'ocop.sqlite3'}")
    world = build_world(db, registry)
    with db.transaction() as s:
        orgs = {o.code: o for o in s.query(Organisation)}
        s.add(
            ValueChain(name="Chuỗi vải thiều", organisation=orgs["D1"], lead_name="HTX A", started_on=date(2023, 3, 1))
        )
        s.add(SalesPoint(name="Điểm bán", organisation=orgs["C1"], address="Chợ", opened_on=date(2023, 5, 1)))
    owner, commune = world.user("province_association", "P"), world.user("commune_association", "C1")
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(PLAN, encoding="utf-8")

    # a wrong file: every problem on its own line with its place, exit 1, nothing loaded
    bad = tmp_path / "bad.yaml"
    bad.write_text(PLAN.replace("value_chains_started", "chains").replace("2023-02-10", "2023-02-30"), "utf-8")
    result = run(["plan", "load", str(bad), "--as", owner], cli_env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("bad.yaml:3: the basis date") and lines[1].startswith("bad.yaml:8:")
    assert json.loads(ok(run(["plan", "list", "--json"], cli_env))) == []
    denied = run(["plan", "load", str(plan_file), "--as", commune], cli_env)
    assert denied.returncode == 1 and denied.stderr.startswith("error: ")

    assert "plan #1 Kế hoạch OCOP tỉnh P: 3 targets" in ok(
        run(["plan", "load", str(plan_file), "--as", owner], cli_env)
    )
    listed = json.loads(ok(run(["plan", "list", "--json", "--as", commune], cli_env)))
    assert [(p["id"], p["targets"]) for p in listed] == [(1, 3)]
    one_year = tmp_path / "one.yaml"
    one_year.write_text(
        PLAN.replace("[2023, 2024]", "[2023, 2023]").replace("Kế hoạch OCOP", "KH năm").replace("2024,", "2023,"),
        "utf-8",
    )
    ok(run(["plan", "load", str(one_year), "--as", owner], cli_env))
    assert "  2023  P  KH năm tỉnh P" in ok(run(["plan", "list"], cli_env))  # not "2023–2023"
    ok(run(["plan", "delete", "2", "--as", owner], cli_env))
    shown = ok(run(["plan", "show", "1"], {**cli_env, "OCOP_LANG": "vi"}))
    assert "căn cứ: 12/KH-UBND (10/02/2023)" in shown and "tỷ lệ ít nhất 100%" in shown

    table = ok(run(["report", "plan", "1", "--at", "30/06/2024", "--as", owner], cli_env))
    assert "as of 30/06/2024" in table and "New value-chain models" in table
    as_json = json.loads(ok(run(["report", "plan", "1", "--at", "2024-06-30", "--json", "--as", owner], cli_env)))
    assert as_json["at"] == "2024-06-30" and as_json["organisation"]["code"] == "P"
    chains_2023 = next(t for t in as_json["targets"] if t["indicator"] == "value_chains_started" and t["year"] == 2023)
    assert chains_2023["figure"]["value"] == 1 and chains_2023["status"] == "met"
    assert [m["name"] for m in as_json["members"][str(chains_2023["target_id"])]] == ["Chuỗi vải thiều"]
    mine = json.loads(ok(run(["report", "plan", "1", "--at", "2024-06-30", "--json", "--as", commune], cli_env)))
    assert mine["organisation"]["code"] == "C1"  # a commune's report covers its commune
    hidden = run(["report", "plan", "1", "--org", "C3", "--as", commune], cli_env)
    assert hidden.returncode == 1 and "not found" in hidden.stderr
    bad_day = run(["report", "plan", "1", "--at", "31/02/2024"], cli_env)
    assert bad_day.returncode == 2 and "is not a date" in bad_day.stderr

    out = tmp_path / "report.xlsx"
    ok(run(["report", "plan", "1", "--at", "2024-06-30", "--xlsx", str(out), "--as", owner], cli_env))
    wb = load_workbook(io.BytesIO(out.read_bytes()))
    assert wb.sheetnames[0] == "Summary"  # the operator's language
    ok(run(["report", "plan", "1", "--at", "2024-06-30", "--csv", str(tmp_path / "csv")], cli_env))
    assert (tmp_path / "csv" / "summary.csv").read_bytes().startswith(b"\xef\xbb\xbf")

    # a folder that does not exist: one error line, exit 1, nothing created on the way
    for args in (
        ["plan", "template", "/nonexistent/dir/x.xlsx"],
        ["report", "plan", "1", "--xlsx", "/nonexistent/x.xlsx"],
    ):
        refused = run(args, {**cli_env, "OCOP_LANG": "vi"})
        assert refused.returncode == 1 and refused.stderr.startswith("error: Không ghi được tệp /nonexistent/")
        assert "Traceback" not in refused.stderr
    deep = tmp_path / "missing" / "csv"
    refused = run(["report", "plan", "1", "--csv", str(deep)], cli_env)
    assert refused.returncode == 1 and "does not exist" in refused.stderr and not (tmp_path / "missing").exists()
    for day in ("1999-12-31", "01/01/2101"):
        outside = run(["report", "plan", "1", "--at", day], cli_env)
        assert outside.returncode == 2 and "outside 2000–2100" in outside.stderr
    ok(run(["report", "plan", "1", "--at", "2000-01-01"], cli_env))
    # the page's words and rounding in the table: the province's target shared among 3 districts
    district = ok(run(["report", "plan", "1", "--at", "2024-06-30", "--org", "D1"], cli_env))
    assert "(shared evenly among 3 districts), 2024: ≥ 0.33 |" in district

    template = tmp_path / "template.xlsx"
    ok(run(["plan", "template", str(template), "--plan", "1"], cli_env))
    assert "3 targets" in ok(run(["plan", "check", str(template)], cli_env))
    ok(run(["plan", "delete", "1", "--as", owner], cli_env))
    assert json.loads(ok(run(["plan", "list", "--json"], cli_env))) == []
