"""`ocop area|chain|sales-point|training` as a district association officer would type them: dates as
DD/MM/YYYY, hectares with a decimal comma, refusals on one translated line without a traceback."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from ocop_workflow.db import Database

from .helpers import new_product
from .test_cli import run
from .world import build_world


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"OCOP_INSTANCE_DIR": str(tmp_path / "instance"), "OCOP_LANG": "en"})
    env.pop("OCOP_DATABASE_URL", None)
    return env


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(result, message: str) -> None:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr


def test_programme_records_from_the_command_line(cli_env, registry, tmp_path):
    ok(run(["db", "upgrade"], cli_env))
    db = Database(f"sqlite:///{tmp_path / 'instance' / 'ocop.sqlite3'}")
    world = build_world(db, registry)
    product = new_product(db, registry, world.user("commune_officer", "C1"), world.producers["cooperative"])
    db.dispose()
    district = world.user("district_association", "D1")

    out = ok(
        run(
            ["area", "add", "--commune", "C1", "--name", "Vùng vải Phượng Sơn", "--ha", "12,5", "--code", "BG-01"]
            + ["--as", district],
            cli_env,
        )
    )
    area = re.search(r"area #(\d+)", out).group(1)
    out = ok(run(["area", "link", area, str(product), "--since", "01/03/2025", "--as", district], cli_env))
    link = re.search(r"link #(\d+)", out).group(1)
    refused(
        run(["area", "link", area, str(product), "--since", "01/04/2025", "--as", district], cli_env),
        "already linked",
    )
    refused(run(["area", "unlink", link, "--on", "28/02/2025", "--as", district], cli_env), "cannot come before")
    ok(run(["area", "unlink", link, "--on", "2025-06-30", "--as", district], cli_env))
    listed = json.loads(ok(run(["area", "list", "--org", "D1", "--json"], cli_env)))
    assert listed[0]["area_ha"] == 12.5 and listed[0]["links"][0]["unlinked_on"] == "2025-06-30"
    # hectares grouped the Vietnamese way; a unit is named by the code typed, never by an internal id
    ok(run(["area", "add", "--commune", "C1", "--name", "Vùng lớn", "--ha", "1.250,5", "--as", district], cli_env))
    listed = json.loads(ok(run(["area", "list", "--org", "C1", "--as", district, "--json"], cli_env)))
    assert sorted(a["area_ha"] for a in listed) == [12.5, 1250.5]
    refused(run(["area", "add", "--commune", "C3", "--name", "X", "--as", district], cli_env), "“C3”")
    refused(run(["area", "list", "--org", "D2", "--as", district], cli_env), "No unit with code “D2” in your area")
    refused(
        run(["area", "add", "--commune", "C1", "--name", "X", "--ha", "-5", "--as", district], cli_env),
        "at most 1,000,000 ha",
    )
    bad_date = run(["area", "unlink", link, "--on", "31/02/2025", "--as", district], cli_env)
    assert bad_date.returncode == 2 and "is not a date" in bad_date.stderr

    out = ok(
        run(
            ["chain", "add", "--org", "D1", "--name", "Chuỗi vải", "--lead", "HTX Vải thiều", "--since", "10/01/2025"]
            + ["--as", district],
            cli_env,
        )
    )
    chain = re.search(r"chain #(\d+)", out).group(1)
    ok(run(["chain", "working", chain, "--from", "01/09/2025", "--as", district], cli_env))
    refused(run(["chain", "stop", chain, "--on", "01/08/2025", "--as", district], cli_env), "cannot come before")
    chains = json.loads(ok(run(["chain", "list", "--at", "01/10/2025", "--json"], cli_env)))
    assert [(c["name"], c["status"]) for c in chains] == [("Chuỗi vải", "working")]
    # as of a day before it started, the chain is not in the list at all (not "planned")
    assert json.loads(ok(run(["chain", "list", "--at", "31/12/2024", "--json"], cli_env))) == []
    assert "Chuỗi vải" in ok(run(["chain", "list", "--at", "10/01/2025"], cli_env))

    out = ok(
        run(
            ["sales-point", "add", "--org", "D1", "--name", "Điểm bán OCOP Chũ", "--address", "TT Chũ"]
            + ["--opened", "01/05/2023", "--as", district],
            cli_env,
        )
    )
    point = re.search(r"sales point #(\d+)", out).group(1)
    ok(run(["sales-point", "close", point, "--on", "31/12/2025", "--as", district], cli_env))
    other = world.user("district_association", "D2")
    refused(run(["sales-point", "close", point, "--on", "31/12/2025", "--as", other], cli_env), "not found")
    assert json.loads(ok(run(["sales-point", "list", "--as", other, "--json"], cli_env))) == []

    out = ok(
        run(
            ["training", "add", "--org", "D1", "--kind", "training", "--on", "02/04/2025", "--topic", "Câu chuyện SP"]
            + ["--people", "association_officer=12", "--people", "producer=30", "--as", district],
            cli_env,
        )
    )
    assert out.strip().endswith(": 42")
    refused(
        run(
            ["training", "add", "--org", "D1", "--kind", "outreach", "--on", "02/04/2025", "--topic", "T"]
            + ["--people", "producer=2,5", "--as", district],
            {**cli_env, "OCOP_LANG": "vi"},
        ),
        "số nguyên dương",
    )
    trainings = json.loads(ok(run(["training", "list", "--org", "D1", "--json"], cli_env)))
    assert trainings[0]["people"] == {"association_officer": 12, "producer": 30}
