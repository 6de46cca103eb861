"""Workflow definition files: every kind of mistake gives its file, its exact line and a precise message.

Each case copies the shipped `workflows/` folder, breaks one thing in a copy of a definition by a text
substitution and loads the folder. The expected line is where the substitution lands (or where a named
anchor sits in the broken file), so the cases keep working when the shipped files are reformatted.
The shipped files themselves must load cleanly, and `ocop workflow check` must print `file:line: message`
and exit non-zero on each mistake.
"""

from __future__ import annotations

import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from ocop_workflow.cli import cli
from ocop_workflow.engine import Registry, get_registry, load_directory, star_for_score
from ocop_workflow.engine import registry as registry_module
from ocop_workflow.errors import DefinitionError

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
F148 = "ocop-148.v1.yaml"
F1489 = "ocop-1489.v1.yaml"

STATES_148 = "[idea, production_plan, implementation, district_review, province_review, central_review]"
Q = '"?'  # labels may or may not be quoted


@dataclass(frozen=True)
class Mistake:
    """Regex substitutions in one file (each pattern must match exactly once) and the problem expected.

    The expected line is the line where the first substitution starts, or the line of the `nth` match of
    `at` in the broken file. In `fragments`, <first> stands for the first substitution's line and <see>
    for the line of the first match of `see`.
    """

    subs: tuple[tuple[str, str], ...]
    fragments: tuple[str, ...]
    file: str = F148
    at: str | None = None
    nth: int = 0
    offset: int = 0
    see: str | None = None


def sub(pattern: str, replacement: str, fragments: tuple[str, ...], **kwargs: object) -> Mistake:
    return Mistake(((pattern, replacement),), fragments, **kwargs)  # type: ignore[arg-type]


