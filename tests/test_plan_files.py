"""Plan files (issue #12): YAML and XLSX read the same plan; every mistake is reported at once with its
line or cell, in Vietnamese and English; the template written back reads back the same."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from ocop_workflow.reports.plans import (
    LIST_SHEET,
    PLAN_SHEET,
    TARGET_SHEET,
    PlanFileError,
    PlanSource,
    TargetSpec,
    read_plan,
    write_plan_xlsx,
)
from ocop_workflow.services import plans
from ocop_workflow.services.access import Actor

GOOD = b"""\
kind: plan
name: "K\xe1\xba\xbf ho\xe1\xba\xa1ch"
basis: {number: "615/QD-UBND", date: 2022-04-22}
organisation: "24"
body: association
years: [2022, 2025]
targets:
  - {indicator: new_supported, each_year: true, at_least: 10}
  - {indicator: reached_3_star, at_least: 40}
  - {indicator: upgraded, each_year: true, between: [10, 20], note: "20/n\xc4\x83m"}
  - {indicator: sales_point_districts, year: 2023, share_at_least: 100}
  - {indicator: revenue_growth, year: 2023, at_least: 1.5}
  - {indicator: value_chains_working, year: 2025, at_most: 9}
  - {indicator: new_supported, organisation: "219", year: 2024, at_least: 3}
