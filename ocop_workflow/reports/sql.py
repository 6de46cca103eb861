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

from sqlalchemy import Integer, and_, case, cast, exists, extract, func, or_, select
from sqlalchemy.orm import Session

from ..models import (
    Certificate,
    EcommerceListing,
    MaterialAreaProduct,
    Product,
    ProductEvent,
    ProductRevenue,
    ProductSupport,
)
from ..services.certificates import valid_on
from .facts import REVIEW_STAGES, Facts
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

    def _area(self):
        return Product.commune_id.in_(self.facts._area_orgs())

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

    def _first_move(self, from_stages, to_stages, products=None):
        """Per product (of `products`, a subquery of ids, when given): the moment of its first move into
        `to_stages` (from `from_stages`), when it came on or after `since`."""
        f = self.facts
        e = ProductEvent.__table__
        conds = [f._state_condition(e.c.to_state, to_stages)]
        if from_stages:
            conds.append(f._state_condition(e.c.from_state, from_stages))
        # One state pair: 0012's index hands the events over in product order, grouped as they come. Several:
        # `+ 0` (grouping by an expression) keeps SQLite from walking the whole history in product order (the
        # unique index) to save a sort; it reads 0012's index for the states and sorts what it found.
        stages = [to_stages, *([from_stages] if from_stages else [])]
        single = all(len(set().union(*f._stage_states(st).values())) == 1 for st in stages)
        product_id = (e.c.product_id if single else e.c.product_id + 0).label("product_id")
        if products is not None:
            conds.append(e.c.product_id.in_(products))
        first_at = func.min(e.c.at)
        return (
            select(product_id, first_at.label("first_at"))
            .where(*conds)
            .group_by(product_id)
            .having(first_at >= day_start_utc(self.since))
            .subquery()
        )

    def _new_supported(self):
        s = ProductSupport
        supported_products = select(s.product_id).where(s.started_on <= self.at)
        first = self._first_move(("idea",), ("plan",), supported_products)
        day = local_date_sql(first.c.first_at, self.session)
        supported = exists().where(
            s.product_id == first.c.product_id,
            s.started_on <= self.at,
            or_(s.ended_on.is_(None), s.ended_on >= day),
        )
        year = _year(day)
        return (
            select(Product.commune_id, year, func.count(), func.count())
            .join(first, first.c.product_id == Product.id)
            .where(self._area(), first.c.first_at < end_of_day_utc(self.at), supported)
            .group_by(Product.commune_id, year)
        )

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
                Product.commune_id,
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
            .group_by(Product.commune_id, y3, y4)
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
        first = self._first_move(None, REVIEW_STAGES)
        cert = self._first_certs(recent=False)  # a certificate before the first submission still counts
        year = _year(local_date_sql(first.c.first_at, self.session))
        certified = case((cert.c.first3 <= self.at, 1), else_=0)
        return (
            select(Product.commune_id, year, func.sum(certified), func.count())
            .join(first, first.c.product_id == Product.id)
            .outerjoin(cert, cert.c.product_id == Product.id)
            .where(self._area(), first.c.first_at < end_of_day_utc(self.at))
            .group_by(Product.commune_id, year)
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
                select(Product.commune_id, *recognised, *listed)
                .join(v, v.c.product_id == Product.id)
                .outerjoin(lst, lst.c.product_id == Product.id)
            )
        else:  # material_linked
            link = MaterialAreaProduct
            m = self._holds(link, link.linked_on, link.unlinked_on, days, "m")
            sums = [func.sum(m.c[f"m{i}"]) for i in range(len(days))]
            joined = select(Product.commune_id, *sums).join(m, m.c.product_id == Product.id)
        return joined.where(self._area()).group_by(Product.commune_id)
