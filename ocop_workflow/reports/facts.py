"""What the indicators are computed from, read once per report for one organisation's area.

A report shows tens of figures (each target, each unit below, each plan year), all from the same few
sets of records. Each set is read here with one query over the area (products by their commune's
path, a unit's records by the unit's path) and kept as plain tuples; `reports.progress` evaluates
every window and sub-area from them in Python, so a report costs a fixed number of queries whatever
the number of targets and units. Nothing here depends on the as-of day: every record carries its
dates and the indicators cut them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import NamedTuple

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ..engine import Registry
from ..models import (
    Certificate,
    EcommerceListing,
    MaterialArea,
    MaterialAreaProduct,
    Organisation,
    Product,
    ProductEvent,
    ProductRevenue,
    ProductSupport,
    SalesPoint,
    Training,
    TrainingAttendance,
    ValueChain,
)
from ..services.milestones import REVIEW_STAGES  # the stages whose first entry is the first submission
from .windows import local_date_sql


class OrgRow(NamedTuple):
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    path: str
    valid_from: date | None
    valid_to: date | None

    def exists_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


class CertRow(NamedTuple):
    id: int
    product_id: int
    commune_id: int
    code: str
    star: int
    issued_on: date
    expires_on: date
    revoked_on: date | None
    superseded_on: date | None

    def valid_on(self, day: date) -> bool:
        """Exactly `services.certificates.valid_on`: issued, not expired, revoked or superseded on `day`."""
        return (
            self.issued_on <= day < self.expires_on
            and (self.revoked_on is None or self.revoked_on > day)
            and (self.superseded_on is None or self.superseded_on > day)
        )


class Span(NamedTuple):
    """A dated record of a product: from `start` (inclusive) to `end` (the first day it no longer holds)."""

    start: date
    end: date | None
    label: str

    def holds_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or self.end > day)


class Revenue(NamedTuple):
    amount: int
    declared_at: datetime


class UnitRecord(NamedTuple):
    """A unit's record: a value chain, a sales point or a training session."""

    id: int
    organisation_id: int
    name: str
    start: date  # started_on, opened_on, held_on
    middle: date | None  # a chain's working_from
    end: date | None  # stopped_on, closed_on
    kind: str  # a training's kind; "" otherwise
    people: dict[str, int]  # a training's attendance by trainee role


