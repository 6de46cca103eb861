"""Plans and their targets as data (issue #12): who sees a plan, loading one from a file, deleting one.

A plan is visible to a reader whose area and the plan owner's subtree overlap (a commune officer sees
the province's plan, reported for its commune; a province officer sees a district's plan) and who may
`read_reports` there. Out of that, a plan is *not found*. Loading needs `manage_plans` on the owner
(the roles of the owner's own level, like councils); loading a plan whose organisation and name exist
replaces that plan's fields and targets, all or nothing.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from ..errors import NotFound
from ..i18n import Text
from ..models import Organisation, Plan, PlanTarget, Producer, Product
from ..reports import progress
from ..reports.files import ReportFiles
from ..reports.plans import PlanFileError, PlanSource, Problem, TargetSpec
from ..validation import valid_id
from .access import Actor
from .authz import require


def _ancestors(path: str) -> list[str]:
    """'/VN/P/D1/' -> ['/VN/', '/VN/P/', '/VN/P/D1/']: the paths of a unit and the units above it."""
    codes = [c for c in path.split("/") if c]
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


def _reader_paths(actor: Actor) -> list[str]:
    """The organisations where the actor may read reports (producer accounts excluded)."""
    roles = actor.policy.actions["read_reports"].roles
    return sorted({m.organisation.path for m in actor.memberships if m.role in roles and not actor.acts_for_role(m)})


def _visible(actor: Actor):
    """A SQL condition on Plan: its owner lies under one of the reader's units or above one of them."""
    if actor.system:
        return None
    paths = _reader_paths(actor)
    if not paths:
        return Plan.id.is_(None)
    above = sorted({a for p in paths for a in _ancestors(p)})
    owner = select(Organisation.id).where(
        or_(Organisation.path.in_(above), *[Organisation.path.startswith(p, autoescape=True) for p in paths])
    )
    return Plan.organisation_id.in_(owner)


def visible_plans(session: Session, actor: Actor) -> list[Plan]:
    """The plans the actor may read, newest period first, with their owners and targets loaded."""
    stmt = (
        select(Plan)
        .options(selectinload(Plan.organisation), selectinload(Plan.targets).selectinload(PlanTarget.organisation))
        .order_by(Plan.last_year.desc(), Plan.first_year.desc(), Plan.id)
    )
    condition = _visible(actor)
    if condition is not None:
        stmt = stmt.where(condition)
    return list(session.scalars(stmt))


def plan_not_found(plan_id: object) -> NotFound:
    return NotFound(Text(f"Không tìm thấy kế hoạch #{plan_id}", f"Plan #{plan_id} not found"))


def get_visible_plan(session: Session, actor: Actor, plan_id: int) -> Plan:
    """One plan, or NotFound when it does not exist or lies outside the actor's area."""
    if not valid_id(plan_id):
        raise plan_not_found(plan_id)
    stmt = (
        select(Plan)
        .where(Plan.id == plan_id)
        .options(selectinload(Plan.organisation), selectinload(Plan.targets).selectinload(PlanTarget.organisation))
    )
    condition = _visible(actor)
    if condition is not None:
        stmt = stmt.where(condition)
    found = session.scalars(stmt).one_or_none()
    if found is None:
        raise plan_not_found(plan_id)
    return found


def _no_org(code: str) -> Text:
    return Text(f"không có đơn vị mã «{code}»", f"no organisation with code “{code}”")


def _organisations(session: Session, source: PlanSource) -> tuple[Organisation | None, dict[str, Organisation]]:
    """The owner and the targets' organisations, each checked: it exists and lies under the owner."""
    codes = {source.organisation} | {t.organisation for t in source.targets if t.organisation}
    found = {o.code: o for o in session.scalars(select(Organisation).where(Organisation.code.in_(codes)))}
    owner = found.get(source.organisation)
    if owner is None and source.organisation:
        source.problems.append(
            Problem(
                source.places.get("organisation", source.origin),
                Text(
                    f"không có đơn vị mã «{source.organisation}»", f"no organisation with code “{source.organisation}”"
                ),
            )
        )
    for t in source.targets:
        if not t.organisation:
            continue
        org = found.get(t.organisation)
        if org is None:
            source.problems.append(Problem(t.org_place or t.place, _no_org(t.organisation)))
        elif owner is not None and not owner.contains(org):
            source.problems.append(
                Problem(
                    t.org_place or t.place,
                    Text(
                        f"đơn vị {org.code} ({org.name}) không thuộc {owner.name}, đơn vị chủ trì kế hoạch",
                        f"{org.code} ({org.name}) is not under {owner.name}, the plan's organisation",
                    ),
                )
            )
    return owner, found


