"""Criteria sets (Bộ tiêu chí) as versioned data, and the scoring of one filled-in sheet.

Decision 148/QĐ-TTg scores a product on the scoring sheet (phiếu đánh giá) of its product group:
part A (product and community strength), B (marketing) and C (quality), each split into criteria
with a maximum and the point values a council member may choose. The sheets change with the
decisions (1048 had A 35 / B 25 / C 40; 148 has A 40 / B 25 / C 35; 1489 adds a commune report),
so they are YAML files beside the workflow definitions, one folder per set:

    workflows/criteria/<set>/set.yaml        the set: label, source, part maxima, mandatory rule, `uses`
    workflows/criteria/<set>/<group>.yaml    the sheets of one product group (sub-groups as more sheets)

They are read with the definitions' line-aware YAML reader, so every mistake is reported as
`file:line: message`, all at once. A set may `uses:` another set's sheets (1489 keeps 148's council
sheets and adds the commune's assessment sheet).

Scoring is exact: every value is read as a decimal from its text (never through binary floating
point), the part totals and the total are Decimal sums rounded half-up to two decimals, and only
then turned into floats. A score outside the sheet (unknown code, a value that is not a number, a
value that is not one of the criterion's options, outside 0..max or off-step for a freely scored
criterion, or a criterion left blank on a sheet that must be complete) is refused with one
`InvalidData` that names every offending criterion in Vietnamese and English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path
from typing import Any

from ..errors import DefinitionError, InvalidData, NotFound
from ..i18n import Text, join
from .definition import Catalogue
from .loader import _check_keys, _line, _mapping, _Problems, _text, read_yaml

CRITERIA_DIR = "criteria"  # beside the catalogue and the definitions
SET_FILE = "set.yaml"
KINDS = ("council", "commune")
TRANSCRIBED = ("full", "partial", "parts_only")
DEFAULT_STEP = Decimal("0.25")
CENT = Decimal("0.01")


def _fmt(value: float | Decimal) -> str:
    """A point value as people write it: 2, 2.5, 0.25."""
    d = Decimal(str(value)).normalize()
    text = format(d, "f")
    return text if len(text) <= 40 else text[:37] + "…"


def _fmt_vi(value: float | Decimal) -> str:
    """The same in Vietnamese writing: a decimal comma (2,5; 0,25)."""
    return _fmt(value).replace(".", ",")


def _shown(value: object) -> str:
    """A refused value as the message repeats it: never a whole page of digits."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def to_decimal(value: object) -> Decimal | None:
    """The decimal a submitted value stands for, or None if it is not a finite number.

    Accepts int, float, Decimal and numeric text (a Vietnamese decimal comma too: "2,5");
    booleans are not numbers here."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, float):
        d = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        if not text or len(text) > 32:
            return None
        try:
            d = Decimal(text)
        except InvalidOperation:
            return None
    else:
        return None
    return d if d.is_finite() else None


@dataclass(frozen=True)
class Option:
    """One allowed point value of a criterion and what it means."""

    points: float
    label: Text


@dataclass(frozen=True)
class Criterion:
    code: str
    label: Text
    max_points: float
    options: tuple[Option, ...]
    mandatory: bool
    part: str
    free: bool = False
    step: float | None = None  # freely scored criteria: values are multiples of this

    def describe(self) -> Text:
        return Text(f"{self.code} ({self.label.vi})", f"{self.code} ({self.label.en})")

    def allowed(self) -> Text:
        """The values this criterion takes, for a refusal."""
        if self.free:
            step = self.step or DEFAULT_STEP
            return Text(
                f"từ 0 đến {_fmt_vi(self.max_points)}, bước {_fmt_vi(step)}",
                f"0 to {_fmt(self.max_points)} in steps of {_fmt(step)}",
            )
        return Text(
            "một trong các mức " + "; ".join(_fmt_vi(o.points) for o in self.options),
            "one of " + ", ".join(_fmt(o.points) for o in self.options),
        )

    def check(self, value: object) -> tuple[Decimal | None, Text | None]:
        """The points `value` gives on this criterion, or the reason it is refused."""
        d = to_decimal(value)
        who = self.describe()
        if d is None:
            return None, Text(
                f"Tiêu chí {who.vi}: {_shown(value)} không phải là một số",
                f"Criterion {who.en}: {_shown(value)} is not a number",
            )
        allowed = self.allowed()
        if self.free:
            step = Decimal(str(self.step)) if self.step else DEFAULT_STEP
            if d < 0 or d > Decimal(str(self.max_points)) or d % step != 0:
                return None, Text(
                    f"Tiêu chí {who.vi}: {_fmt_vi(d)} điểm không hợp lệ (phải {allowed.vi})",
                    f"Criterion {who.en}: {_fmt(d)} points is not allowed (must be {allowed.en})",
                )
            return d, None
        for option in self.options:
            if Decimal(str(option.points)) == d:
                return d, None
        return None, Text(
            f"Tiêu chí {who.vi}: {_fmt_vi(d)} điểm không phải là một mức điểm của tiêu chí (phải là {allowed.vi})",
            f"Criterion {who.en}: {_fmt(d)} points is not one of its options (must be {allowed.en})",
        )


@dataclass(frozen=True)
class Part:
    key: str
    label: Text
    max_points: float
    criteria: tuple[Criterion, ...]
    transcribed: bool = True  # False: the listed criteria do not (yet) cover the part's points


@dataclass(frozen=True)
class MandatoryRule:
    """What failing a mandatory (*) criterion does: a criterion scored below `fails_below` is failed,
    and a product failing one cannot be ranked above `caps_star_at` stars. `default` says the rule is
    this project's documented choice because the source text was not found (see `source`)."""

    fails_below: float
    caps_star_at: int
    source: str
    default: bool = False