def line_at(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


WITHDRAWN_NOT_FINAL = (rf"(en: {Q}Withdrawn{Q}\}}\n    level: commune\n)    final: true", r"\1    sla_days: 30")

MISTAKES = {
    # unknown state: as the initial state, a source, a destination, an upgrade destination, in a source list
    "unknown-initial-state": sub(r"^initial: idea$", "initial: idee", ("initial", "unknown state 'idee'")),
    "unknown-source-state": sub(
        r"^    source: idea$", "    source: idee", ("transition 'accept_idea'", "unknown state 'idee'")
    ),
    "unknown-dest-state": sub(
        r"^    dest: production_plan$",
        "    dest: production_plann",
        ("transition 'accept_idea'", "unknown state 'production_plann'"),
    ),
    "unknown-on-upgrade-state": sub(
        r"(?<=    dest: rated\n)    on_upgrade: upgraded(?=\n    roles: \[district_council\])",
        "    on_upgrade: upgrade",
        ("transition 'rate_district' on_upgrade", "unknown state 'upgrade'"),
    ),
    "unknown-state-in-source-list": sub(
        rf"    source: \[rated, upgraded\](?=\n    dest: implementation\n    roles: \[commune_officer\]\n"
        rf"    label: \{{vi: {Q}Đăng ký nâng hạng)",
        "    source: [rated, upgarded]",
        ("transition 'apply_upgrade'", "unknown state 'upgarded'"),
    ),
    # unknown role, document type, product group, producer kind, level
    "unknown-role": sub(
        rf"    roles: \[district_council\](?=\n    label: \{{vi: {Q}Kết quả Hội đồng huyện: dưới 70)",
        "    roles: [district_counsil]",
        ("transition 'rate_district'", "unknown role 'district_counsil'"),
    ),
    "unknown-document-type": sub(
        r"documents: \{all: \[idea_registration\]\}",
        "documents: {all: [idea_registraton]}",
        ("transition 'accept_idea'", "unknown document type 'idea_registraton'"),
    ),
    "unknown-document-type-by-group": sub(
        r"^          ornamental: \[sample_handover\]$",
        "          ornamental: [sample_hand_over]",
        ("transition 'submit_to_district'", "unknown document type 'sample_hand_over'"),
    ),
    "unknown-product-group": sub(
        r"^          ornamental: \[sample_handover\]$",
        "          ornamentals: [sample_handover]",
        ("transition 'submit_to_district'", "unknown product group 'ornamentals'"),
    ),
    "unknown-producer-kind": sub(
        r"^          household: \[business_registration\]$",
        "          households: [business_registration]",
        ("transition 'submit_to_district'", "unknown producer kind 'households'"),
    ),
    "unknown-state-level": sub(
        r"^    level: district$", "    level: distric", ("state 'district_review'", "unknown level 'distric'")
    ),
    "unknown-rating-level": sub(
        r"^    rating: \{level: district, max_star: 3\}$",
        "    rating: {level: distric, max_star: 3}",
        ("transition 'rate_district'", "unknown level 'distric'"),
    ),
    "min-star-above-max-star": sub(
        r"^    rating: \{level: district, max_star: 3\}$",
        "    rating: {level: district, max_star: 3, min_star: 4}",
        ("transition 'rate_district'", "min_star is above max_star"),
    ),
    "fallback-star-from-is-gone": sub(
        r"^    rating: \{level: central, max_star: 5, min_star: 5\}$",
        "    rating: {level: central, max_star: 5, fallback_star_from: province}",
        ("transition 'rate_central' rating", "unknown key 'fallback_star_from'"),
    ),
    # the evaluation block: one rule per definition
    "evaluation-unknown-lower-score": sub(
        r"^  lower_score: own_band$",
        "  lower_score: keep_the_best",
        ("evaluation: lower_score must be one of own_band, previous_level_stands", "'keep_the_best'"),
    ),
    "evaluation-quorum-above-one": sub(
        r'^  quorum: "2/3"$', '  quorum: "4/3"', ("evaluation: quorum must be above 0 and at most 1", "4/3")
    ),
    "evaluation-quorum-zero": sub(
        r'^  quorum: "2/3"$', "  quorum: 0", ("evaluation: quorum must be above 0 and at most 1",), file=F1489
    ),
    "evaluation-quorum-not-a-fraction": sub(
        r'^  quorum: "2/3"$', "  quorum: two thirds", ("evaluation: quorum must be a fraction",)
    ),
    "evaluation-unknown-rounding": sub(
        r"^  rounding: half_up$", "  rounding: bankers", ("evaluation: rounding must be one of half_up",)
    ),
    "evaluation-bad-decimals": sub(
        r"^  decimals: 2$", "  decimals: -1", ("evaluation: decimals must be a whole number from 0 to 4",)
    ),
    "evaluation-unknown-key": sub(
        r"^  decimals: 2$", "  decimal: 2", ("evaluation: unknown key 'decimal'",), file=F1489
    ),
    "evaluation-criteria-set-a-path": sub(
        r"^  criteria_set: ocop-148$", "  criteria_set: ../etc", ("evaluation: criteria_set must be a folder name",)
    ),
    "evaluation-is-a-list": Mistake(
        ((r"^evaluation:\n(  .*\n|  #.*\n)+", "evaluation: [own_band]\n"),),
        ("evaluation must be a mapping",),
    ),
    "max-star-out-of-range": sub(
        r"^    rating: \{level: district, max_star: 3\}$",
        "    rating: {level: district, max_star: 6}",
        ("transition 'rate_district'", "max_star must be 1 to 5"),
    ),
    # the graph
    "unreachable-state": sub(
        r"^    dest: central_review$",
        "    dest: rated",
        ("state 'central_review' is unreachable from the initial state 'idea'",),
        at=r"^  - key: central_review$",
    ),
    "non-final-dead-end": Mistake(
        (WITHDRAWN_NOT_FINAL, (r'^    source: "\*"$', f"    source: {STATES_148}")),
        ("state 'withdrawn' is not final but has no way out",),
        at=r"^  - key: withdrawn$",
    ),
    "non-final-state-whose-only-move-is-a-self-loop": Mistake(
        # `source: "*"` makes `withdraw` lead from the now non-final `withdrawn` back to itself
        (WITHDRAWN_NOT_FINAL,),
        ("state 'withdrawn' is not final but has no way out",),
        at=r"^  - key: withdrawn$",
    ),
    "no-final-state-reachable": Mistake(
        tuple(
            (rf"(en: {Q}{label}{Q}\}}\n    level: commune\n)    final: true", r"\1    sla_days: 9")
            for label in ("Rated", "Upgraded", "Withdrawn")
        ),
        ("state 'rated' is not final but has no way out", "no final state can be reached"),
        at=r"^  - key: rated$",
    ),
    "ambiguous-trigger-overlapping-scores": sub(
        r"^      score: \{min: 70\}$",
        "      score: {min: 60}",
        (
            "trigger 'rate_district' from state 'district_review'",
            "without mutually exclusive score conditions",
            "see line <see>",
        ),
        at=r"^  - trigger: rate_district$",
        nth=1,
        see=r"^  - trigger: rate_district$",
    ),
    "ambiguous-trigger-without-score-conditions": Mistake(
        (
            (r"^      score: \{below: 70\}$", "      # (no score band)"),
            (r"^      score: \{min: 70\}$", "      # (none)"),
        ),
        (
            "trigger 'rate_district' from state 'district_review'",
            "without mutually exclusive score conditions",
            "see line <see>",
        ),
        at=r"^  - trigger: rate_district$",
        nth=1,
        see=r"^  - trigger: rate_district$",
    ),
    "empty-score-range": sub(
        r"^      score: \{min: 70\}$",
        "      score: {min: 70, below: 70}",
        ("transition 'rate_district' score", "empty range"),
    ),
    # YAML itself
    "bad-yaml-mapping-value": sub(
        r"^    dest: production_plan$",
        "    dest: production_plan: now",
        ("bad YAML", "mapping values are not allowed here"),
    ),
    "bad-yaml-tab": sub(r"^    dest: production_plan$", "\tdest: production_plan", ("bad YAML", "'\\t'")),
    "bad-yaml-unclosed-flow-mapping": sub(
        # the parser notices on the next line; the message points back to where the mapping started
        rf"(en: {Q}Accept the idea{Q})\}}",
        r"\1",
        ("bad YAML", "expected ',' or '}'", "started on line <first>"),
        offset=1,
    ),
    "duplicate-key": sub(
        rf"^    label: \{{vi: {Q}Tiếp nhận ý tưởng{Q}, en: {Q}Accept the idea{Q}\}}$",
        "    roles: [commune_association]",
        ("bad YAML", "duplicate key 'roles'"),
    ),
    "list-as-key": sub(r"^key: ocop-148$", "? [ocop, 148]\n: x\nkey: ocop-148", ("bad YAML", "plain value")),
    # keys and labels
    "unknown-transition-key": sub(
        rf"^    roles: \[commune_officer\](?=\n    label: \{{vi: {Q}Tiếp nhận)",
        "    rolse: [commune_officer]",
        ("transition 'accept_idea'", "unknown key 'rolse'"),
    ),
    "unknown-top-level-key": sub(
        r"^sla_calendar: calendar$", "sla_calender: calendar", ("definition", "unknown key 'sla_calender'")
    ),
    "unknown-state-key": sub(
        r"^    sla_days: 180$", "    sla_day: 180", ("state 'implementation'", "unknown key 'sla_day'")
    ),
    "transition-label-without-en": sub(
        rf"(\{{vi: {Q}Tiếp nhận ý tưởng{Q}), en: {Q}Accept the idea{Q}\}}",
        r"\1}",
        ("transition 'accept_idea'", "needs a label with both 'vi' and 'en'"),
    ),
    "state-label-without-en": sub(
        rf"(label: \{{vi: {Q}Ý tưởng sản phẩm{Q}), en: {Q}Product idea{Q}\}}",
        r"\1}",
        ("state 'idea'", "needs a label with both 'vi' and 'en'"),
    ),
    "title-without-en": sub(
        r'^(title: \{vi: "[^"]*"), en: "[^"]*"\}', r"\1}", ("title", "needs a label with both 'vi' and 'en'")
    ),
    # wrong shapes must be reported, not crash the loader
    "requires-is-a-list": sub(
        r"^    requires:\n      documents: \{all: \[idea_registration\]\}$",
        "    requires: [idea_registration]",
        ("transition 'accept_idea' requires must be a mapping",),
    ),
    "sets-is-a-list": sub(
        r"^    sets: \{application_type: upgrade\}$",
        "    sets: [application_type]",
        ("transition 'apply_upgrade' sets must be a mapping",),
    ),
    "initial-is-a-list": sub(r"^initial: idea$", "initial: [idea]", ("initial", "unknown state ['idea']")),
    "final-is-a-string": sub(
        rf"(en: {Q}Rated{Q}\}}\n    level: commune\n)    final: true",
        r"\1    final: 'no'",
        ("state 'rated'", "final must be true or false"),
        at=r"^    final: 'no'$",
    ),
    "empty-key": sub(r"^key: ocop-148$", "key:", ("key must be a name",)),
    # migrate_from (only the 1489 file has one)
    "migrate-from-unknown-new-state": sub(
        r"^    district_review: commune_review$",
        "    district_review: commune_reviews",
        ("migrate_from ocop-148.district_review", "unknown state 'commune_reviews'"),
        file=F1489,
    ),
    "migrate-from-unknown-old-state": sub(
        r"^    district_review: commune_review$",
        "    district_reviews: commune_review",
        ("migrate_from ocop-148.district_reviews", "unknown state 'district_reviews' of ocop-148"),
        file=F1489,
    ),
    "migrate-from-unknown-workflow": sub(
        r"^  ocop-148:$", "  ocop-184:", ("migrate_from names unknown workflow 'ocop-184'",), file=F1489
    ),
    # the catalogue's levels must be the administrative ladder (ocop_workflow/levels.py)
    "catalogue-levels-out-of-order": Mistake(
        ((r"^  district: (\{.*\})\n  commune: (\{.*\})$", r"  commune: \2\n  district: \1"),),
        ("levels must be exactly central, province, district, commune", "got central, province, commune, district"),
        file="catalogue.yaml",
        at=r"^levels:$",
    ),
    "catalogue-level-missing": sub(
        r"^  district: \{.*\}\n", "", ("got central, province, commune",), file="catalogue.yaml", at=r"^levels:$"
    ),
    "migrate-from-mapping-is-a-list": sub(
        r"^  ocop-148:\n(    \w+: \w+\n)+",
        "  ocop-148: [idea]\n",
        ("migrate_from ocop-148 must be a mapping",),
        file=F1489,
    ),
}


@dataclass(frozen=True)
class Broken:
    folder: Path
    path: Path
    line: int
    fragments: tuple[str, ...]


def broken_folder(tmp_path: Path, mistake: Mistake) -> Broken:
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, folder)
    path = folder / mistake.file
    text = path.read_text(encoding="utf-8")
    first = None
    for pattern, replacement in mistake.subs:
        matches = list(re.finditer(pattern, text, re.M))
        assert len(matches) == 1, f"the pattern must match exactly once in {mistake.file}: {pattern!r}"
        first = first or line_at(text, matches[0].start())
        text = text[: matches[0].start()] + matches[0].expand(replacement) + text[matches[0].end() :]
    path.write_text(text, encoding="utf-8")

    def anchor(pattern: str, nth: int = 0) -> int:
        return line_at(text, list(re.finditer(pattern, text, re.M))[nth].start())

    line = (anchor(mistake.at, mistake.nth) if mistake.at else first) + mistake.offset
    see = anchor(mistake.see) if mistake.see else None
    fragments = tuple(f.replace("<first>", str(first)).replace("<see>", str(see)) for f in mistake.fragments)
    return Broken(folder, path, line, fragments)


