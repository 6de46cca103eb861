from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SubmitField

from ..forms import Form, required


class EmailModeForm(Form):
    mode = RadioField(_l("Reminder e-mails"), validators=[required()])
    submit = SubmitField(_l("Save"))


class MarkReadForm(Form):
    submit = SubmitField(_l("Mark all as read"))


class OpenForm(Form):
    """One button per notification: opening it marks it read and follows its link."""

    submit = SubmitField(_l("Open"))
