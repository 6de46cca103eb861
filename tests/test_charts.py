"""The plan report's SVG charts (reports/charts.py): what a reader sees in them, in both languages."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from ocop_workflow.reports.charts import (
    figure_text,
    progress_bar,
    ranking_chart,
    status_label,
    target_text,
    yearly_chart,
)
from ocop_workflow.reports.model import (
    BEHIND,
    MET,
    NOT_STARTED,
    ON_TRACK,
    Figure,
    OrgRef,
    TargetResult,
    UnitProgress,
    Window,
    YearPoint,
)

SVG = "{http://www.w3.org/2000/svg}"
PROVINCE = OrgRef(1, "24", "Tỉnh Bắc Giang", "province")


def result(
    indicator="new_supported",
    *,
    year=2024,
    comparison="at_least",
    low=10.0,
    high=None,
    value=12.0,
    status=MET,
    progress=1.0,
    numerator=None,
    denominator=None,
    tid=1,
) -> TargetResult:
    start = date(year or 2022, 1, 1)
    end = date(year or 2025, 12, 31)
    return TargetResult(
        target_id=tid,
        position=tid,
        indicator=indicator,
        organisation=PROVINCE,
        year=year,
        comparison=comparison,
        low=low,
        high=high,
        window=Window(start, end, end),
        figure=Figure(value, value if numerator is None else numerator, denominator),
        status=status,
        progress=progress,
    )


def texts(svg: str) -> str:
    """Everything a reader (or a screen reader) gets from the drawing: its text, title and aria-label."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    words = [root.get("aria-label", "")] + [
        "".join(el.itertext()) for el in root.iter() if el.tag in (f"{SVG}text", f"{SVG}title")
    ]
    return " | ".join(words)


def test_target_texts_read_as_a_plan_writes_them():
    assert target_text(result()) == "≥ 10"
    assert target_text(result(comparison="between", low=10, high=20)) == "10–20"
    assert target_text(result("sales_point_districts", comparison="share_at_least", low=100)) == "≥ 100%"
    assert target_text(result(comparison="at_most", low=None, high=5)) == "≤ 5"
    assert target_text(result("revenue_growth", low=1.5), "vi") == "≥ 1,5 lần"
    assert target_text(result("revenue_growth", low=1.5), "en") == "≥ 1.5×"


def test_figures_use_the_readers_number_format():
    share = Figure(85.5, 171, 200)
    assert figure_text("outreach_communes", share, "vi") == "85,5% (171/200)"
    assert figure_text("outreach_communes", share, "en") == "85.5% (171/200)"
    assert figure_text("new_supported", Figure(1234, 1234), "vi") == "1.234"
    assert figure_text("revenue_growth", Figure(None, 0, 0), "vi") == "—"


@pytest.mark.parametrize(
    ("status", "colour", "words"),
    [(MET, "#15803d", "Đạt"), (ON_TRACK, "#d97706", "Đúng tiến độ"), (BEHIND, "#b91c1c", "Chậm tiến độ")],
)
def test_a_progress_bar_says_its_status_in_words_and_colour(status, colour, words):
    svg = progress_bar(result(status=status, value=6, progress=0.6))
    seen = texts(svg)
    assert words in seen and "6 / ≥ 10" in seen and "60%" in seen
    assert "Sản phẩm mới được Hội hỗ trợ" in seen  # the indicator's label, for a screen reader
    assert f'fill="{colour}"' in svg
    assert 'width="100%"' in svg and "viewBox" in svg and "style=" not in svg


def test_a_bar_not_started_is_empty_and_grey():
    svg = progress_bar(result(status=NOT_STARTED, value=0, progress=0.0), "en")
    assert "Not started" in texts(svg)
    assert svg.count("<rect") == 1  # the track only


def test_the_yearly_chart_shows_each_year_value_and_the_yearly_target():
    points = [
        YearPoint(2022, Figure(11, 11)),
        YearPoint(2023, Figure(7, 7)),
        YearPoint(2024, Figure(0, 0)),
        YearPoint(2025, Figure(None, 0)),
    ]
    targets = [result(year=2022, value=11, status=MET, tid=1), result(year=2023, value=7, status=BEHIND, tid=2)]
    svg = yearly_chart("new_supported", points, targets, "vi")
    root = ET.fromstring(svg)
    seen = texts(svg)
    assert "Sản phẩm mới được Hội hỗ trợ" in seen
    for shown in ("2022", "2023", "2024", "2025", "11", "7", "—"):
        assert shown in seen
    assert "2023: 7 / ≥ 10 · Chậm tiến độ" in seen
    assert len(root.findall(f".//{SVG}line[@class='target']")) == 2  # a dashed line at 10 in 2022 and 2023
    bars = {g.get("data-year"): g.find(f"{SVG}rect") for g in root.iter(f"{SVG}g")}
    assert bars["2022"].get("fill") == "#15803d" and bars["2023"].get("fill") == "#b91c1c"
    assert bars["2024"] is None  # nothing to draw for zero


def test_a_share_chart_is_in_per_cent_and_escapes_its_text():
    svg = yearly_chart("sales_point_districts", [YearPoint(2023, Figure(90, 9, 10))], [], "en")
    seen = texts(svg)
    assert "District-level units with an OCOP sales point" in seen and "90%" in seen
    ranking = ranking_chart(
        [UnitProgress(OrgRef(2, "219", "Huyện <Lục> & Ngạn", "district"), [], 0.8, 0)], "Xếp hạng", "vi"
    )
    assert "&lt;Lục&gt; &amp; Ngạn" in ranking
    assert "Huyện <Lục> & Ngạn: 80%" in texts(ranking)


def test_the_ranking_lists_units_in_order_with_their_progress():
    units = [
        UnitProgress(OrgRef(2, "219", "Huyện Lục Ngạn", "district"), [], 1.0, 0),
        UnitProgress(OrgRef(3, "215", "Huyện Yên Thế", "district"), [], 0.625, 1),
        UnitProgress(OrgRef(4, "220", "Huyện Sơn Động", "district"), [], 0.1, 4),
    ]
    svg = ranking_chart(units, "Các huyện theo tiến độ", "vi")
    seen = texts(svg)
    assert seen.index("1. Lục Ngạn") < seen.index("2. Yên Thế") < seen.index("3. Sơn Động")
    assert "100%" in seen and "63%" in seen and "10%" in seen
    assert "4 chỉ tiêu chậm" in seen
    assert [g.get("data-code") for g in ET.fromstring(svg).iter(f"{SVG}g")] == ["219", "215", "220"]


def test_status_words_in_both_languages():
    assert status_label(MET, "en") == "Met" and status_label(BEHIND, "vi") == "Chậm tiến độ"
