"""Set-up helpers shared by the benchmarks (imported as a sibling module: each bench runs as a script).

A benchmark's products need complete dossiers before the timed part, but storing hundreds of files
through `attach_document` would time the upload path instead: the rows go in with one bulk INSERT.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import insert

from ocop_workflow.db import Database
from ocop_workflow.models import Document


def insert_documents(db: Database, product_ids: list[int], doc_types: list[str], uploader_id: int) -> None:
    """One current document of each type for each product (no file is written)."""
    now = datetime.now(UTC)
    rows = []
    for pid in product_ids:
        for doc_type in doc_types:
            content = f"%PDF-1.4 bench {pid} {doc_type}".encode()
            rows.append(
                {
                    "product_id": pid,
                    "doc_type": doc_type,
                    "original_name": f"{doc_type}.pdf",
                    "stored_name": secrets.token_hex(16),
                    "size": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "content_type": "application/pdf",
                    "uploaded_by_id": uploader_id,
                    "uploaded_at": now,
                    "replaces_id": None,
                    "current": True,
                }
            )
    with db.transaction() as s:
        s.execute(insert(Document), rows)
