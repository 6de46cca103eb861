"""Two moments of a product's history the plan reports count by, kept on the product itself.

* `idea_accepted_at`: its first move from a state of the catalogue's `idea` stage to one of its `plan`
  stage ("a new product": Decision 615's scheme counts the products the association helped start);
* `first_submitted_at`: its first move into a review stage (the commune's check under 1489, a district,
  provincial or central council): "registered for assessment" in a yearly plan.

Why on the product: a report counts these for every product of a province, and finding each product's
first such move in the history means grouping a million history rows (a third of a province report's
time at 100,000 products, issue #12's budget is 1 s). The history stays the truth: `advance` sets each
column once, in the move's own UPDATE of the product (`milestone_of`; no statement more), and
`fill_from_history` recomputes both from the history (the migration that added them; benchmarks and
test worlds that write history rows directly). The report's one-by-one path (`reports.timelines`)
still reads the history, and the tests hold the two to the same figures. "First" never changes once
set, so the columns answer "as of a past day" too: the moment is on or before that day or it is not.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, false, func, or_, select, update

from ..engine.definition import Catalogue
from ..models import Product, ProductEvent

IDEA_ACCEPTED, FIRST_SUBMITTED = "idea_accepted_at", "first_submitted_at"
MILESTONES = (IDEA_ACCEPTED, FIRST_SUBMITTED)
IDEA_STAGES, PLAN_STAGES = ("idea",), ("plan",)
REVIEW_STAGES = ("commune_review", "district_council", "province_council", "central_council")

_CACHE: dict[int, tuple[Catalogue, dict[tuple[str, str | None, str], str | None]]] = {}


def _states(catalogue: Catalogue, stage_keys: tuple[str, ...], workflow_key: str) -> set[str]:
    return {s for stage in catalogue.stages if stage.key in stage_keys for s in stage.states.get(workflow_key, ())}


def milestone_of(catalogue: Catalogue, workflow_key: str, from_state: str | None, to_state: str) -> str | None:
    """The milestone column a move from `from_state` to `to_state` may set (None for most moves).
    Cached per catalogue: it is asked on every move."""
    cached = _CACHE.get(id(catalogue))
    if cached is None or cached[0] is not catalogue:
        cached = _CACHE[id(catalogue)] = (catalogue, {})
    memo = cached[1]
    key = (workflow_key, from_state, to_state)
    if key not in memo:
        found = None
        if to_state in _states(catalogue, REVIEW_STAGES, workflow_key):
            found = FIRST_SUBMITTED
        elif from_state in _states(catalogue, IDEA_STAGES, workflow_key) and to_state in _states(
            catalogue, PLAN_STAGES, workflow_key
        ):
            found = IDEA_ACCEPTED
        memo[key] = found
    return memo[key]


def _first(catalogue: Catalogue, milestone: str):
    """SQL: the moment of the product's first history row that reaches `milestone` (correlated on products)."""
    e = ProductEvent.__table__
    keys = {key for stage in catalogue.stages for key in stage.states}
    conds = []
    for key in sorted(keys):
        if milestone == FIRST_SUBMITTED:
            review = sorted(_states(catalogue, REVIEW_STAGES, key))
            conds.append(and_(e.c.workflow_key == key, e.c.to_state.in_(review)))
        else:
            conds.append(
                and_(
                    e.c.workflow_key == key,
                    e.c.from_state.in_(sorted(_states(catalogue, IDEA_STAGES, key))),
                    e.c.to_state.in_(sorted(_states(catalogue, PLAN_STAGES, key))),
                )
            )
    return (
        select(func.min(e.c.at))
        .where(e.c.product_id == Product.__table__.c.id, or_(*conds) if conds else false())
        .scalar_subquery()
    )


def fill_from_history(conn: Connection, catalogue: Catalogue) -> None:
    """Set both milestone columns of every product from its history (the moves as they were recorded)."""
    products = Product.__table__
    conn.execute(
        update(products).values(
            {IDEA_ACCEPTED: _first(catalogue, IDEA_ACCEPTED), FIRST_SUBMITTED: _first(catalogue, FIRST_SUBMITTED)}
        )
    )