def load_problems(folder: Path) -> list[tuple[str, int | None, str]]:
    with pytest.raises(DefinitionError) as info:
        load_directory(folder)
    return info.value.problems


@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_mistake_gives_file_line_and_message(tmp_path: Path, name: str) -> None:
    b = broken_folder(tmp_path, MISTAKES[name])
    problems = load_problems(b.folder)
    assert [p for p in problems if p[0] == str(b.path) and p[1] == b.line and all(f in p[2] for f in b.fragments)], (
        f"expected {b.fragments} at {b.path}:{b.line}, got {problems}"
    )
    # one mistake, one file: nothing is reported about the untouched files (no knock-on errors)
    assert {p[0] for p in problems} == {str(b.path)}, problems
    # the exception text is the list of `file:line: message`
    assert f"{b.path}:{b.line}: " in str(DefinitionError(problems))


def test_a_broken_file_does_not_make_its_migration_source_unknown(tmp_path: Path) -> None:
    """ocop-1489 migrates from ocop-148: a typo in ocop-148 is reported once, not as 'unknown workflow'."""
    b = broken_folder(tmp_path, MISTAKES["bad-yaml-mapping-value"])
    assert load_problems(b.folder) == [(str(b.path), b.line, "bad YAML: mapping values are not allowed here")]


