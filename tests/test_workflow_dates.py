"""Definitions by date (issue #11): each definition declares the days it applies to, a new product starts
under the one in force that local day unless its province chose one, and a person choosing a definition
not in force is refused with a clear message."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from ocop_workflow.engine import Registry, load_directory
from ocop_workflow.errors import DefinitionError, InvalidData
from ocop_workflow.models import Organisation
from ocop_workflow.services.access import load_actor
from ocop_workflow.services.products import create_product, definition_for_new

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"


def _broken(tmp_path: Path, old: str, new: str, file: str = "ocop-148.v2.yaml") -> tuple[Path, int]:
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    line = text[: text.index(new)].count("\n") + 1 + new[: new.index("effective_to")].count("\n")
    return path, line


def test_the_shipped_definitions_say_when_they_apply() -> None:
    _, defs = load_directory(WORKFLOWS)
    by = {(d.key, d.version): d for d in defs}
    for version in (1, 2):
        assert by[("ocop-148", version)].effective_to == date(2025, 7, 5)
        assert by[("ocop-1489", version)].effective_from == date(2025, 7, 6)
        assert by[("ocop-1489", version)].effective_to is None
    assert by[("ocop-148", 2)].in_force(date(2025, 7, 5)) and not by[("ocop-148", 2)].in_force(date(2025, 7, 6))


@pytest.mark.parametrize(
    "value,message",
    [
        ("2025-13-01", "effective_to must be a date (YYYY-MM-DD), got '2025-13-01'"),
        ("soon", "effective_to must be a date (YYYY-MM-DD), got 'soon'"),
        ("2025-07-05 10:00:00", "effective_to must be a date (YYYY-MM-DD)"),
        ("2020-01-01", "effective_to (2020-01-01) is before effective_from (2023-02-24)"),
    ],
)
def test_a_wrong_effective_to_gives_file_line_and_message(tmp_path: Path, value: str, message: str) -> None:
    path, line = _broken(tmp_path, "effective_to: 2025-07-05", f"effective_to: {value}")
    with pytest.raises(DefinitionError) as info:
        load_directory(path.parent)
    problems = [p for p in info.value.problems if "effective_to" in p[2]]
    assert len(problems) == 1, info.value.problems
    assert problems[0][0] == str(path) and problems[0][1] == line and message in problems[0][2]
    assert f"{path}:{line}: " in str(info.value)


def _registry(registry: Registry, pin: str = "") -> Registry:
    """The shipped definitions without the suite's pin (tests/conftest.py): the date rule itself."""
    return dataclasses.replace(registry, default_key=pin)


def _create(db, registry, world, day: date, key: str | None = None, check: bool = False):
    with db.transaction() as s:
        p = create_product(
            s,
            registry,
            load_actor(s, world.user("commune_officer", "C1")),
            name="Vải thiều Phượng Sơn",
            product_group="food",
            producer_id=world.producers["cooperative"],
            workflow_key=key,
            now=datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC),  # 10:00 in Hà Nội
            check_in_force=check,
        )
        return p.workflow_key, p.workflow_version


def test_a_new_product_starts_under_the_definition_in_force_that_day(db, registry, world) -> None:
    reg = _registry(registry)
    assert _create(db, reg, world, date(2025, 7, 5)) == ("ocop-148", 2)
    assert _create(db, reg, world, date(2025, 7, 6)) == ("ocop-1489", 2)
    assert _create(db, reg, world, date(2026, 12, 2)) == ("ocop-1489", 2)
    # the local day counts: 17:30 UTC on 5 July is 00:30 on 6 July in Hà Nội
    with db.transaction() as s:
        p = create_product(
            s,
            reg,
            load_actor(s, world.user("commune_officer", "C1")),
            name="Mỳ Chũ",
            product_group="food",
            producer_id=world.producers["cooperative"],
            now=datetime(2025, 7, 5, 17, 30, tzinfo=UTC),
        )
        assert p.workflow_key == "ocop-1489"


