from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)

from ..forms import DataRequired, Form, NumberField, NumberRange, Optional, finite, length, required


def optional_int(value: object) -> int | None:
    """A select's value as a whole number; the empty first choice ("— Chọn chủ thể —") is None, so
    `required()` answers "This field is required." instead of a coercion error."""
    if value in ("", None):
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(_l("Not a valid choice.")) from None


class ProductForm(Form):
    name = StringField(_l("Product name"), validators=[required(), length(200)])
    product_group = SelectField(_l("Product group"), validators=[required()])
    subgroup = StringField(_l("Sub-group"), validators=[Optional(), length(100)])
    # the service answers for a producer out of reach (404) or a role that may not (403): not the form
    # an empty first choice: a person picks the producer, nothing is preselected (issue #11)
    producer_id = SelectField(_l("Producer"), coerce=optional_int, validators=[required()], validate_choice=False)
    # defaults to the definition in force today (or the province's choice); the form's hint says why
    workflow_key = SelectField(_l("Rules"), validators=[required()])
    expected_version = HiddenField()
    submit = SubmitField(_l("Save"))


class ProducerForm(Form):
    name = StringField(_l("Producer name"), validators=[required(), length(200)])
    kind = SelectField(_l("Kind of producer"), validators=[required()])
    tax_code = StringField(_l("Tax code"), validators=[Optional(), length(14)])
    commune_id = SelectField(_l("Commune"), coerce=int, validators=[required()], validate_choice=False)
    submit = SubmitField(_l("Save"))


class AdvanceForm(Form):
    trigger = HiddenField(validators=[required()])
    expected_version = IntegerField(validators=[required()])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), length(4000)])
    score = NumberField(
        _l("Score (0–100)"),
        places=None,
        validators=[
            Optional(),
            finite(_l("The score must be between 0 and 100.")),
            NumberRange(min=0, max=100, message=_l("The score must be between 0 and 100.")),
        ],
    )
    confirm = BooleanField(
        _l("I confirm this step"), validators=[DataRequired(message=_l("Tick the box to confirm this step."))]
    )
    submit = SubmitField(_l("Confirm"))
