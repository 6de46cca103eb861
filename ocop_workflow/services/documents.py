"""Dossier documents: checked by content (not by extension), stored under generated names.

The original (often Vietnamese) file name is kept only in the database; on disk a file
is a random hex name, so no user input ever becomes a path.

Receiving a file and recording it are two steps (the file side lives in `uploads`): a caller that
holds a database writer lock streams and checks the file first with `uploads.store_upload` (no
database), then passes the `StoredUpload` to `attach_document`, whose write is short. Given bytes
or a stream instead, `attach_document` does both itself (the CLI, the demo, tests).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine import Policy, Registry, WorkflowDefinition, get_registry
from ..errors import InvalidData, NotFound
from ..i18n import Text
from ..models import Document, Product, Rating
from ..validation import valid_id
from .access import Actor, get_visible_product
from .authz import ATTACH_DOCUMENT, require
from .uploads import (  # noqa: F401  (re-exported: the long-standing home of these names)
    CONTENT_TYPES,
    StoredUpload,
    UploadTooLarge,
    ZipLimits,
    ZipTooLarge,
    clean_filename,
    download_name,
    sniff,
    store_upload,
)


def decided_level(session: Session, product: Product, definition: WorkflowDefinition, policy: Policy) -> str | None:
    """The level whose council decided last (the latest rating's), once the dossier is no longer open;
    None while it is open (it does not matter then), or when the product was never rated."""
    state = definition.states.get(product.state)
    if state is None or policy.phase(definition.key, state) == "open":
        return None
    return session.scalar(
        select(Rating.level).where(Rating.product_id == product.id).order_by(Rating.id.desc()).limit(1)
    )


def check_attach(
    session: Session,
    actor: Actor,
    product_id: int,
    doc_type: str,
    known_types: Iterable[str],
    registry: Registry | None = None,
) -> Product:
    """The product if `actor` may attach a `doc_type` document to it now; the typed error otherwise.
    Who may attach which type depends on the dossier's phase (see `authz`).

    Callers may ask before receiving a file (to refuse early); `attach_document` asks again in
    its own transaction, which is the answer that counts.
    """
    product = get_visible_product(session, actor, product_id)
    if doc_type not in set(known_types):
        raise InvalidData(Text(f"Loại tài liệu không hợp lệ: {doc_type}", f"Unknown document type: {doc_type}"))
    definition = (registry or get_registry()).get(product.workflow_key, product.workflow_version)
    require(
        actor,
        ATTACH_DOCUMENT,
        product,
        doc_type=doc_type,
        definition=definition,
        decided_level=decided_level(session, product, definition, actor.policy),
    )
    return product


def attach_document(
    session: Session,
    actor: Actor,
    product_id: int,
    doc_type: str,
    filename: str,
    content: bytes | BinaryIO | StoredUpload,
    *,
    upload_dir: Path,
    max_bytes: int,
    known_types: Iterable[str],
    zip_limits: ZipLimits | None = None,
    now: datetime | None = None,
    registry: Registry | None = None,
) -> Document:
    """Store a file for a product's dossier; a file of the same type becomes its new version.

    `content` is the file (bytes or a stream, streamed and checked here) or a `StoredUpload`
    already checked by `store_upload`; either way the stored file is removed again if the
    document is refused here. Zip limits default to `ZipLimits()` (the settings' defaults).
    """
    stored = content if isinstance(content, StoredUpload) else None
    try:
        product = check_attach(session, actor, product_id, doc_type, known_types, registry)
        if stored is None:
            stored = store_upload(content, upload_dir=upload_dir, max_bytes=max_bytes, zip_limits=zip_limits)
        previous = session.scalars(
            select(Document).where(
                Document.product_id == product.id, Document.doc_type == doc_type, Document.current.is_(True)
            )
        ).first()
        if previous is not None:
            previous.current = False
        doc = Document(
            product_id=product.id,
            doc_type=doc_type,
            original_name=clean_filename(filename),
            stored_name=stored.stored_name,
            size=stored.size,
            sha256=stored.sha256,
            content_type=stored.content_type,
            uploaded_by_id=actor.id,
            uploaded_at=now or datetime.now(UTC),
            replaces_id=previous.id if previous else None,
            current=True,
        )
        session.add(doc)
        session.flush()
    except BaseException:
        if stored is not None:
            stored.discard()
        raise
    return doc


def get_document(session: Session, actor: Actor, document_id: int) -> Document:
    """A document if its product is within the actor's scope (old versions included)."""
    doc = session.get(Document, document_id) if valid_id(document_id) else None
    if doc is None:
        raise NotFound(Text(f"Không tìm thấy tài liệu #{document_id}", f"Document #{document_id} not found"))
    try:
        get_visible_product(session, actor, doc.product_id)
    except NotFound:
        raise NotFound(Text(f"Không tìm thấy tài liệu #{document_id}", f"Document #{document_id} not found")) from None
    return doc


def document_path(upload_dir: Path, doc: Document) -> Path:
    return upload_dir / doc.stored_name


def list_documents(session: Session, actor: Actor, product_id: int) -> list[Document]:
    """All versions of a product's documents, newest first within each type."""
    get_visible_product(session, actor, product_id)
    stmt = select(Document).where(Document.product_id == product_id)
    return list(session.scalars(stmt.order_by(Document.doc_type, Document.id.desc())))
