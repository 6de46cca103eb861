"""A plan's progress report as files: the «Xuất Excel» workbook (XLSX) and CSV tables.

The workbook has a summary sheet («Tổng hợp»: the plan, its basis, the area and the as-of day, then one row
per target with its figure, completion and status, then the units ranked by progress) and one sheet per
indicator with what is behind each of its targets' figures (the products, units, chains or sessions). It
is written with openpyxl (already the project's XLSX library for score sheets; it writes real dates,
number formats, frozen panes and column widths, and the tests read the file back with it). Numbers are
numbers: a count as a count, a share as a fraction under a per cent format, dates as dates (dd/mm/yyyy).
Headers are Vietnamese, English when the locale is en.

CSV holds the same tables, UTF-8 with a byte-order mark (so Excel opens Vietnamese text correctly): one
file per table (summary.csv, units.csv, then one per indicator), written to a folder or zipped for the web.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..formats import format_date, format_number
from ..i18n import Text
from .indicators import BY_KEY, COUNT, SHARE
from .model import BEHIND, MET, NO_DATA, NOT_STARTED, ON_TRACK, Member, PlanReport, TargetResult

STATUS_LABELS = {
    MET: Text("Đạt", "Met"),
    ON_TRACK: Text("Đúng tiến độ", "On track"),
    BEHIND: Text("Chậm", "Behind"),
    NOT_STARTED: Text("Chưa đến kỳ", "Not started"),
    NO_DATA: Text("Chưa có số liệu", "No data"),
}
BODY_LABELS = {
    "association": Text("Hội Nông dân", "Farmers' Association"),
    "office": Text("Cơ quan OCOP", "OCOP office"),
}
# a worksheet name per indicator (Excel allows 31 characters)
SHEET_NAMES = {
    "new_supported": Text("SP mới được Hội hỗ trợ", "New supported"),
    "reached_3_star": Text("SP đạt 3 sao trở lên", "Reached 3 stars"),
    "reached_4_star": Text("SP đạt 4 sao trở lên", "Reached 4 stars"),
    "registered_3_star_share": Text("Tỷ lệ SP đăng ký đạt 3 sao", "Registered, share 3 stars"),
    "upgraded": Text("SP củng cố, nâng cấp", "Upgraded"),
    "recognised": Text("SP OCOP còn hiệu lực", "Recognised"),
    "on_ecommerce": Text("SP trên sàn TMĐT", "On e-commerce"),
    "material_linked": Text("SP gắn vùng nguyên liệu", "Raw-material areas"),
    "value_chains_started": Text("Chuỗi giá trị mới", "New value chains"),
    "value_chains_working": Text("Chuỗi giá trị hoạt động", "Working value chains"),
    "sales_point_districts": Text("Huyện có điểm bán OCOP", "Districts with sales points"),
    "revenue_growth": Text("Doanh thu sau công nhận", "Revenue growth"),
    "trained_association_officers": Text("Tập huấn cán bộ Hội", "Association officers trained"),
    "trained_cooperative_managers": Text("Tập huấn cán bộ HTX", "Co-op managers trained"),
    "outreach_communes": Text("Xã tuyên truyền OCOP", "Outreach communes"),
}
SUMMARY_SHEET = Text("Tổng hợp", "Summary")
SUMMARY_HEADERS = (
    Text("STT", "No."),
    Text("Chỉ tiêu", "Indicator"),
    Text("Đơn vị", "Organisation"),
    Text("Năm", "Year"),
    Text("Chỉ tiêu kế hoạch", "Target"),
    Text("Thực hiện", "Actual"),
    Text("Tỷ lệ hoàn thành (%)", "Completion (%)"),
    Text("Tình trạng", "Status"),
    Text("Ghi chú", "Note"),
)
UNIT_HEADERS = (
    Text("Hạng", "Rank"),
    Text("Đơn vị", "Organisation"),
    Text("Tiến độ bình quân (%)", "Mean progress (%)"),
    Text("Số chỉ tiêu chậm", "Targets behind"),
)
MEMBER_HEADERS = (
    Text("STT", "No."),
    Text("Năm", "Year"),
    Text("Tên", "Name"),
    Text("Chủ thể", "Producer"),
    Text("Xã", "Commune"),
    Text("Huyện", "District"),
    Text("Ngày", "Date"),
    Text("Chi tiết", "Detail"),
    Text("Giá trị", "Value"),
)
WHOLE_PERIOD = Text("Cả kỳ", "Whole period")
DATE_FORMAT = "DD/MM/YYYY"
PERCENT_FORMAT = "0.0%"
BOLD = Font(bold=True)


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """What the files are made of: the report, each target's members, and product id -> producer name."""

    report: PlanReport
    members: dict[int, list[Member]]  # target id -> members
    producers: dict[int, str]


