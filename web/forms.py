"""Shared form pieces: validators whose messages are in the catalogue (WTForms has no Vietnamese)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, NumberRange, Optional

__all__ = [
    "DataRequired", "Email", "EqualTo", "InputRequired", "Length", "NumberRange", "Optional",
    "choices", "length", "required",
]


def required() -> DataRequired:
    return DataRequired(message=_l("This field is required."))


def length(max: int, min: int = -1) -> Length:  # noqa: A002
    if min > 0:
        return Length(min=min, max=max, message=_l("Enter between %(min)d and %(max)d characters.", min=min, max=max))
    return Length(max=max, message=_l("Enter at most %(max)d characters.", max=max))


def choices(pairs) -> list:  # noqa: ANN001
    """(value, label) pairs as SelectField choices (WTForms 3.3 deprecates bare tuples)."""
    try:
        from wtforms import SelectChoice
    except ImportError:  # WTForms < 3.3
        return [(v, str(label)) for v, label in pairs]
    return [SelectChoice(v, label) for v, label in pairs]
