"""The small forms of the product page's "Support and market" section. Years and amounts are text
inputs: the service reads them as people type them ("1.250.000.000") and says what is wrong."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, SubmitField

from ..forms import Form, Optional, length, required
from ..rounds.forms import VnDateField, date_required


class SupportForm(Form):
    organisation_id = SelectField(_l("Supporting association unit"), coerce=int, validate_choice=False)
    officer = StringField(_l("Officer in charge (e-mail)"), validators=[Optional(), length(254)])
    started_on = VnDateField(_l("Supported since"), validators=[date_required()])
    note = StringField(_l("Note"), validators=[Optional(), length(1000)])
    submit = SubmitField(_l("Record the support"))


class EndSupportForm(Form):
    ended_on = VnDateField(_l("Support ended on"), validators=[date_required()])
    submit = SubmitField(_l("End the support"))


class ListingForm(Form):
    platform = SelectField(_l("E-commerce platform"), validators=[required()])
    url = StringField(_l("Listing address (URL)"), validators=[required(), length(500)])
    listed_on = VnDateField(_l("Listed since"), validators=[date_required()])
    submit = SubmitField(_l("Record the listing"))


class RemoveListingForm(Form):
    removed_on = VnDateField(_l("Removed on"), validators=[date_required()])
    submit = SubmitField(_l("Remove from the platform"))


class RevenueForm(Form):
    year = StringField(_l("Year"), validators=[required(), length(4)])
    amount = StringField(_l("Revenue (đồng)"), validators=[required(), length(32)])
    submit = SubmitField(_l("Declare the revenue"))