def _h(headers: tuple[Text, ...], locale: str) -> list[str]:
    return [h.get(locale) for h in headers]


def target_text(t: TargetResult, locale: str = "vi") -> str:
    """The target as people write it: "≥ 10", "≤ 5", "10–20", "≥ 70%", "≥ 1,5 lần"."""
    unit = BY_KEY[t.indicator].unit
    n = lambda v: format_number(round(v, 2) if v is not None else None, locale)  # noqa: E731
    suffix = "%" if unit == SHARE else (" lần" if locale != "en" and unit != COUNT else ("×" if unit != COUNT else ""))
    if t.comparison == "between":
        return f"{n(t.low)}–{n(t.high)}{suffix}"
    if t.comparison == "at_most":
        return f"≤ {n(t.high)}{suffix}"
    return f"≥ {n(t.low)}{suffix}"


def year_text(year: int | None, locale: str = "vi") -> str | int:
    return year if year is not None else WHOLE_PERIOD.get(locale)


def _actual(t: TargetResult) -> float | None:
    """The figure as the workbook stores it: a share as a fraction (shown with a % format)."""
    if t.figure.value is None:
        return None
    return t.figure.value / 100 if BY_KEY[t.indicator].unit == SHARE else t.figure.value


def _number_format(indicator: str) -> str:
    unit = BY_KEY[indicator].unit
    return PERCENT_FORMAT if unit == SHARE else ("#,##0.##" if unit == COUNT else "0.00")


def summary_rows(report: PlanReport, locale: str = "vi") -> list[list]:
    """The summary table's rows (typed values: numbers, shares as fractions, progress as fractions)."""
    rows = []
    for i, t in enumerate(report.targets, start=1):
        rows.append(
            [
                i,
                BY_KEY[t.indicator].label.get(locale),
                t.organisation.name,
                year_text(t.year, locale),
                target_text(t, locale),
                _actual(t),
                t.progress,
                STATUS_LABELS[t.status].get(locale),
                t.note or "",
            ]
        )
    return rows


def unit_rows(report: PlanReport) -> list[list]:
    return [[i, u.organisation.name, u.progress, u.behind] for i, u in enumerate(report.units, start=1)]


def indicator_rows(files: ReportFiles, indicator: str, locale: str = "vi") -> list[list]:
    """One row per member of each of the indicator's targets (in the targets' order)."""
    rows: list[list] = []
    for t in files.report.targets:
        if t.indicator != indicator:
            continue
        for m in files.members.get(t.target_id, []):
            rows.append(
                [
                    len(rows) + 1,
                    year_text(t.year, locale),
                    m.name,
                    files.producers.get(m.id, "") if m.kind == "product" else "",
                    m.commune or "",
                    m.district or "",
                    m.on,
                    m.detail or "",
                    m.value,
                ]
            )
    return rows


def indicators_of(report: PlanReport) -> list[str]:
    return list(dict.fromkeys(t.indicator for t in report.targets))


def _sheet_title(text: str, taken: set[str]) -> str:
    base = "".join("-" if ch in "[]:*?/\\" else ch for ch in text)[:31] or "Sheet"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def sheet_names(report: PlanReport, locale: str = "vi") -> dict[str, str]:
    """indicator -> its worksheet's name (unique, at most 31 characters)."""
    taken = {SUMMARY_SHEET.get(locale).lower()}
    return {key: _sheet_title(SHEET_NAMES[key].get(locale), taken) for key in indicators_of(report)}


