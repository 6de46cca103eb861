"""Criteria sets: the shipped sets load, every mistake in a criteria file is reported with its file and
line, and a sheet scores exactly what its options allow and refuses everything else.

The loader cases copy the shipped `workflows/criteria/` folder, replace the 148 food sheet by a fully
itemised TEST sheet (synthetic criteria, not the annex's: the shipped 148 sheets are parts only), break
one thing by a text substitution and load the folder; the expected line is found by a regex in the
broken file, so the cases survive reformatting.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocop_workflow.cli import cli
from ocop_workflow.engine import Registry
from ocop_workflow.engine.criteria import CriteriaSets, Sheet, load_criteria
from ocop_workflow.engine.loader import load_catalogue
from ocop_workflow.errors import DefinitionError, InvalidData, NotFound

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
CRITERIA = WORKFLOWS / "criteria"
CATALOGUE = load_catalogue(WORKFLOWS / "catalogue.yaml")
GROUPS = tuple(CATALOGUE.product_groups)

# A fully itemised council sheet (TEST DATA: made-up criteria with the 148 part maxima A 40 / B 25 / C 35).
FULL_FOOD = """\
kind: criteria_sheets
set: ocop-148
group: food
transcribed: full
sheets:
  - key: food
    label: {vi: "Phiếu thử — Thực phẩm", en: "Test sheet — Food"}
    source: "test data"
    parts:
      - key: A
        label: {vi: "Phần A", en: "Part A"}
        max_points: 40
        criteria:
          - code: A1
            label: {vi: "Nguồn nguyên liệu", en: "Raw materials"}
            max_points: 10
            mandatory: true
            options:
              - {points: 0, vi: "Không đạt", en: "Not met"}
              - {points: 5, vi: "Một phần", en: "Partly"}
              - {points: 10, vi: "Đạt", en: "Met"}
          - code: A2
            label: {vi: "Tổ chức sản xuất", en: "Organisation of production"}
            max_points: 30
            options:
              - {points: 0, vi: "Chưa có", en: "None"}
              - {points: 10, vi: "Có", en: "Some"}
              - {points: 20, vi: "Tốt", en: "Good"}
              - {points: 30, vi: "Rất tốt", en: "Very good"}
      - key: B
        label: {vi: "Phần B", en: "Part B"}
        max_points: 25
        criteria:
          - code: B1
            label: {vi: "Tiếp thị", en: "Marketing"}
            max_points: 25
            options:
              - {points: 0, vi: "Không", en: "No"}
              - {points: 12.5, vi: "Một phần", en: "Partly"}
              - {points: 25, vi: "Đầy đủ", en: "Fully"}
      - key: C
        label: {vi: "Phần C", en: "Part C"}
        max_points: 35
        criteria:
          - code: C1
            label: {vi: "Công bố chất lượng", en: "Quality declaration"}
            max_points: 5
            mandatory: true
            options:
              - {points: 0, vi: "Không có", en: "None"}
              - {points: 1, vi: "Đang làm", en: "In progress"}
              - {points: 3, vi: "Có", en: "Declared"}
              - {points: 5, vi: "Có và kiểm nghiệm định kỳ", en: "Declared and tested regularly"}
          - code: C2
            label: {vi: "Cảm quan", en: "Sensory quality"}
            max_points: 30
            free: true
            step: 0.5
