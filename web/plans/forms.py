"""The plan page's one form: loading a plan from its file (YAML or the XLSX template)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField

from ..forms import Form


class PlanUploadForm(Form):
    file = FileField(
        _l("Plan file (YAML or the XLSX template)"),
        validators=[FileRequired(message=_l("Choose a file to upload."))],
    )
    submit = SubmitField(_l("Load the plan"))
