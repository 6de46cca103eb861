"""Score sheets as spreadsheets: every sheet of a round (XLSX), and the paper form a council that
meets without the application fills and types in afterwards (`ocop sheet submit --from-xlsx`).

The round's workbook has one worksheet per criteria sheet the round uses (a round may mix product
groups, whose sheets have different criteria), with one row per scoring member × product and one
column per criterion code, then the part totals, the total and the sheet's status; and a summary
worksheet with each product's average, star and outcome. Members' marks appear only for products
whose scoring is closed: until then members do not see each other's sheets, and neither does the
file (the row says only whether the sheet is a draft, submitted or a recusal).

The form (`template_xlsx`) is documented in its own first rows: one row per criterion (code, part,
label, maximum, the allowed points) and a score column, headed "Điểm" (one member), or one column
per member headed with that member's e-mail when the secretary types in the whole council's
papers in one file. `read_sheet_xlsx` reads either back as {column heading: {code: points}}; the
points are then checked against the criteria by `services.sheets.save_sheet` like any other save.
"""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal, InvalidOperation

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..engine import Registry
from ..errors import InvalidData
from ..i18n import Text
from ..services.rounds import RoundView
from .common import outcome_text, people, safe_name, stars

MAX_FORM_BYTES = 2 * 1024 * 1024  # a filled form is a few KB
MAX_FORM_UNZIPPED = 20 * 1024 * 1024
MAX_FORM_ENTRIES = 200
FORM_TITLE = "Phieu danh gia"
CODE = "Mã"  # the form's column headings (Vietnamese: the form is an office's paper)
SCORE = "Điểm"
FORM_HEADINGS = ("Mã", "Phần", "Tiêu chí", "Điểm tối đa", "Mức điểm")
STATUS = {
    "submitted": Text("Đã nộp", "Submitted"),
    "draft": Text("Bản nháp", "Draft"),
    "recused": Text("Không chấm (xung đột lợi ích)", "Recused"),
    None: Text("Chưa chấm", "Not started"),
}
BOLD = Font(bold=True)


def _title(text: str, taken: set[str]) -> str:
    """A worksheet title Excel accepts (31 characters, none of []:*?/\\), unique in the workbook."""
    base = "".join("-" if ch in "[]:*?/\\" else ch for ch in text)[:31] or "Sheet"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def _header(ws, values: list[str]) -> None:
    ws.append(values)
    for cell in ws[ws.max_row]:
        cell.font = BOLD
    ws.freeze_panes = f"A{ws.max_row + 1}"


