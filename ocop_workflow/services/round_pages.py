"""Read-only helpers the web's round pages need beyond `rounds`/`sheets`: the products a round may
take (the secretariat's chooser), the rounds a product has been through (the product page), and
what each score range of a review state leads to (the sheet and the close form).

Why a module of its own: these are queries for pages, not rules. `rounds.add_product` still decides
whether a product may join a round; the chooser only saves the secretariat from typing ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..engine import Registry, WorkflowDefinition
from ..i18n import Text
from ..models import EvaluationRound, Organisation, Product, RoundProduct, ScoreSheet, User
from . import products as product_service
from .access import Actor
from .councils import visible_councils
from .rounds import rating_transitions, review_state_of

MAX_CANDIDATES = 500


def candidate_products(session: Session, registry: Registry, actor: Actor, found: EvaluationRound) -> list[Product]:
    """Products the actor sees, under the council's organisation, in the council level's review state
    of their definition, and not already pending in this round (the round page's chooser)."""
    council = found.council
    states: set[str] = set()
    for definition in registry.definitions.values():
        state = review_state_of(registry, definition, council.level)
        if state is not None:
            states.add(state)
    if not states:
        return []
    under = select(Organisation.id).where(Organisation.path.startswith(council.organisation.path, autoescape=True))
    taken = select(RoundProduct.product_id).where(RoundProduct.round_id == found.id, RoundProduct.status != "left")
    stmt = (
        select(Product)
        .where(
            Product.state.in_(sorted(states)),
            Product.commune_id.in_(under),
            actor.object_filter(Product.commune_id, Product.producer_id),
            Product.id.not_in(taken),
        )
        .options(selectinload(Product.producer), selectinload(Product.commune))
        .order_by(Product.name, Product.id)
        .limit(MAX_CANDIDATES)
    )
    out = []
    for product in session.scalars(stmt):
        definition = product_service.definition_of(registry, product)
        if review_state_of(registry, definition, council.level) == product.state:
            out.append(product)
    return out


@dataclass
class ProductRound:
    """One round a product is or was in, for the product page."""

    entry: RoundProduct
    round: EvaluationRound
    totals: list[tuple[User, ScoreSheet]]  # each member's sheet, once the product's scoring is closed
    visible: bool = False  # the actor may open the round's page


def rounds_of_product(session: Session, actor: Actor, product: Product) -> list[ProductRound]:
    """The rounds of a product the actor already sees (the caller loaded it through `access`), newest
    first. Members' sheets are listed only for closed entries: before, nobody sees others' marks."""
    entries = session.scalars(
        select(RoundProduct)
        .join(EvaluationRound, EvaluationRound.id == RoundProduct.round_id)
        .where(RoundProduct.product_id == product.id)
        .options(
            selectinload(RoundProduct.round).selectinload(EvaluationRound.council),
            selectinload(RoundProduct.sheets).selectinload(ScoreSheet.user),
        )
        .order_by(EvaluationRound.meeting_date.desc(), RoundProduct.id.desc())
    )
    entries = list(entries)
    seen = visible_round_ids(session, actor, [e.round_id for e in entries])
    out = []
    for entry in entries:
        totals = []
        if entry.status == "closed":
            totals = [(s.user, s) for s in entry.sheets if s.status in ("submitted", "recused")]
        out.append(ProductRound(entry, entry.round, totals, entry.round_id in seen))
    return out


def visible_round_ids(session: Session, actor: Actor, round_ids: list[int]) -> set[int]:
    """Which of these rounds the actor may open (a round link is shown only when it leads somewhere)."""
    from ..models import Council

    if not round_ids:
        return set()
    return set(
        session.scalars(
            select(EvaluationRound.id)
            .join(Council, Council.id == EvaluationRound.council_id)
            .where(EvaluationRound.id.in_(round_ids), visible_councils(actor))
        )
    )


@dataclass(frozen=True)
class ScoreOutcome:
    """A score range of a review state and where it leads."""

    low: float | None  # inclusive
    high: float | None  # exclusive ("below")
    label: Text


def score_outcomes(registry: Registry, definition: WorkflowDefinition, state: str) -> list[ScoreOutcome]:
    """What each score range does from `state`.

    Uses `products.score_outcomes(definition, state)` when the rating rules (branch wt-rules) provide
    it; until then, a plain reading of the rating steps' score ranges and destinations.
    """
    better = getattr(product_service, "score_outcomes", None)
    if better is not None:  # the rating rules' own description (wt-rules)
        return [_as_outcome(o) for o in better(definition, state)]
    out = []
    for t in rating_transitions(definition, state):
        low = getattr(t.score, "min", None) if t.score is not None else None
        high = getattr(t.score, "below", None) if t.score is not None else None
        dest = definition.state_label(t.dest)
        out.append(ScoreOutcome(low, high, Text(f"{t.label.vi} → {dest.vi}", f"{t.label.en} → {dest.en}")))
    return sorted(out, key=lambda o: (o.low is None, o.low or 0))


def _as_outcome(raw: object) -> ScoreOutcome:
    if isinstance(raw, ScoreOutcome):
        return raw
    if isinstance(raw, dict):
        low, high, label = raw.get("low", raw.get("min")), raw.get("high", raw.get("below")), raw.get("label")
    else:
        low = getattr(raw, "low", getattr(raw, "min", None))
        high = getattr(raw, "high", getattr(raw, "below", None))
        label = getattr(raw, "label", None) or getattr(raw, "text", None)
    if not isinstance(label, Text):
        label = Text(str(label or ""), str(label or ""))
    return ScoreOutcome(low, high, label)


__all__ = [
    "ProductRound",
    "ScoreOutcome",
    "candidate_products",
    "rounds_of_product",
    "score_outcomes",
    "visible_round_ids",
]
