"""Plans read from files (YAML or XLSX) and written back as the XLSX template.

Why files: a plan is a written document (a decision approving a scheme, a yearly plan) whose targets an
office types once; a file can be checked, reviewed and loaded again. Both formats say the same thing:

* YAML: `kind: plan`, `name`, `basis: {number, date}`, `organisation` (the owner's code), `body`
  (association | office), `years: [first, last]`, `targets:` a list of
  `{indicator, organisation?, year? | each_year?, at_least | at_most | between: [low, high] |
  share_at_least, note?}`;
* XLSX: sheet «Kế hoạch» with one row per plan field (label in column A, value in B; the English keys
  are accepted too) and sheet «Chỉ tiêu» with a header row and one target per row (indicator, unit
  code, year, comparison, value, upper value, note).

Reading never stops at the first mistake: every problem is collected with its place (`file:line` for
YAML, `Chỉ tiêu!D7` for a cell) and reported together (`PlanFileError`), in Vietnamese and English. The
checks that need the database (the organisations exist and lie under the owner) are
`services.plans.load_plan`'s, added to the same list.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.datavalidation import DataValidation

from ..engine.loader import _line, _Loader  # the workflow files' loader: it keeps line numbers
from ..errors import InvalidData
from ..i18n import Text
from .indicators import BY_KEY, COUNT, INDICATORS, SHARE

BODIES = ("association", "office")
COMPARISONS = ("at_least", "at_most", "between", "share_at_least")
MAX_NAME, MAX_NUMBER, MAX_NOTE = 300, 60, 1000
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_FILE_BYTES = 2 * 1024 * 1024  # a plan is a few KB
MAX_UNZIPPED, MAX_ENTRIES = 20 * 1024 * 1024, 200
MAX_ROWS = 2000
PLAN_SHEET, TARGET_SHEET, LIST_SHEET = "Kế hoạch", "Chỉ tiêu", "Danh mục chỉ tiêu"

BODY_LABELS = {
    "association": Text("Hội Nông dân", "Farmers' Association"),
    "office": Text("Cơ quan thường trực OCOP", "OCOP office"),
}
COMPARISON_LABELS = {
    "at_least": Text("ít nhất", "at least"),
    "at_most": Text("nhiều nhất", "at most"),
    "between": Text("trong khoảng", "between"),
    "share_at_least": Text("tỷ lệ ít nhất", "share at least"),
}
EACH_YEAR = ("mỗi năm", "each", "each year", "hàng năm")
# the rows of sheet «Kế hoạch»: field -> (Vietnamese label, English label)
PLAN_FIELDS = {
    "name": ("Tên kế hoạch", "Name"),
    "basis_number": ("Số văn bản", "Basis number"),
    "basis_date": ("Ngày văn bản", "Basis date"),
    "organisation": ("Mã đơn vị chủ trì", "Organisation"),
    "body": ("Cơ quan thực hiện", "Body"),
    "first_year": ("Năm đầu", "First year"),
    "last_year": ("Năm cuối", "Last year"),
}
# the columns of sheet «Chỉ tiêu»: (Vietnamese heading, English heading)
TARGET_COLUMNS = (
    ("Chỉ tiêu", "Indicator"),
    ("Mã đơn vị", "Organisation"),
    ("Năm", "Year"),
    ("So sánh", "Comparison"),
    ("Giá trị", "Value"),
    ("Đến (trong khoảng)", "Up to (between)"),
    ("Ghi chú", "Note"),
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a plan file: where (`plan.yaml:12`, `Chỉ tiêu!D7`) and what."""

    place: str
    text: Text

    def get(self, locale: str | None = None) -> str:
        return f"{self.place}: {self.text.get(locale)}" if self.place else self.text.get(locale)


