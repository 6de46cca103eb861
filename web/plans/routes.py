"""The plan pages (issue #12): the plans a reader may see, one plan's progress report as of a day for an
area, the products (or units, chains, sales points, sessions) behind one figure, and the report's files.

Views decide nothing: which plans and areas a reader sees is `services.plans` and `reports.progress`
(an area outside the reader's, or outside the plan's owner, is NotFound, so 404 like any other object
out of scope); the figures are the report engine's, the charts `reports.charts`, the files
`reports.files`. The page reads only (GET): the as-of day and the area are query parameters, so a
report is a link that can be sent, bookmarked and printed (web/static/print.css).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from ocop_workflow.errors import InvalidData, NotFound, PermissionDenied
from ocop_workflow.i18n import Text
from ocop_workflow.models import Organisation, Plan
from ocop_workflow.reports import charts
from ocop_workflow.reports.indicators import BY_KEY
from ocop_workflow.reports.model import BEHIND, MET, Member, PlanReport
from ocop_workflow.services.authz import can
from ocop_workflow.services.certificates import local_day
from ocop_workflow.services.listing import Page

from ..context import actor, db_session, locale
from ..errors import render_error
from ..inputs import int_arg
from .forms import PlanUploadForm

bp = Blueprint("plans", __name__, url_prefix="/plans")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DAY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")  # ASCII digits only (not ٣١/١٢/٢٠٢٤)
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
MEMBERS_PAGE = 100  # rows of a drill-down page: a province's figure can stand on 20,000 products (the files list all)


class BadDay(InvalidData):
    """The as-of day could not be read (the page answers 400 and shows the form again)."""


@bp.app_template_global()
def plans_nav() -> bool:
    """Whether the menu shows "Plans": the reader may read reports somewhere."""
    return current_user.is_authenticated and can(current_user.actor, "read_reports")


def parse_day(raw: str | None) -> date:
    """The as-of day of the query: dd/mm/yyyy as people write it (yyyy-mm-dd too, the API's and a date
    picker's form); today when absent. Anything else is a BadDay with the form's words."""
    raw = (raw or "").strip()
    if not raw:
        return local_day()
    match = _DAY.fullmatch(raw)
    parts = (match.group(3), match.group(2), match.group(1)) if match else None
    if parts is None and (iso := _ISO.fullmatch(raw)):
        parts = iso.groups()
    try:
        if parts is None:
            raise ValueError(raw)
        day = date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise BadDay(
            Text(
                f"Ngày báo cáo «{raw}» không hợp lệ: hãy nhập theo dạng ngày/tháng/năm, ví dụ 31/12/2024",
                f"The report date “{raw}” is not a valid date: write it as day/month/year, e.g. 31/12/2024",
            ),
            field="at",
        ) from None
    if not date(2000, 1, 1) <= day <= date(2100, 12, 31):
        raise BadDay(
            Text(
                f"Ngày báo cáo {day:%d/%m/%Y} nằm ngoài khoảng 2000–2100",
                f"The report date {day:%d/%m/%Y} lies outside 2000–2100",
            ),
            field="at",
        )
    return day


def _area(s, code: str | None) -> Organisation | None:
    """The organisation the query names (its code), or None for "the reader's own area". An unknown code is
    NotFound, like a code outside the reader's area (the report engine refuses those)."""
    code = (code or "").strip()
    if not code:
        return None
    org = s.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise NotFound(Text(f"Không có đơn vị mã {code}", f"No organisation has the code {code}"))
    return org


def area_choices(s, who, plan: Plan) -> list[Organisation]:
    """The areas the reader may pick for this plan: the organisations inside both the plan owner's subtree and
    the reader's area, in tree order (province, its districts, their communes)."""
    owner = plan.organisation
    rows = s.scalars(
        select(Organisation)
        .where(who.subtree(Organisation.id), Organisation.path.startswith(owner.path, autoescape=True))
        .where(Organisation.level.in_(("province", "district", "commune")))
        .order_by(Organisation.path)
    )
    return list(rows)


def _query(at: date, org_code: str | None) -> dict:
    args = {"at": at.strftime("%d/%m/%Y")}
    if org_code:
        args["org"] = org_code
    return args


def _file_name(report: PlanReport, extension: str) -> str:
    """A file name a reader recognises: "Bao-cao-tien-do-615-QD-UBND-Tinh-Bac-Giang-31-12-2024.xlsx" in its
    plain form, the same with diacritics in `filename*`."""
    basis = report.basis_number.replace("/", "-")
    return f"Báo cáo tiến độ {basis} {report.organisation.name} {report.at:%d-%m-%Y}.{extension}"


def _download(data: bytes, mimetype: str, name: str) -> Response:
    bare = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    bare = "".join(ch for ch in bare if not unicodedata.combining(ch))
    plain = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "-" for ch in bare) or "file"
    plain = re.sub("-{2,}", "-", plain)
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _report_or_form(plan: Plan):
    """Read the as-of day and area; a day that cannot be read answers 400 with the form again (today's
    report under it is not shown: a reader asked for another day)."""
    s, who = db_session(), actor()
    try:
        at = parse_day(request.args.get("at"))
    except BadDay as exc:
        page = render_template(
            "plans/bad_day.html",
            plan=plan,
            message=exc.message(locale()),
            raw=request.args.get("at", ""),
            org_code=request.args.get("org", ""),
            areas=area_choices(s, who, plan),
        )
        return None, (page, 400)
    return at, None


