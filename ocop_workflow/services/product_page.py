"""The product page: the product with everything it shows, each loaded once, and what the actor may do next.

The dossier is shown as a checklist (issue #11): the documents the product's next steps require,
read from the same `document_needs` the steps' guard uses (never a second copy of the rules), each
ticked with its current file or marked missing; the other documents after it, replaced versions
folded under their current one. The history merges the moves with every upload and replacement
(read from the documents table). A step that ends the product (its destination is a final state
no step leaves) is told apart so the page can ask for a confirmation of its consequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from ..engine import Registry, WorkflowDefinition
from ..i18n import Text
from ..models import Document, Product, ProductEvent, Rating
from .access import Actor, get_visible_product
from .authz import ATTACH_DOCUMENT, can
from .products import EDIT_TRIGGER, TriggerOption, available_triggers, definition_of, need_text


def ends_product(definition: WorkflowDefinition, destinations: tuple[str, ...] | list[str]) -> bool:
    """True when every destination is a final state that no step leaves (withdrawn): the step ends
    the product's cycle for good. Rated and upgraded are final too, but an upgrade or a new
    application leaves them, so a step into them is not "the end"."""
    if not destinations:
        return False
    for dest in destinations:
        state = definition.states.get(dest)
        if state is None or not state.final or definition.transitions_from(dest):
            return False
    return True


def step_blockers(registry: Registry, option: TriggerOption) -> list[Text]:
    """What stops the step besides its documents (the star, the certificate …): the documents are
    the checklist's, and printing them again under each step is what issue #11 removed."""
    documents = {need_text(registry.catalogue, n) for n in option.documents if not n.ok}
    return [m for m in option.missing if m not in documents]


@dataclass
class ChecklistRow:
    """One required document of the next step(s): its current file (None when missing), the
    replaced versions, the steps that need it and whether the viewer may upload it now."""

    doc_type: str
    label: Text
    status: str  # "ok", "missing" or "renew" (services.products.DocumentNeed)
    document: Document | None
    older: list[Document]
    steps: list[Text]
    attachable: bool

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class DocumentGroup:
    """A document type outside the checklist: its current file and the replaced versions."""

    doc_type: str
    label: Text
    document: Document | None
    older: list[Document]
    attachable: bool


@dataclass
class TimelineEntry:
    """One line of the history: a move or edit (`event`) or an upload (`document`), by time."""

    at: datetime
    event: ProductEvent | None = None
    document: Document | None = None

    @property
    def kind(self) -> str:
        if self.event is not None:
            return "edit" if self.event.trigger == EDIT_TRIGGER else "move"
        return "replace" if self.document is not None and self.document.replaces_id else "upload"


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

    def checklist(self, registry: Registry) -> tuple[list[ChecklistRow], list[DocumentGroup]]:
        """The required documents of every step from the current state, in the definition's order
        (the first step that names a type places it), then the other document types on file in
        catalogue order. Every step counts, not only the viewer's: the producer prepares what the
        commune officer's step needs, and a council's step would need its documents before the
        round just the same (none of the shipped rating or signing steps requires any)."""
        types = registry.catalogue.document_types
        versions: dict[str, list[Document]] = {}
        for doc in sorted(self.documents, key=lambda d: (not d.current, -d.id)):
            versions.setdefault(doc.doc_type, []).append(doc)
        attachable = set(self.attachable)
        rows: dict[str, ChecklistRow] = {}
        for option in self.options:
            for need in option.documents:
                row = rows.get(need.doc_type)
                if row is None:
                    docs = versions.get(need.doc_type, [])
                    current = docs[0] if docs and docs[0].current else None
                    row = rows[need.doc_type] = ChecklistRow(
                        need.doc_type,
                        types.get(need.doc_type, Text(need.doc_type, need.doc_type)),
                        need.status,
                        current,
                        [d for d in docs if d is not current],
                        [],
                        need.doc_type in attachable,
                    )
                elif need.status != "ok" and row.status == "ok":
                    row.status = need.status  # one step finds it missing: it is missing
                if option.label not in row.steps:
                    row.steps.append(option.label)
        others = []
        for doc_type in [*types, *(t for t in versions if t not in types)]:
            if doc_type in rows or doc_type not in versions:
                continue
            docs = versions[doc_type]
            current = docs[0] if docs[0].current else None
            others.append(
                DocumentGroup(
                    doc_type,
                    types.get(doc_type, Text(doc_type, doc_type)),
                    current,
                    [d for d in docs if d is not current],
                    doc_type in attachable,
                )
            )
        return list(rows.values()), others

    def timeline(self) -> list[TimelineEntry]:
        """The moves, edits, uploads and replacements, newest first (a move and an upload at the
        same instant: the upload first, as the dossier a move was decided on came before it)."""
        entries = [TimelineEntry(e.at, event=e) for e in self.events]
        entries += [TimelineEntry(d.uploaded_at, document=d) for d in self.documents]

        def key(entry: TimelineEntry) -> tuple:
            if entry.event is not None:
                return (entry.at, 1, entry.event.seq)
            return (entry.at, 0, entry.document.id if entry.document else 0)

        return sorted(entries, key=key, reverse=True)


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


__all__ = [
    "ChecklistRow",
    "DocumentGroup",
    "ProductView",
    "TimelineEntry",
    "ends_product",
    "product_view",
    "step_blockers",
]
