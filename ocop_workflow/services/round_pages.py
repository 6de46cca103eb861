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
from .rounds import review_state_of, stored_left_reason

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

    @property
    def left(self):
        """Why the product left the round (Text), recorded when the round closed."""
        return stored_left_reason(self.entry)


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


def may_have_rounds(registry: Registry, definition: WorkflowDefinition, product: Product, events) -> bool:
    """Whether the product page should look for rounds: a council holds the dossier now, or a round's
    verdict is in the history. Saves the product page a statement for the products that never met
    a council (most of them)."""
    if any(isinstance(e.data, dict) and e.data.get("round") for e in events):
        return True
    state = definition.states.get(product.state)
    return state is not None and registry.policy.phase(definition.key, state) == "review"


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
    """What each score range does from `state`, as the rating rules say (`products.score_outcomes`):
    the stars, who recognises (or that the product is forwarded) and where the product goes."""
    return [_described(o) for o in product_service.score_outcomes(definition, state)]


def _described(o: product_service.ScoreOutcome) -> ScoreOutcome:
    if o.stars is None:
        stars = ""
    else:
        low, high = o.stars
        stars = f"{low}★ " if low == high else f"{low}–{high}★ "
    dest = o.destination_label
    return ScoreOutcome(
        o.min,
        o.below,
        Text(f"{stars}{o.result.vi} → {dest.vi}", f"{stars}{o.result.en} → {dest.en}"),
    )


__all__ = [
    "ProductRound",
    "may_have_rounds",
    "ScoreOutcome",
    "candidate_products",
    "rounds_of_product",
    "score_outcomes",
    "visible_round_ids",
]