# --- pages ----------------------------------------------------------------------------------------------


def _index(form: PlanUploadForm | None = None, problems: list[str] | None = None, status: int = 200):
    from ocop_workflow.reports.progress import plan_report
    from ocop_workflow.services.plans import visible_plans

    s, who = db_session(), actor()
    if not can(who, "read_reports"):  # a producer's own account: no plans, no process figures
        abort(403)
    today = local_day()
    rows = []
    for plan in visible_plans(s, who):
        report = plan_report(s, who, plan, today)
        statuses = [t.status for t in report.targets]
        rows.append((plan, report, statuses.count(MET), statuses.count(BEHIND), len(statuses)))
    may_load = can(who, "manage_plans")
    if form is None and may_load:
        form = PlanUploadForm()
    return render_template(
        "plans/index.html", rows=rows, today=today, form=form if may_load else None, problems=problems or []
    ), status


@bp.route("")
@login_required
def index():
    return _index()


@bp.route("/load", methods=["POST"])
@login_required
def load():
    """Load a plan from its file: the same reader and checks as `ocop plan load` (every problem at once,
    with its line or cell), the same `manage_plans` right on the plan's owner. A refused file writes
    nothing and the page lists the problems (422)."""
    from ocop_workflow.reports.plans import PlanFileError, read_plan
    from ocop_workflow.services.plans import load_plan

    who = actor()
    if not can(who, "manage_plans"):
        abort(403)
    form = PlanUploadForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _index(form, status=422)
    upload = form.file.data
    data = upload.read()
    source = read_plan(data, upload.filename or "plan")
    try:
        plan = load_plan(db_session(), who, source)
    except PlanFileError as exc:
        db_session().rollback()
        return _index(form, [p.get(locale()) for p in exc.problems], status=422)
    except PermissionDenied as exc:  # a plan of a unit this reader does not keep plans for: say which, keep the form
        db_session().rollback()
        owner = Text(f"Đơn vị chủ trì {source.organisation}", f"Owner {source.organisation}").get(locale())
        return _index(form, [f"{upload.filename}: {owner}: {exc.message(locale())}"], status=403)
    flash(_("The plan “%(name)s” has been loaded with %(n)s targets.", name=plan.name, n=len(plan.targets)), "success")
    return redirect(url_for("plans.show", plan_id=plan.id), 303)


@bp.route("/template.xlsx")
@login_required
def template():
    """The empty XLSX layout a plan is written in (with the list of indicators and their rules)."""
    from ocop_workflow.reports.plans import write_plan_xlsx

    return _download(write_plan_xlsx(None, locale()), XLSX, _("plan-template") + ".xlsx")


@bp.route("/<int:plan_id>/plan.xlsx")
@login_required
def plan_file(plan_id: int):
    """A stored plan in the XLSX layout: to correct it and load it again."""
    from ocop_workflow.reports.plans import write_plan_xlsx
    from ocop_workflow.services.plans import get_visible_plan, source_of

    plan = get_visible_plan(db_session(), actor(), plan_id)
    name = f"{plan.basis_number.replace('/', '-')} {plan.name}"[:120]
    return _download(write_plan_xlsx(source_of(plan), locale()), XLSX, name + ".xlsx")