def test_all_problems_of_a_file_are_reported_together(tmp_path: Path) -> None:
    names = ("unknown-role", "unknown-document-type", "unknown-initial-state")
    expected = sorted(broken_folder(tmp_path / n, MISTAKES[n]).line for n in names)
    b = broken_folder(tmp_path / "all", Mistake(tuple(s for n in names for s in MISTAKES[n].subs), ()))
    assert sorted(p[1] for p in load_problems(b.folder)) == expected


def test_same_key_and_version_in_two_files(tmp_path: Path) -> None:
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, folder)
    copy = folder / "zz-ocop-148-copy.yaml"  # sorted after ocop-148.v1.yaml
    shutil.copy(folder / F148, copy)
    version_line = line_at(
        copy.read_text(encoding="utf-8"), re.search(r"^version: 1$", copy.read_text(encoding="utf-8"), re.M).start()
    )
    problems = load_problems(folder)
    assert problems == [(str(copy), version_line, f"ocop-148@v1 is also defined in {folder / F148}")]


def test_bumping_the_version_of_the_copy_is_fine(tmp_path: Path) -> None:
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, folder)
    text = (folder / "ocop-148.v2.yaml").read_text(encoding="utf-8").replace("version: 2\n", "version: 3\n")
    (folder / "ocop-148.v3.yaml").write_text(text, encoding="utf-8")
    _cat, defs = load_directory(folder)
    assert sorted(d.ident for d in defs) == [
        "ocop-1489@v1",
        "ocop-1489@v2",
        "ocop-148@v1",
        "ocop-148@v2",
        "ocop-148@v3",
    ]
    assert Registry.from_directory(folder).latest("ocop-148").version == 3