"""


def _summary(source: PlanSource) -> list[tuple]:
    return [(t.indicator, t.organisation, t.year, t.comparison, t.low, t.high, t.note) for t in source.targets]


def test_yaml_plan_expands_each_year():
    source = read_plan(GOOD, "p.yaml")
    assert source.problems == []
    assert (source.name, source.basis_date, source.body) == ("Kế hoạch", date(2022, 4, 22), "association")
    rows = _summary(source)
    assert len(rows) == 4 + 1 + 4 + 1 + 1 + 1 + 1
    assert rows[0] == ("new_supported", None, 2022, "at_least", 10, None, None)
    assert ("value_chains_working", None, 2025, "at_most", None, 9, None) in rows
    assert rows[-1] == ("new_supported", "219", 2024, "at_least", 3, None, None)


def test_every_yaml_mistake_is_reported_with_its_line():
    bad = (
        GOOD.replace(b"date: 2022-04-22", b"date: 2022-02-30")
        .replace(b"body: association", b"body: hoi")
        .replace(b"indicator: reached_3_star", b"indicator: reached_9_star")
        .replace(b"year: 2023, share_at_least: 100", b"year: 2023, share_at_least: 120")
        .replace(b"year: 2023, at_least: 1.5", b"year: 2031, at_least: 1.5")
        .replace(b"between: [10, 20]", b"between: [20, 10]")
        .replace(b"at_most: 9}", b"at_most: 9, at_least: 2}")
    )
    bad += b"  - {indicator: reached_3_star, share_at_least: 50}\n"
    bad += b"  - {indicator: new_supported, year: 2022, at_least: 1}\n"
    source = read_plan(bad, "p.yaml")
    got = {(p.place, p.text.en.split(" ")[0]) for p in source.problems}
    messages = [p.get("en") for p in source.problems]
    assert any(m.startswith("p.yaml:3: the basis date “2022-02-30” is not a real date") for m in messages), messages
    assert any(m.startswith("p.yaml:5: the body “hoi”") for m in messages), messages
    assert any(
        m.startswith("p.yaml:9: unknown indicator “reached_9_star”; the indicators are: new_supported")
        for m in messages
    )
    assert any(m.startswith("p.yaml:11: a share of 120% is above 100%") for m in messages), messages
    assert any(m.startswith("p.yaml:12:") and "2031" in m for m in messages), messages
    assert any(m.startswith("p.yaml:10:") and "lower bound is above" in m for m in messages), messages
    assert any(m.startswith("p.yaml:13:") and "exactly one comparison" in m for m in messages), messages
    assert any(m.startswith("p.yaml:15:") and "share_at_least is only for share" in m for m in messages), messages
    assert any(m.startswith("p.yaml:16:") and "already set at p.yaml:8" in m for m in messages), messages
    assert len(got) == len(source.problems) == 9
    assert all(p.text.vi and p.text.vi != p.text.en for p in source.problems)  # bilingual


def test_broken_files_are_one_clear_problem():
    for data, name, words in [
        (b"kind: plan\nname: [unclosed\n", "p.yaml", "bad YAML"),
        (b"PK\x03\x04garbage", "p.xlsx", "neither an Excel workbook"),
        (b"\xff\xfe\x00", "p.yaml", "not UTF-8"),
        (b"", "p.yaml", "empty"),
        (b"- just\n- a list\n", "p.yaml", "must be a plan"),
    ]:
        source = read_plan(data, name)
        assert len(source.problems) == 1 and words in source.problems[0].text.en, (name, source.problems)


def test_the_template_reads_back_the_same_plan():
    source = read_plan(GOOD, "p.yaml")
    data = write_plan_xlsx(source)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == [PLAN_SHEET, TARGET_SHEET, LIST_SHEET]
    assert wb[TARGET_SHEET]["C2"].value == "mỗi năm" and wb[TARGET_SHEET].freeze_panes == "A2"
    again = read_plan(data, "p.xlsx")
    assert again.problems == []
    assert (again.name, again.basis_number, again.basis_date, again.organisation, again.body) == (
        source.name,
        source.basis_number,
        source.basis_date,
        source.organisation,
        source.body,
    )
    assert sorted(_summary(again), key=str) == sorted(_summary(source), key=str)
    english = read_plan(write_plan_xlsx(source, "en"), "p.xlsx")  # English labels read back too
    assert english.problems == [] and len(english.targets) == len(source.targets)
    blank = read_plan(write_plan_xlsx(None), "mau.xlsx")  # the empty template: its plan fields are to fill
    assert {p.place for p in blank.problems} >= {f"{PLAN_SHEET}!B2", f"{PLAN_SHEET}!B8"}


def test_xlsx_mistakes_name_their_cells():
    source = PlanSource(
        origin="p",
        name="K",
        basis_number="1/KH",
        basis_date=date(2023, 1, 5),
        organisation="24",
        body="office",
        first_year=2023,
        last_year=2023,
        targets=[TargetSpec("recognised", None, None, "at_least", 333, None, None, "")],
    )
    wb = load_workbook(io.BytesIO(write_plan_xlsx(source)))
    tg = wb[TARGET_SHEET]
    tg.append(["reached_4_star", None, None, "trong khoảng", 15, 10, None])  # row 3: low above high
    tg.append(["nope", None, "năm ngoái", "ít nhất", "mười", None, None])  # row 4: three mistakes
    tg.append(["recognised", None, None, "ít nhất", 1, None, None])  # row 5: duplicate of row 2
    tg.append(["registered_3_star_share", None, None, "tỷ lệ ít nhất", "70,5", None, None])  # row 6: fine
    wb[PLAN_SHEET]["B4"] = "31/02/2023"
    out = io.BytesIO()
    wb.save(out)
    found = read_plan(out.getvalue(), "p.xlsx")
    places = sorted(p.place for p in found.problems)
    assert places == sorted(
        [
            "Kế hoạch!B4",
            "Chỉ tiêu!F3",
            "Chỉ tiêu!A4",
            "Chỉ tiêu!C4",
            "Chỉ tiêu!E4",
            "Chỉ tiêu!A5",
        ]
    ), [p.get("en") for p in found.problems]
    share = [t for t in found.targets if t.indicator == "registered_3_star_share"]
    assert share and share[0].low == 70.5 and share[0].comparison == "share_at_least"


def test_a_target_written_as_text_is_reported_at_its_line():
    bad = GOOD.replace(b"  - {indicator: reached_3_star, at_least: 40}", b"  - reached_3_star at least 40")
    found = read_plan(bad, "p.yaml")
    assert [p.place for p in found.problems] == ["p.yaml:9"], [p.get("en") for p in found.problems]
    assert "reached_3_star at least 40" in found.problems[0].text.en


def test_an_unknown_organisation_is_reported_at_its_own_cell(db, world, registry):
    """Column B holds the organisation: the database's refusal names column B's cell, not the indicator's A."""
    own = GOOD.replace(b'organisation: "24"', b'organisation: "P"').replace(
        b'organisation: "219"', b'organisation: "D1"'
    )
    source = read_plan(own, "p.yaml")
    wb = load_workbook(io.BytesIO(write_plan_xlsx(source)))
    wb[TARGET_SHEET].append(["recognised", "NOPE", 2023, "ít nhất", 1, None, None])
    wb[TARGET_SHEET].append(["recognised", "C3", 2024, "ít nhất", 1, None, None])  # fine: C3 lies under P
    row = wb[TARGET_SHEET].max_row - 1
    out = io.BytesIO()
    wb.save(out)
    with db.session() as s, pytest.raises(PlanFileError) as refused:
        plans.load_plan(s, Actor.system_actor(registry.policy), read_plan(out.getvalue(), "p.xlsx"))
    assert [p.place for p in refused.value.problems] == [f"{TARGET_SHEET}!B{row}"]
    assert "NOPE" in refused.value.problems[0].text.en


def test_the_template_keeps_a_formula_like_name_as_text():
    source = read_plan(
        GOOD.replace(b'name: "K\xe1\xba\xbf ho\xe1\xba\xa1ch"', b"name: '=HYPERLINK(\"http://x\")'"), "p"
    )
    assert source.problems == [] and source.name.startswith("=")
    wb = load_workbook(io.BytesIO(write_plan_xlsx(source)))
    assert wb[PLAN_SHEET]["B2"].value == source.name and wb[PLAN_SHEET]["B2"].data_type == "s"
