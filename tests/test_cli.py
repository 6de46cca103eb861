"""The `ocop` command end to end, as an operator would type it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import attach, move, new_product, product_row
from .world import build_world

OCOP = [sys.executable, "-m", "ocop_workflow.cli"]


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*OCOP, *args], capture_output=True, text=True, env=env, input=stdin, timeout=120)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"OCOP_INSTANCE_DIR": str(tmp_path / "instance"), "OCOP_LANG": "en"})
    env.pop("OCOP_DATABASE_URL", None)
    return env


def test_db_upgrade_user_create_and_errors_without_traceback(cli_env):
    assert run(["db", "upgrade"], cli_env).returncode == 0
    # a fresh database has no organisation yet: the error is one clear line
    result = run(
        ["user", "create", "--email", "a@b.vn", "--name", "A", "--role", "admin", "--org", "VN"],
        cli_env,
        stdin="mat-khau-123\n",
    )
    assert result.returncode != 0
    assert result.stderr.strip() == "error: No organisation with code VN"
    assert "Traceback" not in result.stderr
    vi = run(["product", "show", "99"], {**cli_env, "OCOP_LANG": "vi"})
    assert vi.returncode != 0 and vi.stderr.strip() == "error: Không tìm thấy sản phẩm #99"
    # a setting that cannot be read: one line naming it
    bad = run(["org", "list"], {**cli_env, "OCOP_SWEEP_MINUTES": "5 min"})
    assert bad.returncode == 1
    assert bad.stderr.strip() == "error: OCOP_SWEEP_MINUTES must be a whole number (got '5 min')"


def test_product_commands_follow_the_rules(cli_env, registry, tmp_path):
    from ocop_workflow.db import Database

    assert run(["db", "upgrade"], cli_env).returncode == 0
    db = Database(f"sqlite:///{tmp_path / 'instance' / 'ocop.sqlite3'}")
    world = build_world(db, registry)
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["household"], name="Mỳ Chũ")
    attach(db, registry, officer, pid, ["idea_registration"], tmp_path / "instance" / "uploads")

    refused = run(
        ["product", "advance", str(pid), "accept_idea", "--as", world.user("commune_association", "C1")], cli_env
    )
    assert refused.returncode == 1 and "Commune OCOP officer" in refused.stderr
    ok = run(["product", "advance", str(pid), "accept_idea", "--as", officer], cli_env)
    assert ok.returncode == 0, ok.stderr
    assert "idea → production_plan" in ok.stdout
    # a score on a step that takes none is refused, with one clear line
    scored = run(
        ["product", "advance", str(pid), "withdraw", "--as", officer, "--comment", "x", "--score", "7"], cli_env
    )
    assert scored.returncode != 0 and "Traceback" not in scored.stderr
    assert scored.stderr.strip() == ("error: This step takes no score: only a council's rating step records a score")
    # a score that is no number is refused before anything runs, in the operator's language
    for lang, words in (("en", "'8x5' is not a number (e.g. 85,5 or 85.5)"), ("vi", "'8x5' không phải là số")):
        typo = run(
            ["product", "advance", str(pid), "withdraw", "--as", officer, "--score", "8x5"],
            {**cli_env, "OCOP_LANG": lang},
        )
        assert typo.returncode == 2 and words in typo.stderr, typo.stderr
    missing = run(["product", "advance", str(pid), "approve_plan", "--as", officer], cli_env)
    assert missing.returncode == 1
    assert "Production and business plan" in missing.stderr and "Introduction of the organisation" in missing.stderr

    # the province's choice of rules for its new products: shown, refused without --as, set, cleared
    shown = run(["workflow", "default", "--province", "P"], {**cli_env, "OCOP_DEFAULT_WORKFLOW": ""})
    assert shown.returncode == 0 and shown.stdout.startswith("P: ocop-1489 (by the dates in force)"), shown.stdout
    assert run(["workflow", "default", "--province", "P", "ocop-148"], cli_env).returncode == 2
    chosen = run(
        ["workflow", "default", "--province", "P", "ocop-148", "--as", world.user("province_secretariat", "P")], cli_env
    )
    assert chosen.returncode == 0 and chosen.stdout.startswith("P: ocop-148 (the province's choice)"), chosen.stderr
    denied = run(["workflow", "default", "--province", "P", "--clear", "--as", officer], cli_env)
    assert denied.returncode == 1 and "Traceback" not in denied.stderr
    listed = json.loads(run(["product", "list", "--state", "production_plan", "--json"], cli_env).stdout)
    assert [p["name"] for p in listed] == ["Mỳ Chũ"]
    shown = json.loads(run(["product", "show", str(pid), "--json"], cli_env).stdout)
    assert [e["trigger"] for e in shown["history"]] == ["create", "accept_idea"]
    assert shown["history"][1]["actor"] == officer
    orgs = json.loads(run(["org", "list", "--json"], cli_env).stdout)
    assert {o["code"] for o in orgs} >= {"VN", "P", "D1", "C1"}

    created = run(
        ["user", "create", "--email", "Moi@Xa.vn", "--name", "Cán bộ mới", "--role", "commune_officer", "--org", "C2"],
        cli_env,
        stdin="mat-khau-456\n",
    )
    assert created.returncode == 0, created.stderr
    wrong_level = run(
        ["user", "create", "--email", "x@xa.vn", "--name", "X", "--role", "district_council", "--org", "C2"],
        cli_env,
        stdin="mat-khau-456\n",
    )
    assert wrong_level.returncode == 1 and "district level" in wrong_level.stderr
    for weak, why in (("12345678", "among the most common passwords"), ("MOI2@xa.vn", "not be the e-mail")):
        refused = run(
            [
                "user",
                "create",
                "--email",
                "Moi2@Xa.vn",
                "--name",
                "Cán bộ mới",
                "--role",
                "commune_officer",
                "--org",
                "C2",
            ],
            cli_env,
            stdin=weak + "\n",
        )
        assert refused.returncode == 1 and why in refused.stderr and "Traceback" not in refused.stderr
    db.dispose()


def test_workflow_show_and_migrate(cli_env, registry, tmp_path):
    from ocop_workflow.db import Database

    mermaid = run(["workflow", "show", "ocop-1489", "--format", "mermaid"], cli_env)
    assert mermaid.stdout.startswith("stateDiagram-v2") and "commune_review --> province_review" in mermaid.stdout
    assert "district_review" in run(["workflow", "show", "ocop-148"], cli_env).stdout

    assert run(["db", "upgrade"], cli_env).returncode == 0
    db = Database(f"sqlite:///{tmp_path / 'instance' / 'ocop.sqlite3'}")
    world = build_world(db, registry)
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["household"])
    attach(db, registry, officer, pid, ["idea_registration"], tmp_path / "up")
    move(db, registry, officer, pid, "accept_idea")

    dry = run(["workflow", "migrate", "--from", "ocop-148", "--to", "ocop-1489"], cli_env)
    assert dry.returncode == 0 and "dry run" in dry.stdout
    assert product_row(db, pid).workflow_key == "ocop-148"
    applied = run(["workflow", "migrate", "--from", "ocop-148", "--to", "ocop-1489", "--apply"], cli_env)
    assert applied.returncode == 0, applied.stderr
    p = product_row(db, pid)
    assert (p.workflow_key, p.state) == ("ocop-1489", "production_plan")
    shown = json.loads(run(["product", "show", str(pid), "--json"], cli_env).stdout)
    assert shown["history"][-1]["trigger"] == "migrate_workflow"
    # new products start on the latest version (v2) and move to the latest of the target
    assert shown["history"][-1]["data"] == {"from_workflow": "ocop-148@v2", "to_workflow": "ocop-1489@v2"}
    db.dispose()


def test_migration_refuses_unmapped_states(sqlite_db, registry, tmp_path):
    """A definition whose mapping lacks a state: the product is listed and nothing moves."""
    import shutil

    from ocop_workflow.engine import Registry
    from ocop_workflow.errors import InvalidData
    from ocop_workflow.services.workflow_migration import apply_migration, plan_migration

    folder = tmp_path / "wf"
    shutil.copytree(Path(__file__).resolve().parent.parent / "workflows", folder)
    path = folder / "ocop-1489.v2.yaml"  # the migration's target: the latest version
    path.write_text(
        path.read_text(encoding="utf-8").replace("    district_review: commune_review\n", ""), encoding="utf-8"
    )
    reg = Registry.from_directory(folder)
    world = build_world(sqlite_db, reg)
    officer = world.user("commune_officer", "C1")
    waiting = new_product(sqlite_db, reg, officer, world.producers["cooperative_group"], group="tourism")
    from .helpers import required_docs

    attach(sqlite_db, reg, officer, waiting, ["idea_registration", "business_plan", "organisation_intro"], tmp_path)
    move(sqlite_db, reg, officer, waiting, "accept_idea")
    move(sqlite_db, reg, officer, waiting, "approve_plan")
    attach(
        sqlite_db,
        reg,
        officer,
        waiting,
        required_docs(reg, "ocop-148", "submit_to_district", "tourism", "cooperative_group"),
        tmp_path,
    )
    move(sqlite_db, reg, officer, waiting, "submit_to_district")
    fresh = new_product(sqlite_db, reg, officer, world.producers["household"])
    with sqlite_db.transaction() as s:
        plan = plan_migration(s, reg, "ocop-148", "ocop-1489")
        assert [m.product_id for m in plan.refused] == [waiting]
        with pytest.raises(InvalidData) as refused:
            apply_migration(s, reg, plan)
        assert f"#{waiting} (district_review)" in refused.value.message("en")
    assert product_row(sqlite_db, fresh).workflow_key == "ocop-148"
    with sqlite_db.transaction() as s:
        assert apply_migration(s, reg, plan_migration(s, reg, "ocop-148", "ocop-1489"), skip_unmapped=True) == 1
    assert product_row(sqlite_db, fresh).workflow_key == "ocop-1489"
    assert product_row(sqlite_db, waiting).workflow_key == "ocop-148"
