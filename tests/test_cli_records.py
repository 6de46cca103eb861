"""`ocop support`, `ocop listing`, `ocop revenue` as an association office types them: dates dd/mm/yyyy,
amounts with Vietnamese grouping, refusals as one translated line without a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ocop_workflow.cli import cli
from ocop_workflow.db import Database

from .helpers import new_product
from .world import build_world


@pytest.fixture
def setup(sqlite_db: Database, registry, tmp_path: Path):
    world = build_world(sqlite_db, registry)
    product = new_product(sqlite_db, registry, world.user("commune_officer", "C1"), world.producers["cooperative"])
    env = {"OCOP_DATABASE_URL": sqlite_db.url, "OCOP_INSTANCE_DIR": str(tmp_path / "instance"), "OCOP_LANG": "en"}
    return world, product, env


def ocop(env: dict, *args: str, lang: str = "en"):
    return CliRunner().invoke(cli, [str(a) for a in args], env={**env, "OCOP_LANG": lang})


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def refused(result, message: str) -> str:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_support_add_end_list(setup):
    world, product, env = setup
    dassoc, cassoc = world.user("district_association", "D1"), world.user("commune_association", "C1")
    out = ok(ocop(env, "support", "add", product, "--org", "C1", "--officer", cassoc, "--since", "01/03/2025",
                  "--as", cassoc))  # fmt: skip
    assert "Phượng Sơn" in out and "01/03/2025" in out
    support_id = int(out.split("#")[1].split(":")[0])
    ok(ocop(env, "support", "add", product, "--org", "D1", "--since", "2025-04-01", "--as", dassoc))
    refused(ocop(env, "support", "add", product, "--org", "D1", "--since", "01/05/2025", "--as", dassoc),
            "already supports this product since 01/04/2025")  # fmt: skip
    refused(ocop(env, "support", "add", product, "--org", "P", "--since", "01/05/2025", "--as", dassoc),
            "must be the association of the product's commune")  # fmt: skip
    line = refused(ocop(env, "support", "end", support_id, "--on", "28/02/2025", "--as", cassoc, lang="vi"), "phải từ")
    assert "Hỗ trợ từ ngày" in line
    assert "31/12/2025" in ok(ocop(env, "support", "end", support_id, "--on", "31/12/2025", "--as", cassoc))
    rows = json.loads(ok(ocop(env, "support", "list", product, "--json")))
    assert [(r["organisation"], r["ended_on"], r["officer"]) for r in rows] == [
        ("D1", None, None),
        ("C1", "2025-12-31", cassoc),
    ]
    listed = ok(ocop(env, "support", "list", product, "--as", dassoc))
    assert "01/03/2025 – 31/12/2025" in listed
    refused(ocop(env, "support", "list", product, "--as", world.user("commune_association", "C3")), "not found")
    refused(ocop(env, "support", "add", product, "--org", "C1", "--since", "01/03/2025",
                 "--as", world.user("commune_officer", "C1")), "not allowed")  # fmt: skip


def test_listing_add_remove_list(setup):
    world, product, env = setup
    producer = world.user("producer", "C1")
    out = ok(ocop(env, "listing", "add", product, "--platform", "postmart", "--url", "https://postmart.vn/p/123",
                  "--since", "15/06/2025", "--as", producer))  # fmt: skip
    assert "Postmart marketplace" in out
    listing_id = int(out.split("#")[1].split(":")[0])
    refused(ocop(env, "listing", "add", product, "--platform", "ebay", "--url", "https://ebay.com/x",
                 "--since", "15/06/2025", "--as", producer), "Unknown platform")  # fmt: skip
    refused(ocop(env, "listing", "add", product, "--platform", "shopee", "--url", "shopee.vn/x",
                 "--since", "15/06/2025", "--as", producer), "http://")  # fmt: skip
    refused(ocop(env, "listing", "add", product, "--platform", "shopee", "--url", "https://shopee.vn/x",
                 "--since", "15/06/2099", "--as", producer), "in the future")  # fmt: skip
    ok(ocop(env, "listing", "remove", listing_id, "--on", "01/09/2025", "--as", producer))
    listed = ok(ocop(env, "listing", "list", product))
    assert "15/06/2025 – 01/09/2025  https://postmart.vn/p/123" in listed
    refused(ocop(env, "listing", "remove", 999, "--on", "01/09/2025", "--as", producer), "Listing #999 not found")


def test_revenue_set_and_list(setup):
    world, product, env = setup
    producer = world.user("producer", "C1")
    assert "1.250.000.000 đ" in ok(ocop(env, "revenue", "set", product, 2025, "1.250.000.000", "--as", producer,
                                         lang="vi"))  # fmt: skip
    ok(ocop(env, "revenue", "set", product, 2024, "800000000", "--as", producer))
    ok(ocop(env, "revenue", "set", product, 2025, "1,300,000,000", "--as", producer))  # replaces 2025
    assert (
        json.loads(ok(ocop(env, "revenue", "list", product, "--json", "--as", producer)))[0]["amount"] == 1_300_000_000
    )
    out = ok(ocop(env, "revenue", "list", product))
    assert out.splitlines()[0].split() == ["2025", "1,300,000,000", "đ"]
    refused(ocop(env, "revenue", "set", product, 2025, "1,3 tỷ", "--as", producer), "whole, non-negative")
    refused(ocop(env, "revenue", "set", product, 1999, "5", "--as", producer), "The year must be from 2000")


def test_the_installed_command_answers(setup):
    """The real `ocop` entry point finds the lazily imported groups."""
    _world, product, env = setup
    result = subprocess.run(
        [sys.executable, "-m", "ocop_workflow.cli", "revenue", "list", str(product)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # nothing declared yet


def test_a_day_that_does_not_exist_is_refused_in_the_operators_language(setup):
    """The same date type as the programme commands: a Vietnamese operator reads a Vietnamese refusal."""
    world, product, env = setup
    cassoc = world.user("commune_association", "C1")
    for command in (["support", "add", product, "--org", "C1", "--since"], ["listing", "remove", 1, "--on"]):
        vi = ocop(env, *command, "31/02/2024", "--as", cassoc, lang="vi")
        wanted = "«31/02/2024» không phải là một ngày (DD/MM/YYYY hoặc YYYY-MM-DD)"
        assert vi.exit_code == 2 and wanted in vi.output, vi.output
        assert "does not match the format" not in vi.output
        en = ocop(env, *command, "31/02/2024", "--as", cassoc)
        assert en.exit_code == 2 and "“31/02/2024” is not a date (DD/MM/YYYY or YYYY-MM-DD)" in en.output, en.output
    out = ok(ocop(env, "support", "add", product, "--org", "C1", "--since", "2024-02-29", "--as", cassoc))
    assert "29/02/2024" in out
