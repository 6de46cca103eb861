"""/reports/process: per stage and level, the stays that ended in a year, the share finished within the time
limit, the median working days, and the stays still open and late, as of a day (`reports.process`).

The page decides nothing: the area, the right to read reports and the figures come from the core, so the
page, `ocop report process` and `GET /api/v1/reports/process` agree. Bad input is answered before any
reading: a year or day that is not one (or out of range) is 400, an organisation outside the reader's
area 404 (as an unknown one).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import login_required

from ocop_workflow.reports.process import period_problem, process_figures
from ocop_workflow.services import directory
from ocop_workflow.services.listing import organisations_in_scope

from ..context import actor, db_session, locale, registry, state
from ..plans.routes import BadDay, parse_day

bp = Blueprint("process", __name__)

_YEAR = re.compile(r"\d{4}")


@bp.route("/reports/process")
@login_required
def index():
    today = datetime.now(state().tz).date()
    raw_at, raw_year, code = (request.args.get(k, "").strip() for k in ("at", "year", "org"))
    at, year, error = _period(raw_at, raw_year, today)
    s, who = db_session(), actor()
    org = directory.get_org(s, code) if code else None  # unknown: NotFound, 404
    report = process_figures(s, registry(), who, at, year=year, org=org, tz=state().settings.timezone)
    years = sorted({*report.years, report.year, at.year}, reverse=True)
    areas = organisations_in_scope(s, who)
    page = render_template("process/index.html", report=report, years=years, areas=areas, today=today, error=error)
    return page, (400 if error else 200)


def _period(raw_at: str, raw_year: str, today: date) -> tuple[date, int | None, str | None]:
    """The as-of day (DD/MM/YYYY or YYYY-MM-DD, as on the plan pages) and the year asked for; on a day or
    year that cannot be used, today's figures with the reason, so the reader keeps the form (400)."""
    try:
        at = parse_day(raw_at) if raw_at else today
    except BadDay as exc:
        return today, None, exc.message(locale())
    if raw_year and not _YEAR.fullmatch(raw_year):
        return today, None, _("“%(value)s” is not a year.", value=raw_year)
    year = int(raw_year) if raw_year else None
    problem = period_problem(at, year, today)
    if problem is not None:
        return today, None, problem.get(locale())
    return at, year, None
