"""The forms of the council and round pages. Answers of a score sheet are not a WTForms form: their
fields come from the criteria set, and the service checks every value against it."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.widgets import TextInput

from ..forms import Form, InputRequired, Optional, length, required

DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


class VnDateField(DateField):
    """A date typed as dd/mm/yyyy (Vietnamese offices' way); yyyy-mm-dd is accepted too. A text input:
    the browser's date picker shows and sends dates in its own locale's format."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=list(DATE_FORMATS), **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime("%d/%m/%Y") if self.data else ""

    def process_formdata(self, valuelist) -> None:
        if not valuelist or not " ".join(valuelist).strip():
            self.data = None
            return
        text = " ".join(valuelist).strip()
        for fmt in DATE_FORMATS:
            try:
                self.data = datetime.strptime(text, fmt).date()
                return
            except ValueError:
                continue
        self.data = None
        raise ValueError(gettext("Enter the date as dd/mm/yyyy."))


def date_required() -> InputRequired:
    """Required, without hiding the field's own "dd/mm/yyyy" message (DataRequired would)."""
    return InputRequired(message=_l("This field is required."))


class CouncilForm(Form):
    organisation_id = SelectField(_l("Organisation"), coerce=int, validators=[required()], validate_choice=False)
    name = StringField(_l("Council name"), validators=[required(), length(200)])
    decision_number = StringField(_l("Decision number"), validators=[required(), length(64)])
    decision_date = VnDateField(_l("Decision date"), validators=[date_required()])
    valid_from = VnDateField(_l("In force from"), validators=[Optional()])
    valid_until = VnDateField(_l("In force until"), validators=[Optional()])
    submit = SubmitField(_l("Set up the council"))


class MemberForm(Form):
    email = StringField(_l("E-mail"), validators=[required(), length(254)])
    position = SelectField(_l("Position"), validators=[required()])
    submit = SubmitField(_l("Seat on the council"))


class RemoveMemberForm(Form):
    email = HiddenField(validators=[required()])


class RoundForm(Form):
    name = StringField(_l("Round name"), validators=[required(), length(200)])
    meeting_date = VnDateField(_l("Meeting date"), validators=[date_required()])
    submit = SubmitField(_l("Create the round"))


class AddProductForm(Form):
    product_id = SelectField(_l("Product"), coerce=int, validators=[required()], validate_choice=False)
    submit = SubmitField(_l("Add to the round"))


class ActionForm(Form):
    """A button that only needs its CSRF token (open, close, remove)."""


class RecuseForm(Form):
    reason = TextAreaField(_l("Reason (conflict of interest)"), validators=[required(), length(1000)])
    submit = SubmitField(_l("Decline to score"))
