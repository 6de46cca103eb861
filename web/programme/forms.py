"""The forms of the programme pages. A training's attendance is one box per trainee role of the catalogue,
read by the view (the roles are data); the service checks every number. A size in hectares is text here:
the service reads it as people type it ("1.250,5") and answers with the rule's own message."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField

from ..forms import Form, Optional, length, required
from ..rounds.forms import VnDateField, date_required


class IdListField(SelectMultipleField):
    """Several ids picked from a list. WTForms' own refusal of a value that is not a number ("Invalid
    choice(s): one or more data inputs could not be coerced.") is English only; a stale or tampered
    form gets this one, in the reader's language."""

    def process_formdata(self, valuelist: list) -> None:
        try:
            self.data = [int(x) for x in valuelist]
        except (ValueError, TypeError) as exc:
            self.data = []
            raise ValueError(
                _("Choose from the list: “%(value)s” is not one of its entries.", value=_bad(valuelist))
            ) from exc


def _bad(values: list) -> str:
    """The first value typed that is not an id (shortened: it is shown back)."""
    for value in values:
        try:
            int(value)
        except (ValueError, TypeError):
            return str(value)[:40]
    return ""


class AreaForm(Form):
    commune_id = SelectField(_l("Commune"), coerce=int, validators=[required()], validate_choice=False)
    name = StringField(_l("Name"), validators=[required(), length(200)])
    area_ha = StringField(_l("Area (ha)"), validators=[Optional(), length(40)])
    growing_code = StringField(_l("Growing-area code"), validators=[Optional(), length(40)])
    submit = SubmitField(_l("Record the area"))


class AreaEditForm(Form):
    name = StringField(_l("Name"), validators=[required(), length(200)])
    area_ha = StringField(_l("Area (ha)"), validators=[Optional(), length(40)])
    growing_code = StringField(_l("Growing-area code"), validators=[Optional(), length(40)])


class LinkForm(Form):
    product_id = SelectField(_l("Product"), coerce=int, validators=[required()], validate_choice=False)
    linked_on = VnDateField(_l("Linked on"), validators=[date_required()])


class DayForm(Form):
    """One day: a link's end, a chain working from or stopped on, a sales point's closing."""

    day = VnDateField(_l("Date"), validators=[date_required()])


class ChainForm(Form):
    organisation_id = SelectField(_l("Unit"), coerce=int, validators=[required()], validate_choice=False)
    name = StringField(_l("Name"), validators=[required(), length(200)])
    lead_producer_id = SelectField(_l("Lead producer"), coerce=int, validators=[Optional()], validate_choice=False)
    lead_name = StringField(_l("Lead (when not a registered producer)"), validators=[Optional(), length(200)])
    members = IdListField(_l("Member producers"), coerce=int, validate_choice=False)
    products = IdListField(_l("Products"), coerce=int, validate_choice=False)
    started_on = VnDateField(_l("Started on"), validators=[date_required()])
    submit = SubmitField(_l("Record the value chain"))


class SalesPointForm(Form):
    organisation_id = SelectField(_l("Unit"), coerce=int, validators=[required()], validate_choice=False)
    name = StringField(_l("Name"), validators=[required(), length(200)])
    address = StringField(_l("Address"), validators=[required(), length(300)])
    opened_on = VnDateField(_l("Opened on"), validators=[date_required()])
    submit = SubmitField(_l("Record the sales point"))


class TrainingForm(Form):
    organisation_id = SelectField(_l("Unit"), coerce=int, validators=[required()], validate_choice=False)
    kind = SelectField(_l("Kind"), validators=[required()])
    held_on = VnDateField(_l("Held on"), validators=[date_required()])
    topic = StringField(_l("Topic"), validators=[required(), length(300)])
    submit = SubmitField(_l("Record the session"))