@bp.route("/<int:plan_id>")
@login_required
def show(plan_id: int):
    from ocop_workflow.reports.progress import plan_report
    from ocop_workflow.services.plans import get_visible_plan

    s, who = db_session(), actor()
    plan = get_visible_plan(s, who, plan_id)
    at, bad = _report_or_form(plan)
    if bad is not None:
        return bad
    org_code = (request.args.get("org") or "").strip() or None
    report = plan_report(s, who, plan, at, _area(s, org_code))
    loc = locale()
    bars = {t.target_id: Markup(charts.progress_bar(t, loc)) for t in report.targets}
    yearly = []
    for key, points in report.yearly.items():
        mine = [t for t in report.targets if t.indicator == key]  # the area's targets: one a year at most
        yearly.append((BY_KEY[key], Markup(charts.yearly_chart(key, points, mine, loc))))
    below = {"province": _("Districts"), "district": _("Communes")}.get(report.organisation.level, _("Units"))
    ranking = (
        Markup(charts.ranking_chart(report.units, _("%(units)s ranked by progress", units=below), loc))
        if report.units
        else None
    )
    used = list(dict.fromkeys(t.indicator for t in report.targets))
    return render_template(
        "plans/show.html",
        plan=plan,
        report=report,
        bars=bars,
        yearly=yearly,
        ranking=ranking,
        below=below,
        rules=[BY_KEY[k] for k in used if k in BY_KEY],
        areas=area_choices(s, who, plan),
        args=_query(at, org_code),
        at_text=at.strftime("%d/%m/%Y"),
        charts=charts,
        indicators=BY_KEY,
    )


@bp.route("/<int:plan_id>/targets/<int:target_id>")
@login_required
def target(plan_id: int, target_id: int):
    from ocop_workflow.reports.progress import members, plan_report
    from ocop_workflow.services.plans import get_visible_plan

    s, who = db_session(), actor()
    plan = get_visible_plan(s, who, plan_id)
    at, bad = _report_or_form(plan)
    if bad is not None:
        return bad
    org_code = (request.args.get("org") or "").strip() or None
    org = _area(s, org_code)
    report = plan_report(s, who, plan, at, org)
    result = next((t for t in report.targets if t.target_id == target_id), None)
    if result is None:
        raise NotFound(Text("Không có chỉ tiêu này trong kế hoạch", "The plan has no such target"))
    rows = members(s, who, plan, target_id, at, org)
    indicator = BY_KEY[result.indicator]
    pages = max(1, -(-len(rows) // MEMBERS_PAGE))
    number = min(int_arg("page", 1) or 1, pages)
    shown = rows[(number - 1) * MEMBERS_PAGE : number * MEMBERS_PAGE]
    args = _query(at, org_code)
    return render_template(
        "plans/target.html",
        plan=plan,
        report=report,
        result=result,
        indicator=indicator,
        page=Page([(m, member_detail(result.indicator, m)) for m in shown], len(rows), number, MEMBERS_PAGE),
        value_label=value_label(result.indicator),
        total=sum(m.value or 0 for m in rows),
        bar=Markup(charts.progress_bar(result, locale())),
        args=args,
        pager_args={"plan_id": plan.id, "target_id": target_id, **args},
        charts=charts,
    )


def value_label(indicator_key: str) -> str | None:
    """The heading of the drill-down's "how much each adds" column, for the indicators where a row adds more
    than one: a session's attendees of the role, a product's revenue of the year after recognition. None
    elsewhere (each row adds one, so the number of rows is the figure)."""
    if BY_KEY[indicator_key].counts == "people":
        return _("People")
    if indicator_key == "revenue_growth":
        return _("Revenue of the year after recognition (VND)")
    return None


def member_detail(indicator_key: str, member: Member) -> str:
    """A row's details as a reader writes them (the same words as the Excel and CSV files)."""
    from ocop_workflow.reports.files import member_detail as readable

    return readable(indicator_key, member.detail, locale())


# --- files ----------------------------------------------------------------------------------------------


def _files(plan_id: int):
    """The report's files' content (`services.plans.report_files`), or a BadDay for an unreadable day."""
    from ocop_workflow.services.plans import get_visible_plan, report_files

    s, who = db_session(), actor()
    plan = get_visible_plan(s, who, plan_id)
    at = parse_day(request.args.get("at"))
    return report_files(s, who, plan, at, _area(s, request.args.get("org")))


@bp.route("/<int:plan_id>/report.xlsx")
@login_required
def xlsx(plan_id: int):
    from ocop_workflow.reports.files import build_xlsx

    try:
        found = _files(plan_id)
    except BadDay as exc:
        return render_error(400, exc.message(locale()))
    return _download(build_xlsx(found, locale()), XLSX, _file_name(found.report, "xlsx"))


@bp.route("/<int:plan_id>/report-csv.zip")
@login_required
def csv_zip(plan_id: int):
    from ocop_workflow.reports.files import build_csv_zip

    try:
        found = _files(plan_id)
    except BadDay as exc:
        return render_error(400, exc.message(locale()))
    return _download(build_csv_zip(found, locale()), "application/zip", _file_name(found.report, "zip"))
