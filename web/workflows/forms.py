"""The province's choice of the rules its new products follow (issue #11)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SubmitField

from ..forms import Form


class DefaultWorkflowForm(Form):
    # choices: "" (the rules in force each day) and every loaded definition, set by the view
    workflow_key = SelectField(_l("Rules for the province's new products"))
    submit = SubmitField(_l("Save"))
