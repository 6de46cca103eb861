"""API routes of plans and their progress reports (issue #12): /api/v1/plans, /plans/{id}/report.

The same services as the web page and the CLI (`services.plans`, `reports.progress`) with the caller's
Actor: a plan outside the caller's area is 404, and a report covers the caller's own area within the
plan's unless `org` names one inside both (a commune officer's report is its commune's). The schemas
are declared here, next to the views, so this module stays the only one the plans add to the API.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime

from flask import Response

from ocop_workflow.models import Plan, PlanTarget
from ocop_workflow.reports import progress
from ocop_workflow.reports.indicators import BY_KEY, INDICATORS
from ocop_workflow.reports.model import STATUSES, PlanReport, plain
from ocop_workflow.reports.plans import BODIES, COMPARISONS, MAX_YEAR, MIN_YEAR
from ocop_workflow.services import directory, plans

from ..context import db_session, state
from . import schemas as S
from .auth import api_actor
from .routes import ID, bp, reply, ser
from .serialize import report_day
from .spec import Param, ok, operation, parse_query

# --- schemas (inline: JSON Schema 2020-12) ---------------------------------------------------------------
DATE = {"type": "string", "format": "date"}
NUM = {"type": "number"}
NUM_OR_NULL = S.nullable(NUM)
INDICATOR = {"type": "string", "enum": [i.key for i in INDICATORS]}
ORG = S.ref("OrganisationRef")
TARGET = S.obj(
    {
        "id": S.ID,
        "position": S.INT,
        "indicator": INDICATOR,
        "indicator_label": S.STR,
        "unit": {"type": "string", "enum": ["count", "share", "ratio"]},
        "organisation": ORG,
        "year": S.nullable(S.INT),
        "comparison": {"type": "string", "enum": list(COMPARISONS)},
        "low": NUM_OR_NULL,
        "high": NUM_OR_NULL,
        "note": S.nullable(S.STR),
    }
)
PLAN = S.obj(
    {
        "id": S.ID,
        "name": S.STR,
        "basis_number": S.STR,
        "basis_date": DATE,
        "organisation": ORG,
        "body": {"type": "string", "enum": list(BODIES)},
        "first_year": S.INT,
        "last_year": S.INT,
        "targets": {"type": "array", "items": TARGET},
    }
)
WINDOW = S.obj({"start": DATE, "end": DATE, "full_end": DATE, "closed": S.BOOL})
FIGURE = S.obj({"value": NUM_OR_NULL, "numerator": NUM, "denominator": NUM_OR_NULL})
RESULT = S.obj(
    {
        "target_id": S.ID,
        "position": S.INT,
        "indicator": INDICATOR,
        "indicator_label": S.STR,
        "organisation": ORG,
        "year": S.nullable(S.INT),
        "comparison": {"type": "string", "enum": list(COMPARISONS)},
        "low": NUM_OR_NULL,
        "high": NUM_OR_NULL,
        "window": WINDOW,
        "figure": FIGURE,
        "status": {"type": "string", "enum": list(STATUSES)},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "note": S.nullable(S.STR),
    }
)
REPORT = S.obj(
    {
        "plan_id": S.ID,
        "plan_name": S.STR,
        "basis_number": S.STR,
        "basis_date": DATE,
        "owner": ORG,
        "body": S.STR,
        "first_year": S.INT,
        "last_year": S.INT,
        "at": DATE,
        "organisation": ORG,
        "computed_at": S.DATETIME,
        "targets": {"type": "array", "items": RESULT},
        "units": {
            "type": "array",
            "items": S.obj(
                {
                    "organisation": ORG,
                    "progress": NUM,
                    "behind": S.INT,
                    "results": {"type": "array", "items": RESULT},
                }
            ),
        },
        "yearly": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": S.obj({"year": S.INT, "figure": FIGURE})},
        },
    }
)
MEMBER = S.obj(
    {
        "kind": S.STR,
        "id": S.ID,
        "name": S.STR,
        "commune": S.nullable(S.STR),
        "district": S.nullable(S.STR),
        "on": S.nullable(DATE),
        "detail": S.nullable(S.STR),
        "value": NUM_OR_NULL,
        "link": S.nullable(S.STR),
    }
)
AT = Param(
    "at",
    {"type": "string", "maxLength": 10},  # checked by _at(), which says "use YYYY-MM-DD" and the range
    f"the report's day, YYYY-MM-DD within {MIN_YEAR}–{MAX_YEAR} (empty or absent: today)",
    "2024-06-30",
)
ORG_PARAM = Param(
    "org",
    {"type": "string", "pattern": r"^[A-Za-z0-9_-]{0,32}$"},
    "code of the area reported on (empty or absent: the caller's own area within the plan's)",
)
PLAN_PATH = {"plan_id": 1}


# --- JSON of the objects -----------------------------------------------------------------------------
def _target_json(t: PlanTarget) -> dict:
    out = ser()
    ind = BY_KEY[t.indicator]
    return {
        "id": t.id,
        "position": t.position,
        "indicator": t.indicator,
        "indicator_label": out.t(ind.label),
        "unit": ind.unit,
        "organisation": out.org(t.organisation),
        "year": t.year,
        "comparison": t.comparison,
        "low": t.low,
        "high": t.high,
        "note": t.note,
    }


def plan_json(p: Plan) -> dict:
    return {
        "id": p.id,
        "name": p.name,
        "basis_number": p.basis_number,
        "basis_date": p.basis_date.isoformat(),
        "organisation": ser().org(p.organisation),
        "body": p.body,
        "first_year": p.first_year,
        "last_year": p.last_year,
        "targets": [_target_json(t) for t in p.targets],
    }


def _result_json(result: dict) -> dict:
    result["indicator_label"] = ser().t(BY_KEY[result["indicator"]].label)
    window = result["window"]
    window["closed"] = window["end"] >= window["full_end"]
    return result


def report_json(report: PlanReport) -> dict:
    body = plain(asdict(report))
    for t in body["targets"]:
        _result_json(t)
    for u in body["units"]:
        for t in u["results"]:
            _result_json(t)
    return body


def _at() -> tuple[date, str | None]:
    """The report's day and area from the query: `at` (`serialize.report_day`: empty is today), `org` a code
    (empty: the caller's own area)."""
    args = parse_query()
    day = report_day(args.get("at"), datetime.now(state().tz).date())
    return day, (args.get("org") or "").strip() or None


# --- routes --------------------------------------------------------------------------------------------
@operation(
    bp,
    "/plans",
    "GET",
    tag="plans",
    summary="The plans whose owner's area and the caller's overlap (and that the caller may read reports of), "
    "with their targets",
    replies={200: ok("The plans", S.obj({"items": {"type": "array", "items": PLAN}}))},
)
def list_plans_view() -> Response:
    return reply({"items": [plan_json(p) for p in plans.visible_plans(db_session(), api_actor())]})


@operation(
    bp,
    f"/plans/<{ID}:plan_id>",
    "GET",
    tag="plans",
    path_examples=PLAN_PATH,
    summary="A plan and its targets",
    replies={200: ok("The plan", PLAN)},
    errors=(404,),
)
def plan_view(plan_id: int) -> Response:
    return reply(plan_json(plans.get_visible_plan(db_session(), api_actor(), plan_id)))


@operation(
    bp,
    f"/plans/<{ID}:plan_id>/report",
    "GET",
    tag="plans",
    path_examples=PLAN_PATH,
    query=[AT, ORG_PARAM],
    summary="The plan's progress report as of a day in an area: each target's figure, status (met, on_track, "
    "behind, not_started, no_data), progress and window; the units one level down ranked; each indicator per year",
    description="`org` outside the caller's area or the plan's is 404; a day that does not exist is 422.",
    replies={200: ok("The report", REPORT)},
    errors=(403, 404),
)
def plan_report_view(plan_id: int) -> Response:
    day, org_code = _at()
    s, actor = db_session(), api_actor()
    found = plans.get_visible_plan(s, actor, plan_id)
    org = directory.get_org(s, org_code) if org_code else None
    return reply(report_json(progress.plan_report(s, actor, found, day, org)))


@operation(
    bp,
    f"/plans/<{ID}:plan_id>/targets/<{ID}:target_id>/members",
    "GET",
    tag="plans",
    path_examples={"plan_id": 1, "target_id": 1},
    query=[AT, ORG_PARAM],
    summary="What is behind one target's figure in the area (the drill-down): products, units, value chains "
    "or training sessions, with the day each counted",
    replies={200: ok("The members", S.obj({"items": {"type": "array", "items": MEMBER}}))},
    errors=(403, 404),
)
def plan_members_view(plan_id: int, target_id: int) -> Response:
    day, org_code = _at()
    s, actor = db_session(), api_actor()
    found = plans.get_visible_plan(s, actor, plan_id)
    org = directory.get_org(s, org_code) if org_code else None
    items = []
    for m in progress.members(s, actor, found, target_id, day, org):
        item = plain(asdict(m))
        item["link"] = f"/api/v1/products/{m.id}" if m.kind == "product" else None
        items.append(item)
    return reply({"items": items})