def _header(ws, values: list[str]) -> None:
    ws.append(values)
    for cell in ws[ws.max_row]:
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _widths(ws, widths: tuple[int, ...]) -> None:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def build_xlsx(files: ReportFiles, locale: str = "vi") -> bytes:
    """The report's workbook (see the module docstring)."""
    report = files.report
    wb = Workbook()
    ws = wb.active
    ws.title = SUMMARY_SHEET.get(locale)
    en = locale.startswith("en")
    ws.append([report.plan_name])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(["Căn cứ" if not en else "Basis", f"{report.basis_number}", report.basis_date])
    ws.cell(row=2, column=3).number_format = DATE_FORMAT
    ws.append(["Đơn vị chủ trì" if not en else "Owner", report.owner.name, BODY_LABELS[report.body].get(locale)])
    ws.append(["Địa bàn báo cáo" if not en else "Area", report.organisation.name])
    ws.append(["Số liệu đến ngày" if not en else "As of", report.at])
    ws.cell(row=5, column=2).number_format = DATE_FORMAT
    ws.append([])
    _header(ws, _h(SUMMARY_HEADERS, locale))
    head_row = ws.max_row
    ws.freeze_panes = f"A{head_row + 1}"
    for row, t in zip(summary_rows(report, locale), report.targets, strict=True):
        ws.append(row)
        r = ws.max_row
        ws.cell(row=r, column=6).number_format = _number_format(t.indicator)
        ws.cell(row=r, column=7).number_format = PERCENT_FORMAT
        ws.cell(row=r, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    if report.units:
        ws.append([])
        ws.append(["Xếp hạng đơn vị theo tiến độ" if not en else "Units ranked by progress"])
        ws.cell(row=ws.max_row, column=1).font = BOLD
        _header(ws, _h(UNIT_HEADERS, locale))
        for row in unit_rows(report):
            ws.append(row)
            ws.cell(row=ws.max_row, column=3).number_format = PERCENT_FORMAT
    _widths(ws, (18, 42, 24, 12, 16, 12, 14, 16, 50))
    names = sheet_names(report, locale)
    for key, title in names.items():
        sheet = wb.create_sheet(title)
        _header(sheet, _h(MEMBER_HEADERS, locale))
        sheet.freeze_panes = "A2"
        for row in indicator_rows(files, key, locale):
            sheet.append(row)
            r = sheet.max_row
            sheet.cell(row=r, column=7).number_format = DATE_FORMAT
            sheet.cell(row=r, column=9).number_format = "#,##0.##"
        _widths(sheet, (6, 12, 40, 32, 20, 20, 12, 36, 12))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- CSV -------------------------------------------------------------------------------------------------
def _csv_value(value: object, locale: str, percent: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return format_date(value, locale)
    if isinstance(value, float | int) and not isinstance(value, bool):
        return format_number(round(value * 100, 1) if percent else round(value, 4), locale)
    return str(value)


def _csv(headers: list[str], rows: list[list], locale: str, percent_columns: set[int] = frozenset()) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_value(v, locale, i in percent_columns) for i, v in enumerate(row)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _ascii_name(text: str) -> str:
    """A file name from a sheet name: no accents, spaces as dashes ("SP-moi-duoc-Hoi-ho-tro.csv")."""
    plain = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-") or "sheet"


def build_csv_tables(files: ReportFiles, locale: str = "vi") -> dict[str, bytes]:
    """file name -> CSV bytes: summary.csv (share figures and completion as per cents), units.csv, one per
    indicator. Numbers use the locale's decimal mark, days dd/mm/yyyy (as the web shows them)."""
    report = files.report
    summary = summary_rows(report, locale)
    for row, t in zip(summary, report.targets, strict=True):
        if BY_KEY[t.indicator].unit == SHARE and row[5] is not None:
            row[5] = t.figure.value  # a share's per cent, not the workbook's fraction
    tables = {
        "summary.csv": _csv(_h(SUMMARY_HEADERS, locale), summary, locale, {6}),
        "units.csv": _csv(_h(UNIT_HEADERS, locale), unit_rows(report), locale, {2}),
    }
    for key, title in sheet_names(report, locale).items():
        tables[f"{_ascii_name(title)}.csv"] = _csv(
            _h(MEMBER_HEADERS, locale), indicator_rows(files, key, locale), locale
        )
    return tables


def build_csv_zip(files: ReportFiles, locale: str = "vi") -> bytes:
    """The CSV tables in one zip (the web's download)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in build_csv_tables(files, locale).items():
            zf.writestr(name, content)
    return out.getvalue()


def file_stem(report: PlanReport) -> str:
    """Bao-cao-ke-hoach-<id>-<area code>-<yyyy-mm-dd>."""
    return f"Bao-cao-ke-hoach-{report.plan_id}-{_ascii_name(report.organisation.code)}-{report.at.isoformat()}"