def _points(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def build_sheets_xlsx(view: RoundView, registry: Registry, locale: str = "vi") -> bytes:
    """Every score sheet of `view`'s round (marks only for closed products), and a summary."""
    en = locale == "en"
    names = people(view)
    by_sheet: dict[str, list] = {}
    for ev in view.entries:
        by_sheet.setdefault(ev.entry.sheet_key, []).append(ev)
    wb = Workbook()
    summary = wb.active
    taken: set[str] = set()
    summary.title = _title("Summary" if en else "Tong hop", taken)
    _header(
        summary,
        ["ID", "Product" if en else "Sản phẩm", "Producer" if en else "Chủ thể", "Criteria sheet" if en else "Phiếu",
         "Valid sheets" if en else "Số phiếu hợp lệ", "Average" if en else "Điểm trung bình",
         "Star" if en else "Hạng sao", "Outcome" if en else "Kết quả"],
    )
    for ev in view.entries:
        entry, closed = ev.entry, ev.entry.status == "closed"
        summary.append(
            [ev.product.id, ev.product.name, ev.product.producer.name, entry.sheet_key,
             len(entry.present or []) if closed else None, entry.average if closed else None,
             stars(entry.star, locale) if closed and entry.star else None, outcome_text(ev).get(locale)]
        )
        if closed and entry.average is not None:
            summary.cell(row=summary.max_row, column=6).number_format = "0.00"
    seats = scoring_members_of(view, registry)
    for key, entries in by_sheet.items():
        criteria = registry.criteria.get(key)
        ws = wb.create_sheet(_title(key.split("/")[-1], taken))
        codes = [c.code for c in criteria.criteria]
        parts = [p.key for p in criteria.parts]
        _header(
            ws,
            ["ID", "Product" if en else "Sản phẩm", "Member" if en else "Thành viên", "E-mail", *codes,
             *[("Part " if en else "Phần ") + p for p in parts], "Total" if en else "Tổng điểm",
             "Status" if en else "Trạng thái"],
        )
        for ev in entries:
            sheets = {s.user_id: s for s in ev.entry.sheets}
            members = list(dict.fromkeys([*seats, *sheets]))
            for uid in members:
                sheet = sheets.get(uid)
                status = STATUS[sheet.status if sheet is not None else None].get(locale)
                row = [ev.product.id, ev.product.name, names.get(uid, f"#{uid}"), emails(view).get(uid, "")]
                if ev.sheets_visible and sheet is not None and sheet.status == "submitted":
                    answers = sheet.answers or {}
                    totals = sheet.part_totals or {}
                    row += [_points(answers.get(c)) for c in codes]
                    row += [_points(totals.get(p)) for p in parts]
                    row.append(_points(sheet.total))
                else:
                    row += [None] * (len(codes) + len(parts) + 1)
                row.append(status)
                ws.append(row)
        for col in range(1, ws.max_column + 1):
            ws.column_dimensions[get_column_letter(col)].width = 14 if col > 4 else 28
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def scoring_members_of(view: RoundView, registry: Registry) -> list[int]:
    positions = registry.policy.council.score
    return [m.user_id for m in view.council.members if m.position in positions]


def emails(view: RoundView) -> dict[int, str]:
    found = {m.user_id: m.user.email for m in view.council.members}
    for ev in view.entries:
        for s in ev.entry.sheets:
            if s.user is not None:
                found.setdefault(s.user_id, s.user.email)
    return found


def template_xlsx(criteria_sheet, locale: str = "vi") -> bytes:
    """The blank paper form of one criteria sheet (see the module docstring for its layout)."""
    wb = Workbook()
    ws = wb.active
    ws.title = FORM_TITLE
    ws.append([criteria_sheet.label.get(locale)])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([f"{criteria_sheet.key}"])
    ws.append(
        [
            "Ghi điểm vào cột «Điểm» (một thành viên), hoặc thêm một cột cho mỗi thành viên với tiêu đề là "
            "e-mail của thành viên đó. Dùng dấu phẩy hoặc dấu chấm thập phân."
            if locale != "en"
            else "Write the points in the “Điểm” column (one member), or add one column per member headed "
            "with that member's e-mail. A decimal comma or point may be used."
        ]
    )
    ws.append([])
    _header(ws, [*FORM_HEADINGS, SCORE])
    for part in criteria_sheet.parts:
        for c in part.criteria:
            ws.append(
                [c.code, part.key, c.label.get(locale) + (" (*)" if c.mandatory else ""), c.max_points,
                 c.allowed().get(locale), None]
            )
            ws.cell(row=ws.max_row, column=3).alignment = Alignment(wrap_text=True)
    for col, width in zip("ABCDEF", (8, 7, 60, 12, 30, 12), strict=True):
        ws.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _bad(vi: str, en: str) -> InvalidData:
    return InvalidData(Text(vi, en))


def _open(data: bytes):
    if not isinstance(data, bytes | bytearray) or not data:
        raise _bad("Tệp trống", "The file is empty")
    if len(data) > MAX_FORM_BYTES:
        raise _bad(
            f"Tệp phiếu chấm quá lớn (tối đa {MAX_FORM_BYTES // 1024 // 1024} MB)",
            f"The score form is too large (at most {MAX_FORM_BYTES // 1024 // 1024} MB)",
        )
    not_xlsx = _bad(
        "Tệp không phải là bảng tính Excel (.xlsx): hãy dùng mẫu phiếu (`ocop sheet template`)",
        "The file is not an Excel workbook (.xlsx): use the form (`ocop sheet template`)",
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError):
        raise not_xlsx from None
    if len(infos) > MAX_FORM_ENTRIES or sum(i.file_size for i in infos) > MAX_FORM_UNZIPPED:
        raise _bad("Tệp phiếu chấm giải nén ra quá lớn", "The score form expands to too much data")
    if "xl/workbook.xml" not in {i.filename for i in infos}:
        raise not_xlsx
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged file; each is the same refusal
        raise not_xlsx from None


def _number(raw: object, where: str) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raw = None
    if isinstance(raw, int | float):
        return float(raw)
    try:
        return float(Decimal(str(raw).strip().replace(",", ".")))
    except (InvalidOperation, ValueError):
        raise _bad(
            f"Ô {where}: «{str(raw)[:40]}» không phải là một số điểm",
            f"Cell {where}: “{str(raw)[:40]}” is not a number of points",
        ) from None


def read_sheet_xlsx(data: bytes, criteria_sheet) -> dict[str, dict[str, float]]:
    """A filled form as {score column heading: {criterion code: points}} (blank cells left out).

    The heading row is the one whose first cell is "Mã"; every column after "Mức điểm" (or after
    the fixed ones) with a heading is a score column. Codes must be the sheet's; a code may appear
    once. Refusals are InvalidData with the cell that is wrong, in Vietnamese and English."""
    wb = _open(data)
    try:
        rows = list(wb.worksheets[0].iter_rows(values_only=True, max_row=1000, max_col=60))
    except Exception:
        raise _bad("Không đọc được bảng tính", "The workbook cannot be read") from None
    finally:
        wb.close()
    head_at = next(
        (i for i, row in enumerate(rows) if row and isinstance(row[0], str) and row[0].strip() == CODE), None
    )
    if head_at is None:
        raise _bad(
            "Không thấy dòng tiêu đề có cột «Mã»: hãy dùng mẫu phiếu (`ocop sheet template`)",
            "No heading row with a “Mã” (code) column: use the form (`ocop sheet template`)",
        )
    heading = [str(v).strip() if v is not None else "" for v in rows[head_at]]
    fixed = len(FORM_HEADINGS) if heading[: len(FORM_HEADINGS)] == list(FORM_HEADINGS) else 1
    columns = [(i, h) for i, h in enumerate(heading) if i >= fixed and h]
    if not columns:
        raise _bad("Mẫu phiếu không có cột «Điểm»", "The form has no score (“Điểm”) column")
    known = {c.code for c in criteria_sheet.criteria}
    result: dict[str, dict[str, float]] = {h: {} for _i, h in columns}
    seen: set[str] = set()
    for r, row in enumerate(rows[head_at + 1 :], start=head_at + 2):
        code = str(row[0]).strip() if row and row[0] is not None else ""
        if not code:
            continue
        if code not in known:
            raise _bad(
                f"Ô A{r}: mã tiêu chí «{code[:20]}» không có trong {criteria_sheet.label.vi}",
                f"Cell A{r}: there is no criterion “{code[:20]}” on the {criteria_sheet.label.en}",
            )
        if code in seen:
            raise _bad(f"Ô A{r}: tiêu chí {code} ghi hai lần", f"Cell A{r}: criterion {code} appears twice")
        seen.add(code)
        for i, h in columns:
            value = _number(row[i] if i < len(row) else None, f"{get_column_letter(i + 1)}{r}")
            if value is not None:
                result[h][code] = value
    return result


def sheets_filename(view: RoundView) -> str:
    return f"Phieu-cham-{safe_name(view.round.name)}.xlsx"


def template_filename(criteria_sheet) -> str:
    return f"Mau-phieu-{safe_name(criteria_sheet.key)}.xlsx"
