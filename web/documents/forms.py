from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, SubmitField

from ..forms import Form, required


class UploadForm(Form):
    doc_type = SelectField(_l("Document type"), validators=[required()])
    file = FileField(
        _l("File (PDF, JPEG, PNG, DOCX or XLSX)"), validators=[FileRequired(message=_l("Choose a file to upload."))]
    )
    submit = SubmitField(_l("Upload"))
