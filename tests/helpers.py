"""Shortcuts for driving products through the services in tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ocop_workflow.db import Database
from ocop_workflow.engine import Registry
from ocop_workflow.models import Product
from ocop_workflow.services import directory
from ocop_workflow.services import producers as producer_service
from ocop_workflow.services.access import Actor, load_actor
from ocop_workflow.services.documents import attach_document
from ocop_workflow.services.products import advance, create_product

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=VN)  # a Monday: the reminders tests' "now"


def new_product(
    db: Database,
    registry: Registry,
    email: str,
    producer_id: int,
    *,
    group: str = "food",
    workflow: str | None = None,
    name: str = "Vải thiều Lục Ngạn",
) -> int:
    with db.transaction() as s:
        return create_product(
            s,
            registry,
            load_actor(s, email),
            name=name,
            product_group=group,
            producer_id=producer_id,
            workflow_key=workflow,
        ).id


def attach(
    db: Database,
    registry: Registry,
    email: str,
    product_id: int,
    doc_types: list[str],
    upload_dir: Path,
    content: bytes = PDF,
    filename: str = "Hồ sơ sản phẩm.pdf",
) -> None:
    with db.transaction() as s:
        actor = load_actor(s, email)
        for doc_type in doc_types:
            attach_document(
                s,
                actor,
                product_id,
                doc_type,
                filename,
                content + doc_type.encode(),
                upload_dir=upload_dir,
                max_bytes=5 * 1024 * 1024,
                known_types=registry.catalogue.document_types,
            )


def move(
    db: Database,
    registry: Registry,
    email: str,
    product_id: int,
    trigger: str,
    *,
    comment: str | None = None,
    score: float | None = None,
    version: int | None = None,
    now: datetime | None = None,
):
    with db.transaction() as s:
        event = advance(
            s,
            registry,
            product_id,
            trigger,
            load_actor(s, email),
            comment=comment,
            data={"score": score} if score is not None else None,
            expected_version=version,
            now=now,
        )
        return event.to_state


def rate(
    db: Database,
    registry: Registry,
    product_id: int,
    trigger: str,
    score: float,
    *,
    comment: str | None = None,
    verdict=None,
    now: datetime | None = None,
) -> str:
    """A council's rating step, as the system records it (a person's score comes only from an
    evaluation round's verdict; `verdict` passes one), at `now` (default: the real time). Returns the
    new state."""
    with db.transaction() as s:
        return advance(
            s,
            registry,
            product_id,
            trigger,
            Actor.system_actor(registry.policy),
            comment=comment,
            data=None if verdict is not None else {"score": score},
            verdict=verdict,
            now=now,
        ).to_state


def required_docs(registry: Registry, workflow: str, trigger: str, group: str, kind: str) -> list[str]:
    d = registry.latest(workflow)
    docs: list[str] = []
    for t in d.transitions:
        if t.trigger == trigger and t.documents:
            docs += [x for x in t.documents.required_for(group, kind) if x not in docs]
    return docs


def product_row(db: Database, product_id: int) -> Product:
    with db.session() as s:
        return s.get(Product, product_id)


def count(db, model, *where) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def make_products(
    db,
    registry,
    world,
    n: int = 1,
    *,
    at: datetime = T0,
    commune: str = "C1",
    workflow: str = "ocop-148",
    name: str = "Vải thiều Lục Ngạn",
) -> list[int]:
    with db.transaction() as s:
        actor = load_actor(s, world.user("commune_officer", commune))
        if commune == "C1":
            producer_id = world.producers["household"]
        elif commune == "C3":
            producer_id = world.other_producer
        else:
            producer_id = producer_service.create_producer(
                s, Actor.system_actor(), name=f"HTX {commune}", kind="household", commune=directory.get_org(s, commune)
            ).id
        return [
            create_product(
                s,
                registry,
                actor,
                name=f"{name} {i + 1}" if n > 1 else name,
                product_group="food",
                producer_id=producer_id,
                workflow_key=workflow,
                now=at,
            ).id
            for i in range(n)
        ]


def recognise(
    db: Database,
    registry: Registry,
    product_ids: list[int] | int,
    *,
    drafter: str,
    signer: str,
    organisation_id: int,
    number: str = "123/QĐ-UBND",
    signed_on=None,
    now: datetime | None = None,
):
    """Draft a recognition decision over the products (as `drafter`, the level's secretariat) and sign it
    (as `signer`, the chair). Returns (decision id, [certificate codes])."""
    from ocop_workflow.config import Settings
    from ocop_workflow.services.decisions import draft_decision, sign_decision

    ids = [product_ids] if isinstance(product_ids, int) else list(product_ids)
    with db.transaction() as s:
        decision = draft_decision(
            s, registry, load_actor(s, drafter), organisation_id=organisation_id, product_ids=ids, now=now
        )
        decision_id = decision.id
    with db.transaction() as s:
        signed = sign_decision(
            s, registry, Settings(), load_actor(s, signer), decision_id, number=number, signed_on=signed_on, now=now
        )
        return decision_id, [c.code for c in signed.certificates]


# --- issue #10: recognition decisions, certificates, renewed dossiers -------------------------------
# Who drafts and who signs each level's decision in tests/world.py's world (the district is the one
# above the product's commune: C1, C2 -> D1; C3 -> D2).
RECOGNISERS = {
    "district": ("district_secretariat", "district_chair"),
    "province": ("province_secretariat", "province_chair"),
    "central": ("central_council", "central_chair"),
}
_NUMBERS = iter(range(1, 10**6))


def recognising_org(level: str, commune: str = "C1") -> str:
    """The code of the organisation of `level` above `commune` in the test world."""
    if level == "district":
        return {"C1": "D1", "C2": "D1", "C3": "D2"}[commune]
    return {"province": "P", "central": "VN"}[level]


def recognise_by(
    db: Database,
    registry: Registry,
    world,
    product_ids: list[int] | int,
    level: str,
    *,
    commune: str = "C1",
    number: str | None = None,
    signed_on=None,
    now: datetime | None = None,
):
    """`recognise` by the secretariat and the chair of `level` (above `commune`), with a fresh decision
    number unless one is given. Returns (decision id, [certificate codes])."""
    drafter, signer = RECOGNISERS[level]
    org = recognising_org(level, commune)
    return recognise(
        db,
        registry,
        product_ids,
        drafter=world.user(drafter, org),
        signer=world.user(signer, org),
        organisation_id=world.orgs[org],
        number=number or f"{next(_NUMBERS)}/QĐ-UBND",
        signed_on=signed_on,
        now=now,
    )


def renewed_docs(registry: Registry, workflow: str, application_type: str, group: str, kind: str) -> list[str]:
    """The documents a new application of `application_type` must upload again (the definition's
    `applications: renew:` block)."""
    renew = registry.latest(workflow).renew.get(application_type)
    return list(renew.required_for(group, kind)) if renew else []


def renew(
    db: Database,
    registry: Registry,
    email: str,
    product_id: int,
    upload_dir: Path,
    *,
    application_type: str,
    workflow: str = "ocop-148",
    group: str = "food",
    kind: str = "household",
) -> list[str]:
    """Upload again what the application must renew; returns the document types."""
    docs = renewed_docs(registry, workflow, application_type, group, kind)
    attach(db, registry, email, product_id, docs, upload_dir, content=PDF + f"renewed {next(_NUMBERS)}".encode())
    return docs


def certificates_of(db: Database, product_id: int, today=None) -> list[tuple[str, int, str, str]]:
    """A product's certificates, newest first: (code, star, level, status on `today`)."""
    from ocop_workflow.services.certificates import local_day, product_certificates, status_of

    day = today or local_day()
    with db.session() as s:
        return [(c.code, c.star, c.level, status_of(c, day)) for c in product_certificates(s, product_id)]


def is_certified(db: Database, product_id: int, today=None) -> bool:
    """'Certified' as issue #10 defines it: holds a certificate valid on `today`."""
    from ocop_workflow.services.certificates import local_day, standings

    day = today or local_day()
    with db.session() as s:
        standing = standings(s, [product_id], day).get(product_id)
        return standing is not None and standing.certified


def to_council(
    db: Database,
    registry: Registry,
    world,
    upload_dir: Path,
    workflow: str = "ocop-148",
    *,
    commune: str = "C1",
    group: str = "food",
    name: str = "Vải thiều Lục Ngạn",
) -> int:
    """A food product of a household at the state its first council scores: district_review (148) or
    province_review (1489). In C1 the household of tests/world.py; elsewhere a household created there."""
    officer = world.user("commune_officer", commune)
    if commune == "C1":
        producer_id = world.producers["household"]
    else:
        with db.transaction() as s:
            producer_id = producer_service.create_producer(
                s,
                Actor.system_actor(),
                name=f"Hộ sản xuất {commune}",
                kind="household",
                commune=directory.get_org(s, commune),
            ).id
    pid = new_product(db, registry, officer, producer_id, group=group, workflow=workflow, name=name)
    attach(db, registry, officer, pid, ["idea_registration", "business_plan", "organisation_intro"], upload_dir)
    move(db, registry, officer, pid, "accept_idea")
    move(db, registry, officer, pid, "approve_plan")
    submit(db, registry, world, pid, upload_dir, workflow, commune=commune, group=group)
    return pid


def submit(
    db: Database,
    registry: Registry,
    world,
    product_id: int,
    upload_dir: Path,
    workflow: str = "ocop-148",
    *,
    commune: str = "C1",
    group: str = "food",
) -> str:
    """From implementation to the first council: the documents the steps ask for (those on file stay),
    then the submit step (and under 1489 the commune's check and the sending to the province)."""
    officer = world.user("commune_officer", commune)
    first = "submit_to_district" if workflow == "ocop-148" else "submit_for_commune_review"
    with db.session() as s:
        have = {d.doc_type for d in _current(s, product_id)}
    docs = [d for d in required_docs(registry, workflow, first, group, "household") if d not in have]
    attach(db, registry, officer, product_id, docs, upload_dir)
    state = move(db, registry, officer, product_id, first)
    if workflow == "ocop-1489":
        if "commune_assessment_report" not in have:
            attach(db, registry, officer, product_id, ["commune_assessment_report", "request_letter"], upload_dir)
        state = move(db, registry, officer, product_id, "send_to_province")
    return state


def _current(s, product_id: int):
    from ocop_workflow.services.products import current_documents

    return current_documents(s, product_id)
