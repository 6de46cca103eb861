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
