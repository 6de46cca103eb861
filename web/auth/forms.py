from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SubmitField

from ocop_workflow.passwords import MIN_LENGTH

from ..forms import EqualTo, Form, length, required


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[required(), length(254)])
    password = PasswordField(_l("Password"), validators=[required(), length(200)])
    remember = BooleanField(_l("Keep me logged in on this device"))
    submit = SubmitField(_l("Log in"))


class PasswordForm(Form):
    current = PasswordField(_l("Current password"), validators=[required()])
    new = PasswordField(_l("New password"), validators=[required(), length(200, MIN_LENGTH)])
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[required(), EqualTo("new", message=_l("The two passwords differ."))]
    )
    revoke_tokens = BooleanField(_l("Also revoke all my API tokens"))
    submit = SubmitField(_l("Change password"))
