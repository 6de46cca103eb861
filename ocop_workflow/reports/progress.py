"""A plan's progress report, computed from the dated records and the products' history.

`plan_report` answers "where does this plan stand in this area as of this day": each target of the area
with its figure and status, the units one level down ranked by progress, and each indicator's figure per
plan year. `members` lists what is behind one target's figure (the drill-down), `figure` computes one
indicator for one window and organisation.

Each indicator's rule is written once, in `reports.timelines`, as the items (products, records, units)
that enter its figure: the drill-down lists them and `figure` sums them. A plan report asks for tens of
figures over windows of whole years; it sums the same rules as SQL aggregates grouped by commune and year
(`reports.sql`, a fixed number of queries whatever the size of the province) and rolls the organisation
tree up in Python. tests/test_report_figures.py holds both ways to the same numbers and to hand counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from ..engine import Registry, get_registry
from ..errors import NotFound
from ..i18n import Text
from ..models import Organisation, Plan, PlanTarget
from ..services.access import Actor
from ..services.authz import can, require
from .facts import Facts, OrgRow
from .indicators import BY_KEY, COUNT, SHARE, STOCK
from .model import (
    BEHIND,
    MET,
    NO_DATA,
    NOT_STARTED,
    ON_TRACK,
    Figure,
    Member,
    OrgRef,
    PlanReport,
    TargetResult,
    UnitProgress,
    Window,
    YearPoint,
)
from .sql import FLOW_KEYS, STOCK_KEYS, Aggregates
from .timelines import PER_WINDOW, TIMELINES, Item, Timeline
from .windows import elapsed_share, period_window, started, year_window

READ_REPORTS = "read_reports"
assert set(TIMELINES) | set(PER_WINDOW) == set(BY_KEY), "every indicator has its rule"


class _Engine:
    """One area's facts and, per indicator, its items (computed once per report); the figures of every
    window and sub-area are sums of the same items as the drill-down's."""

    def __init__(self, facts: Facts, at: date, days: list[date] | None = None, since: date = date(1970, 1, 1)) -> None:
        """`days`: the windows' last days a report will ask for; given, the product indicators come from
        SQL aggregates (`reports.sql`) for windows that begin on 1 January and end on 31 December or on
        `at` (a plan's); otherwise, and for any other window, from the items one by one."""
        self.facts, self.at, self.days = facts, at, days
        self.since = since
        self._aggregates = Aggregates(facts, at, self.since) if days is not None else None
        self._timelines: dict[str, Timeline] = {}
        self._per_window: dict[tuple[str, Window], list[Item]] = {}
        self._sums: dict[tuple[str, Window], dict[int, tuple[float, float]]] = {}

    def _timeline(self, key: str) -> Timeline:
        timeline = self._timelines.get(key)
        if timeline is None:
            build, stock = TIMELINES[key]
            timeline = self._timelines[key] = Timeline(build(self.facts, self.at), stock)
        return timeline

    def hits(self, key: str, window: Window) -> list[Item]:
        if key in PER_WINDOW:
            cache_key = (key, window)
            if cache_key not in self._per_window:
                self._per_window[cache_key] = PER_WINDOW[key](self.facts, window, self.at)
            return self._per_window[cache_key]
        return self._timeline(key).hits(window)

    def _per_org(self, key: str, window: Window) -> dict[int, tuple[float, float]]:
        cache_key = (key, window)
        sums = self._sums.get(cache_key)
        if sums is None:
            if not started(window):
                sums = {}
            elif self._aggregates is not None and key in STOCK_KEYS:
                sums = self._aggregates.stock(key, window.end, self.days or [])
            elif self._aggregates is not None and key in FLOW_KEYS and self._aligned(window):
                sums = self._aggregates.flow(key, window.start.year, window.end.year)
            elif key in PER_WINDOW:
                acc: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
                for item in self.hits(key, window):
                    acc[item.org_id][0] += item.num
                    acc[item.org_id][1] += item.den or 0
                sums = {org_id: (n, d) for org_id, (n, d) in acc.items()}
            else:
                sums = self._timeline(key).per_org(window)
            self._sums[cache_key] = sums
        return sums

    def _aligned(self, window: Window) -> bool:
        """A window of whole years, cut at the as-of day: what the per-year aggregates can sum exactly."""
        start, end = window.start, window.end
        whole_years = (start.month, start.day) == (1, 1) and (end == self.at or (end.month, end.day) == (12, 31))
        return whole_years and start >= self.since

    def figure(self, key: str, window: Window, area: OrgRow) -> Figure:
        num = den = 0.0
        orgs = self.facts.orgs
        for org_id, (n, d) in self._per_org(key, window).items():
            if orgs[org_id].path.startswith(area.path):
                num += n
                den += d
        return _make_figure(BY_KEY[key].unit, num, den)


