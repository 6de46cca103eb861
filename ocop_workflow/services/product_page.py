"""The product page: the product with everything it shows, each loaded once, and what the actor may do next."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from ..engine import Registry, WorkflowDefinition
from ..models import Document, Product, ProductEvent, Rating
from .access import Actor, get_visible_product
from .authz import ATTACH_DOCUMENT, can
from .products import EDIT_TRIGGER, TriggerOption, available_triggers, definition_of


@dataclass
class ProductView:
    """Everything the product page shows, each loaded once."""

    product: Product
    definition: WorkflowDefinition
    events: list[ProductEvent]
    documents: list[Document]
    ratings: list[Rating]
    options: list[TriggerOption] = field(default_factory=list)
    can_edit: bool = False
    # the document types the actor may attach now (the dossier's phase and the actor's roles), in
    # catalogue order: empty when the dossier is closed to the actor
    attachable: list[str] = field(default_factory=list)

    def rating_note(self, rating: Rating) -> str | None:
        """What a rating that is not final was: "forwarded" (the level sent the dossier on), or
        "not_recognised" (a higher council scored below its band, the level that proposed the
        product keeps its result: the same move wrote that level's final rating)."""
        if rating.final:
            return None
        if any(r.event_id == rating.event_id and r.id != rating.id for r in self.ratings):
            return "not_recognised"
        return "forwarded"

    @property
    def current_documents(self) -> list[Document]:
        return [d for d in self.documents if d.current]

    @property
    def moves(self) -> list[ProductEvent]:
        """The history without the edits of the product's details."""
        return [e for e in self.events if e.trigger != EDIT_TRIGGER]


_EVENTS = (
    select(ProductEvent)
    .where(ProductEvent.product_id == bindparam("product_id"))
    .options(joinedload(ProductEvent.actor))
    .order_by(ProductEvent.seq)
)
_DOCUMENTS = (
    select(Document)
    .where(Document.product_id == bindparam("product_id"))
    .options(joinedload(Document.uploaded_by))
    .order_by(Document.doc_type, Document.id.desc())
)
_RATINGS = select(Rating).where(Rating.product_id == bindparam("product_id")).order_by(Rating.id)


def product_view(session: Session, registry: Registry, actor: Actor, product_id: int) -> ProductView:
    """The product (with commune and producer), its history (with actors), all document versions
    (newest first per type, with uploaders), its ratings and what the actor may do next."""
    product = get_visible_product(session, actor, product_id)
    events = list(session.scalars(_EVENTS, {"product_id": product_id}))
    documents = list(session.scalars(_DOCUMENTS, {"product_id": product_id}))
    # a rating is written only with a scored move (services.products.advance): none, no query
    scored = product.current_star is not None or any(e.score is not None for e in events)
    ratings = list(session.scalars(_RATINGS, {"product_id": product_id})) if scored else []
    view = ProductView(product, definition_of(registry, product), events, documents, ratings)
    view.options = available_triggers(session, registry, actor, product, docs=view.current_documents)
    view.can_edit = can(actor, "edit_product", product, definition=view.definition)
    decided = ratings[-1].level if ratings else None
    if can(actor, ATTACH_DOCUMENT, product, definition=view.definition, decided_level=decided):
        view.attachable = [
            t
            for t in registry.catalogue.document_types
            if can(actor, ATTACH_DOCUMENT, product, doc_type=t, definition=view.definition, decided_level=decided)
        ]
    return view


__all__ = ["ProductView", "product_view"]
