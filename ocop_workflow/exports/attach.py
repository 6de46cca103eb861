"""Filing the minutes: when a round closes, its minutes go into each closed product's dossier.

Decision 148/QĐ-TTg's dossier of a rated product holds the council's minutes (`council_minutes`);
under 1489 the commune's assessment round produces the commune's report instead
(`commune_assessment_report`, which the step to the province requires). Web, API and CLI close a
round through `close_round_and_file_minutes`, so the file is never forgotten.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from ..engine import Registry
from ..models import Document, EvaluationRound
from ..services.access import Actor
from ..services.documents import attach_document
from ..services.rounds import close_round, round_view
from ..services.uploads import ZipLimits
from .common import safe_name
from .minutes import build_minutes


def minutes_doc_type(level: str) -> str:
    """The dossier document a round of a council of `level` produces."""
    return "commune_assessment_report" if level == "commune" else "council_minutes"


def minutes_filename(found: EvaluationRound) -> str:
    return f"Bien-ban-{safe_name(found.name)}.docx"


def attach_minutes(
    session: Session,
    registry: Registry,
    actor: Actor,
    round_id: int,
    *,
    upload_dir: Path,
    max_bytes: int,
    zip_limits: ZipLimits | None = None,
    now: datetime | None = None,
) -> list[Document]:
    """Put the round's minutes (DOCX, Vietnamese) into the dossier of every product closed in it.

    `actor` is whoever closes the round: it must see the round (NotFound otherwise). The file is
    attached by the system actor because the one who closes (the council's secretary) files the
    council's record by virtue of that seat, not of an organisation role: the secretary may hold no
    role that the permission file lets attach in that phase (a council member of the district, or an
    expert from another unit), and once the product was forwarded the dossier is in the next level's
    review, where only that level attaches. The round itself was checked (`close_round`) before."""
    view = round_view(session, registry, actor, round_id)
    content = build_minutes(view, registry, "vi")
    system = Actor.system_actor(registry.policy)
    doc_type = minutes_doc_type(view.council.level)
    filename = minutes_filename(view.round)
    filed = []
    for ev in view.entries:
        if ev.entry.status != "closed":
            continue
        doc = attach_document(
            session,
            system,
            ev.product.id,
            doc_type,
            filename,
            content,
            upload_dir=upload_dir,
            max_bytes=max_bytes,
            known_types=registry.catalogue.document_types,
            zip_limits=zip_limits,
            now=now,
            registry=registry,
        )
        doc.uploaded_by_id = actor.id  # the dossier names who filed the record: the secretary who closed
        filed.append(doc)
    session.flush()
    return filed


def close_round_and_file_minutes(
    session: Session,
    registry: Registry,
    actor: Actor,
    round_id: int,
    *,
    upload_dir: Path,
    max_bytes: int,
    zip_limits: ZipLimits | None = None,
    now: datetime | None = None,
) -> tuple[EvaluationRound, list[Document]]:
    """Close the round (`services.rounds.close_round`) and file its minutes, in the caller's transaction."""
    found = close_round(session, registry, actor, round_id, now=now)
    filed = attach_minutes(
        session, registry, actor, found.id, upload_dir=upload_dir, max_bytes=max_bytes, zip_limits=zip_limits, now=now
    )
    return found, filed