"""

FOOD = "ocop-148/food.yaml"
SET148 = "ocop-148/set.yaml"
SET1489 = "ocop-1489/set.yaml"


def folder_with_full_food(tmp_path: Path) -> Path:
    folder = tmp_path / "criteria"
    shutil.copytree(CRITERIA, folder)
    (folder / FOOD).write_text(FULL_FOOD, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def full_sets(tmp_path_factory: pytest.TempPathFactory) -> CriteriaSets:
    return load_criteria(folder_with_full_food(tmp_path_factory.mktemp("full")), CATALOGUE)


@pytest.fixture(scope="module")
def sheet(full_sets: CriteriaSets) -> Sheet:
    return full_sets.get("ocop-148/food")


# --- the shipped sets ------------------------------------------------------------------------


def test_the_shipped_sets_load_and_cover_every_group_of_both_definitions() -> None:
    sets = load_criteria(CRITERIA, CATALOGUE)
    assert set(sets.sets) == {"ocop-148", "ocop-1489"}
    for group in GROUPS:
        s148 = sets.sheet_for("ocop-148", group)
        assert (s148.key, s148.group, s148.kind) == (f"ocop-148/{group}", group, "council")
        assert sets.sheet_for("ocop-1489", group) is s148  # 1489 reuses 148's council sheets
        assert sets.sheet_for("ocop-1489", group, kind="commune").key == "ocop-1489/commune"


def test_the_shipped_food_sheet_has_the_148_parts_40_25_35_and_says_it_is_parts_only() -> None:
    food = load_criteria(CRITERIA, CATALOGUE).get("ocop-148/food")
    assert [(p.key, p.max_points) for p in food.parts] == [("A", 40), ("B", 25), ("C", 35)]
    assert food.max_total == 100
    for part in food.parts:
        assert sum(c.max_points for c in part.criteria) == part.max_points
    assert food.transcribed == "parts_only"
    assert "148/QĐ-TTg" in food.source and "Phụ lục III" in food.source
    # never the 1048 (2019) structure A 35 / C 40
    assert (food.parts[0].max_points, food.parts[2].max_points) != (35, 40)
    assert food.mandatory_rule is not None and food.mandatory_rule.default
    assert food.mandatory_rule.caps_star_at == 2


def test_the_commune_sheet_scores_the_four_local_criteria() -> None:
    commune = load_criteria(CRITERIA, CATALOGUE).get("ocop-1489/commune")
    assert commune.kind == "commune" and commune.group is None
    assert [c.code for c in commune.criteria] == ["L1", "L2", "L3", "L4"]
    assert "lao động" in commune.criteria[1].label.vi
    result = commune.score({"L1": 1, "L2": 0, "L3": 1, "L4": 1}, complete=True)
    assert result.total == 3


def test_the_registry_carries_the_criteria_and_a_folder_without_any_gets_the_shipped_ones(tmp_path: Path) -> None:
    assert Registry.from_directory(WORKFLOWS).criteria.sheet_for("ocop-148", "food").key == "ocop-148/food"
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, folder, ignore=shutil.ignore_patterns("criteria"))
    reg = Registry.from_directory(folder)
    assert reg.criteria is not None and reg.criteria.directory == str(CRITERIA)


def test_the_registry_refuses_a_folder_whose_criteria_lack_a_set_for_a_definition(tmp_path: Path) -> None:
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, folder)
    shutil.rmtree(folder / "criteria" / "ocop-1489")
    with pytest.raises(DefinitionError) as info:
        Registry.from_directory(folder)
    assert any("workflow ocop-1489 has no criteria set" in m for _, _, m in info.value.problems)


# --- loader mistakes, each with its file and line ----------------------------------------------


@dataclass(frozen=True)
class Mistake:
    file: str
    pattern: str  # must match exactly once; replaced by `replacement`
    replacement: str
    fragments: tuple[str, ...]
    at: str | None = None  # regex of the expected line in the broken file (default: the substitution's)
    report: str | None = None  # the file the problem is reported in (default: `file`)
    delete: bool = False  # delete `file` instead


def line_at(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


MISTAKES = {
    "part-not-its-set-maximum": Mistake(
        FOOD,
        r"max_points: 40\n(?=        criteria:\n          - code: A1)",
        "max_points: 45\n",
        ("part A is worth 40 points in ocop-148", "not 45"),
    ),
    "set-parts-not-100": Mistake(
        SET148,
        r"parts: \{A: 40, B: 25, C: 35\}",
        "parts: {A: 40, B: 25, C: 30}",
        ("parts must add up to 100 points, they add up to 95",),
    ),
    "criteria-not-summing-to-part": Mistake(
        FOOD,
        r"max_points: 30\n(?=            options:\n              - \{points: 0, vi: \"Chưa có\")",
        "max_points: 25\n",
        ("part 'A'", "add up to 35, not to the part's 40"),
        at=r"max_points: 40\n        criteria:\n          - code: A1",
    ),
    "option-above-max": Mistake(
        FOOD,
        r"- \{points: 5, vi: \"Có và",
        '- {points: 6, vi: "Có và',
        ("criterion 'C1'", "option of 6 points is above the criterion's maximum of 5"),
    ),
    "negative-option": Mistake(
        FOOD,
        r"- \{points: 0, vi: \"Không\", en: \"No\"\}",
        '- {points: -1, vi: "Không", en: "No"}',
        ("criterion 'B1' option points must be 0 or more",),
    ),
    "duplicate-code": Mistake(FOOD, r"code: A2", "code: A1", ("duplicate criterion code 'A1'",)),
    "duplicate-option-points": Mistake(
        FOOD,
        r"- \{points: 12.5, vi: \"Một phần\"",
        '- {points: 25, vi: "Một phần"',
        ("criterion 'B1'", "two options give 25 points (see line"),
        at=r"- \{points: 25, vi: \"Đầy đủ\"",  # the second of the two
    ),
    "unknown-group": Mistake(FOOD, r"^group: food$", "group: fod", ("unknown product group 'fod'",)),
    "unknown-key": Mistake(
        FOOD,
        r"(?<=\n)(          - code: B1\n)",
        r"\1            colour: red\n",
        ("criterion 'B1'", "unknown key 'colour'"),
        at=r"colour: red",
    ),
    "missing-label": Mistake(
        FOOD,
        r"label: \{vi: \"Tiếp thị\", en: \"Marketing\"\}",
        'label: {vi: "Tiếp thị"}',
        ("criterion 'B1'", "needs a label with both 'vi' and 'en'"),
    ),
    "option-without-english": Mistake(
        FOOD,
        r"- \{points: 1, vi: \"Đang làm\", en: \"In progress\"\}",
        '- {points: 1, vi: "Đang làm"}',
        ("criterion 'C1' option 1", "needs a label with both 'vi' and 'en'"),
    ),
    "group-without-council-sheet": Mistake(
        "ocop-148/tourism.yaml",
        "",
        "",
        ("product group 'tourism' has no council sheet",),
        at=r"^key: ocop-148$",
        report=SET148,
        delete=True,
    ),
    "off-step-maximum": Mistake(
        FOOD, r"step: 0.5", "step: 0.7", ("criterion 'C2'", "max_points 30 is not a multiple of step 0.7")
    ),
    "options-on-a-free-criterion": Mistake(
        FOOD,
        r"(?<=\n)(            free: true\n)",
        r"\1            options: []\n",
        ("criterion 'C2'", "has no options"),
        at=r"options: \[\]",
    ),
    "bad-yaml": Mistake(FOOD, r"label: \{vi: \"Cảm quan\"", 'label: {vi: "Cảm quan" ]', ("bad YAML",)),
    "unknown-set-used": Mistake(
        SET1489, r"^uses: ocop-148$", "uses: ocop-149", ("uses names unknown criteria set 'ocop-149'",)
    ),
    "mandatory-without-rule": Mistake(
        SET148,
        r"mandatory_rule:\n(  .*\n)+",
        "",
        ("sheet 'food'", "mandatory criteria but neither the sheet nor set.yaml gives a mandatory_rule"),
        at=r"^  - key: food$",
        report=FOOD,
    ),
    "caps-star-not-a-star": Mistake(
        SET148, r"caps_star_at: 2", "caps_star_at: 7", ("caps_star_at must be a star from 1 to 4",)
    ),
    "two-sheets-for-one-group": Mistake(
        "ocop-148/beverages.yaml",
        r"^group: beverages$",
        "group: food",
        ("sheet ocop-148/food is for the same group, sub-group and kind as ocop-148/beverages",),
        at=r"^  - key: food$",
        report=FOOD,  # the files load in name order: beverages.yaml first
    ),
}


@dataclass(frozen=True)
class Broken:
    folder: Path
    path: Path
    line: int
    fragments: tuple[str, ...]


def break_folder(tmp_path: Path, mistake: Mistake) -> Broken:
    folder = folder_with_full_food(tmp_path)
    path = folder / mistake.file
    if mistake.delete:
        path.unlink()
        broken = ""
    else:
        text = path.read_text(encoding="utf-8")
        matches = list(re.finditer(mistake.pattern, text, re.M))
        assert len(matches) == 1, f"the pattern must match exactly once in {mistake.file}: {mistake.pattern!r}"
        m = matches[0]
        broken = text[: m.start()] + m.expand(mistake.replacement) + text[m.end() :]
        path.write_text(broken, encoding="utf-8")
        line = line_at(broken, m.start())
    report = folder / (mistake.report or mistake.file)
    if mistake.at:
        text = report.read_text(encoding="utf-8")
        found = list(re.finditer(mistake.at, text, re.M))
        assert len(found) == 1, f"the anchor must match exactly once: {mistake.at!r}"
        line = line_at(text, found[0].start())
    return Broken(folder, report, line, mistake.fragments)


@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_mistake_is_reported_with_its_file_and_line(tmp_path: Path, name: str) -> None:
    b = break_folder(tmp_path, MISTAKES[name])
    with pytest.raises(DefinitionError) as info:
        load_criteria(b.folder, CATALOGUE)
    hits = [p for p in info.value.problems if p[0] == str(b.path) and p[1] == b.line]
    assert any(all(f in message for f in b.fragments) for _, _, message in hits), (
        f"expected {b.path}:{b.line} with {b.fragments}; got:\n{info.value}"
    )


def test_all_mistakes_of_a_file_are_reported_at_once(tmp_path: Path) -> None:
    folder = folder_with_full_food(tmp_path)
    path = folder / FOOD
    text = path.read_text(encoding="utf-8").replace("code: A2", "code: A1").replace("step: 0.5", "step: 0.7")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_criteria(folder, CATALOGUE)
    messages = " | ".join(m for _, _, m in info.value.problems)
    assert "duplicate criterion code 'A1'" in messages and "not a multiple of step 0.7" in messages


def test_workflow_check_reports_a_broken_criteria_file_with_its_line(tmp_path: Path) -> None:
    workflows = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, workflows)
    path = workflows / "criteria" / FOOD
    path.write_text(FULL_FOOD.replace("code: A2", "code: A1"), encoding="utf-8")
    line = line_at(FULL_FOOD, FULL_FOOD.index("code: A2"))
    result = CliRunner().invoke(cli, ["workflow", "check", str(workflows)])
    assert result.exit_code != 0
    assert f"{path}:{line}: duplicate criterion code 'A1'" in result.output
    assert "Traceback" not in result.output


def test_workflow_check_says_the_shipped_criteria_are_ok() -> None:
    result = CliRunner().invoke(cli, ["workflow", "check", str(WORKFLOWS)])
    assert result.exit_code == 0, result.output
    assert "ok: criteria ocop-148 (6 sheets)" in result.output
    assert "ok: criteria ocop-1489 (1 sheets)" in result.output


# --- finding the sheet -------------------------------------------------------------------------


def test_sheet_for_refuses_an_unknown_set_or_group(full_sets: CriteriaSets) -> None:
    with pytest.raises(NotFound) as info:
        full_sets.sheet_for("ocop-2099", "food")
    assert "ocop-2099" in info.value.text.vi and "No criteria set" in info.value.text.en
    with pytest.raises(NotFound) as info:
        full_sets.sheet_for("ocop-148", "spaceships")
    assert "spaceships" in info.value.text.en
    with pytest.raises(NotFound):
        full_sets.get("ocop-148/spaceships")


def test_a_subgroup_sheet_wins_over_the_group_sheet(tmp_path: Path) -> None:
    folder = folder_with_full_food(tmp_path)
    honey = (folder / "ocop-148/beverages.yaml").read_text(encoding="utf-8")
    honey = honey.replace("group: beverages", "group: food").replace("- key: beverages", "- key: food-honey")
    honey = honey.replace("    label:\n      vi:", "    subgroup: honey\n    label:\n      vi:", 1)
    (folder / "ocop-148/food-honey.yaml").write_text(honey, encoding="utf-8")
    sets = load_criteria(folder, CATALOGUE)
    assert sets.sheet_for("ocop-148", "food", "honey").key == "ocop-148/food-honey"
    assert sets.sheet_for("ocop-148", "food", "rice").key == "ocop-148/food"
    assert sets.sheet_for("ocop-148", "food").key == "ocop-148/food"
    assert sets.sheet_for("ocop-1489", "food", "honey").key == "ocop-148/food-honey"


# --- scoring one sheet -------------------------------------------------------------------------

VALID = {"A1": 10, "A2": 20, "B1": 12.5, "C1": 3, "C2": "27,5"}


def test_valid_answers_give_exact_part_totals(sheet: Sheet) -> None:
    result = sheet.score(VALID, complete=True)
    assert result.part_totals == {"A": 30.0, "B": 12.5, "C": 30.5}
    assert result.total == 73.0
    assert result.missing == () and result.failed_mandatory == () and result.star_cap is None


def test_a_draft_lists_what_is_missing(sheet: Sheet) -> None:
    result = sheet.score({"A1": 5, "C2": None, "B1": ""}, complete=False)
    assert result.total == 5 and result.part_totals == {"A": 5.0, "B": 0.0, "C": 0.0}
    assert result.missing == ("A2", "B1", "C1", "C2")


def test_a_failed_mandatory_criterion_is_reported_with_the_star_cap(sheet: Sheet) -> None:
    result = sheet.score({**VALID, "C1": 0}, complete=True)
    assert result.failed_mandatory == ("C1",)
    assert result.star_cap == 2


@pytest.mark.parametrize(
    ("answers", "vi", "en"),
    [
        ({**VALID, "Z9": 1}, "Không có tiêu chí mã 'Z9'", "no criterion 'Z9'"),
        ({**VALID, "A2": 15}, "A2 (Tổ chức sản xuất): 15 điểm không phải là một mức", "must be one of 0, 10, 20, 30"),
        ({**VALID, "C1": 6}, "C1", "6 points is not one of its options"),
        ({**VALID, "C2": 30.5}, "phải từ 0 đến 30, bước 0,5", "must be 0 to 30 in steps of 0.5"),
        ({**VALID, "C2": 12.25}, "C2 (Cảm quan): 12,25 điểm không hợp lệ", "not allowed"),
        ({**VALID, "C2": -0.5}, "C2", "-0.5 points is not allowed"),
        ({**VALID, "B1": "nhiều"}, "'nhiều' không phải là một số", "is not a number"),
        ({**VALID, "B1": True}, "B1", "True is not a number"),
        ({**VALID, "B1": float("nan")}, "B1", "is not a number"),
        ({k: v for k, v in VALID.items() if k != "B1"}, "Chưa chấm điểm các tiêu chí: B1", "not scored yet: B1"),
    ],
)
def test_bad_answers_are_refused_naming_the_criterion(sheet: Sheet, answers: dict, vi: str, en: str) -> None:
    with pytest.raises(InvalidData) as info:
        sheet.score(answers, complete=True)
    assert vi in info.value.text.vi, info.value.text.vi
    assert en in info.value.text.en, info.value.text.en


def test_every_problem_of_a_sheet_is_reported_at_once(sheet: Sheet) -> None:
    with pytest.raises(InvalidData) as info:
        sheet.score({"A1": 7, "B1": "x", "Z": 1}, complete=True)
    text = info.value.text.en
    for fragment in ("A1", "B1", "'Z'", "not scored yet: A2, C1, C2"):
        assert fragment in text
    assert sorted(info.value.details["criteria"]) == ["A1", "A2", "B1", "C1", "C2", "Z"]


# --- properties ------------------------------------------------------------------------------


def _valid_value(criterion) -> st.SearchStrategy:
    if criterion.free:
        steps = int(Decimal(str(criterion.max_points)) / Decimal(str(criterion.step)))
        return st.integers(0, steps).map(lambda n: float(Decimal(n) * Decimal(str(criterion.step))))
    return st.sampled_from([o.points for o in criterion.options])


def _answers(sheet: Sheet) -> st.SearchStrategy:
    return st.fixed_dictionaries({c.code: _valid_value(c) for c in sheet.criteria})


def _invalid_value(criterion) -> st.SearchStrategy:
    numbers = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False)
    if criterion.free:
        step = Decimal(str(criterion.step))
        top = Decimal(str(criterion.max_points))
        bad = numbers.filter(lambda d: d < 0 or d > top or d % step != 0)
    else:
        allowed = {Decimal(str(o.points)) for o in criterion.options}
        bad = numbers.filter(lambda d: d not in allowed)
    return st.one_of(bad, bad.map(str), bad.map(float), st.text(st.characters(categories=["L"]), min_size=1))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_valid_sheets_total_their_parts_and_never_exceed_100(full_sets: CriteriaSets, data) -> None:
    sheet = data.draw(st.sampled_from([full_sets.get("ocop-148/food"), full_sets.get("ocop-148/tourism")]))
    answers = data.draw(_answers(sheet))
    result = sheet.score(answers, complete=True)
    assert result.total == float(sum(Decimal(str(v)) for v in result.part_totals.values()))
    assert 0 <= result.total <= 100
    for part in sheet.parts:
        assert 0 <= result.part_totals[part.key] <= part.max_points


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_invalid_values_are_always_refused(sheet: Sheet, data) -> None:
    criterion = data.draw(st.sampled_from(sheet.criteria))
    answers = data.draw(_answers(sheet))
    answers[criterion.code] = data.draw(_invalid_value(criterion))
    with pytest.raises(InvalidData) as info:
        sheet.score(answers, complete=data.draw(st.booleans()))
    assert criterion.code in info.value.text.vi and criterion.code in info.value.text.en