def test_the_province_setting_wins_over_the_date(db, registry, world) -> None:
    reg = _registry(registry)
    with db.transaction() as s:
        s.scalars(select(Organisation).where(Organisation.code == "P")).one().default_workflow = "ocop-148"
    assert _create(db, reg, world, date(2026, 12, 2)) == ("ocop-148", 2)
    # and a person may choose it although it is not in force
    assert _create(db, reg, world, date(2026, 12, 2), "ocop-148", check=True) == ("ocop-148", 2)
    with db.session() as s:
        commune = s.get(Organisation, world.orgs["C1"])
        rules = definition_for_new(reg, commune, date(2026, 12, 2))
        assert (rules.definition.key, rules.reason) == ("ocop-148", "province")
        assert set(rules.allowed) == {"ocop-148", "ocop-1489"}


def test_a_definition_not_in_force_is_refused_when_a_person_chooses_it(db, registry, world) -> None:
    reg = _registry(registry)
    with pytest.raises(InvalidData) as info:
        _create(db, reg, world, date(2026, 12, 2), "ocop-148", check=True)
    assert info.value.details["field"] == "workflow_key"
    assert "không áp dụng ngày 02/12/2026" in info.value.message("vi")
    assert "do not apply on 02/12/2026 (they apply 24/02/2023–05/07/2025)" in info.value.message("en")
    assert _create(db, reg, world, date(2025, 7, 5), "ocop-148", check=True) == ("ocop-148", 2)
    with pytest.raises(InvalidData):
        _create(db, reg, world, date(2025, 7, 5), "ocop-1489", check=True)  # not yet in force
    with pytest.raises(InvalidData) as info:
        _create(db, reg, world, date(2025, 7, 5), "ocop-999", check=True)
    assert "No workflow named ocop-999" in info.value.message("en")


def test_the_operators_pin_comes_after_the_province(db, registry, world) -> None:
    reg = _registry(registry, pin="ocop-148")
    assert _create(db, reg, world, date(2026, 12, 2)) == ("ocop-148", 2)
    assert reg.default_definition(date(2026, 12, 2), "ocop-1489") == (reg.latest("ocop-1489"), "province")
    assert reg.default_definition(date(2026, 12, 2), "gone") == (reg.latest("ocop-148"), "operator")
    unpinned = _registry(registry)
    assert unpinned.default_definition(date(2020, 1, 1))[1] == "newest"  # before every definition


def test_the_provincial_secretariat_sets_the_provinces_choice(db, registry, world) -> None:
    """`set_default_workflow`: the province's secretariat (or an administrator) sets and clears it; anyone else is
    refused, a district has none, an unknown key is a clear error naming the definitions there are."""
    from ocop_workflow.errors import PermissionDenied
    from ocop_workflow.services.products import set_default_workflow

    reg = _registry(registry)
    with db.transaction() as s:
        province = s.scalars(select(Organisation).where(Organisation.code == "P")).one()
        secretariat = load_actor(s, world.user("province_secretariat", "P"), policy=reg.policy)
        assert set_default_workflow(s, reg, secretariat, province, "ocop-148") == "ocop-148"
    assert _create(db, reg, world, date(2026, 12, 2)) == ("ocop-148", 2)
    with db.transaction() as s:
        province = s.scalars(select(Organisation).where(Organisation.code == "P")).one()
        district = s.scalars(select(Organisation).where(Organisation.code == "D1")).one()
        officer = load_actor(s, world.user("commune_officer", "C1"), policy=reg.policy)
        secretariat = load_actor(s, world.user("province_secretariat", "P"), policy=reg.policy)
        with pytest.raises(PermissionDenied):
            set_default_workflow(s, reg, officer, province, "ocop-1489")
        with pytest.raises(InvalidData) as info:
            set_default_workflow(s, reg, secretariat, district, "ocop-1489")
        assert "không phải là tỉnh" in info.value.message("vi")
        with pytest.raises(InvalidData) as info:
            set_default_workflow(s, reg, secretariat, province, "ocop-2030")
        assert "No rules named «ocop-2030» (there are: ocop-148, ocop-1489)" in info.value.message("en")
        assert set_default_workflow(s, reg, secretariat, province, None) is None
    assert _create(db, reg, world, date(2026, 12, 2)) == ("ocop-1489", 2)  # back to the date rule