def _make_figure(unit: str, num: float, den: float) -> Figure:
    if unit == COUNT:
        return Figure(num, num)
    if not den:
        return Figure(None, num, den)
    return Figure(num / den * 100 if unit == SHARE else num / den, num, den)


def figure(session: Session, indicator_key: str, window: Window, org: Organisation, at: date | None = None) -> Figure:
    """One indicator's figure for one window in `org`'s area, for no actor (callers scope first).
    `at`: the report's day, for the rules that read "by the report's day" (default: the window's end)."""
    if indicator_key not in BY_KEY:
        raise NotFound(Text(f"Không có chỉ tiêu {indicator_key}", f"No indicator {indicator_key}"))
    facts = Facts(session, get_registry(), org.path, org.path)
    area = facts.orgs[org.id]
    return _Engine(facts, at or window.end).figure(indicator_key, window, area)


# --- statuses --------------------------------------------------------------------------------------------
def status_and_progress(
    indicator_key: str, comparison: str, low: float | None, high: float | None, window: Window, fig: Figure
) -> tuple[str, float]:
    """A target's status and its progress bar (0..1), by the rules of `reports.model`."""
    ind = BY_KEY[indicator_key]
    if not started(window):
        return NOT_STARTED, 0.0
    if fig.value is None:
        return NO_DATA, 0.0
    v, closed = fig.value, window.closed
    lo = low or 0.0
    if comparison == "at_most":
        ceiling = high if high is not None else lo
        if v <= ceiling:
            return (MET if closed else ON_TRACK), 1.0
        return BEHIND, (ceiling / v if v else 0.0)
    if v >= lo:  # at_least, share_at_least, and between: a plan's range ("10–20 a year") is an ambition,
        return MET, 1.0  # its floor meets it; above its ceiling is more than planned, not a delay
        return MET, 1.0
    progress = min(v / lo, 1.0) if lo > 0 else 1.0
    if closed:
        return BEHIND, progress
    if ind.unit == COUNT and ind.timing != STOCK and v >= elapsed_share(window) * lo:
        return ON_TRACK, progress
    return BEHIND, progress


# --- scope -----------------------------------------------------------------------------------------------
def _not_found(plan: Plan) -> NotFound:
    return NotFound(Text(f"Không tìm thấy kế hoạch #{plan.id} ở đơn vị này", f"Plan #{plan.id} not found in this unit"))


def report_organisation(session: Session, actor: Actor, plan: Plan, org: Organisation | None) -> Organisation:
    """The area a report covers: `org` when the actor sees it and it lies in the plan owner's subtree;
    by default the actor's own area within the plan's (the highest one, for several memberships; the
    plan's owner for the system actor). NotFound outside; PermissionDenied without `read_reports`."""
    owner = plan.organisation
    if org is not None:
        if not owner.contains(org) or not actor.can_see(org):
            raise _not_found(plan)
        require(actor, READ_REPORTS, org)
        return org
    if actor.system:
        return owner
    candidates: list[Organisation] = []
    for m in actor.memberships:
        if actor.acts_for_role(m):
            continue
        if m.organisation.contains(owner):
            candidates.append(owner)
        elif owner.contains(m.organisation):
            candidates.append(session.get(Organisation, m.organisation_id))
    if not candidates:
        raise _not_found(plan)
    allowed = [o for o in candidates if can(actor, READ_REPORTS, o)]
    if not allowed:
        require(actor, READ_REPORTS, candidates[0])
    return min(allowed, key=lambda o: (len(o.path), o.path))