@dataclass(frozen=True)
class SheetScore:
    part_totals: dict[str, float]
    total: float
    missing: tuple[str, ...]
    failed_mandatory: tuple[str, ...]
    star_cap: int | None = None  # the highest star this sheet allows, when a mandatory criterion failed


@dataclass(frozen=True)
class Sheet:
    key: str  # "<set>/<sheet>", unique across every set
    set_key: str
    group: str | None  # None: a sheet for every group (the commune's report)
    subgroup: str | None
    kind: str  # council | commune
    label: Text
    source: str
    transcribed: str  # full | partial | parts_only
    parts: tuple[Part, ...]
    mandatory_rule: MandatoryRule | None = None
    path: str = ""
    line: int | None = None
    note: str = ""

    @cached_property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for p in self.parts for c in p.criteria)

    @cached_property
    def _by_code(self) -> dict[str, Criterion]:
        return {c.code: c for c in self.criteria}

    @property
    def max_total(self) -> float:
        return float(sum((Decimal(str(p.max_points)) for p in self.parts), Decimal(0)))

    def criterion(self, code: str) -> Criterion:
        try:
            return self._by_code[code]
        except KeyError:
            raise NotFound(
                Text(f"Phiếu {self.key}: không có tiêu chí {code}", f"Sheet {self.key}: no criterion {code}")
            ) from None

    def score(self, answers: Mapping[str, object], *, complete: bool) -> SheetScore:
        """Check every answer against the sheet and add them up (see the module docstring).

        `answers` maps criterion codes to points; None or a missing code means not scored yet,
        which is refused when `complete` is true and listed in `missing` otherwise."""
        problems: list[Text] = []
        points: dict[str, Decimal] = {}
        for code, value in answers.items():
            criterion = self._by_code.get(code) if isinstance(code, str) else None
            if criterion is None:
                problems.append(
                    Text(
                        f"Không có tiêu chí mã {code!r} trong {self.label.vi}",
                        f"There is no criterion {code!r} on the {self.label.en}",
                    )
                )
                continue
            if _blank(value):
                continue
            d, problem = criterion.check(value)
            if problem is not None:
                problems.append(problem)
            else:
                points[code] = d  # type: ignore[assignment]
        refused = {c for c, v in answers.items() if c not in points and not _blank(v)}
        unanswered = [c.code for c in self.criteria if c.code not in points and c.code not in refused]
        if complete and unanswered:
            problems.append(
                Text(
                    "Chưa chấm điểm các tiêu chí: " + ", ".join(unanswered),
                    "These criteria are not scored yet: " + ", ".join(unanswered),
                )
            )
        if problems:
            raise InvalidData(join(problems), criteria=sorted(map(str, refused)) + unanswered)
        part_totals: dict[str, float] = {}
        total = Decimal(0)
        for part in self.parts:
            subtotal = sum((points[c.code] for c in part.criteria if c.code in points), Decimal(0))
            part_totals[part.key] = float(subtotal.quantize(CENT, rounding=ROUND_HALF_UP))
            total += subtotal
        failed: tuple[str, ...] = ()
        cap = None
        rule = self.mandatory_rule
        if rule is not None:
            threshold = Decimal(str(rule.fails_below))
            failed = tuple(
                c.code for c in self.criteria if c.mandatory and c.code in points and points[c.code] < threshold
            )
            cap = rule.caps_star_at if failed else None
        return SheetScore(
            part_totals=part_totals,
            total=float(total.quantize(CENT, rounding=ROUND_HALF_UP)),
            missing=tuple(unanswered),
            failed_mandatory=failed,
            star_cap=cap,
        )


