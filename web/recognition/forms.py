"""The forms of the decision and certificate pages. The ticked products of a draft are not a WTForms
field: their choices are the products awaiting the organisation's decision, which the service checks."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField

from ..forms import Form, Optional, length, required
from ..rounds.forms import VnDateField, date_required


class DraftForm(Form):
    organisation_id = SelectField(_l("Organisation"), coerce=int, validators=[required()], validate_choice=False)
    round_id = HiddenField()
    title = StringField(_l("Title"), validators=[Optional(), length(300)])
    submit = SubmitField(_l("Draft the decision"))


class SignForm(Form):
    number = StringField(_l("Decision number"), validators=[required(), length(40)])
    signed_on = VnDateField(_l("Date signed"), validators=[date_required()])
    signer_title = StringField(_l("Signer's title"), validators=[Optional(), length(200)])
    expected_version = HiddenField()
    submit = SubmitField(_l("Sign the decision"))


class RevokeForm(Form):
    reason = TextAreaField(_l("Reason for revocation"), validators=[required(), length(2000)])
    decision_number = StringField(_l("Revocation decision number"), validators=[required(), length(40)])
    revoked_on = VnDateField(_l("Revoked from"), validators=[Optional()])
    submit = SubmitField(_l("Revoke the certificate"))


class FormatForm(Form):
    format = StringField(_l("Certificate number format"), validators=[Optional(), length(80)])
    submit = SubmitField(_l("Save the format"))


class VersionForm(Form):
    """A button that needs its CSRF token and the version of the draft it was made from."""

    expected_version = HiddenField()