# --- targets per area ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Applied:
    """A target as it applies to one area: its own, or an ancestor's divided evenly (counts only)."""

    target: PlanTarget
    window: Window
    low: float | None
    high: float | None


def _period(plan: Plan, at: date) -> Window:
    return period_window(plan.first_year, plan.last_year, at)


def _window(plan: Plan, target: PlanTarget, at: date) -> Window:
    return _period(plan, at) if target.year is None else year_window(target.year, at)


def _chain(facts: Facts, org: OrgRow, top_id: int) -> list[OrgRow]:
    """The units from `top_id` down to `org`, both included (top first)."""
    out = [org]
    while out[-1].id != top_id and out[-1].parent_id in facts.orgs:
        out.append(facts.orgs[out[-1].parent_id])
    return out[::-1]


def _applied(plan: Plan, facts: Facts, org: OrgRow, at: date) -> list[_Applied]:
    """The targets of `org`: for each (indicator, year) the target of the nearest organisation on the way
    from the plan's owner down to `org`; a count target of an organisation above is divided evenly among
    the units below it existing on the window's last day, level by level (shares and ratios unchanged)."""
    chain = _chain(facts, org, plan.organisation_id)
    depth = {o.id: i for i, o in enumerate(chain)}
    chosen: dict[tuple[str, int | None], PlanTarget] = {}
    for target in plan.targets:
        if target.organisation_id not in depth:
            continue
        key = (target.indicator, target.year)
        known = chosen.get(key)
        if known is None or depth[target.organisation_id] > depth[known.organisation_id]:
            chosen[key] = target
    # in the plan's order of indicators, each indicator's years together (a unit's own target written at the
    # end of the file stands with its indicator), the whole period after the years
    first = {}
    for target in sorted(plan.targets, key=lambda t: (t.position, t.id)):
        first.setdefault(target.indicator, target.position)
    out = []
    order = sorted(chosen.values(), key=lambda t: (first[t.indicator], t.year or 10_000, t.position, t.id))
    for target in order:
        window = _window(plan, target, at)
        low, high = target.low, target.high
        if BY_KEY[target.indicator].unit == COUNT:
            for parent in chain[depth[target.organisation_id] : -1]:
                n = max(1, sum(1 for c in facts.children.get(parent.id, []) if c.exists_on(window.end)))
                low = low / n if low is not None else None
                high = high / n if high is not None else None
        out.append(_Applied(target, window, low, high))
    return out


def _ref(o: OrgRow | Organisation) -> OrgRef:
    return OrgRef(o.id, o.code, o.name, o.level)


def _result(engine: _Engine, applied: _Applied, area: OrgRow) -> TargetResult:
    t = applied.target
    fig = engine.figure(t.indicator, applied.window, area)
    status, progress = status_and_progress(t.indicator, t.comparison, applied.low, applied.high, applied.window, fig)
    return TargetResult(
        target_id=t.id,
        position=t.position,
        indicator=t.indicator,
        organisation=_ref(engine.facts.orgs[t.organisation_id]),
        year=t.year,
        comparison=t.comparison,
        low=applied.low,
        high=applied.high,
        window=applied.window,
        figure=fig,
        status=status,
        progress=progress,
        note=t.note,
    )


def _unit_progress(results: list[TargetResult]) -> float:
    """Mean progress of the targets that have a figure (not started and no-data ones left out)."""
    counted = [r.progress for r in results if r.status not in (NOT_STARTED, NO_DATA)]
    return sum(counted) / len(counted) if counted else 0.0


def _facts_for(session: Session, plan: Plan, area: Organisation, registry: Registry | None) -> Facts:
    return Facts(session, registry or get_registry(), area.path, plan.organisation.path)


