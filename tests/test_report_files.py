"""The report's Excel and CSV files (issue #12): read back with openpyxl, they say what the report says."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from ocop_workflow.models import MaterialArea, MaterialAreaProduct, Organisation, SalesPoint, Training, ValueChain
from ocop_workflow.models import TrainingAttendance as Attendance
from ocop_workflow.reports import charts
from ocop_workflow.reports import files as F
from ocop_workflow.reports.indicators import BY_KEY, SHARE
from ocop_workflow.reports.plans import read_plan
from ocop_workflow.services import plans
from ocop_workflow.services.access import Actor, load_actor
from ocop_workflow.services.products import create_product

PLAN = """\
kind: plan
name: "Kế hoạch OCOP tỉnh P"
basis: {number: "12/KH-UBND", date: 2023-02-10}
organisation: "P"
body: association
years: [2023, 2024]
targets:
  - {indicator: value_chains_started, each_year: true, at_least: 1}
  - {indicator: material_linked, between: [2, 3]}
  - {indicator: sales_point_districts, year: 2024, share_at_least: 100}
  - {indicator: trained_association_officers, year: 2024, at_least: 40}
"""
AT = date(2024, 6, 30)


@pytest.fixture
def reported(db, world, registry):
    """A plan with chains, sales points, trainings and products tied to an area in the test world."""
    with db.transaction() as s:
        system = Actor.system_actor(registry.policy)
        orgs = {o.code: o for o in s.query(Organisation)}
        plan = plans.load_plan(s, system, read_plan(PLAN.encode(), "p.yaml"))
        s.add(
            ValueChain(name="Chuỗi vải thiều", organisation=orgs["D1"], lead_name="HTX A", started_on=date(2023, 3, 1))
        )
        s.add(ValueChain(name="Chuỗi gà đồi", organisation=orgs["D2"], lead_name="HTX B", started_on=date(2024, 2, 1)))
        s.add(SalesPoint(name="Điểm bán Lục Ngạn", organisation=orgs["C1"], address="Chợ", opened_on=date(2023, 5, 1)))
        area = MaterialArea(name="Vùng vải", commune=orgs["C1"], area_ha=12.5)
        s.add(area)
        for i, name in enumerate(["Vải thiều sấy", "Mật ong vải"]):
            product = create_product(
                s, registry, system, name=name, product_group="food", producer_id=world.producers["cooperative"]
            )
            area.links.append(MaterialAreaProduct(product=product, linked_on=date(2023, 4 + i, 1)))
        training = Training(kind="training", organisation=orgs["D1"], held_on=date(2024, 3, 5), topic="OCOP")
        training.attendance.append(Attendance(role="association_officer", people=25))
        s.add(training)
        plan_id = plan.id
    return plan_id


def test_the_workbook_reads_back_as_the_report(db, world, reported):
    with db.session() as s:
        actor = load_actor(s, world.user("province_association", "P"))
        plan = plans.get_visible_plan(s, actor, reported)
        made = plans.report_files(s, actor, plan, AT)
    report = made.report
    assert any(made.members.values())
    wb = load_workbook(io.BytesIO(F.build_xlsx(made)))
    names = F.sheet_names(report)
    assert wb.sheetnames == ["Tổng hợp", *names.values()]
    assert all(len(n) <= 31 for n in wb.sheetnames)
    ws = wb["Tổng hợp"]
    assert ws["A1"].value == "Kế hoạch OCOP tỉnh P"
    assert isinstance(ws["B5"].value, datetime) and ws["B5"].value.date() == AT  # the as-of day is a date
    head = next(r for r in range(1, 20) if ws.cell(row=r, column=1).value == "STT")
    assert [c.value for c in ws[head]] == [h.vi for h in F.SUMMARY_HEADERS]
    assert ws.freeze_panes == f"A{head + 1}"
    for i, t in enumerate(report.targets):
        row = [c.value for c in ws[head + 1 + i]]
        expected = t.figure.value / 100 if BY_KEY[t.indicator].unit == SHARE else t.figure.value
        assert row[5] == pytest.approx(expected) and row[6] == pytest.approx(t.progress)
        assert row[7] == F.STATUS_LABELS[t.status].vi
        assert ws.cell(row=head + 1 + i, column=7).number_format == F.PERCENT_FORMAT
    chains = wb[names["value_chains_started"]]
    assert [c.value for c in chains[1]] == [h.vi for h in F.MEMBER_HEADERS]
    listed = [r[2] for r in chains.iter_rows(min_row=2, values_only=True)]
    expected = [
        m.name for t in report.targets if t.indicator == "value_chains_started" for m in made.members[t.target_id]
    ]
    assert listed == expected and "Chuỗi vải thiều" in listed
    linked = wb[names["material_linked"]]
    rows = list(linked.iter_rows(min_row=2, values_only=True))
    assert sorted(r[2] for r in rows) == ["Mật ong vải", "Vải thiều sấy"]
    assert {r[3] for r in rows} == {"Chủ thể cooperative"}  # the producer of each product
    assert all(isinstance(r[6], datetime) for r in rows) and linked["G2"].number_format == F.DATE_FORMAT
    assert linked.freeze_panes == "A2" and linked.column_dimensions["C"].width == 40


def test_english_workbook_and_csv_tables(db, world, reported):
    with db.session() as s:
        actor = load_actor(s, world.user("commune_association", "C1"))  # its commune only
        plan = plans.get_visible_plan(s, actor, reported)
        made = plans.report_files(s, actor, plan, AT)
    assert made.report.organisation.code == "C1"
    wb = load_workbook(io.BytesIO(F.build_xlsx(made, "en")))
    assert wb.sheetnames[0] == "Summary"
    tables = F.build_csv_tables(made)
    assert {"summary.csv", "units.csv"} <= set(tables)
    for content in tables.values():
        assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel
    summary = list(csv.reader(io.StringIO(tables["summary.csv"].decode("utf-8-sig"))))
    assert summary[0] == [h.vi for h in F.SUMMARY_HEADERS]
    assert len(summary) == 1 + len(made.report.targets)
    chains = [r for r in summary if r[1] == BY_KEY["value_chains_started"].label.vi]
    assert chains and all(r[5] == "0" for r in chains)  # the chains are the districts', not the commune's
    with zipfile.ZipFile(io.BytesIO(F.build_csv_zip(made))) as zf:
        assert set(zf.namelist()) == set(tables)


EVIL = ['=HYPERLINK("http://evil.example","Bấm")', "+1", "-2", "@x"]


def test_text_typed_by_users_never_becomes_a_formula(db, world, reported, registry):
    """A chain named "=HYPERLINK(…)" is text in the workbook (a string cell) and defused in the CSV."""
    with db.transaction() as s:
        orgs = {o.code: o for o in s.query(Organisation)}
        for name in EVIL:
            s.add(ValueChain(name=name, organisation=orgs["D1"], lead_name="HTX", started_on=date(2024, 1, 2)))
    with db.session() as s:
        actor = load_actor(s, world.user("province_association", "P"))
        made = plans.report_files(s, actor, plans.get_visible_plan(s, actor, reported), AT)
    wb = load_workbook(io.BytesIO(F.build_xlsx(made)))
    chains = wb[F.sheet_names(made.report)["value_chains_started"]]
    cells = {c.value: c for row in chains.iter_rows(min_row=2, min_col=3, max_col=3) for c in row}
    for name in EVIL:
        assert cells[name].data_type == "s"  # read back as the same text, not a formula
    tables = F.build_csv_tables(made)
    chains_csv = next(v for k, v in tables.items() if k.startswith("Chuoi-gia-tri-moi"))
    names = [r[2] for r in csv.reader(io.StringIO(chains_csv.decode("utf-8-sig")))][1:]
    assert {"'" + n for n in EVIL} <= set(names)
    assert not any(n[:1] in "=+-@" for n in names)


def test_years_are_plain_numbers_and_counts_whole_in_the_files(db, world, reported):
    with db.session() as s:
        actor = load_actor(s, world.user("province_association", "P"))
        made = plans.report_files(s, actor, plans.get_visible_plan(s, actor, reported), AT)
    for locale in ("vi", "en"):
        summary = list(csv.reader(io.StringIO(F.build_csv_tables(made, locale)["summary.csv"].decode("utf-8-sig"))))
        years = [r[3] for r in summary[1:]]
        assert "2023" in years and "2024" in years  # never "2.023" / "2,023"
        assert F.WHOLE_PERIOD.get(locale) in years
    wb = load_workbook(io.BytesIO(F.build_xlsx(made)))
    ws = wb["Tổng hợp"]
    head = next(r for r in range(1, 20) if ws.cell(row=r, column=1).value == "STT")
    formats = {
        t.indicator: ws.cell(row=head + 1 + i, column=6).number_format for i, t in enumerate(made.report.targets)
    }
    assert formats["value_chains_started"] == "#,##0" and formats["sales_point_districts"] == "0.0%"
    # the page's words: "Chậm tiến độ", "Cả giai đoạn"
    statuses = {ws.cell(row=head + 1 + i, column=8).value for i in range(len(made.report.targets))}
    assert statuses <= {t.vi for t in F.charts.STATUS_LABELS.values()}
    assert "Cả giai đoạn" in {ws.cell(row=head + 1 + i, column=4).value for i in range(len(made.report.targets))}


def test_a_shared_out_target_says_whose_it_is_and_rounds_like_the_page(db, world, reported):
    """A district's report: the province's count targets divided among its 3 districts."""
    with db.session() as s:
        actor = load_actor(s, world.user("province_association", "P"))
        plan = plans.get_visible_plan(s, actor, reported)
        d1 = s.query(Organisation).filter_by(code="D1").one()
        made = plans.report_files(s, actor, plan, AT, d1)
    report = made.report
    chain = next(t for t in report.targets if t.indicator == "value_chains_started")
    province = chain.organisation.name
    rows = F.summary_rows(report, "vi", made.originals)
    row = rows[report.targets.index(chain)]
    assert row[2] == f"{province} (chia đều cho 3 huyện)" and row[4] == "≥ 0,33"
    assert F.summary_rows(report, "en", made.originals)[report.targets.index(chain)][2] == (
        f"{province} (shared evenly among 3 districts)"
    )
    share = next(t for t in report.targets if t.indicator == "sales_point_districts")
    assert rows[report.targets.index(share)][2] == province  # a share applies unchanged
    third = replace(chain, low=1 / 3)
    assert F.target_text(third) == charts.target_text(third) == "≥ 0,33"


def test_new_supported_detail_reads_as_a_day():
    assert F.member_detail("new_supported", "2023-07-18") == "Hỗ trợ từ 18/07/2023"
    assert F.member_detail("new_supported", "2023-07-18", "en") == "Supported since 18/07/2023"
    assert F.member_detail("reached_3_star", "4★ · 24-219-0012/2024") == "4★ · 24-219-0012/2024"