def _blank(value: object) -> bool:
    """Not scored yet: None or empty text (a form field left empty)."""
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True)
class CriteriaSet:
    key: str
    label: Text
    source: str
    uses: str | None
    part_maxima: dict[str, float]  # council sheets' parts and their maxima, in order
    mandatory_rule: MandatoryRule | None
    path: str = ""
    line: int | None = None
    uses_line: int | None = None


@dataclass
class CriteriaSets:
    """Every loaded set and sheet; `sheet_for` finds the sheet a product is scored on."""

    sets: dict[str, CriteriaSet]
    sheets: dict[str, Sheet]
    directory: str = ""
    _index: dict[tuple[str, str | None, str], list[Sheet]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for sheet in self.sheets.values():
            self._index.setdefault((sheet.set_key, sheet.group, sheet.kind), []).append(sheet)

    def get(self, sheet_key: str) -> Sheet:
        try:
            return self.sheets[sheet_key]
        except KeyError:
            raise NotFound(Text(f"Không có phiếu đánh giá {sheet_key}", f"No scoring sheet {sheet_key}")) from None

    def sheet_for(self, set_key: str, group: str | None, subgroup: str | None = None, kind: str = "council") -> Sheet:
        """The sheet of `group` (and `subgroup`) in a set, following `uses` to the set it reuses.

        Within a set, a sheet of the sub-group wins over the group's general sheet, which wins over a
        sheet for every group (group None, e.g. the commune's report)."""
        if set_key not in self.sets:
            raise NotFound(Text(f"Không có bộ tiêu chí {set_key}", f"No criteria set {set_key}"))
        if kind not in KINDS:
            raise InvalidData(Text(f"Loại phiếu không hợp lệ: {kind}", f"Unknown kind of sheet: {kind}"))
        seen: set[str] = set()
        key: str | None = set_key
        while key is not None and key not in seen:
            seen.add(key)
            found = self._find(key, group, subgroup, kind)
            if found is not None:
                return found
            key = self.sets[key].uses if key in self.sets else None
        what = Text(
            "phiếu hội đồng" if kind == "council" else "phiếu đánh giá của xã",
            "council sheet" if kind == "council" else "commune assessment sheet",
        )
        subs = sorted(s.subgroup for k in seen for s in self._index.get((k, group, kind), []) if s.subgroup)
        if subs and subgroup is None:
            raise InvalidData(
                Text(
                    f"Nhóm {group} có nhiều {what.vi} theo phân nhóm; hãy chọn phân nhóm: {', '.join(subs)}",
                    f"Group {group} has one {what.en} per sub-group; choose one of: {', '.join(subs)}",
                )
            )
        label = group if subgroup is None else f"{group}/{subgroup}"
        raise NotFound(
            Text(
                f"Bộ tiêu chí {set_key} không có {what.vi} cho nhóm sản phẩm {label}",
                f"Criteria set {set_key} has no {what.en} for product group {label}",
            )
        )

    def _find(self, set_key: str, group: str | None, subgroup: str | None, kind: str) -> Sheet | None:
        candidates = self._index.get((set_key, group, kind), [])
        if subgroup is not None:
            for s in candidates:
                if s.subgroup == subgroup:
                    return s
        for s in candidates:
            if s.subgroup is None:
                return s
        if group is not None:
            for s in self._index.get((set_key, None, kind), []):
                if s.subgroup is None:
                    return s
        return None

    def in_set(self, set_key: str) -> list[Sheet]:
        """The sheets a set offers, its own first, then those of the set it uses (not shadowed)."""
        out: list[Sheet] = []
        seen: set[str] = set()
        key: str | None = set_key
        taken: set[tuple[str | None, str | None, str]] = set()
        while key is not None and key not in seen and key in self.sets:
            seen.add(key)
            for s in self.sheets.values():
                ident = (s.group, s.subgroup, s.kind)
                if s.set_key == key and ident not in taken:
                    out.append(s)
                    taken.add(ident)
            key = self.sets[key].uses
        return out


# --- loading ---------------------------------------------------------------------------------

_SET_KEYS = {"kind", "key", "label", "source", "uses", "parts", "mandatory_rule"}
_FILE_KEYS = {"kind", "set", "group", "transcribed", "note", "sheets"}
_SHEET_KEYS = {"key", "kind", "subgroup", "label", "source", "mandatory_rule", "parts"}
_PART_KEYS = {"key", "label", "max_points", "transcribed", "criteria"}
_CRITERION_KEYS = {"code", "label", "max_points", "options", "mandatory", "free", "step", "note"}
_OPTION_KEYS = {"points", "vi", "en"}
_RULE_KEYS = {"fails_below", "caps_star_at", "source", "default"}


def _number(value: Any, problems: _Problems, line: int | None, where: str, *, positive: bool = False) -> Decimal | None:
    """A number from the YAML (int or float, read through its decimal text); reported otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.add(line, f"{where} must be a number, got {value!r}")
        return None
    d = Decimal(str(value))
    if not d.is_finite() or d < 0 or (positive and d == 0):
        problems.add(line, f"{where} must be {'more than 0' if positive else '0 or more'}, got {value!r}")
        return None
    return d


def _rule(node: Any, problems: _Problems, where: str, line: int | None) -> MandatoryRule | None:
    if node is None:
        return None
    node = _mapping(node, problems, where, line)
    if not node:
        return None
    _check_keys(node, _RULE_KEYS, {"fails_below", "caps_star_at", "source"}, problems, where)
    below = _number(node.get("fails_below"), problems, _line(node, "fails_below"), f"{where}.fails_below")
    cap = node.get("caps_star_at")
    if isinstance(cap, bool) or cap not in (1, 2, 3, 4):
        problems.add(_line(node, "caps_star_at"), f"{where}.caps_star_at must be a star from 1 to 4, got {cap!r}")
        cap = None
    source = node.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.add(_line(node, "source") or _line(node), f"{where}.source must cite where the rule comes from")
    default = node.get("default", False)
    if not isinstance(default, bool):
        problems.add(_line(node, "default"), f"{where}.default must be true or false")
    if below is None or cap is None:
        return None
    return MandatoryRule(float(below), int(cap), str(source or ""), bool(default))


def _load_set(path: Path, folder_key: str, problems: _Problems) -> CriteriaSet | None:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        problems.add(1, "a criteria set file must be a mapping")
        return None
    _check_keys(raw, _SET_KEYS, {"kind", "key", "label", "source"}, problems, "set")
    if raw.get("kind") != "criteria_set":
        problems.add(_line(raw, "kind"), "kind must be 'criteria_set'")
    key = raw.get("key")
    if key != folder_key:
        problems.add(_line(raw, "key"), f"key must be the folder's name {folder_key!r}, got {key!r}")
    uses = raw.get("uses")
    if uses is not None and (not isinstance(uses, str) or not uses.strip() or uses == folder_key):
        problems.add(_line(raw, "uses"), f"uses must name another criteria set, got {uses!r}")
        uses = None
    parts: dict[str, float] = {}
    parts_node = raw.get("parts")
    if parts_node is None and uses is None:
        problems.add(_line(raw), "set: missing required key 'parts' (the council sheets' parts and maxima)")
    elif parts_node is not None:
        node = _mapping(parts_node, problems, "parts", _line(raw, "parts"))
        total = Decimal(0)
        for pkey, value in node.items():
            d = _number(value, problems, _line(node, pkey), f"parts.{pkey}", positive=True)
            if d is not None:
                parts[str(pkey)] = float(d)
                total += d
        if node and total != 100:
            problems.add(_line(raw, "parts"), f"parts must add up to 100 points, they add up to {_fmt(total)}")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.add(_line(raw, "source") or _line(raw), "source must cite the decision the set comes from")
    return CriteriaSet(
        key=folder_key,
        label=_text(raw.get("label"), problems, "set label", _line(raw, "label")),
        source=str(source or ""),
        uses=uses,
        part_maxima=parts,
        mandatory_rule=_rule(raw.get("mandatory_rule"), problems, "mandatory_rule", _line(raw, "mandatory_rule")),
        path=str(path),
        line=_line(raw, "key"),
        uses_line=_line(raw, "uses"),
    )


def _load_options(node: Any, crit: _Criterion, problems: _Problems) -> tuple[Option, ...]:
    where = crit.where
    if not isinstance(node, list) or not node:
        problems.add(_line(node) or crit.line, f"{where}: options must be a list of {{points, vi, en}}")
        return ()
    options: list[Option] = []
    seen: dict[Decimal, int | None] = {}
    for item in node:
        if not isinstance(item, dict):
            problems.add(_line(node), f"{where}: each option must be a mapping {{points, vi, en}}")
            continue
        line = _line(item)
        _check_keys(item, _OPTION_KEYS, {"points"}, problems, f"{where} option")
        points = _number(item.get("points"), problems, _line(item, "points"), f"{where} option points")
        label = _text(item, problems, f"{where} option {item.get('points')!r}", line)
        if points is None:
            continue
        if crit.max_points is not None and points > crit.max_points:
            problems.add(
                line,
                f"{where}: option of {_fmt(points)} points is above the criterion's maximum of {_fmt(crit.max_points)}",
            )
        if points in seen:
            problems.add(line, f"{where}: two options give {_fmt(points)} points (see line {seen[points]})")
        seen[points] = line
        options.append(Option(float(points), label))
    if seen and crit.max_points is not None and max(seen) < crit.max_points:
        problems.add(
            _line(node) or crit.line,
            f"{where}: the highest option gives {_fmt(max(seen))} points but max_points is {_fmt(crit.max_points)}",
        )
    return tuple(options)


@dataclass
class _Criterion:
    where: str
    line: int | None
    max_points: Decimal | None


def _load_criterion(node: Any, part_key: str, problems: _Problems, codes: dict[str, int | None]) -> Criterion | None:
    if not isinstance(node, dict):
        problems.add(_line(node), f"part {part_key}: each criterion must be a mapping")
        return None
    code = node.get("code")
    where = f"criterion {code!r}" if code is not None else f"part {part_key}: criterion"
    _check_keys(node, _CRITERION_KEYS, {"code", "label", "max_points"}, problems, where)
    if not isinstance(code, str) or not code.strip():
        problems.add(_line(node, "code") or _line(node), f"{where}: code must be a name such as A1")
        return None
    if code in codes:
        problems.add(_line(node, "code"), f"duplicate criterion code {code!r} (first on line {codes[code]})")
    codes.setdefault(code, _line(node, "code"))
    max_points = _number(
        node.get("max_points"), problems, _line(node, "max_points"), f"{where} max_points", positive=True
    )
    free = node.get("free", False)
    if not isinstance(free, bool):
        problems.add(_line(node, "free"), f"{where}: free must be true or false")
        free = False
    mandatory = node.get("mandatory", False)
    if not isinstance(mandatory, bool):
        problems.add(_line(node, "mandatory"), f"{where}: mandatory must be true or false")
        mandatory = False
    step: Decimal | None = None
    crit = _Criterion(where, _line(node), max_points)
    if free:
        if "options" in node:
            problems.add(_line(node, "options"), f"{where}: a freely scored criterion (free: true) has no options")
        step = DEFAULT_STEP
        if "step" in node:
            step = _number(node.get("step"), problems, _line(node, "step"), f"{where} step", positive=True)
        if step is not None and max_points is not None and max_points % step != 0:
            problems.add(
                _line(node, "step"), f"{where}: max_points {_fmt(max_points)} is not a multiple of step {_fmt(step)}"
            )
        options: tuple[Option, ...] = ()
    else:
        if "step" in node:
            problems.add(_line(node, "step"), f"{where}: step is only for freely scored criteria (free: true)")
        options = _load_options(node.get("options"), crit, problems)
    return Criterion(
        code=code,
        label=_text(node.get("label"), problems, where, _line(node, "label")),
        max_points=float(max_points or 0),
        options=options,
        mandatory=mandatory,
        part=part_key,
        free=free,
        step=float(step) if step is not None else None,
    )


def _load_part(node: Any, problems: _Problems, codes: dict[str, int | None], parts_line: int | None) -> Part | None:
    if not isinstance(node, dict):
        problems.add(_line(node) or parts_line, "each part must be a mapping")
        return None
    key = node.get("key")
    where = f"part {key!r}"
    _check_keys(node, _PART_KEYS, {"key", "label", "max_points", "criteria"}, problems, where)
    if not isinstance(key, str) or not key.strip():
        problems.add(_line(node, "key") or _line(node), "each part needs a 'key' such as A")
        return None
    max_points = _number(
        node.get("max_points"), problems, _line(node, "max_points"), f"{where} max_points", positive=True
    )
    transcribed = node.get("transcribed", True)
    if not isinstance(transcribed, bool):
        problems.add(_line(node, "transcribed"), f"{where}: transcribed must be true or false")
        transcribed = True
    criteria_node = node.get("criteria")
    if not isinstance(criteria_node, list) or not criteria_node:
        problems.add(_line(node, "criteria") or _line(node), f"{where}: criteria must be a non-empty list")
        criteria_node = []
    criteria = [c for c in (_load_criterion(n, key, problems, codes) for n in criteria_node) if c is not None]
    total = sum((Decimal(str(c.max_points)) for c in criteria), Decimal(0))
    if transcribed and max_points is not None and criteria and total != max_points:
        problems.add(
            _line(node, "max_points"),
            f"{where}: its criteria's max_points add up to {_fmt(total)}, not to the part's {_fmt(max_points)}"
            " (mark the part 'transcribed: false' if its criteria are not all listed yet)",
        )
    return Part(
        key=key,
        label=_text(node.get("label"), problems, where, _line(node, "label")),
        max_points=float(max_points or 0),
        criteria=tuple(criteria),
        transcribed=transcribed,
    )


def _load_sheet(
    node: Any,
    file: dict,
    path: Path,
    sets: dict[str, CriteriaSet],
    problems: _Problems,
) -> Sheet | None:
    if not isinstance(node, dict):
        problems.add(_line(node) or _line(file, "sheets"), "each sheet must be a mapping")
        return None
    key = node.get("key")
    where = f"sheet {key!r}"
    _check_keys(node, _SHEET_KEYS, {"key", "label", "source", "parts"}, problems, where)
    if not isinstance(key, str) or not key.strip() or "/" in key:
        problems.add(_line(node, "key") or _line(node), f"{where}: key must be a name without '/'")
        return None
    set_key = str(file.get("set"))
    kind = node.get("kind", "council")
    if kind not in KINDS:
        problems.add(_line(node, "kind"), f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
        kind = "council"
    group = file.get("group")
    if kind == "council" and group is None:
        problems.add(_line(file, "group") or _line(file), f"{where}: a council sheet needs the file's product group")
    subgroup = node.get("subgroup")
    if subgroup is not None and (not isinstance(subgroup, str) or not subgroup.strip()):
        problems.add(_line(node, "subgroup"), f"{where}: subgroup must be a name")
        subgroup = None
    source = node.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.add(_line(node, "source") or _line(node), f"{where}: source must cite the decision, annex and clause")
    codes: dict[str, int | None] = {}
    parts_node = node.get("parts")
    if not isinstance(parts_node, list) or not parts_node:
        problems.add(_line(node, "parts") or _line(node), f"{where}: parts must be a non-empty list")
        parts_node = []
    parts: list[Part] = []
    for n in parts_node:
        part = _load_part(n, problems, codes, _line(node, "parts"))
        if part is None:
            continue
        if any(p.key == part.key for p in parts):
            problems.add(_line(n), f"{where}: part {part.key!r} is listed twice")
            continue
        parts.append(part)
    owner = sets.get(set_key)
    if kind == "council" and owner is not None:
        _check_council_parts(parts, owner, sets, node, problems, where)
    rule = _rule(node.get("mandatory_rule"), problems, f"{where} mandatory_rule", _line(node, "mandatory_rule"))
    if rule is None and owner is not None:
        rule = owner.mandatory_rule
    if rule is None and any(c.mandatory for p in parts for c in p.criteria):
        problems.add(
            _line(node),
            f"{where}: it has mandatory criteria but neither the sheet nor set.yaml gives a mandatory_rule",
        )
    return Sheet(
        key=f"{set_key}/{key}",
        set_key=set_key,
        group=group if isinstance(group, str) else None,
        subgroup=subgroup,
        kind=kind,
        label=_text(node.get("label"), problems, where, _line(node, "label")),
        source=str(source or ""),
        transcribed=str(file.get("transcribed")),
        parts=tuple(parts),
        mandatory_rule=rule,
        path=str(path),
        line=_line(node),
        note=str(file.get("note") or ""),
    )


def _part_maxima(set_key: str, sets: dict[str, CriteriaSet]) -> dict[str, float]:
    seen: set[str] = set()
    key: str | None = set_key
    while key is not None and key in sets and key not in seen:
        seen.add(key)
        if sets[key].part_maxima:
            return sets[key].part_maxima
        key = sets[key].uses
    return {}


def _check_council_parts(
    parts: list[Part], owner: CriteriaSet, sets: dict[str, CriteriaSet], node: dict, problems: _Problems, where: str
) -> None:
    expected = _part_maxima(owner.key, sets)
    if not expected:
        return
    got = {p.key: p.max_points for p in parts}
    if list(got) != list(expected):
        problems.add(
            _line(node, "parts"),
            f"{where}: a council sheet of {owner.key} has the parts {', '.join(expected)} in this order, "
            f"got {', '.join(got) or 'none'}",
        )
    part_nodes = {n.get("key"): n for n in node.get("parts") or [] if isinstance(n, dict)}
    for pkey, maximum in expected.items():
        if pkey in got and Decimal(str(got[pkey])) != Decimal(str(maximum)):
            problems.add(
                _line(part_nodes.get(pkey), "max_points") or _line(node, "parts"),
                f"{where}: part {pkey} is worth {_fmt(maximum)} points in {owner.key} (set.yaml), "
                f"not {_fmt(got[pkey])} (the parts must add up to 100)",
            )


def _load_sheet_file(
    path: Path,
    folder_key: str,
    sets: dict[str, CriteriaSet],
    catalogue: Catalogue,
    check_groups: bool,
    problems: _Problems,
) -> list[Sheet]:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        problems.add(1, "a criteria file must be a mapping")
        return []
    _check_keys(raw, _FILE_KEYS, {"kind", "set", "transcribed", "sheets"}, problems, "criteria file")
    if raw.get("kind") != "criteria_sheets":
        problems.add(_line(raw, "kind"), "kind must be 'criteria_sheets'")
    if raw.get("set") != folder_key:
        problems.add(_line(raw, "set"), f"set must be the folder's name {folder_key!r}, got {raw.get('set')!r}")
        raw["set"] = folder_key
    group = raw.get("group")
    if group is not None and (not isinstance(group, str) or (check_groups and group not in catalogue.product_groups)):
        problems.add(
            _line(raw, "group"),
            f"unknown product group {group!r} (known: {', '.join(catalogue.product_groups)})",
        )
    transcribed = raw.get("transcribed")
    if transcribed not in TRANSCRIBED:
        problems.add(_line(raw, "transcribed") or _line(raw), f"transcribed must be one of {', '.join(TRANSCRIBED)}")
    sheets_node = raw.get("sheets")
    if not isinstance(sheets_node, list) or not sheets_node:
        problems.add(_line(raw, "sheets") or _line(raw), "sheets must be a non-empty list")
        return []
    return [s for s in (_load_sheet(n, raw, path, sets, problems) for n in sheets_node) if s is not None]


def load_criteria(directory: Path, catalogue: Catalogue, *, check_groups: bool = True) -> CriteriaSets:
    """Load and fully validate every criteria set under `directory` (one folder per set).

    All problems of all files are reported together as one DefinitionError. With `check_groups`
    false (the shipped sets used for a folder of definitions that has none), product groups are not
    checked against `catalogue`, whose groups may differ."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DefinitionError([(str(directory), None, "no criteria folder")])
    items: list[tuple[str, int | None, str]] = []
    folders = sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))
    for stray in sorted(directory.glob("*.yaml")):
        items.append((str(stray), None, "criteria files belong in a folder per set (criteria/<set>/<group>.yaml)"))
    sets = _load_sets(folders, items)
    sheets: dict[str, Sheet] = {}
    for folder in folders:
        if folder.name not in sets:
            continue
        for path in sorted(folder.glob("*.yaml")):
            if path.name == SET_FILE:
                continue
            problems = _Problems(str(path))
            try:
                loaded = _load_sheet_file(path, folder.name, sets, catalogue, check_groups, problems)
            except DefinitionError as exc:
                items.extend(exc.problems)
                continue
            items.extend(problems.items)
            for sheet in loaded:
                clash = _clash(sheet, sheets)
                if clash:
                    items.append((str(path), sheet.line, clash))
                else:
                    sheets[sheet.key] = sheet
    if check_groups:
        items.extend(_missing_groups(sets, sheets, catalogue))
    if items:
        raise DefinitionError(items)
    return CriteriaSets(sets=sets, sheets=sheets, directory=str(directory))