def test_missing_catalogue_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, folder)
    (folder / "catalogue.yaml").unlink()
    problems = load_problems(folder)
    assert len(problems) == 1 and problems[0][0] == str(folder / "catalogue.yaml")
    assert "cannot read file" in problems[0][2]


# --- the shipped definitions -----------------------------------------------------------------


def test_shipped_definitions_load_cleanly() -> None:
    cat, defs = load_directory(WORKFLOWS)
    assert sorted(d.ident for d in defs) == ["ocop-1489@v1", "ocop-1489@v2", "ocop-148@v1", "ocop-148@v2"]
    by_key = {d.key: d for d in sorted(defs, key=lambda d: d.version)}  # the latest version of each key
    assert {d.version for d in by_key.values()} == {2}
    for d in defs:
        assert d.initial == "idea"
        assert d.path == str(WORKFLOWS / f"{d.key}.v{d.version}.yaml")
        assert {s for s, st in d.states.items() if st.final} == {"rated", "upgraded", "withdrawn"}
        for t in d.transitions:
            assert set(t.sources) <= set(d.states) and t.dest in d.states
            assert set(t.roles) <= set(cat.roles)
    assert "district_review" in by_key["ocop-148"].states
    assert "district_review" not in by_key["ocop-1489"].states  # the district tier is abolished by 1489
    # 1489 v2 maps every state any version of 148 has, the v2 awaiting states included
    states_148 = {s for d in defs if d.key == "ocop-148" for s in d.states}
    assert set(by_key["ocop-1489"].migrate_from["ocop-148"]) == states_148
    # each v2 moves its own v1 products over, state for state
    for key, d in by_key.items():
        v1 = next(o for o in defs if o.ident == f"{key}@v1")
        assert d.migrate_from[key] == {s: s for s in v1.states}
    # v2: who recognises which star, and the state a product waits in for that level's decision
    assert by_key["ocop-148"].recognition.by_star == {3: "district", 4: "province", 5: "central"}
    assert by_key["ocop-1489"].recognition.by_star == {3: "province", 4: "province", 5: "central"}
    assert "district_recognition" not in by_key["ocop-1489"].states
    for d in by_key.values():
        assert set(d.recognition.awaiting.values()) <= set(d.states)
        assert {t.signs for t in d.transitions if t.signs} == set(d.recognition.awaiting)


