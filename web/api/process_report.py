"""GET /api/v1/reports/process: the process figures (issue #12, item 3) as JSON, the same numbers as the
page `/reports/process` and `ocop report process` (`reports.process.report_json`)."""

from __future__ import annotations

from datetime import datetime

from flask import Response

from ocop_workflow.errors import InvalidData
from ocop_workflow.reports.process import MIN_YEAR, period_problem, process_figures, report_json
from ocop_workflow.services import directory

from ..context import db_session, registry, state
from .auth import api_actor
from .problems import api_locale
from .routes import bp, reply
from .serialize import report_day
from .spec import Param, ok, operation, parse_query

_ROW = {
    "type": "object",
    "properties": {
        "stage": {"type": "string"},
        "stage_label": {"type": "string"},
        "level": {"type": "string"},
        "level_label": {"type": "string"},
        "sla": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "days": {"type": "integer"},
                    "calendar": {"type": "string", "enum": ["calendar", "working"]},
                },
            },
        },
        "ended": {"type": "integer", "description": "stays that ended in the year, up to the as-of day"},
        "with_sla": {"type": "integer", "description": "… of them in a state with a time limit"},
        "within_sla": {"type": "integer", "description": "… of those, finished within the limit"},
        "share_within_sla": {"type": ["number", "null"], "description": "per cent, one decimal"},
        "median_working_days": {"type": ["number", "null"]},
        "open": {"type": "integer", "description": "stays still open at the end of the as-of day"},
        "late": {"type": "integer", "description": "… of them past their limit"},
    },
}
REPORT = {
    "type": "object",
    "properties": {
        "at": {"type": "string", "format": "date"},
        "year": {"type": "integer"},
        "organisation": {
            "anyOf": [
                {
                    "type": "object",
                    "properties": {"code": {"type": "string"}, "name": {"type": "string"}, "level": {"type": "string"}},
                },
                {"type": "null"},
            ]
        },
        "years": {"type": "array", "items": {"type": "integer"}},
        "rows": {"type": "array", "items": _ROW},
    },
}


@operation(
    bp,
    "/reports/process",
    "GET",
    tag="reports",
    summary="Process figures per stage and level: stays ended in a year, share within the time limit, median "
    "working days, stays still open and late as of a day",
    description="The caller's area (a commune user: its commune), or `org`'s when the caller may read reports "
    "there (`read_reports`); an organisation outside the caller's area is 404. History after the as-of day is "
    "ignored, so a past day always gives the same figures. A year or day of the wrong shape is 400; a day that "
    "does not exist, a day after today or a year after the as-of day's is 422.",
    query=[
        Param("year", {"type": "integer", "minimum": MIN_YEAR, "maximum": 9999}, "the year the stays ended", 2025),
        Param("org", {"type": "string", "maxLength": 40}, "an organisation's code (empty: your area)", "219"),
        Param("at", {"type": "string", "maxLength": 10}, "as of this day, YYYY-MM-DD (empty: today)"),
    ],
    replies={200: ok("The figures", REPORT)},
    errors=(403, 404, 422),
)
def process_report_view() -> Response:
    args = parse_query()
    today = datetime.now(state().tz).date()
    at = report_day(args.get("at"), today)
    problem = period_problem(at, args.get("year"), today)
    if problem is not None:
        raise InvalidData(problem, field="year" if "year" in args and at <= today else "at")
    s = db_session()
    code = (args.get("org") or "").strip()
    org = directory.get_org(s, code) if code else None  # empty: the caller's own area, as in the plans API
    report = process_figures(
        s, registry(), api_actor(), at, year=args.get("year"), org=org, tz=state().settings.timezone
    )
    return reply(report_json(report, api_locale()))