def _load_sets(folders: list[Path], items: list[tuple[str, int | None, str]]) -> dict[str, CriteriaSet]:
    sets: dict[str, CriteriaSet] = {}
    for folder in folders:
        if not (folder / SET_FILE).exists():
            items.append((str(folder), None, f"a criteria set folder needs a {SET_FILE}"))
            continue
        problems = _Problems(str(folder / SET_FILE))
        try:
            loaded = _load_set(folder / SET_FILE, folder.name, problems)
        except DefinitionError as exc:
            items.extend(exc.problems)
            continue
        items.extend(problems.items)
        if loaded is not None:
            sets[loaded.key] = loaded
    for s in sets.values():
        if s.uses is not None and s.uses not in sets:
            known = ", ".join(sets)
            items.append((s.path, s.uses_line, f"uses names unknown criteria set {s.uses!r} (known: {known})"))
    return sets


def _clash(sheet: Sheet, sheets: dict[str, Sheet]) -> str | None:
    """Why `sheet` cannot join the loaded ones: the same key, or the same set, group, sub-group and kind."""
    if sheet.key in sheets:
        other = sheets[sheet.key]
        return f"sheet {sheet.key} is also defined in {other.path}:{other.line}"
    ident = (sheet.set_key, sheet.group, sheet.subgroup, sheet.kind)
    for o in sheets.values():
        if (o.set_key, o.group, o.subgroup, o.kind) == ident:
            return f"sheet {sheet.key} is for the same group, sub-group and kind as {o.key} ({o.path}:{o.line})"
    return None


