"""The dashboard's counts: by stage of the cycle, by district and commune, by star, group and year of rating.

States are counted by MEANING, not by definition: the catalogue's `stages:` list puts the same step of
ocop-148 and ocop-1489 on one line, in the cycle's order, so the page never shows two tiles with the same
label or a raw definition code. Every count is one GROUP BY over the products in the actor's scope
(`Actor.object_filter`, the same scope as the lists), so what the dashboard says is what a filtered list
finds: each line links to that list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from ..engine import Registry
from ..engine.definition import Stage
from ..i18n import Text
from ..levels import COMMUNE
from ..models import Organisation, Product, Rating
from .access import Actor
from .listing import (
    CERTIFIED_STAR,
    _scope_condition,
    certified_counts,
    get_visible_organisation,
    organisations_in_scope,
    waiting_keys,
)


@dataclass
class StageCount:
    """One line of the stage table or one "waiting for me" tile."""

    key: str
    label: Text
    count: int


def stage_of(registry: Registry, workflow_key: str, state: str) -> Stage:
    """The state's stage; a state the catalogue does not place (a catalogue without `stages:`) is its
    own stage, labelled as the definition labels it."""
    stage = registry.catalogue.stage_of(workflow_key, state)
    if stage is not None:
        return stage
    label = registry.latest(workflow_key).state_label(state)
    return Stage(state, label, {workflow_key: (state,)})


def stage_counts(session: Session, registry: Registry, actor: Actor) -> tuple[list[StageCount], list[StageCount]]:
    """(all, waiting): products per stage in the cycle's order (only stages with products), and those
    of them waiting for one of the actor's roles. One GROUP BY for both."""
    mine = set(waiting_keys(registry, actor))
    stmt = (
        select(Product.workflow_key, Product.workflow_version, Product.state, func.count())
        .where(_scope_condition(session, actor))
        .group_by(Product.workflow_key, Product.workflow_version, Product.state)
    )
    everything: dict[str, StageCount] = {}
    waiting: dict[str, StageCount] = {}
    for wf, version, state, n in session.execute(stmt):
        stage = stage_of(registry, wf, state)
        everything.setdefault(stage.key, StageCount(stage.key, stage.label, 0)).count += n
        if (wf, version, state) in mine:
            waiting.setdefault(stage.key, StageCount(stage.key, stage.label, 0)).count += n
    order = {s.key: i for i, s in enumerate(registry.catalogue.stages)}

    def in_order(counts: dict[str, StageCount]) -> list[StageCount]:
        return sorted(counts.values(), key=lambda c: (order.get(c.key, len(order)), c.key))

    return in_order(everything), in_order(waiting)


@dataclass
class Census:
    """Products of the actor's area per commune, per product group and per star, from one GROUP BY."""

    per_commune: dict[int, int]
    per_group: dict[str, int]
    per_star: dict[int, int]  # products not rated yet are not counted


def census(session: Session, actor: Actor) -> Census:
    stmt = (
        select(Product.commune_id, Product.product_group, Product.current_star, func.count())
        .where(_scope_condition(session, actor))
        .group_by(Product.commune_id, Product.product_group, Product.current_star)
    )
    out = Census({}, {}, {})
    for commune, group, star, n in session.execute(stmt):
        out.per_commune[commune] = out.per_commune.get(commune, 0) + n
        out.per_group[group] = out.per_group.get(group, 0) + n
        if star is not None:
            out.per_star[star] = out.per_star.get(star, 0) + n
    return out


def star_counts(session: Session, actor: Actor, counted: Census, today: date | None = None) -> dict[int, int]:
    """{star: products} with the product list's meaning of its star filter, so a tile and the list it links to
    agree: 1★-2★ by the product's star, 3★-5★ only while a certificate of that star counts today (a product
    waiting for its decision, or whose certificate expired or was revoked, is not a 3★-5★ OCOP product)."""
    stars = {star: n for star, n in counted.per_star.items() if star < CERTIFIED_STAR}
    stars.update(certified_counts(session, actor, today))
    return stars


@dataclass
class AreaCount:
    """Products in one organisation's area (a district, or a commune of the district looked at)."""

    org_id: int
    name: str
    level: str
    count: int
    has_children: bool = False


@dataclass
class AreaView:
    """The drill-down: the organisation looked at (None: the actor's whole area) and its units below."""

    parent: Organisation | None
    lines: list[AreaCount] = field(default_factory=list)
    trail: list[Organisation] = field(default_factory=list)  # from the top of the actor's area to `parent`

    @property
    def total(self) -> int:
        return sum(line.count for line in self.lines)


def area_counts(session: Session, actor: Actor, org_id: int | None = None, counted: Census | None = None) -> AreaView:
    """Products per unit one level below `org_id` (or below the top of the actor's area): a province
    shows its districts, a district its communes. Two queries: the organisations and one GROUP BY
    commune. Raises NotFound for an organisation out of scope."""
    orgs = organisations_in_scope(session, actor)
    by_id = {o.id: o for o in orgs}
    parent = get_visible_organisation(session, actor, org_id) if org_id else None
    if parent is None:
        # the top of the area: the highest organisations the actor sees, unless one alone, then its children
        tops = [o for o in orgs if o.parent_id not in by_id]
        if len(tops) == 1 and tops[0].level != COMMUNE:
            parent = tops[0]
            children = [o for o in orgs if o.parent_id == parent.id]
        else:
            children = tops
    else:
        children = [o for o in orgs if o.parent_id == parent.id]
    per_commune = (counted or census(session, actor)).per_commune
    # each commune's count goes to the child whose path it lies under
    lines = []
    for child in children:
        n = sum(c for cid, c in per_commune.items() if cid in by_id and by_id[cid].path.startswith(child.path))
        has_children = any(o.parent_id == child.id for o in orgs)
        lines.append(AreaCount(child.id, child.name, child.level, n, has_children))
    trail = []
    node = parent
    while node is not None and node.id in by_id:
        trail.append(node)
        node = by_id.get(node.parent_id) if node.parent_id else None
    return AreaView(parent, lines, list(reversed(trail)))


def group_counts(registry: Registry, counted: Census) -> list[tuple[str, Text, int]]:
    """(group, label, products) in the catalogue's order of product groups, groups with products only."""
    groups = registry.catalogue.product_groups
    out = [(k, label, counted.per_group[k]) for k, label in groups.items() if counted.per_group.get(k)]
    out.extend((k, Text(k, k), n) for k, n in sorted(counted.per_group.items()) if k not in groups)
    return out


def rating_year_counts(session: Session, actor: Actor) -> list[tuple[int, int]]:
    """(year, products) of the final ratings (results that stood) per year, the newest year first; a
    product rated twice in a year counts once."""
    year = extract("year", Rating.at)
    stmt = (
        select(year, func.count(func.distinct(Rating.product_id)))
        .join(Product, Product.id == Rating.product_id)
        .where(Rating.final.is_(True), _scope_condition(session, actor))
        .group_by(year)
        .order_by(year.desc())
    )
    return [(int(y), n) for y, n in session.execute(stmt)]


__all__ = [
    "AreaCount",
    "AreaView",
    "Census",
    "StageCount",
    "area_counts",
    "census",
    "group_counts",
    "rating_year_counts",
    "stage_counts",
    "stage_of",
]
