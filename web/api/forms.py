from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, SubmitField

from ocop_workflow.services.tokens import MAX_NAME

from ..forms import Form, length, required

LIFETIMES = (30, 90, 365, 0)  # days; 0: until revoked


class TokenForm(Form):
    name = StringField(_l("What the token is for"), validators=[required(), length(MAX_NAME)])
    expires = SelectField(_l("Valid for"), coerce=int, default=90)
    submit = SubmitField(_l("Create token"))


class RevokeForm(Form):
    submit = SubmitField(_l("Revoke"))
