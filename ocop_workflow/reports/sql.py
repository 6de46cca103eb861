"""The product indicators of a report as SQL aggregates grouped by commune (the fast path of `plan_report`).

A plan report's windows all begin on 1 January and end on 31 December or on the as-of day, so a flow
indicator is fully described by its count per (commune, year) among the events on or before the as-of
day, and a stock indicator by its count per commune on each window's last day. The database answers both
with a few grouped queries over the area's products (a few thousand rows back, whatever the number of
products); the organisation tree is rolled up in Python. The rules are those of `reports.timelines`,
which lists the products one by one for the drill-down and for a figure of any window
(`progress.figure`); tests/test_report_figures.py holds the two to the same numbers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from functools import cached_property

from sqlalchemy import Integer, and_, case, cast, exists, extract, func, literal_column, or_, select
from sqlalchemy.orm import Session

from ..levels import CENTRAL, PROVINCE
from ..models import (
    Certificate,
    EcommerceListing,
    MaterialAreaProduct,
    Product,
    ProductRevenue,
    ProductSupport,
)
from ..services.certificates import valid_on
from .facts import Facts
from .windows import day_start_utc, end_of_day_utc, local_date_sql

FLOW_KEYS = ("new_supported", "reached_3_star", "reached_4_star", "registered_3_star_share", "revenue_growth")
STOCK_KEYS = ("recognised", "on_ecommerce", "material_linked")

PerOrg = dict[int, tuple[float, float]]


def _year(expr):
    return cast(extract("year", expr), Integer)


class Aggregates:
    """Per (commune, year) flow counts and per (commune, day) stock counts of one area as of `at`. Flows are
    counted from the year of `since` on (the plan's first year): products whose first move or certificate
    came earlier are left out before they are joined and grouped."""

    def __init__(self, facts: Facts, at: date, since: date) -> None:
        self.facts, self.at, self.since = facts, at, since
        self.session: Session = facts.session
        self._flow: dict[str, dict[tuple[int, int], tuple[float, float]]] = {}
        self._stock: dict[tuple[str, date], PerOrg] = {}

    @cached_property
    def _commune(self):
        """The products' commune as the queries filter and group by it. Over a province (most products)
        `commune_id + 0`: SQLite would otherwise walk ix_products_commune_id to save sorting the groups and
        fetch each product's row at random (three times slower at 100,000 products); below a province the
        index finds the few products of the area."""
        area = next((o for o in self.facts.orgs.values() if o.path == self.facts.area_path), None)
        wide = area is None or area.level in (CENTRAL, PROVINCE)
        return (Product.commune_id + literal_column("0") if wide else Product.commune_id).label("commune_id")

    def _area(self):
        return self._commune.in_(self.facts._area_orgs())

    # --- flows -----------------------------------------------------------------------------------------
    def flow(self, key: str, first_year: int, last_year: int) -> PerOrg:
        """org -> (numerator, denominator) of the events of years first..last, on or before the as-of day."""
        if first_year < self.since.year:
            raise ValueError(f"flows are counted from {self.since.year}")
        if key not in self._flow:
            if key in ("reached_3_star", "reached_4_star", "revenue_growth"):
                self._load_reached()
            else:
                by_year = self._flow[key] = {}
                for commune, year, num, den in self.session.connection().execute(getattr(self, f"_{key}")()):
                    by_year[(commune, int(year))] = (float(num or 0), float(den or 0))
        by_year = self._flow[key]
        out: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for (commune, year), (num, den) in by_year.items():
            if first_year <= year <= last_year:
                out[commune][0] += num
                out[commune][1] += den
        return {k: (n, d) for k, (n, d) in out.items()}

    def _new_supported(self):
        s = ProductSupport
        first_at = Product.idea_accepted_at
        day = local_date_sql(first_at, self.session)
        supported = exists().where(
            s.product_id == Product.id,
            s.started_on <= self.at,
            or_(s.ended_on.is_(None), s.ended_on >= day),
        )
        year = _year(day)
        return (
            select(self._commune, year, func.count(), func.count())
            .where(self._area(), *self._reached(first_at), supported)
            .group_by(self._commune, year)
        )

    def _reached(self, first_at) -> tuple:
        """Conditions: the product reached the milestone `first_at` (a column of services/milestones.py)
        in the plan's years up to the end of the as-of day."""
        return first_at >= day_start_utc(self.since), first_at < end_of_day_utc(self.at)

    def _first_certs(self, recent: bool = True):
        """Per product: the issue day of its first certificate of 3★ or more, and of 4★ or more (`recent`:
        only when one of them came on or after `since`)."""
        c = Certificate
        first3 = func.min(case((c.star >= 3, c.issued_on)))
        first4 = func.min(case((c.star >= 4, c.issued_on)))
        stmt = (
            select(c.product_id.label("product_id"), first3.label("first3"), first4.label("first4"))
            .where(c.star >= 3)
            .group_by(c.product_id)
        )
        return (stmt.having(or_(first3 >= self.since, first4 >= self.since)) if recent else stmt).subquery()

    def _load_reached(self) -> None:
        """reached_3_star, reached_4_star and revenue_growth from one pass over the products' first
        certificates (revenue: the years before and after the first 3★+, both declared by the as-of day)."""
        first = self._first_certs()
        y3 = _year(first.c.first3)
        y4 = case((first.c.first4 <= self.at, _year(first.c.first4)))
        declared_by = end_of_day_utc(self.at)
        before = ProductRevenue.__table__.alias("before")
        after = ProductRevenue.__table__.alias("after")
        both = and_(before.c.amount.is_not(None), after.c.amount.is_not(None))
        stmt = (
            select(
                self._commune,
                y3,
                y4,
                func.count(),
                func.sum(case((both, after.c.amount))),
                func.sum(case((both, before.c.amount))),
            )
            .join(first, first.c.product_id == Product.id)
            .outerjoin(
                before,
                and_(before.c.product_id == Product.id, before.c.year == y3 - 1, before.c.declared_at < declared_by),
            )
            .outerjoin(
                after,
                and_(after.c.product_id == Product.id, after.c.year == y3 + 1, after.c.declared_at < declared_by),
            )
            .where(self._area(), first.c.first3 <= self.at)
            .group_by(self._commune, y3, y4)
        )
        three: dict[tuple[int, int], float] = defaultdict(float)
        four: dict[tuple[int, int], float] = defaultdict(float)
        growth: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for commune, year3, year4, n, amount_after, amount_before in self.session.connection().execute(stmt):
            three[(commune, int(year3))] += n
            if year4 is not None:
                four[(commune, int(year4))] += n
            if amount_before is not None:
                acc = growth[(commune, int(year3))]
                acc[0] += float(amount_after)
                acc[1] += float(amount_before)
        self._flow["reached_3_star"] = {k: (n, n) for k, n in three.items()}
        self._flow["reached_4_star"] = {k: (n, n) for k, n in four.items()}
        self._flow["revenue_growth"] = {k: (a, b) for k, (a, b) in growth.items()}

    def _registered_3_star_share(self):
        first_at = Product.first_submitted_at
        year = _year(local_date_sql(first_at, self.session))
        c = Certificate
        # a certificate of 3★ or more by the as-of day (one before the first submission counts too)
        certified = exists().where(c.product_id == Product.id, c.star >= 3, c.issued_on <= self.at)
        return (
            select(self._commune, year, func.sum(case((certified, 1), else_=0)), func.count())
            .where(self._area(), *self._reached(first_at))
            .group_by(self._commune, year)
        )

    # --- stocks ----------------------------------------------------------------------------------------
    def stock(self, key: str, day: date, days: list[date]) -> PerOrg:
        """org -> (count, 0) of the products counting on `day`; `days`: the other days the report will
        ask for, answered by the same query."""
        if (key, day) not in self._stock:
            group = ("recognised", "on_ecommerce") if key != "material_linked" else (key,)
            wanted = sorted({day, *(d for d in days if (key, d) not in self._stock)})
            per_day = {(k, d): {} for k in group for d in wanted}
            for commune, *counts in self.session.connection().execute(self._stock_query(key, wanted)):
                for (k, d), n in zip(per_day, counts, strict=True):
                    if n:
                        per_day[(k, d)][commune] = (float(n), 0.0)
            self._stock.update(per_day)
        return self._stock[(key, day)]

    def _holds(self, model, start, end, days: list[date], prefix: str):
        """Per product: 1 in column `prefix<i>` when one of its records holds on days[i]."""
        cols = [
            func.max(case((and_(start <= d, or_(end.is_(None), end > d)), 1), else_=0)).label(f"{prefix}{i}")
            for i, d in enumerate(days)
        ]
        return select(model.product_id.label("product_id"), *cols).group_by(model.product_id).subquery()

    def _valid(self, days: list[date]):
        cols = [func.max(case((valid_on(d), 1), else_=0)).label(f"v{i}") for i, d in enumerate(days)]
        return select(Certificate.product_id.label("product_id"), *cols).group_by(Certificate.product_id).subquery()

    def _stock_query(self, key: str, days: list[date]):
        """One row per commune: for "material_linked" a count per day; otherwise "recognised" per day, then
        "on_ecommerce" per day (one pass over the certificates for both)."""
        if key in ("recognised", "on_ecommerce"):
            v = self._valid(days)
            listing = EcommerceListing
            lst = self._holds(listing, listing.listed_on, listing.removed_on, days, "l")
            recognised = [func.sum(v.c[f"v{i}"]) for i in range(len(days))]
            listed = [func.sum(v.c[f"v{i}"] * func.coalesce(lst.c[f"l{i}"], 0)) for i in range(len(days))]
            joined = (
                select(self._commune, *recognised, *listed)
                .join(v, v.c.product_id == Product.id)
                .outerjoin(lst, lst.c.product_id == Product.id)
            )
        else:  # material_linked
            link = MaterialAreaProduct
            m = self._holds(link, link.linked_on, link.unlinked_on, days, "m")
            sums = [func.sum(m.c[f"m{i}"]) for i in range(len(days))]
            joined = select(self._commune, *sums).join(m, m.c.product_id == Product.id)
        return joined.where(self._area()).group_by(self._commune)
