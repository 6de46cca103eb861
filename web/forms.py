"""Shared form pieces: validators whose messages are in the catalogue (WTForms has no Vietnamese)."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
)

from ocop_workflow.formats import parse_number

__all__ = [
    "Form",
    "NumberField",
    "DataRequired",
    "Email",
    "EqualTo",
    "InputRequired",
    "Length",
    "NumberRange",
    "Optional",
    "choices",
    "finite",
    "length",
    "required",
]


def required() -> DataRequired:
    return DataRequired(message=_l("This field is required."))


def length(max: int, min: int = -1) -> Length:
    if min > 0:
        return Length(min=min, max=max, message=_l("Enter between %(min)d and %(max)d characters.", min=min, max=max))
    return Length(max=max, message=_l("Enter at most %(max)d characters.", max=max))


def finite(message: str) -> Callable:
    """A number field must hold a finite number: 'NaN', 'sNaN' and 'Infinity' parse as decimals, but no
    comparison (NumberRange) or conversion to float accepts them. Stops the chain with `message`."""

    def check(form, field) -> None:
        data = field.data
        if (
            data is not None
            and isinstance(data, Decimal | float)
            and not (data.is_finite() if isinstance(data, Decimal) else math.isfinite(data))
        ):
            raise StopValidation(str(message))

    return check


def choices(pairs) -> list:
    """(value, label) pairs as SelectField choices (WTForms 3.3 deprecates bare tuples)."""
    try:
        from wtforms import SelectChoice
    except ImportError:  # WTForms < 3.3
        return [(v, str(label)) for v, label in pairs]
    return [SelectChoice(v, label) for v, label in pairs]


# WTForms' own messages, which it ships without Vietnamese: listed here so that they are in the
# catalogue and a tampered or stale form answers in the user's language.
WTFORMS_MESSAGES = (
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
    _l("Not a valid date value."),
)


class _CatalogueTranslations:
    """WTForms' translations object, answering from this app's catalogue."""

    def gettext(self, string: str) -> str:
        return gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return ngettext(singular, plural, n)


class Form(FlaskForm):
    """The base of every form of the app: CSRF from Flask-WTF, built-in messages from our catalogue."""

    class Meta:
        def get_translations(self, form):
            return _CatalogueTranslations()


class NumberField(DecimalField):
    """A decimal number as people type it: "85,5" (Vietnamese decimal comma) and "85.5" are both 85.5.

    WTForms' DecimalField reads "85,5" as invalid and Python's Decimal reads "1_0" as 10 and "+5" as 5; the
    rule is `ocop_workflow.formats.parse_number` (also the CLI's), so a score means the same wherever it is
    typed. Render it as a text input with `inputmode="decimal"` (a number input rejects the comma in
    some browsers)."""

    def process_formdata(self, valuelist: list) -> None:
        if not valuelist or valuelist[0] in (None, ""):
            self.data = None
            return
        value = parse_number(valuelist[0])
        if value is None:
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))
        self.data = value

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else format(self.data, "f")
