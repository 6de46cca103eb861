"""The start page ("waiting for me" with counts per state) and the council inbox."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from ocop_workflow.services.listing import ProductFilter, list_products, state_counts, waiting_keys

from ..context import actor, db_session, registry
from ..inputs import int_arg

bp = Blueprint("dashboard", __name__)


def _state_label(workflow_key: str, state: str):
    return registry().latest(workflow_key).state_label(state)


@bp.route("/")
@login_required
def index():
    s, who, reg = db_session(), actor(), registry()
    waiting = [(k, _state_label(k, st), st, n) for k, st, n in state_counts(s, who, waiting=reg)]
    everything = [(k, _state_label(k, st), st, n) for k, st, n in state_counts(s, who)]
    recent = list_products(s, reg, who, ProductFilter(waiting=True), per_page=10, rows=True)
    return render_template(
        "dashboard/index.html",
        waiting=waiting,
        everything=everything,
        recent=recent,
        waiting_total=sum(n for *_, n in waiting),
        total=sum(n for *_, n in everything),
    )


@bp.route("/inbox")
@login_required
def inbox():
    who, reg = actor(), registry()
    levels = [reg.catalogue.levels[lv] for lv in sorted({m.organisation.level for m in who.memberships})]
    flt = ProductFilter(waiting=True, page=int_arg("page", 1))
    page = list_products(db_session(), reg, who, flt, rows=True)
    return render_template(
        "dashboard/inbox.html", page=page, levels=levels, has_waiting_states=bool(waiting_keys(reg, who))
    )