class PlanFileError(InvalidData):
    """Every problem of a plan file at once; the message lists them, one a line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(
            Text(
                "\n".join(p.get("vi") for p in self.problems),
                "\n".join(p.get("en") for p in self.problems),
            ),
            problems=[{"place": p.place, "vi": p.text.vi, "en": p.text.en} for p in self.problems],
        )


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """One target as the file says it (the organisation by code, None: the plan's own)."""

    indicator: str
    organisation: str | None
    year: int | None
    comparison: str
    low: float | None
    high: float | None
    note: str | None
    place: str
    org_place: str = ""  # where the organisation's code is written (Chỉ tiêu!B6), for the database's checks


@dataclass
class PlanSource:
    """A plan read from a file, before the database checks. `problems` empty: well formed."""

    origin: str
    name: str = ""
    basis_number: str = ""
    basis_date: date | None = None
    organisation: str = ""
    body: str = ""
    first_year: int = 0
    last_year: int = 0
    targets: list[TargetSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    places: dict[str, str] = field(default_factory=dict)  # plan field -> where the file says it

    def check(self) -> None:
        """Raise PlanFileError when the file had any problem."""
        if self.problems:
            raise PlanFileError(self.problems)


def _t(vi: str, en: str) -> Text:
    return Text(vi, en)


def _fold(value: object) -> str:
    """A label compared loosely: lower case, single spaces, Unicode NFC."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(value)).strip().lower())


def _known_list() -> str:
    return ", ".join(i.key for i in INDICATORS)


_INDICATOR_NAMES = {
    **{_fold(i.key): i.key for i in INDICATORS},
    **{_fold(i.label.vi): i.key for i in INDICATORS},
    **{_fold(i.label.en): i.key for i in INDICATORS},
}
_COMPARISON_NAMES = {
    **{_fold(k): k for k in COMPARISONS},
    **{_fold(t.vi): k for k, t in COMPARISON_LABELS.items()},
    **{_fold(t.en): k for k, t in COMPARISON_LABELS.items()},
    "≥": "at_least",
    ">=": "at_least",
    "≤": "at_most",
    "<=": "at_most",
}
_BODY_NAMES = {
    **{_fold(k): k for k in BODIES},
    **{_fold(t.vi): k for k, t in BODY_LABELS.items()},
    **{_fold(t.en): k for k, t in BODY_LABELS.items()},
}


# --- the common checks of both formats --------------------------------------------------------------
class _Reader:
    """Collects problems while turning raw values into a PlanSource."""

    def __init__(self, origin: str) -> None:
        self.source = PlanSource(origin=origin)

    def add(self, place: str, text: Text) -> None:
        self.source.problems.append(Problem(place, text))

    def text(self, raw: object, place: str, what: Text, limit: int, *, required: bool = True) -> str | None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                self.add(place, _t(f"thiếu {what.vi}", f"{what.en} is missing"))
            return None
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            self.add(place, _t(f"{what.vi} phải là một dòng chữ", f"{what.en} must be text"))
            return None
        value = str(raw).strip()
        if len(value) > limit or any(ord(ch) < 32 and ch not in "\t" for ch in value):
            self.add(
                place,
                _t(
                    f"{what.vi} dài quá {limit} ký tự hoặc có ký tự điều khiển",
                    f"{what.en} is longer than {limit} characters or holds control characters",
                ),
            )
            return None
        return value

    def year(self, raw: object, place: str, what: Text) -> int | None:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, str) and raw.strip().isdigit():
            raw = int(raw.strip())
        if not isinstance(raw, int) or isinstance(raw, bool) or not MIN_YEAR <= raw <= MAX_YEAR:
            self.add(
                place,
                _t(
                    f"{what.vi}: «{_show(raw)}» không phải là một năm ({MIN_YEAR}–{MAX_YEAR})",
                    f"{what.en}: “{_show(raw)}” is not a year ({MIN_YEAR}–{MAX_YEAR})",
                ),
            )
            return None
        return raw

    def day(self, raw: object, place: str) -> date | None:
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        if isinstance(raw, str):
            text = raw.strip()
            for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
                try:
                    return datetime.strptime(text, fmt).date()
                except ValueError:
                    continue
        self.add(
            place,
            _t(
                f"ngày văn bản «{_show(raw)}» không phải là một ngày có thật (DD/MM/YYYY hoặc YYYY-MM-DD)",
                f"the basis date “{_show(raw)}” is not a real date (DD/MM/YYYY or YYYY-MM-DD)",
            ),
        )
        return None

    def number(self, raw: object, place: str) -> float | None:
        value: float | None = None
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            value = float(raw)
        elif isinstance(raw, str):
            try:
                value = float(raw.strip().replace(" ", "").replace(",", "."))
            except ValueError:
                value = None
        if value is None or value != value or value in (float("inf"), float("-inf")) or value < 0:
            self.add(
                place,
                _t(f"«{_show(raw)}» không phải là một số không âm", f"“{_show(raw)}” is not a non-negative number"),
            )
            return None
        return value

    def plan_fields(self, raw: dict[str, Any], places: dict[str, str]) -> None:
        """The plan's own fields, from {field: raw value} and {field: place}."""
        s, where = self.source, places
        s.places = dict(places)
        s.name = self.text(raw.get("name"), where["name"], _t("tên kế hoạch", "the plan's name"), MAX_NAME) or ""
        s.basis_number = (
            self.text(raw.get("basis_number"), where["basis_number"], _t("số văn bản", "the basis number"), MAX_NUMBER)
            or ""
        )
        if raw.get("basis_date") is None:
            self.add(where["basis_date"], _t("thiếu ngày văn bản", "the basis date is missing"))
        else:
            s.basis_date = self.day(raw["basis_date"], where["basis_date"])
        s.organisation = (
            self.text(raw.get("organisation"), where["organisation"], _t("mã đơn vị", "the organisation code"), 32)
            or ""
        )
        body = raw.get("body")
        if body is None or _fold(body) not in _BODY_NAMES:
            self.add(
                where["body"],
                _t(
                    f"cơ quan thực hiện «{_show(body)}» phải là association (Hội Nông dân) hoặc office (cơ quan OCOP)",
                    f"the body “{_show(body)}” must be association or office",
                ),
            )
        else:
            s.body = _BODY_NAMES[_fold(body)]
        first = self.year(raw.get("first_year"), where["first_year"], _t("năm đầu", "first year"))
        last = self.year(raw.get("last_year"), where["last_year"], _t("năm cuối", "last year"))
        if first is not None and last is not None and last < first:
            self.add(
                where["last_year"],
                _t(f"năm cuối {last} trước năm đầu {first}", f"the last year {last} is before the first {first}"),
            )
            last = None
        s.first_year, s.last_year = first or 0, last or 0

    def target(
        self,
        *,
        indicator: object,
        organisation: object,
        years: list[int | None] | None,
        comparison: str | None,
        low: float | None,
        high: float | None,
        note: object,
        places: dict[str, str],
    ) -> None:
        """One target row (several with each year); `years` None: the year was already reported wrong."""
        key = _INDICATOR_NAMES.get(_fold(indicator)) if indicator is not None else None
        if key is None:
            self.add(
                places["indicator"],
                _t(
                    f"chỉ tiêu «{_show(indicator)}» không có trong danh mục; các chỉ tiêu: {_known_list()}",
                    f"unknown indicator “{_show(indicator)}”; the indicators are: {_known_list()}",
                ),
            )
        org = self.text(organisation, places["organisation"], _t("mã đơn vị", "organisation code"), 32, required=False)
        note_text = self.text(note, places["note"], _t("ghi chú", "the note"), MAX_NOTE, required=False)
        ok = key is not None and comparison is not None and self._agrees(key, comparison, low, high, places)
        if not ok or years is None:
            return
        for year in years:
            self.source.targets.append(
                TargetSpec(  # type: ignore[arg-type]
                    key, org, year, comparison, low, high, note_text, places["indicator"], places["organisation"]
                )
            )

    def _agrees(self, key: str, comparison: str, low: float | None, high: float | None, places: dict) -> bool:
        unit = BY_KEY[key].unit
        label = BY_KEY[key].label
        if comparison == "share_at_least" and unit != SHARE:
            self.add(
                places["comparison"],
                _t(
                    f"«tỷ lệ ít nhất» chỉ dùng cho chỉ tiêu tỷ lệ; {key} ({label.vi}) là số đếm: dùng «ít nhất»",
                    f"share_at_least is only for share indicators; {key} ({label.en}) is not a share: use at_least",
                ),
            )
            return False
        if comparison != "share_at_least" and unit == SHARE:
            self.add(
                places["comparison"],
                _t(
                    f"{key} ({label.vi}) là chỉ tiêu tỷ lệ: dùng «tỷ lệ ít nhất» (share_at_least) với số phần trăm",
                    f"{key} ({label.en}) is a share: use share_at_least with a per cent",
                ),
            )
            return False
        value_place = places["low"]
        if comparison == "share_at_least" and low is not None and low > 100:
            self.add(value_place, _t(f"tỷ lệ {_show(low)}% vượt quá 100%", f"a share of {_show(low)}% is above 100%"))
            return False
        if comparison == "between" and low is not None and high is not None and low > high:
            self.add(
                places["high"],
                _t(
                    f"khoảng {_show(low)}–{_show(high)}: giá trị dưới lớn hơn giá trị trên",
                    f"between {_show(low)} and {_show(high)}: the lower bound is above the upper",
                ),
            )
            return False
        if unit == COUNT:
            for value in (low, high):
                if value is not None and not float(value).is_integer():
                    self.add(
                        value_place,
                        _t(
                            f"{key} đếm số lượng: chỉ tiêu phải là số nguyên (nhận được {_show(value)})",
                            f"{key} is a count: the target must be a whole number (got {_show(value)})",
                        ),
                    )
                    return False
        return (comparison == "at_most" and high is not None) or low is not None

    def duplicates(self) -> None:
        seen: dict[tuple, str] = {}
        for t in self.source.targets:
            key = (t.indicator, t.organisation or self.source.organisation, t.year)
            if key in seen:
                when = str(t.year) if t.year is not None else "cả kỳ"
                when_en = str(t.year) if t.year is not None else "the whole period"
                self.add(
                    t.place,
                    _t(
                        f"chỉ tiêu {t.indicator} của đơn vị {key[1]} năm {when} đã có ở {seen[key]}",
                        f"indicator {t.indicator} of {key[1]} for {when_en} is already set at {seen[key]}",
                    ),
                )
            else:
                seen[key] = t.place

    def years_of(self, raw_year: object, each: bool, place: str) -> list[int | None] | None:
        """The years one target row stands for, checked against the plan's period."""
        first, last = self.source.first_year, self.source.last_year
        if each:
            if raw_year is not None:
                self.add(place, _t("ghi «year» hoặc «each_year», không cả hai", "give year or each_year, not both"))
                return None
            return list(range(first, last + 1)) if first and last else None
        if raw_year is None:
            return [None]
        year = self.year(raw_year, place, _t("năm", "year"))
        if year is None:
            return None
        if first and last and not first <= year <= last:
            self.add(
                place,
                _t(
                    f"năm {year} nằm ngoài kỳ kế hoạch {first}–{last}",
                    f"the year {year} is outside the plan's period {first}–{last}",
                ),
            )
            return None
        return [year]


def _show(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = "" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "…"


# --- YAML --------------------------------------------------------------------------------------------
_YAML_KEYS = {"kind", "name", "basis", "organisation", "body", "years", "targets"}
_TARGET_KEYS = {"indicator", "organisation", "year", "each_year", "note", *COMPARISONS}


class _ItemLines(list):
    """A YAML list that also knows the line of each of its items (a target written as plain text)."""

    line: int = 0
    item_lines: list[int]


class _PlanLoader(_Loader):
    pass


def _construct_sequence(loader: _PlanLoader, node: yaml.SequenceNode) -> _ItemLines:
    result = _ItemLines(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_PlanLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def _yaml_document(data: bytes, origin: str, reader: _Reader) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        reader.add(origin, _t("tệp không phải là văn bản UTF-8", "the file is not UTF-8 text"))
        return None
    try:
        return yaml.load(text, Loader=_PlanLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{origin}:{mark.line + 1}" if mark else origin
        reader.add(where, _t(f"YAML sai cú pháp: {exc.problem or exc}", f"bad YAML: {exc.problem or exc}"))
    except yaml.YAMLError as exc:
        reader.add(origin, _t(f"YAML sai cú pháp: {exc}", f"bad YAML: {exc}"))
    return None


def read_yaml_plan(data: bytes, origin: str = "plan.yaml") -> PlanSource:
    """A plan from YAML text (see the module docstring); problems collected, never raised."""
    reader = _Reader(origin)
    doc = _yaml_document(data, origin, reader)
    if reader.source.problems:
        return reader.source
    if not isinstance(doc, dict):
        reader.add(origin, _t("tệp phải là một kế hoạch (kind: plan, …)", "the file must be a plan (kind: plan, …)"))
        return reader.source

    def at(node: Any, key: str | None = None) -> str:
        line = _line(node, key)
        return f"{origin}:{line}" if line else origin

    for key in doc:
        if key not in _YAML_KEYS:
            reader.add(at(doc, key), _t(f"khóa «{key}» không dùng được ở đây", f"unknown key “{key}”"))
    if doc.get("kind") != "plan":
        reader.add(at(doc, "kind"), _t("thiếu «kind: plan»", "“kind: plan” is missing"))
    basis = doc.get("basis")
    basis = basis if isinstance(basis, dict) else {}
    years = doc.get("years")
    if not (isinstance(years, list) and len(years) == 2):
        reader.add(at(doc, "years"), _t("years phải là [năm đầu, năm cuối]", "years must be [first, last]"))
        years = [None, None]
    raw = {
        "name": doc.get("name"),
        "basis_number": basis.get("number"),
        "basis_date": basis.get("date"),
        "organisation": doc.get("organisation"),
        "body": doc.get("body"),
        "first_year": years[0],
        "last_year": years[1],
    }
    places = {
        "name": at(doc, "name"),
        "basis_number": at(basis, "number") if basis else at(doc, "basis"),
        "basis_date": at(basis, "date") if basis else at(doc, "basis"),
        "organisation": at(doc, "organisation"),
        "body": at(doc, "body"),
        "first_year": at(doc, "years"),
        "last_year": at(doc, "years"),
    }
    reader.plan_fields(raw, places)
    targets = doc.get("targets")
    if not isinstance(targets, list) or not targets:
        reader.add(at(doc, "targets"), _t("kế hoạch chưa có chỉ tiêu nào (targets)", "the plan has no targets"))
        targets = []
    item_lines = getattr(targets, "item_lines", [])
    for i, item in enumerate(targets):
        line = item_lines[i] if i < len(item_lines) else None
        _yaml_target(reader, item, at, f"{origin}:{line}" if line else at(targets))
    reader.duplicates()
    return reader.source


def _yaml_target(reader: _Reader, item: Any, at, where: str) -> None:
    """One item of `targets:`; `where` is the item's own line (a target written as plain text has none)."""
    if not isinstance(item, dict):
        reader.add(
            where,
            _t(
                f"chỉ tiêu phải là một mục {{indicator: …, at_least: …}}, không phải «{_show(item)}»",
                f"a target must be a mapping {{indicator: …, at_least: …}}, not “{_show(item)}”",
            ),
        )
        return
    for key in item:
        if key not in _TARGET_KEYS:
            reader.add(at(item, key), _t(f"khóa «{key}» không dùng ở chỉ tiêu", f"unknown target key “{key}”"))
    given = [k for k in COMPARISONS if k in item]
    comparison, low, high = None, None, None
    if len(given) != 1:
        reader.add(
            at(item),
            _t(
                "mỗi chỉ tiêu cần đúng một so sánh: at_least, at_most, between hoặc share_at_least",
                "each target needs exactly one comparison: at_least, at_most, between or share_at_least",
            ),
        )
    else:
        comparison = given[0]
        value = item[comparison]
        if comparison == "between":
            if isinstance(value, list) and len(value) == 2:
                low, high = reader.number(value[0], at(item, comparison)), reader.number(value[1], at(item, comparison))
                comparison = comparison if low is not None and high is not None else None
            else:
                reader.add(at(item, comparison), _t("between phải là [thấp, cao]", "between must be [low, high]"))
                comparison = None
        else:
            number = reader.number(value, at(item, comparison))
            if number is None:
                comparison = None
            elif comparison == "at_most":
                high = number
            else:
                low = number
    each = item.get("each_year") is True
    if "each_year" in item and not isinstance(item.get("each_year"), bool):
        reader.add(at(item, "each_year"), _t("each_year phải là true hoặc false", "each_year must be true or false"))
    years = reader.years_of(item.get("year"), each, at(item, "year"))
    places = {
        "indicator": at(item, "indicator"),
        "organisation": at(item, "organisation"),
        "note": at(item, "note"),
        "comparison": at(item, comparison) if comparison else at(item),
        "low": at(item, comparison) if comparison else at(item),
        "high": at(item, comparison) if comparison else at(item),
    }
    reader.target(
        indicator=item.get("indicator"),
        organisation=item.get("organisation"),
        years=years,
        comparison=comparison,
        low=low,
        high=high,
        note=item.get("note"),
        places=places,
    )


# --- XLSX --------------------------------------------------------------------------------------------
def _workbook(data: bytes, reader: _Reader):
    origin = reader.source.origin
    not_xlsx = _t(
        "tệp không phải là bảng tính Excel (.xlsx) hay YAML: hãy dùng mẫu XLSX («Tải mẫu trống» ở trang Kế hoạch, "
        "hoặc `ocop plan template`)",
        "the file is neither an Excel workbook (.xlsx) nor YAML: use the XLSX template (“Download the empty "
        "template” on the Plans page, or `ocop plan template`)",
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError):
        reader.add(origin, not_xlsx)
        return None
    if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_UNZIPPED:
        reader.add(origin, _t("bảng tính giải nén ra quá lớn", "the workbook expands to too much data"))
        return None
    if "xl/workbook.xml" not in {i.filename for i in infos}:
        reader.add(origin, not_xlsx)
        return None
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged file; each is the same refusal
        reader.add(origin, not_xlsx)
        return None


def _rows(wb, title: str, reader: _Reader) -> list[tuple] | None:
    found = next((ws for ws in wb.worksheets if _fold(ws.title) == _fold(title)), None)
    if found is None:
        reader.add(reader.source.origin, _t(f"thiếu trang «{title}»", f"the sheet “{title}” is missing"))
        return None
    try:
        return [tuple(r) for r in found.iter_rows(values_only=True, max_row=MAX_ROWS, max_col=12)]
    except Exception:
        reader.add(title, _t("không đọc được trang tính", "the sheet cannot be read"))
        return None


_PLAN_LABELS = {
    **{_fold(k): k for k in PLAN_FIELDS},
    **{_fold(vi): k for k, (vi, _en) in PLAN_FIELDS.items()},
    **{_fold(en): k for k, (_vi, en) in PLAN_FIELDS.items()},
}
_HEADINGS = {_fold(vi) for vi, _en in TARGET_COLUMNS} | {_fold(en) for _vi, en in TARGET_COLUMNS} | {"indicator"}


def read_xlsx_plan(data: bytes, origin: str = "plan.xlsx") -> PlanSource:
    """A plan from the XLSX layout (see the module docstring); problems collected with their cells."""
    reader = _Reader(origin)
    wb = _workbook(data, reader)
    if wb is None:
        return reader.source
    try:
        plan_rows, target_rows = _rows(wb, PLAN_SHEET, reader), _rows(wb, TARGET_SHEET, reader)
    finally:
        wb.close()
    if plan_rows is None or target_rows is None:
        return reader.source
    raw: dict[str, Any] = {}
    places = {k: f"{PLAN_SHEET}!B1" for k in PLAN_FIELDS}
    for r, row in enumerate(plan_rows, start=1):
        label = row[0] if row else None
        if label is None or not str(label).strip() or _fold(label) in ("mục", "field", "key"):
            continue
        key = _PLAN_LABELS.get(_fold(label))
        if key is None:
            reader.add(f"{PLAN_SHEET}!A{r}", _t(f"mục «{_show(label)}» lạ", f"unknown field “{_show(label)}”"))
            continue
        raw[key] = row[1] if len(row) > 1 else None
        places[key] = f"{PLAN_SHEET}!B{r}"
    reader.plan_fields(raw, places)
    head = next(
        (i for i, row in enumerate(target_rows) if row and row[0] is not None and _fold(row[0]) in _HEADINGS), None
    )
    if head is None:
        reader.add(f"{TARGET_SHEET}!A1", _t("thiếu dòng tiêu đề «Chỉ tiêu»", "the heading row (“Chỉ tiêu”) is missing"))
        return reader.source
    count = 0
    for r, row in enumerate(target_rows[head + 1 :], start=head + 2):
        cells = list(row) + [None] * (len(TARGET_COLUMNS) - len(row))
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells[: len(TARGET_COLUMNS)]):
            continue
        count += 1
        _xlsx_target(reader, cells, r)
    if not count:
        reader.add(f"{TARGET_SHEET}!A{head + 2}", _t("kế hoạch chưa có chỉ tiêu nào", "the plan has no targets"))
    reader.duplicates()
    return reader.source


def _xlsx_target(reader: _Reader, cells: list, r: int) -> None:
    indicator, org, year, comparison_raw, low_raw, high_raw, note = cells[: len(TARGET_COLUMNS)]
    places = {
        "indicator": f"{TARGET_SHEET}!A{r}",
        "organisation": f"{TARGET_SHEET}!B{r}",
        "year": f"{TARGET_SHEET}!C{r}",
        "comparison": f"{TARGET_SHEET}!D{r}",
        "low": f"{TARGET_SHEET}!E{r}",
        "high": f"{TARGET_SHEET}!F{r}",
        "note": f"{TARGET_SHEET}!G{r}",
    }
    comparison = _COMPARISON_NAMES.get(_fold(comparison_raw)) if comparison_raw is not None else None
    if comparison is None:
        reader.add(
            places["comparison"],
            _t(
                f"so sánh «{_show(comparison_raw)}» phải là: ít nhất, nhiều nhất, trong khoảng, tỷ lệ ít nhất",
                f"the comparison “{_show(comparison_raw)}” must be one of: at_least, at_most, between, share_at_least",
            ),
        )
    blank = lambda v: v is None or (isinstance(v, str) and not v.strip())  # noqa: E731
    low = None if blank(low_raw) else reader.number(low_raw, places["low"])
    high = None if blank(high_raw) else reader.number(high_raw, places["high"])
    bad_number = (not blank(low_raw) and low is None) or (not blank(high_raw) and high is None)
    if comparison == "at_most" and high is None and low is not None:
        low, high = None, low  # "nhiều nhất 5" is typed in the value column
    needs_high = comparison == "between"
    if comparison and not bad_number:
        missing = (needs_high and (low is None or high is None)) or (not needs_high and low is None and high is None)
        extra = not needs_high and low is not None and high is not None
        if missing or extra:
            reader.add(
                places["low"],
                _t(
                    "«trong khoảng» cần hai giá trị (cột E và F); các so sánh khác cần đúng một giá trị (cột E)",
                    "“between” needs two values (columns E and F); the other comparisons exactly one (column E)",
                ),
            )
            comparison = None
    if bad_number:
        comparison = None
    each = isinstance(year, str) and _fold(year) in EACH_YEAR
    years = reader.years_of(None if each or blank(year) else year, each, places["year"])
    reader.target(
        indicator=indicator,
        organisation=org,
        years=years,
        comparison=comparison,
        low=low,
        high=high,
        note=note,
        places=places,
    )


def read_plan(data: bytes, filename: str) -> PlanSource:
    """A plan from a file's bytes: XLSX by its zip signature, YAML otherwise (an .xlsx name that is no
    workbook is refused as such). Problems are collected in `PlanSource.problems`, never raised."""
    if not isinstance(data, bytes | bytearray) or not data:
        return PlanSource(origin=filename, problems=[Problem(filename, _t("tệp trống", "the file is empty"))])
    if len(data) > MAX_FILE_BYTES:
        return PlanSource(
            origin=filename,
            problems=[Problem(filename, _t("tệp quá lớn (tối đa 2 MB)", "the file is too large (2 MB at most)"))],
        )
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return read_xlsx_plan(bytes(data), filename)
    return read_yaml_plan(bytes(data), filename)


# --- writing workbooks -------------------------------------------------------------------------------
def defuse_formulas(wb) -> None:
    """Every cell openpyxl would write as a formula becomes text. Nothing these modules write is a formula,
    so such a cell holds text a user typed (a plan's name, a note, a product's or a chain's name) that
    starts with "=": Excel would run "=HYPERLINK(…)" or "=cmd|…" on opening. Forced to a string cell it
    reads back as the same text (data_type "s"). (+, - and @ are text to openpyxl already.)"""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


# --- writing the XLSX layout --------------------------------------------------------------------------
def _grouped(targets: list[TargetSpec], first: int, last: int) -> list[tuple[TargetSpec, bool]]:
    """Targets with one row per «each year» group: the same indicator, unit, comparison, values and
    note for every year of the period, in file order."""
    years = set(range(first, last + 1))
    by_key: dict[tuple, list[TargetSpec]] = {}
    for t in targets:
        by_key.setdefault((t.indicator, t.organisation, t.comparison, t.low, t.high, t.note), []).append(t)
    out, done = [], set()
    for t in targets:
        key = (t.indicator, t.organisation, t.comparison, t.low, t.high, t.note)
        group = by_key[key]
        if len(years) > 1 and {g.year for g in group} == years and len(group) == len(years):
            if key not in done:
                done.add(key)
                out.append((t, True))
        else:
            out.append((t, False))
    return out


def write_plan_xlsx(source: PlanSource | None, locale: str = "vi") -> bytes:
    """The plan in the XLSX layout `read_xlsx_plan` reads (with `source` None: an empty template with
    no target yet). A third sheet lists the indicators with their units and exact rules."""
    en = locale.startswith("en")
    wb = Workbook()
    ws = wb.active
    ws.title = PLAN_SHEET
    ws.append(["Mục" if not en else "Field", "Giá trị" if not en else "Value"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    values = {
        "name": source.name if source else "",
        "basis_number": source.basis_number if source else "",
        "basis_date": source.basis_date if source else None,
        "organisation": source.organisation if source else "",
        "body": BODY_LABELS[source.body].get(locale) if source and source.body in BODY_LABELS else "",
        "first_year": source.first_year if source else None,
        "last_year": source.last_year if source else None,
    }
    for key, (vi, en_label) in PLAN_FIELDS.items():
        ws.append([en_label if en else vi, values[key]])
        if key == "basis_date":
            ws.cell(row=ws.max_row, column=2).number_format = "DD/MM/YYYY"
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 24, 90

    tg = wb.create_sheet(TARGET_SHEET)
    tg.append([en_h if en else vi_h for vi_h, en_h in TARGET_COLUMNS])
    for cell in tg[1]:
        cell.font = Font(bold=True)
    tg.freeze_panes = "A2"
    each_word = "each" if en else "mỗi năm"
    # the empty template has no target row: an example row would be loaded as a real target (the third
    # sheet lists the indicators, and the column headers say what goes where)
    rows = _grouped(source.targets, source.first_year, source.last_year) if source else []
    for t, each in rows:
        low, high = (t.high, None) if t.comparison == "at_most" else (t.low, t.high)
        tg.append(
            [
                t.indicator,
                t.organisation,
                each_word if each else t.year,
                COMPARISON_LABELS[t.comparison].get(locale),
                low,
                high,
                t.note,
            ]
        )
        tg.cell(row=tg.max_row, column=7).alignment = Alignment(wrap_text=True)
    for col, width in zip("ABCDEFG", (30, 12, 10, 16, 10, 18, 50), strict=True):
        tg.column_dimensions[col].width = width

    ls = wb.create_sheet(LIST_SHEET)
    ls.append(
        [
            "Mã" if not en else "Key",
            "Chỉ tiêu" if not en else "Indicator",
            "Đơn vị" if not en else "Unit",
            "Cách tính" if not en else "Rule",
        ]
    )
    for cell in ls[1]:
        cell.font = Font(bold=True)
    unit_label = {"count": ("số lượng", "count"), "share": ("tỷ lệ %", "per cent"), "ratio": ("lần", "multiple")}
    for i in INDICATORS:
        ls.append([i.key, i.label.get(locale), unit_label[i.unit][1 if en else 0], i.rule.get(locale)])
        ls.cell(row=ls.max_row, column=4).alignment = Alignment(wrap_text=True)
    for col, width in zip("ABCD", (30, 45, 10, 100), strict=True):
        ls.column_dimensions[col].width = width
    ls.freeze_panes = "A2"
    pick = DataValidation(type="list", formula1=f"'{LIST_SHEET}'!$A$2:$A${len(INDICATORS) + 1}", allow_blank=True)
    compare = DataValidation(
        type="list", formula1='"' + ",".join(t.get(locale) for t in COMPARISON_LABELS.values()) + '"', allow_blank=True
    )
    tg.add_data_validation(pick)
    tg.add_data_validation(compare)
    pick.add(f"A2:A{MAX_ROWS}")
    compare.add(f"D2:D{MAX_ROWS}")
    defuse_formulas(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