@dataclass
class Facts:
    """The records of the area under `area_path` (and the organisation tree under `tree_path`, which
    holds it: the plan owner's, so a target can be divided among the units of its organisation)."""

    session: Session
    registry: Registry
    area_path: str
    tree_path: str

    # --- the organisation tree -------------------------------------------------------------------------
    @cached_property
    def orgs(self) -> dict[int, OrgRow]:
        """The tree under `tree_path` and the units above it (for names)."""
        o = Organisation.__table__
        ancestors = [c for c in self.tree_path.strip("/").split("/") if c]
        rows = self.session.connection().execute(
            select(o.c.id, o.c.code, o.c.name, o.c.level, o.c.parent_id, o.c.path, o.c.valid_from, o.c.valid_to).where(
                o.c.path.startswith(self.tree_path, autoescape=True) | o.c.code.in_(ancestors)
            )
        )
        return {r[0]: OrgRow(*r) for r in rows}

    @cached_property
    def children(self) -> dict[int, list[OrgRow]]:
        out: dict[int, list[OrgRow]] = defaultdict(list)
        for org in self.orgs.values():
            if org.parent_id is not None:
                out[org.parent_id].append(org)
        return out

    def _area_orgs(self):
        return select(Organisation.id).where(Organisation.path.startswith(self.area_path, autoescape=True))

    # --- the products' history -------------------------------------------------------------------------
    def _stage_states(self, stage_keys: tuple[str, ...]) -> dict[str, set[str]]:
        """workflow key -> the states of those catalogue stages (read from the catalogue, never hard-coded)."""
        out: dict[str, set[str]] = defaultdict(set)
        for stage in self.registry.catalogue.stages:
            if stage.key in stage_keys:
                for workflow_key, states in stage.states.items():
                    out[workflow_key].update(states)
        return out

    def _state_condition(self, column, stage_keys: tuple[str, ...]):
        """SQL: `column` (a state, with the event's `workflow_key`) lies in those stages. One IN list when the
        stages' states of all definitions taken together name no state of another stage in any definition
        (the shipped catalogue), else one condition per definition key."""
        by_key = self._stage_states(stage_keys)
        union = set().union(*by_key.values()) if by_key else set()
        catalogue = self.registry.catalogue
        exact = all(
            state in by_key.get(key, ()) or catalogue.stage_of(key, state) is None
            for key in self._workflow_keys()
            for state in union
        )
        if exact:
            return column.in_(sorted(union))
        e = ProductEvent.__table__
        return or_(*(and_(e.c.workflow_key == key, column.in_(sorted(states))) for key, states in by_key.items()))

    def _workflow_keys(self) -> set[str]:
        return {key for stage in self.registry.catalogue.stages for key in stage.states}

    def _first_events(self, from_stages: tuple[str, ...] | None, to_stages: tuple[str, ...]) -> dict[int, tuple]:
        """product -> (commune, day) of its first event into `to_stages` (from `from_stages` when given): the
        earliest moment per product in SQL (migration 0012's index covers it), dated in Vietnam's time."""
        e, p = ProductEvent.__table__, Product.__table__
        conds = [self._state_condition(e.c.to_state, to_stages)]
        if from_stages:
            conds.append(self._state_condition(e.c.from_state, from_stages))
        first = (
            select(e.c.product_id, func.min(e.c.at).label("first_at")).where(*conds).group_by(e.c.product_id).subquery()
        )
        stmt = (
            select(first.c.product_id, p.c.commune_id, local_date_sql(first.c.first_at, self.session))
            .join(p, p.c.id == first.c.product_id)
            .where(p.c.commune_id.in_(self._area_orgs()))
        )
        return {pid: (commune_id, _as_date(day)) for pid, commune_id, day in self.session.connection().execute(stmt)}

    @cached_property
    def idea_accepted(self) -> dict[int, tuple[int, date]]:
        """product -> (commune, day of its first move from the idea stage to the plan stage)."""
        return self._first_events(("idea",), ("plan",))

    @cached_property
    def first_submitted(self) -> dict[int, tuple[int, date]]:
        """product -> (commune, day of its first entry into a review stage)."""
        return self._first_events(None, REVIEW_STAGES)

    # --- the products' records -------------------------------------------------------------------------
    @cached_property
    def certificates(self) -> dict[int, list[CertRow]]:
        """product -> its certificates, in order of issue."""
        c, p = Certificate.__table__, Product.__table__
        rows = self.session.connection().execute(
            select(*_CERT_COLUMNS(c, p)).join(p, p.c.id == c.c.product_id).where(p.c.commune_id.in_(self._area_orgs()))
        )
        out: dict[int, list[CertRow]] = defaultdict(list)
        for row in rows:
            out[row[1]].append(CertRow(*row))
        for certs in out.values():
            certs.sort(key=lambda cert: (cert.issued_on, cert.id))
        return out

    @cached_property
    def later_certificates(self) -> dict[int, list[CertRow]]:
        """product -> its certificates that had an earlier one (issued before, or the same day and entered
        before), in order of issue: what `certificates[pid][1:]` holds, without reading the others."""
        c, p = Certificate.__table__, Product.__table__
        order = (c.c.issued_on, c.c.id)
        ranked = select(
            c.c.id, func.row_number().over(partition_by=c.c.product_id, order_by=order).label("n")
        ).subquery()
        rows = self.session.connection().execute(
            select(*_CERT_COLUMNS(c, p))
            .join(ranked, ranked.c.id == c.c.id)
            .join(p, p.c.id == c.c.product_id)
            .where(ranked.c.n > 1, p.c.commune_id.in_(self._area_orgs()))
        )
        out: dict[int, list[CertRow]] = defaultdict(list)
        for row in rows:
            out[row[1]].append(CertRow(*row))
        for certs in out.values():
            certs.sort(key=lambda cert: (cert.issued_on, cert.id))
        return out

    def _spans(self, table, start, end, label) -> dict[int, tuple[int, list[Span]]]:
        p = Product.__table__
        rows = self.session.connection().execute(
            select(table.c.product_id, p.c.commune_id, start, end, label)
            .join(p, p.c.id == table.c.product_id)
            .where(p.c.commune_id.in_(self._area_orgs()))
        )
        out: dict[int, tuple[int, list[Span]]] = {}
        for product_id, commune_id, s, e, text in rows:
            out.setdefault(product_id, (commune_id, []))[1].append(Span(s, e, text or ""))
        return out

    @cached_property
    def supports(self) -> dict[int, tuple[int, list[Span]]]:
        """product -> (commune, its association supports); a support's `end` is its last day (inclusive)."""
        t = ProductSupport.__table__
        return self._spans(t, t.c.started_on, t.c.ended_on, t.c.note)

    @cached_property
    def listings(self) -> dict[int, tuple[int, list[Span]]]:
        t = EcommerceListing.__table__
        return self._spans(t, t.c.listed_on, t.c.removed_on, t.c.platform)

    @cached_property
    def material_links(self) -> dict[int, tuple[int, list[Span]]]:
        t, a, p = MaterialAreaProduct.__table__, MaterialArea.__table__, Product.__table__
        rows = self.session.connection().execute(
            select(t.c.product_id, p.c.commune_id, t.c.linked_on, t.c.unlinked_on, a.c.name)
            .join(p, p.c.id == t.c.product_id)
            .join(a, a.c.id == t.c.area_id)
            .where(p.c.commune_id.in_(self._area_orgs()))
        )
        out: dict[int, tuple[int, list[Span]]] = {}
        for product_id, commune_id, s, e, name in rows:
            out.setdefault(product_id, (commune_id, []))[1].append(Span(s, e, name))
        return out

    @cached_property
    def revenues(self) -> dict[int, dict[int, Revenue]]:
        """product -> year -> its declared revenue."""
        t, p = ProductRevenue.__table__, Product.__table__
        rows = self.session.connection().execute(
            select(t.c.product_id, t.c.year, t.c.amount, t.c.declared_at)
            .join(p, p.c.id == t.c.product_id)
            .where(p.c.commune_id.in_(self._area_orgs()))
        )
        out: dict[int, dict[int, Revenue]] = defaultdict(dict)
        for product_id, year, amount, declared_at in rows:
            out[product_id][year] = Revenue(amount, declared_at)
        return out

    # --- the units' records ----------------------------------------------------------------------------
    @cached_property
    def chains(self) -> list[UnitRecord]:
        t = ValueChain.__table__
        rows = self.session.connection().execute(
            select(t.c.id, t.c.organisation_id, t.c.name, t.c.started_on, t.c.working_from, t.c.stopped_on).where(
                t.c.organisation_id.in_(self._area_orgs())
            )
        )
        return [UnitRecord(*row, "", {}) for row in rows]

    @cached_property
    def sales_points(self) -> list[UnitRecord]:
        t = SalesPoint.__table__
        rows = self.session.connection().execute(
            select(t.c.id, t.c.organisation_id, t.c.name, t.c.opened_on, t.c.closed_on).where(
                t.c.organisation_id.in_(self._area_orgs())
            )
        )
        return [UnitRecord(i, o, n, s, None, e, "", {}) for i, o, n, s, e in rows]

    @cached_property
    def trainings(self) -> list[UnitRecord]:
        t, a = Training.__table__, TrainingAttendance.__table__
        people: dict[int, dict[str, int]] = defaultdict(dict)
        for training_id, role, n in self.session.connection().execute(
            select(a.c.training_id, a.c.role, func.sum(a.c.people))
            .join(t, t.c.id == a.c.training_id)
            .where(t.c.organisation_id.in_(self._area_orgs()))
            .group_by(a.c.training_id, a.c.role)
        ):
            people[training_id][role] = int(n)
        rows = self.session.connection().execute(
            select(t.c.id, t.c.organisation_id, t.c.topic, t.c.held_on, t.c.kind).where(
                t.c.organisation_id.in_(self._area_orgs())
            )
        )
        return [UnitRecord(i, o, topic, held, None, None, kind, people.get(i, {})) for i, o, topic, held, kind in rows]

    # --- names, for the drill-down ---------------------------------------------------------------------
    def product_names(self, product_ids: list[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        ids = sorted(set(product_ids))
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            out.update(
                self.session.connection().execute(select(Product.id, Product.name).where(Product.id.in_(chunk))).all()
            )
        return out


def _as_date(value) -> date:
    """SQLite's date() answers text, PostgreSQL a date."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def _CERT_COLUMNS(c, p) -> tuple:
    return (
        c.c.id,
        c.c.product_id,
        p.c.commune_id,
        c.c.code,
        c.c.star,
        c.c.issued_on,
        c.c.expires_on,
        c.c.revoked_on,
        c.c.superseded_on,
    )
