"""Dossier documents: checked by content (not by extension), stored under generated names.

The original (often Vietnamese) file name is kept only in the database; on disk a file
is a random hex name, so no user input ever becomes a path.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import unicodedata
import zipfile
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
from .access import Actor, get_visible_product
from .authz import ATTACH_DOCUMENT, require

CHUNK = 1024 * 1024

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class UploadTooLarge(InvalidData):
    code = "too_large"


def sniff(head: bytes, path: Path | None = None) -> str | None:
    """The accepted kind of a file from its first bytes (and, for Office files, its zip entries)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"PK\x03\x04") and path is not None:
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            if "word/document.xml" in names:
                return "docx"
            if "xl/workbook.xml" in names:
                return "xlsx"
    return None


def clean_filename(name: str) -> str:
    """Keep the user's name (Vietnamese included) but drop path parts and control characters."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    return name[:255] or "tai-lieu"


def _chunks(content: bytes | BinaryIO) -> Iterable[bytes]:
    stream = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
    while chunk := stream.read(CHUNK):
        yield chunk


def attach_document(
    session: Session,
    actor: Actor,
    product_id: int,
    doc_type: str,
    filename: str,
    content: bytes | BinaryIO,
    *,
    upload_dir: Path,
    max_bytes: int,
    known_types: Iterable[str],
    now: datetime | None = None,
    registry: Registry | None = None,
) -> Document:
    """Store a file for a product's dossier; a file of the same type becomes its new version.
    Who may attach which type depends on the dossier's phase (see `authz`): checked before the
    file is read."""
    product = get_visible_product(session, actor, product_id)
    if doc_type not in set(known_types):
        raise InvalidData(Text(f"Loại tài liệu không hợp lệ: {doc_type}", f"Unknown document type: {doc_type}"))
    definition = (registry or get_registry()).get(product.workflow_key, product.workflow_version)
    require(actor, ATTACH_DOCUMENT, product, doc_type=doc_type, definition=definition,
            decided_level=decided_level(session, product, definition, actor.policy))
    upload_dir.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16)
    target = upload_dir / stored_name
    tmp = upload_dir / f".{stored_name}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        with open(tmp, "wb") as out:
            for chunk in _chunks(content):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLarge(Text(
                        f"Tệp vượt quá giới hạn {max_bytes // (1024 * 1024)} MB",
                        f"The file is larger than the {max_bytes // (1024 * 1024)} MB limit"))
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InvalidData(Text("Tệp rỗng", "The file is empty"))
        with open(tmp, "rb") as fh:
            kind = sniff(fh.read(16), tmp)
        if kind is None:
            raise InvalidData(Text(
                "Chỉ nhận tệp PDF, JPEG, PNG, DOCX hoặc XLSX (nội dung tệp không khớp)",
                "Only PDF, JPEG, PNG, DOCX or XLSX files are accepted (the content does not match)"))
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    try:
        previous = session.scalars(
            select(Document).where(Document.product_id == product.id, Document.doc_type == doc_type,
                                   Document.current.is_(True))
        ).first()
        if previous is not None:
            previous.current = False
        doc = Document(
            product_id=product.id, doc_type=doc_type, original_name=clean_filename(filename),
            stored_name=stored_name, size=size, sha256=digest.hexdigest(), content_type=CONTENT_TYPES[kind],
            uploaded_by_id=actor.id, uploaded_at=now or datetime.now(UTC),
            replaces_id=previous.id if previous else None, current=True,
        )
        session.add(doc)
        session.flush()
    except Exception:
        target.unlink(missing_ok=True)
        raise
    return doc


def decided_level(session: Session, product: Product, definition: WorkflowDefinition, policy: Policy) -> str | None:
    """The level whose council decided last (the latest rating's), once the dossier is no longer open;
    None while it is open (it does not matter then), or when the product was never rated."""
    state = definition.states.get(product.state)
    if state is None or policy.phase(definition.key, state) == "open":
        return None
    return session.scalar(select(Rating.level).where(Rating.product_id == product.id)
                          .order_by(Rating.id.desc()).limit(1))


def get_document(session: Session, actor: Actor, document_id: int) -> Document:
    """A document if its product is within the actor's scope (old versions included)."""
    doc = session.get(Document, document_id)
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