def test_machines_are_built_once_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    real_build = registry_module.build_machine

    def counting_build(d):
        built.append(d.ident)
        return real_build(d)

    monkeypatch.setattr(registry_module, "build_machine", counting_build)
    reg = Registry.from_directory(WORKFLOWS)
    machines = {}
    for d in reg.definitions.values():
        machines[d.ident] = reg.machine(d)
        assert reg.machine(d) is machines[d.ident]
        assert reg.machine(reg.get(d.key, d.version)) is machines[d.ident]
    assert sorted(built) == sorted(["ocop-148@v1", "ocop-1489@v1", "ocop-148@v2", "ocop-1489@v2"])
    assert machines["ocop-148@v1"] is not machines["ocop-1489@v1"]
    assert machines["ocop-148@v1"] is not machines["ocop-148@v2"]

    # firing a move keeps no reference to the subject (model=None, nothing added)
    d = reg.get("ocop-148", 1)
    accept = d.candidates("idea", "accept_idea")[0]
    assert reg.fire(d, "idea", accept, False) == "production_plan"
    rate = d.candidates("district_review", "rate_district")[0]
    assert reg.fire(d, "district_review", rate, True) == "upgraded"
    assert machines[d.ident].models == []
    with pytest.raises(RuntimeError):  # a transition the machine does not have from this state
        reg.fire(d, "rated", accept, False)
    assert sorted(built) == sorted(["ocop-148@v1", "ocop-1489@v1", "ocop-148@v2", "ocop-1489@v2"])


def test_concurrent_first_use_builds_one_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    real_build = registry_module.build_machine
    barrier = threading.Barrier(8)

    def slow_build(d):
        built.append(d.ident)
        return real_build(d)

    monkeypatch.setattr(registry_module, "build_machine", slow_build)
    reg = Registry.from_directory(WORKFLOWS)
    d = reg.get("ocop-1489", 1)
    results = []

    def worker() -> None:
        barrier.wait()
        results.append(reg.machine(d))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert built == ["ocop-1489@v1"]
    assert len({id(m) for m in results}) == 1


def test_get_registry_is_cached_per_folder() -> None:
    first = get_registry(WORKFLOWS, "ocop-148")
    assert get_registry(WORKFLOWS, "ocop-148") is first
    d = first.get("ocop-148", 1)
    assert first.machine(d) is get_registry(WORKFLOWS, "ocop-148").machine(d)


# --- star bands --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "star"),
    [
        (0, 1),
        (29.99, 1),
        (30, 2),
        (49.99, 2),
        (50, 3),
        (69.99, 3),
        (70, 4),
        (89.99, 4),
        (90, 5),
        (100, 5),
    ],
)
def test_star_bands_at_the_edges(score: float, star: int) -> None:
    assert star_for_score(score) == star


# --- the `ocop workflow check` command -------------------------------------------------------


@pytest.mark.parametrize("name", list(MISTAKES))
def test_workflow_check_prints_file_line_message_and_fails(tmp_path: Path, name: str) -> None:
    b = broken_folder(tmp_path, MISTAKES[name])
    result = CliRunner().invoke(cli, ["workflow", "check", str(b.folder)])
    assert result.exit_code != 0, result.output
    prefix = f"{b.path}:{b.line}: "
    lines = [line for line in result.output.splitlines() if line.startswith(prefix)]
    assert any(all(f in line for f in b.fragments) for line in lines), result.output
    assert "Traceback" not in result.output


def test_workflow_check_passes_on_the_shipped_folder_and_files() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["workflow", "check", str(WORKFLOWS)])
    assert result.exit_code == 0, result.output
    assert "ocop-148@v1" in result.output and "ocop-1489@v1" in result.output
    assert "ocop-148@v2" in result.output and "ocop-1489@v2" in result.output
    for name in (F1489, "ocop-148.v2.yaml", "ocop-1489.v2.yaml"):  # each file on its own too
        single = runner.invoke(cli, ["workflow", "check", str(WORKFLOWS / name)])
        assert single.exit_code == 0, single.output
