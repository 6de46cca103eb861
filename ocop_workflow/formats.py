"""Numbers, sizes and dates as people read and type them, in Vietnamese and English.

One module for the web, the CLI, the exports and the messages, so that a score reads "85,5" everywhere in
Vietnamese and "85.5" in English, a file "17,2 KB", a time "25/11/2026 13:30" in both languages (the
programme's dates are Vietnamese dates; an English reader in Vietnam reads them day first as well).
Numbers go through Babel's CLDR data (grouping and decimal symbols per locale) rather than
`str.replace(".", ",")`, which breaks on thousands.

Typed numbers (`parse_number`) accept the decimal comma and the decimal point, nothing looser: "85,5" and
"85.5" are 85.5; "1_0", "+5", "1e3", "8 5" and "1,234.5" are refused, because Python's own `Decimal`/`float`
read the first three and a form silently storing 10 for "1_0" is worse than a clear error.
"""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_decimal

__all__ = ["format_date", "format_datetime", "format_number", "format_size", "parse_number"]

_NUMBER = re.compile(r"-?\d{1,15}(?:[.,]\d{1,15})?")


def _babel_locale(locale: str | None) -> str:
    return "en" if (locale or "vi").startswith("en") else "vi"


def parse_number(text: object, *, allow_negative: bool = False) -> Decimal | None:
    """The number a person typed ("85,5", "85.5", " 70 "), or None when it is not one plain decimal number."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, int | Decimal):
        value = Decimal(text)
        return value if value.is_finite() and (allow_negative or value >= 0) else None
    if isinstance(text, float):
        value = Decimal(repr(text))
        return value if value.is_finite() and (allow_negative or value >= 0) else None
    raw = str(text).strip()
    if not _NUMBER.fullmatch(raw) or (raw.startswith("-") and not allow_negative):
        return None
    return Decimal(raw.replace(",", "."))


def format_number(value: object, locale: str | None = "vi", places: int | None = None) -> str:
    """`value` with the locale's symbols: 85,5 / 1.234 (vi), 85.5 / 1,234 (en).

    `places=None` shows as many decimals as the value has (never "85,0" for 85.0: trailing zeros go);
    `places=2` always two, rounded half-up (a council average: 63,42). None and "" read "—"."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(value)
    try:
        d = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else str(value))
    except ArithmeticError:
        return str(value)
    if not d.is_finite():
        return str(value)
    if places is None:
        d = d.normalize() if d != d.to_integral_value() else d.quantize(Decimal(1))
        decimals = max(0, -d.as_tuple().exponent)
        pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    else:
        d = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(d, format=pattern, locale=_babel_locale(locale), decimal_quantization=False)


def format_size(nbytes: int | None, locale: str | None = "vi") -> str:
    """A file size: "850 B", "17,2 KB", "3,4 MB" (one decimal above a kilobyte; units of 1,024)."""
    if nbytes is None:
        return "—"
    size, unit = float(nbytes), "B"
    for next_unit in ("KB", "MB", "GB"):
        if size < 1024:
            break
        size, unit = size / 1024, next_unit
    return f"{format_number(size, locale, 0 if unit == 'B' else 1)} {unit}"


def format_date(value: date | datetime | None, locale: str | None = "vi", tz: tzinfo | None = None) -> str:
    """dd/mm/yyyy in both languages (a datetime is first converted to `tz`, the programme's zone)."""
    if value is None:
        return ""
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime | None, locale: str | None = "vi", tz: tzinfo | None = None) -> str:
    """dd/mm/yyyy HH:mm in both languages, in the programme's zone `tz`."""
    if value is None:
        return ""
    if tz is not None:
        value = value.astimezone(tz)
    return value.strftime("%d/%m/%Y %H:%M")