def load_plan(session: Session, actor: Actor, source: PlanSource) -> Plan:
    """Create the plan, or replace the fields and targets of the plan with the same organisation and
    name. Every problem of the file and of the database checks is raised at once (PlanFileError);
    nothing is written then. Needs `manage_plans` on the owner."""
    owner, orgs = _organisations(session, source) if source.organisation else (None, {})
    source.check()
    assert owner is not None  # a well-formed source names its owner, and _organisations found it
    require(actor, "manage_plans", owner)
    plan = session.scalars(select(Plan).where(Plan.organisation_id == owner.id, Plan.name == source.name)).one_or_none()
    if plan is None:
        plan = Plan(organisation=owner, name=source.name, created_by_id=actor.id)
        session.add(plan)
    plan.basis_number, plan.basis_date = source.basis_number, source.basis_date
    plan.body, plan.first_year, plan.last_year = source.body, source.first_year, source.last_year
    plan.targets.clear()
    session.flush()  # the old targets go before the new ones arrive
    for position, t in enumerate(source.targets, start=1):
        plan.targets.append(
            PlanTarget(
                position=position,
                indicator=t.indicator,
                organisation=orgs[t.organisation] if t.organisation else owner,
                year=t.year,
                comparison=t.comparison,
                low=t.low,
                high=t.high,
                note=t.note,
            )
        )
    session.flush()
    return plan


def delete_plan(session: Session, actor: Actor, plan_id: int) -> None:
    """Delete a plan and its targets (the records it measured stay): `manage_plans` on its owner."""
    plan = get_visible_plan(session, actor, plan_id)
    require(actor, "manage_plans", plan)
    session.delete(plan)
    session.flush()


def source_of(plan: Plan) -> PlanSource:
    """A stored plan as a PlanSource (to write it back as the XLSX template)."""
    owner = plan.organisation.code
    return PlanSource(
        origin=f"plan-{plan.id}",
        name=plan.name,
        basis_number=plan.basis_number,
        basis_date=plan.basis_date,
        organisation=owner,
        body=plan.body,
        first_year=plan.first_year,
        last_year=plan.last_year,
        targets=[
            TargetSpec(
                t.indicator,
                None if t.organisation.code == owner else t.organisation.code,
                t.year,
                t.comparison,
                t.low,
                t.high,
                t.note,
                "",
            )
            for t in plan.targets
        ],
    )


__all__ = [
    "PlanFileError",
    "delete_plan",
    "get_visible_plan",
    "load_plan",
    "plan_not_found",
    "report_files",
    "source_of",
    "visible_plans",
]


def report_files(session: Session, actor: Actor, plan: Plan, at: date, org: Organisation | None = None) -> ReportFiles:
    """The report with what is behind each of its targets and the products' producers: what the
    Excel and CSV files (`reports.files`) are made of. Scoped like `plan_report`."""
    report = progress.plan_report(session, actor, plan, at, org)
    area = session.get(Organisation, report.organisation.id)
    found = {t.target_id: progress.members(session, actor, plan, t.target_id, at, area) for t in report.targets}
    product_ids = sorted({m.id for ms in found.values() for m in ms if m.kind == "product"})
    producers: dict[int, str] = {}
    for chunk in range(0, len(product_ids), 500):
        rows = session.execute(
            select(Product.id, Producer.name)
            .join(Producer, Product.producer_id == Producer.id)
            .where(Product.id.in_(product_ids[chunk : chunk + 500]))
        )
        producers.update({pid: name for pid, name in rows})
    originals = {t.id: (t.low, t.high) for t in plan.targets}
    return ReportFiles(report, found, producers, originals)
