"""The start page (what waits for me, by stage; counts by stage, area, star, group and year) and the inbox.

Counts come from services.dashboard (one GROUP BY each, scoped like the lists) and every count links to
the product list filtered the same way, so a number on this page is what the list then shows.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from ocop_workflow.services import dashboard as counts
from ocop_workflow.services.listing import ProductFilter, list_products, waiting_keys

from ..context import actor, db_session, registry, state
from ..inputs import int_arg

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@login_required
def index():
    s, who, reg = db_session(), actor(), registry()
    tz = state().settings.timezone
    everything, waiting = counts.stage_counts(s, reg, who)
    counted = counts.census(s, who)
    # the home page's next products: the most overdue first, as in the inbox
    recent = list_products(s, reg, who, ProductFilter(waiting=True, sort="deadline", tz=tz), per_page=10, rows=True)
    return render_template(
        "dashboard/index.html",
        waiting=waiting,
        everything=everything,
        recent=recent,
        waiting_total=sum(c.count for c in waiting),
        total=sum(c.count for c in everything),
        area=counts.area_counts(s, who, int_arg("org"), counted),
        stars=counts.star_counts(s, who, counted),
        groups=counts.group_counts(reg, counted),
        years=counts.rating_year_counts(s, who),
    )


@bp.route("/inbox")
@login_required
def inbox():
    who, reg = actor(), registry()
    levels = [reg.catalogue.levels[lv] for lv in sorted({m.organisation.level for m in who.memberships})]
    flt = ProductFilter(waiting=True, page=int_arg("page", 1), sort="deadline", tz=state().settings.timezone)
    page = list_products(db_session(), reg, who, flt, rows=True)
    return render_template(
        "dashboard/inbox.html", page=page, levels=levels, has_waiting_states=bool(waiting_keys(reg, who))
    )
