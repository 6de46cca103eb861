"""The workflow diagram and listing show where a council's result waits and who signs it (issue #10)."""

from __future__ import annotations

from ocop_workflow.engine.diagram import to_mermaid, to_text


def test_v2_148_diagram_shows_the_awaiting_states_and_the_signing_steps(registry) -> None:
    d = registry.get("ocop-148", 2)
    text = to_mermaid(d, "en")
    # the district's result of 3★ waits for the district's decision; the province's 3–4★ for the
    # district's or the province's; the centre's result for the province's (4★ stands) or its own
    assert "    district_review --> district_recognition : rate_district\n" in text
    assert "    province_review --> province_recognition : rate_province\n" in text
    assert "    central_review --> central_recognition : rate_central\n" in text
    assert "    central_review --> province_recognition : rate_central\n" in text
    assert "district_review --> province_recognition" not in text  # the district never gives 4★
    # the chairs' signatures move the product on
    for level in ("district", "province", "central"):
        assert f"    {level}_recognition --> rated : recognise ({level} signs)\n" in text
        assert f"    {level}_recognition --> upgraded : recognise ({level} signs)\n" in text
        assert f"    {level}_recognition : Awaiting" in text
    listing = to_text(d, "en")
    assert "rate_district" in listing and "awaits the decision: district_recognition" in listing
    assert "(signing: the province level's decision)" in listing
    assert "3★ recognised by the district level, awaiting in district_recognition" in listing


def test_v2_1489_diagram_sends_3_and_4_stars_to_the_province(registry) -> None:
    text = to_mermaid(registry.get("ocop-1489", 2), "vi")
    assert "    province_review --> province_recognition : rate_province\n" in text
    assert "    central_review --> central_recognition : rate_central\n" in text
    assert "district_recognition" not in text
    assert "    province_recognition --> rated : recognise (province signs)\n" in text


def test_v1_diagram_has_no_recognition(registry) -> None:
    text = to_mermaid(registry.get("ocop-148", 1), "en")
    assert "recognition" not in text and "recognise" not in text
    assert "    district_review --> rated : rate_district\n" in text


# --- the SVG drawing (issue #11) ----------------------------------------------------------------
import xml.etree.ElementTree as ET  # noqa: E402

import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from ocop_workflow.cli import cli  # noqa: E402
from ocop_workflow.engine.diagram import to_svg  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
ALL_DEFINITIONS = [("ocop-148", 1), ("ocop-148", 2), ("ocop-1489", 1), ("ocop-1489", 2)]


def _texts(root: ET.Element) -> str:
    return " ".join(" ".join(t.itertext()) for t in root.iter(f"{SVG}text"))


def _node(root: ET.Element, state: str) -> ET.Element:
    found = [g for g in root.iter(f"{SVG}g") if g.get("data-state") == state]
    assert len(found) == 1, state
    return found[0]


@pytest.mark.parametrize("key,version", ALL_DEFINITIONS)
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_svg_is_well_formed_and_labels_every_state(registry, key, version, locale) -> None:
    d = registry.get(key, version)
    root = ET.fromstring(to_svg(d, locale, standalone=True).encode())
    assert root.tag == f"{SVG}svg" and root.find(f"{SVG}title") is not None
    words = " ".join(_texts(root).split())
    for state in d.states.values():  # every label, wrapped over lines, reads whole in the drawing
        assert " ".join(state.label.get(locale).split()) in words, state.key
    assert "style" not in {a for el in root.iter() for a in el.attrib}  # CSP: no style attributes
    assert root.find(f".//{SVG}style") is None and root.find(f".//{SVG}script") is None
    # with nothing current, no state is highlighted
    assert not [g for g in root.iter(f"{SVG}g") if "current" in (g.get("class") or "").split()]


@pytest.mark.parametrize("key,version", ALL_DEFINITIONS)
def test_svg_highlights_the_current_state_and_marks_the_path(registry, key, version) -> None:
    d = registry.get(key, version)
    review = "district_review" if "district_review" in d.states else "commune_review"
    path = ["idea", "production_plan", "implementation", review, "implementation", review, "province_review"]
    root = ET.fromstring(to_svg(d, "vi", current="province_review", path=path))
    current = _node(root, "province_review")
    assert "current" in current.get("class").split() and current.get("aria-current") == "step"
    for state in ("idea", "production_plan", "implementation", review):
        assert "visited" in _node(root, state).get("class").split()
        assert "current" not in _node(root, state).get("class").split()
    assert "visited" not in _node(root, "withdrawn").get("class").split()
    taken = {(p.get("data-from"), p.get("data-to")) for p in root.iter(f"{SVG}path") if "taken" in p.get("class", "")}
    assert taken == {
        ("idea", "production_plan"),
        ("production_plan", "implementation"),
        ("implementation", review),
        (review, "implementation"),  # the return for revision is drawn too
        (review, "province_review"),
    }
    assert "Hồ sơ tại Hội đồng tỉnh" in root.find(f"{SVG}title").text


def test_alternative_ends_are_branches_side_by_side_not_a_sequence(registry) -> None:
    from ocop_workflow.engine.diagram import _geometry

    for key in ("ocop-148", "ocop-1489"):
        g = _geometry(registry.get(key, 2), "vi")
        ends = [g.nodes[s] for s in ("rated", "upgraded", "withdrawn")]
        assert len({n.y for n in ends}) == 1 and len({n.x for n in ends}) == 3  # one row, three branches
        assert all(n.y > g.nodes["province_review"].y for n in ends)
        # a move back (return for revision) is drawn back up, in a lane on the left
        back = [e for e in g.edges if e.kind == "back" and e.dest == "implementation"]
        assert back and all(min(x for x, _ in e.points) < g.nodes["implementation"].x for e in back)


def test_svg_layout_is_computed_once_per_definition_and_language(registry) -> None:
    from ocop_workflow.engine.diagram import _geometry

    d = registry.get("ocop-148", 2)
    assert _geometry(d, "vi") is _geometry(d, "vi")
    assert _geometry(d, "vi") is not _geometry(d, "en")


def test_cli_prints_the_svg(registry, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OCOP_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.setenv("OCOP_LANG", "en")
    r = CliRunner().invoke(cli, ["workflow", "show", "ocop-1489", "--format", "svg", "--current", "commune_review"])
    assert r.exit_code == 0, r.output
    root = ET.fromstring(r.output.encode())
    assert "current" in _node(root, "commune_review").get("class").split()
    label = registry.get("ocop-1489").states["commune_review"].label.en
    assert " ".join(label.split()) in " ".join(_texts(root).split())  # in the CLI's language
    r = CliRunner().invoke(cli, ["workflow", "show", "ocop-1489", "--format", "svg", "--current", "district_review"])
    assert r.exit_code != 0 and "has no state district_review" in r.output
