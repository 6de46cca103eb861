from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField

from ocop_workflow.passwords import MIN_LENGTH

from ..forms import Form, choices, length, required


class UserForm(Form):
    email = EmailField(_l("E-mail"), validators=[required(), length(254)])
    name = StringField(_l("Full name"), validators=[required(), length(200)])
    password = PasswordField(_l("Initial password"), validators=[required(), length(200, MIN_LENGTH)])
    locale = SelectField(_l("Language"), choices=choices([("vi", "Tiếng Việt"), ("en", "English")]))
    organisation_id = SelectField(_l("Organisation"), coerce=int, validators=[required()])
    role = SelectField(_l("Role"), validators=[required()])
    submit = SubmitField(_l("Create the user"))


class MembershipForm(Form):
    organisation_id = SelectField(_l("Organisation"), coerce=int, validators=[required()])
    role = SelectField(_l("Role"), validators=[required()])
    submit = SubmitField(_l("Give the role"))


class ActiveForm(Form):
    submit = SubmitField(_l("Save"))


class RetryForm(Form):
    submit = SubmitField(_l("Send again"))