def _missing_groups(
    sets: dict[str, CriteriaSet], sheets: dict[str, Sheet], catalogue: Catalogue
) -> list[tuple[str, int | None, str]]:
    """Every catalogue product group needs a council sheet in every set. A set that uses another is
    covered by it: a group the used set lacks is reported once, in the used set."""
    out = []
    for s in sets.values():
        if s.uses is not None:
            continue
        covered = {x.group for x in sheets.values() if x.set_key == s.key and x.kind == "council" and x.group}
        for group in catalogue.product_groups:
            if group not in covered:
                out.append((s.path, s.line, f"criteria set {s.key}: product group {group!r} has no council sheet"))
    return out


def uncovered_workflows(criteria: CriteriaSets, definitions: list) -> list[tuple[str, int | None, str]]:
    """Definitions whose key has no criteria set of the same name (their councils would have no sheet)."""
    return [
        (d.path, None, f"workflow {d.key} has no criteria set: add {criteria.directory}/{d.key}/{SET_FILE}")
        for d in definitions
        if d.key not in criteria.sets
    ]


__all__ = [
    "CRITERIA_DIR",
    "KINDS",
    "SET_FILE",
    "TRANSCRIBED",
    "CriteriaSet",
    "CriteriaSets",
    "Criterion",
    "MandatoryRule",
    "Option",
    "Part",
    "Sheet",
    "SheetScore",
    "load_criteria",
    "to_decimal",
    "uncovered_workflows",
]
