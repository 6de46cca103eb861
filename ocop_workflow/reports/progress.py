"""A plan's progress report, computed from the dated records and the products' history.

`plan_report` answers "where does this plan stand in this area as of this day": each target of the area
with its figure and status, the units one level down ranked by progress, and each indicator's figure per
plan year. `members` lists what is behind one target's figure (the drill-down), `figure` computes one
indicator for one window and organisation. All three read the same `Facts` and the same rules
(`_HITS`), so a figure and its members always agree.

Every indicator is evaluated as a list of *hits*: one per product, unit record or unit of the area that
enters the figure, with the organisation it counts in, the day that made it count and what it adds to
the numerator (and denominator, for shares and ratios). A figure for any sub-area is the sum of the
hits under it, so the units table and the yearly chart cost no more queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from ..engine import Registry, get_registry
from ..errors import NotFound
from ..i18n import Text
from ..models import Organisation, Plan, PlanTarget
from ..services.access import Actor
from ..services.authz import can, require
from .facts import CertRow, Facts, OrgRow
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
from .windows import elapsed_share, end_of_day_utc, period_window, started, year_window

READ_REPORTS = "read_reports"
TRAINEE_ROLE = {
    "trained_association_officers": "association_officer",
    "trained_cooperative_managers": "cooperative_manager",
}


@dataclass(frozen=True, slots=True)
class Hit:
    """One thing entering a figure: counted in `org_id` (a product's commune, a record's unit)."""

    org_id: int
    kind: str  # product, chain, unit, training
    ref: int  # its id (a product's, a record's, a unit's)
    on: date | None
    num: float
    den: float | None = None
    detail: str | None = None
    name: str | None = None  # for records and units (products are named from the database)


# --- the indicators' rules -------------------------------------------------------------------------------
def _first_cert(certs: list[CertRow], min_star: int) -> CertRow | None:
    return next((c for c in certs if c.star >= min_star), None)


def _cert_detail(cert: CertRow) -> str:
    return f"{cert.star}★ · {cert.code}"


def _in(day: date | None, w: Window) -> bool:
    return day is not None and w.start <= day <= w.end


def _new_supported(f: Facts, w: Window, at: date) -> list[Hit]:
    """Idea accepted in the window, with a support that started by the as-of day and had not ended
    before the idea was accepted (a support that was over before the idea does not make it supported)."""
    out = []
    supports = f.supports
    for pid, (commune, day) in f.idea_accepted.items():
        if not _in(day, w) or pid not in supports:
            continue
        spans = [s for s in supports[pid][1] if s.start <= at and (s.end is None or s.end >= day)]
        if spans:
            out.append(Hit(commune, "product", pid, day, 1, detail=min(s.start for s in spans).isoformat()))
    return out


def _reached(min_star: int) -> Callable[[Facts, Window, date], list[Hit]]:
    def hits(f: Facts, w: Window, at: date) -> list[Hit]:
        out = []
        for pid, certs in f.certificates.items():
            cert = _first_cert(certs, min_star)
            if cert is not None and _in(cert.issued_on, w):
                out.append(Hit(cert.commune_id, "product", pid, cert.issued_on, 1, detail=_cert_detail(cert)))
        return out

    return hits


def _registered_3_star_share(f: Facts, w: Window, at: date) -> list[Hit]:
    out = []
    certificates = f.certificates
    for pid, (commune, day) in f.first_submitted.items():
        if not _in(day, w):
            continue
        cert = _first_cert(certificates.get(pid, []), 3)
        if cert is not None and cert.issued_on <= at:
            out.append(Hit(commune, "product", pid, cert.issued_on, 1, 1, _cert_detail(cert)))
        else:
            out.append(Hit(commune, "product", pid, day, 0, 1))
    return out


def _upgraded(f: Facts, w: Window, at: date) -> list[Hit]:
    out = []
    for pid, certs in f.certificates.items():
        later = next((c for c in certs[1:] if _in(c.issued_on, w)), None)
        if later is not None:
            out.append(Hit(later.commune_id, "product", pid, later.issued_on, 1, detail=_cert_detail(later)))
    return out


def _valid_cert(certs: list[CertRow], day: date) -> CertRow | None:
    valid = [c for c in certs if c.valid_on(day)]
    return max(valid, key=lambda c: (c.star, c.issued_on, c.id)) if valid else None


def _recognised(f: Facts, w: Window, at: date) -> list[Hit]:
    if not started(w):
        return []
    out = []
    for pid, certs in f.certificates.items():
        cert = _valid_cert(certs, w.end)
        if cert is not None:
            out.append(Hit(cert.commune_id, "product", pid, cert.issued_on, 1, detail=_cert_detail(cert)))
    return out


def _on_ecommerce(f: Facts, w: Window, at: date) -> list[Hit]:
    if not started(w):
        return []
    out = []
    certificates = f.certificates
    for pid, (commune, spans) in f.listings.items():
        listed = sorted((s for s in spans if s.holds_on(w.end)), key=lambda s: (s.start, s.label))
        cert = _valid_cert(certificates.get(pid, []), w.end) if listed else None
        if cert is not None:
            on = max(cert.issued_on, listed[0].start)
            out.append(Hit(commune, "product", pid, on, 1, detail=", ".join(sorted({s.label for s in listed}))))
    return out


def _material_linked(f: Facts, w: Window, at: date) -> list[Hit]:
    if not started(w):
        return []
    out = []
    for pid, (commune, spans) in f.material_links.items():
        linked = sorted((s for s in spans if s.holds_on(w.end)), key=lambda s: (s.start, s.label))
        if linked:
            out.append(Hit(commune, "product", pid, linked[0].start, 1, detail=", ".join(s.label for s in linked)))
    return out


def _chains_started(f: Facts, w: Window, at: date) -> list[Hit]:
    return [Hit(c.organisation_id, "chain", c.id, c.start, 1, name=c.name) for c in f.chains if _in(c.start, w)]


def _chains_working(f: Facts, w: Window, at: date) -> list[Hit]:
    if not started(w):
        return []
    day = w.end
    return [
        Hit(c.organisation_id, "chain", c.id, c.middle, 1, name=c.name)
        for c in f.chains
        if c.middle is not None and c.middle <= day and (c.end is None or c.end > day)
    ]


def _units_of_level(f: Facts, level: str, day: date) -> list[OrgRow]:
    return [o for o in f.orgs.values() if o.level == level and o.path.startswith(f.area_path) and o.exists_on(day)]


def _sales_point_districts(f: Facts, w: Window, at: date) -> list[Hit]:
    if not started(w):
        return []
    day = w.end
    open_points = [p for p in f.sales_points if p.start <= day and (p.end is None or p.end > day)]
    out = []
    for district in _units_of_level(f, "district", day):
        points = sorted(
            (p for p in open_points if f.orgs[p.organisation_id].path.startswith(district.path)),
            key=lambda p: (p.start, p.name),
        )
        if points:
            detail = ", ".join(p.name for p in points)
            out.append(Hit(district.id, "unit", district.id, points[0].start, 1, 1, detail, district.name))
        else:
            out.append(Hit(district.id, "unit", district.id, None, 0, 1, None, district.name))
    return out


def _revenue_growth(f: Facts, w: Window, at: date) -> list[Hit]:
    declared_by = end_of_day_utc(at)
    revenues = f.revenues
    out = []
    for pid, certs in f.certificates.items():
        cert = _first_cert(certs, 3)
        if cert is None or not _in(cert.issued_on, w) or pid not in revenues:
            continue
        year = cert.issued_on.year
        before, after = revenues[pid].get(year - 1), revenues[pid].get(year + 1)
        if before is None or after is None:
            continue
        if _aware(before.declared_at) >= declared_by or _aware(after.declared_at) >= declared_by:
            continue
        detail = _cert_detail(cert)
        out.append(Hit(cert.commune_id, "product", pid, cert.issued_on, after.amount, before.amount, detail))
    return out


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _trained(key: str) -> Callable[[Facts, Window, date], list[Hit]]:
    role = TRAINEE_ROLE[key]

    def hits(f: Facts, w: Window, at: date) -> list[Hit]:
        return [
            Hit(t.organisation_id, "training", t.id, t.start, t.people[role], name=t.name)
            for t in f.trainings
            if t.kind == "training" and _in(t.start, w) and t.people.get(role)
        ]

    return hits


def _outreach_communes(f: Facts, w: Window, at: date) -> list[Hit]:
    if not started(w):
        return []
    first: dict[int, tuple[date, str]] = {}
    for t in f.trainings:
        if t.kind == "outreach" and _in(t.start, w):
            known = first.get(t.organisation_id)
            if known is None or (t.start, t.name) < known:
                first[t.organisation_id] = (t.start, t.name)
    out = []
    for commune in _units_of_level(f, "commune", w.end):
        held = first.get(commune.id)
        if held is not None:
            out.append(Hit(commune.id, "unit", commune.id, held[0], 1, 1, held[1], commune.name))
        else:
            out.append(Hit(commune.id, "unit", commune.id, None, 0, 1, None, commune.name))
    return out


_HITS: dict[str, Callable[[Facts, Window, date], list[Hit]]] = {
    "new_supported": _new_supported,
    "reached_3_star": _reached(3),
    "reached_4_star": _reached(4),
    "registered_3_star_share": _registered_3_star_share,
    "upgraded": _upgraded,
    "recognised": _recognised,
    "on_ecommerce": _on_ecommerce,
    "material_linked": _material_linked,
    "value_chains_started": _chains_started,
    "value_chains_working": _chains_working,
    "sales_point_districts": _sales_point_districts,
    "revenue_growth": _revenue_growth,
    "trained_association_officers": _trained("trained_association_officers"),
    "trained_cooperative_managers": _trained("trained_cooperative_managers"),
    "outreach_communes": _outreach_communes,
}
assert set(_HITS) == set(BY_KEY), "every indicator has its rule"


# --- figures ---------------------------------------------------------------------------------------------
class _Engine:
    """The facts of one area and the hits of each (indicator, window) computed once."""

    def __init__(self, facts: Facts, at: date) -> None:
        self.facts, self.at = facts, at
        self._hits: dict[tuple[str, Window], list[Hit]] = {}
        self._sums: dict[tuple[str, Window], dict[int, list[float]]] = {}

    def hits(self, key: str, window: Window) -> list[Hit]:
        cache_key = (key, window)
        if cache_key not in self._hits:
            self._hits[cache_key] = _HITS[key](self.facts, window, self.at)
        return self._hits[cache_key]

    def figure(self, key: str, window: Window, area: OrgRow) -> Figure:
        cache_key = (key, window)
        sums = self._sums.get(cache_key)
        if sums is None:
            sums = defaultdict(lambda: [0.0, 0.0])
            for hit in self.hits(key, window):
                acc = sums[hit.org_id]
                acc[0] += hit.num
                acc[1] += hit.den or 0
            self._sums[cache_key] = sums
        num = den = 0.0
        orgs = self.facts.orgs
        for org_id, (n, d) in sums.items():
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
    if indicator_key not in _HITS:
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
    if comparison == "between":
        ceiling = high if high is not None else float("inf")
        if v > ceiling:
            return BEHIND, ceiling / v
        if v >= lo:
            return (MET if closed else ON_TRACK), 1.0
    elif v >= lo:  # at_least, share_at_least
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


def _window(plan: Plan, target: PlanTarget, at: date) -> Window:
    if target.year is None:
        return period_window(plan.first_year, plan.last_year, at)
    return year_window(target.year, at)


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
    out = []
    for target in sorted(chosen.values(), key=lambda t: (t.position, t.id)):
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
    engine = _Engine(facts, at)
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


def _members(facts: Facts, hits: list[Hit]) -> list[Member]:
    names = facts.product_names([h.ref for h in hits if h.kind == "product"])
    out = []
    for h in hits:
        commune, district = _place_names(facts, h.org_id)
        name = names.get(h.ref, "") if h.kind == "product" else (h.name or "")
        out.append(Member(h.kind, h.ref, name, commune, district, h.on, h.detail, h.num))
    out.sort(key=lambda m: (m.district or "", m.commune or "", m.name, m.id))
    return out


__all__ = ["figure", "members", "plan_report", "report_organisation", "status_and_progress"]
