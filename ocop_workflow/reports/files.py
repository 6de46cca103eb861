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
from dataclasses import dataclass, field
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..formats import format_date, format_number
from ..i18n import Text
from . import charts
from . import plans as plan_files
from .indicators import BY_KEY, COUNT, RATIO, SHARE
from .model import Member, PlanReport, TargetResult

# one source of words: the page's (reports/charts.py), so the files and the CLI say what the page says
STATUS_LABELS = charts.STATUS_LABELS
WHOLE_PERIOD = charts.WHOLE_PERIOD
BODY_LABELS = plan_files.BODY_LABELS
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
DATE_FORMAT = "DD/MM/YYYY"
PERCENT_FORMAT = "0.0%"
COUNT_FORMAT = "#,##0"  # a whole count: "13", never Excel's "13." of "#,##0.##"
RATIO_FORMAT = "0.00"
BOLD = Font(bold=True)


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """What the files are made of: the report, each target's members, and product id -> producer name."""

    report: PlanReport
    members: dict[int, list[Member]]  # target id -> members
    producers: dict[int, str]
    # target id -> the plan's own (low, high) before a count target was shared out among the units below
    originals: dict[int, tuple[float | None, float | None]] = field(default_factory=dict)


def _h(headers: tuple[Text, ...], locale: str) -> list[str]:
    return [h.get(locale) for h in headers]


def target_text(t: TargetResult, locale: str = "vi") -> str:
    """The target as the page writes it ("≥ 10", "≤ 5", "10–20", "≥ 70%", "≥ 0,33"): charts.target_text,
    one rounding (two decimals at most) for the page, the files and the CLI."""
    return charts.target_text(t, locale)


def year_text(year: int | None, locale: str = "vi") -> str | int:
    return year if year is not None else WHOLE_PERIOD.get(locale)


LEVEL_WORDS = {
    "province": Text("tỉnh", "provinces"),
    "district": Text("huyện", "districts"),
    "commune": Text("xã", "communes"),
}
SINGULAR = {"provinces": "province", "districts": "district", "communes": "commune"}


def organisation_text(
    t: TargetResult,
    report: PlanReport,
    originals: dict[int, tuple[float | None, float | None]] | None = None,
    locale: str = "vi",
) -> str:
    """Whose target it is, and when the report's area is below that organisation and the target is a count,
    that the figure in the target column is the area's even share of it: "Tỉnh Bắc Giang (chia đều cho 10
    huyện)". Without that a district reads "≥ 0,33" as if someone had set it a third of a product."""
    name = t.organisation.name
    if t.organisation.id == report.organisation.id or BY_KEY[t.indicator].unit != COUNT:
        return name
    own = (originals or {}).get(t.target_id)
    parts = None
    if own is not None:
        for whole, part in zip(own, (t.low, t.high), strict=True):
            if whole and part:
                parts = round(whole / part)
                break
    en = locale.startswith("en")
    area, below = report.organisation, t.organisation
    one_level = area.level == "district" or (area.level == "commune" and below.level == "district")
    if parts is None:
        return f"{name} ({'shared evenly' if en else 'chia đều'})"
    if one_level and area.level in LEVEL_WORDS:
        word = LEVEL_WORDS[area.level].get(locale)
        if en:
            return f"{name} (shared evenly among {parts} {word if parts != 1 else SINGULAR[word]})"
        return f"{name} (chia đều cho {parts} {word})"
    if en:
        return f"{name} (shared evenly: {area.name}'s part is 1/{parts})"
    return f"{name} (chia đều: phần của {area.name} là 1/{parts})"


def member_detail(indicator: str, detail: str | None, locale: str = "vi") -> str:
    """A member's detail as people read it: the start of the association's support of a new product
    comes from the engine as an ISO day ("2023-07-18"); it reads "Hỗ trợ từ 18/07/2023"."""
    if not detail:
        return ""
    if indicator == "new_supported":
        try:
            day = date.fromisoformat(detail)
        except ValueError:
            return detail
        return Text(f"Hỗ trợ từ {format_date(day, 'vi')}", f"Supported since {format_date(day, 'en')}").get(locale)
    return detail


def _actual(t: TargetResult) -> float | None:
    """The figure as the workbook stores it: a share as a fraction (shown with a % format)."""
    if t.figure.value is None:
        return None
    return t.figure.value / 100 if BY_KEY[t.indicator].unit == SHARE else t.figure.value


def _number_format(indicator: str) -> str:
    unit = BY_KEY[indicator].unit
    return PERCENT_FORMAT if unit == SHARE else (RATIO_FORMAT if unit == RATIO else COUNT_FORMAT)


def summary_rows(
    report: PlanReport,
    locale: str = "vi",
    originals: dict[int, tuple[float | None, float | None]] | None = None,
) -> list[list]:
    """The summary table's rows (typed values: numbers, shares as fractions, progress as fractions)."""
    rows = []
    for i, t in enumerate(report.targets, start=1):
        rows.append(
            [
                i,
                BY_KEY[t.indicator].label.get(locale),
                organisation_text(t, report, originals, locale),
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
                    member_detail(indicator, m.detail, locale),
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
    for row, t in zip(summary_rows(report, locale, files.originals), report.targets, strict=True):
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
            sheet.cell(row=r, column=9).number_format = COUNT_FORMAT  # 1 a product, attendees, revenue (VND)
        _widths(sheet, (6, 12, 40, 32, 20, 20, 12, 36, 12))
    plan_files.defuse_formulas(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- CSV -------------------------------------------------------------------------------------------------
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(text: str) -> str:
    """Text typed by users as a CSV cell: one that Excel would run as a formula (it starts with = + - @,
    a tab or a carriage return: "=HYPERLINK(…)") gets a leading apostrophe (OWASP's CSV injection advice)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_value(value: object, locale: str, quantity: bool = False, percent: bool = False) -> str:
    """A cell as text: a quantity with the locale's marks ("1.234,5"), an identifier (a year, a rank, a
    row number) as a plain integer ("2022", never "2.022"), a day dd/mm/yyyy, text defused."""
    if value is None:
        return ""
    if isinstance(value, date):
        return format_date(value, locale)
    if isinstance(value, float | int) and not isinstance(value, bool):
        if not quantity:
            return str(int(value)) if float(value).is_integer() else str(value)
        return format_number(round(value * 100, 1) if percent else round(value, 2), locale)
    return _csv_text(str(value))


def _csv(
    headers: list[str],
    rows: list[list],
    locale: str,
    quantities: frozenset[int] | set[int] = frozenset(),
    percent_columns: frozenset[int] | set[int] = frozenset(),
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(
            [
                _csv_value(v, locale, i in quantities or i in percent_columns, i in percent_columns)
                for i, v in enumerate(row)
            ]
        )
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
    summary = summary_rows(report, locale, files.originals)
    for row, t in zip(summary, report.targets, strict=True):
        if BY_KEY[t.indicator].unit == SHARE and row[5] is not None:
            row[5] = t.figure.value  # a share's per cent, not the workbook's fraction
    tables = {
        "summary.csv": _csv(_h(SUMMARY_HEADERS, locale), summary, locale, {5}, {6}),
        "units.csv": _csv(_h(UNIT_HEADERS, locale), unit_rows(report), locale, {3}, {2}),
    }
    for key, title in sheet_names(report, locale).items():
        tables[f"{_ascii_name(title)}.csv"] = _csv(
            _h(MEMBER_HEADERS, locale), indicator_rows(files, key, locale), locale, {8}
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