def plan_report(
    session: Session, actor: Actor, plan: Plan, at: date, org: Organisation | None = None, *, registry=None
) -> PlanReport:
    """The plan's report for `org` (default: the actor's area within the plan's) as of `at`."""
    area_org = report_organisation(session, actor, plan, org)
    facts = _facts_for(session, plan, area_org, registry)
    years = range(plan.first_year, plan.last_year + 1)
    days = sorted({w.end for w in [*(year_window(y, at) for y in years), _period(plan, at)] if started(w)})
    engine = _Engine(facts, at, days, date(plan.first_year, 1, 1))
    area = facts.orgs[area_org.id]
    targets = [_result(engine, a, area) for a in _applied(plan, facts, area, at)]
    units = []
    for child in sorted(facts.children.get(area.id, []), key=lambda o: (o.name, o.code)):
        if not child.exists_on(at):
            continue
        results = [_result(engine, a, child) for a in _applied(plan, facts, child, at)]
        units.append(
            UnitProgress(_ref(child), results, _unit_progress(results), sum(1 for r in results if r.status == BEHIND))
        )
    units.sort(key=lambda u: (-u.progress, u.organisation.name, u.organisation.code))
    yearly: dict[str, list[YearPoint]] = {}
    for target in plan.targets:
        if target.indicator in yearly:
            continue
        yearly[target.indicator] = [
            YearPoint(y, engine.figure(target.indicator, year_window(y, at), area))
            for y in range(plan.first_year, min(plan.last_year, at.year) + 1)
        ]
    return PlanReport(
        plan_id=plan.id,
        plan_name=plan.name,
        basis_number=plan.basis_number,
        basis_date=plan.basis_date,
        owner=_ref(plan.organisation),
        body=plan.body,
        first_year=plan.first_year,
        last_year=plan.last_year,
        at=at,
        organisation=_ref(area),
        computed_at=datetime.now(UTC),
        targets=targets,
        units=units,
        yearly=yearly,
    )


# --- the drill-down --------------------------------------------------------------------------------------
def members(
    session: Session,
    actor: Actor,
    plan: Plan,
    target_id: int,
    at: date,
    org: Organisation | None = None,
    *,
    registry=None,
) -> list[Member]:
    """What is behind one target's figure in the area (the report's area within the target's own): the
    products, or the units, chains or training sessions; ordered by district, commune, name."""
    area_org = report_organisation(session, actor, plan, org)
    target = next((t for t in plan.targets if t.id == target_id), None)
    if target is None:
        raise NotFound(Text(f"Không có chỉ tiêu #{target_id} trong kế hoạch", f"No target #{target_id} in this plan"))
    if target.organisation.contains(area_org):
        area = area_org
    elif area_org.contains(target.organisation):
        area = target.organisation
    else:
        raise NotFound(Text(f"Không có chỉ tiêu #{target_id} ở đơn vị này", f"No target #{target_id} in this unit"))
    facts = _facts_for(session, plan, area, registry)
    engine = _Engine(facts, at)
    hits = [h for h in engine.hits(target.indicator, _window(plan, target, at)) if h.num]
    return _members(facts, hits)


def _place_names(facts: Facts, org_id: int) -> tuple[str | None, str | None]:
    """(commune, district) names of a unit: its own name at its level, its district above a commune."""
    org = facts.orgs[org_id]
    if org.level == "commune":
        parent = facts.orgs.get(org.parent_id) if org.parent_id is not None else None
        return org.name, (parent.name if parent is not None and parent.level == "district" else None)
    if org.level == "district":
        return None, org.name
    return None, None


def _members(facts: Facts, hits: list[Item]) -> list[Member]:
    names = facts.product_names([h.ref for h in hits if h.kind == "product"])
    out = []
    for h in hits:
        commune, district = _place_names(facts, h.org_id)
        name = names.get(h.ref, "") if h.kind == "product" else (h.name or "")
        on = h.on if h.on is not None or h.kind == "unit" else h.day
        out.append(Member(h.kind, h.ref, name, commune, district, on, h.detail, h.num))
    out.sort(key=lambda m: (m.district or "", m.commune or "", m.name, m.id))
    return out


__all__ = ["figure", "members", "plan_report", "report_organisation", "status_and_progress"]
