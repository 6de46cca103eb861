from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import Optional

from ocop_workflow.passwords import MIN_LENGTH

from ..forms import Form, choices, length, required


def _optional_int(value: object) -> int | None:
    return int(value) if value not in (None, "", "None") else None


class UserForm(Form):
    email = EmailField(_l("E-mail"), validators=[required(), length(254)])
    name = StringField(_l("Full name"), validators=[required(), length(200)])
    password = PasswordField(_l("Initial password"), validators=[required(), length(200, MIN_LENGTH)])
    locale = SelectField(_l("Language"), choices=choices([("vi", "Tiếng Việt"), ("en", "English")]))
    organisation_id = SelectField(_l("Organisation"), coerce=int, validators=[required()])
    role = SelectField(_l("Role"), validators=[required()])
    producer_id = SelectField(
        _l("Producer the account acts for (producer accounts only)"), coerce=_optional_int, validators=[Optional()]
    )
    submit = SubmitField(_l("Create the user"))


class MembershipForm(Form):
    organisation_id = SelectField(_l("Organisation"), coerce=int, validators=[required()])
    role = SelectField(_l("Role"), validators=[required()])
    producer_id = SelectField(
        _l("Producer the account acts for (producer accounts only)"), coerce=_optional_int, validators=[Optional()]
    )
    submit = SubmitField(_l("Give the role"))


class ActiveForm(Form):
    submit = SubmitField(_l("Save"))


class RetryForm(Form):
    submit = SubmitField(_l("Send again"))
