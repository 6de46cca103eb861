"""The dossier freeze: every state of both definitions × every document type × every role.

The expectation is written out again from the rule in words (issue #8, Build 1): the dossier is
open while the product is at the commune (except a commune-level review named in the permission
file), the producer and the commune add to it; while a council holds it only the reviewing level —
and the level that decided last — files its own records; after a decision nothing replaces what the
decision was made on, and only the deciding level files its minutes and decision. The lists of who
attaches what come from the permission file, read with plain YAML.

The whole matrix is asked of `authorize`; then real uploads through the service, in a product put
in each state of each definition, on SQLite and PostgreSQL, check that a refusal writes nothing
and that an accepted upload lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select, update

from ocop_workflow.errors import PermissionDenied
from ocop_workflow.models import Document, Organisation, Producer, Product, Rating
from ocop_workflow.services.access import load_actor
from ocop_workflow.services.authz import ATTACH_DOCUMENT, authorize
from ocop_workflow.services.documents import attach_document
from ocop_workflow.services.products import create_product

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
PERMISSIONS = yaml.safe_load((WORKFLOWS / "permissions.yaml").read_text(encoding="utf-8"))
ATTACH = {
    phase: {role: set(types) for role, types in by_role.items()}
    for phase, by_role in PERMISSIONS["dossier"]["attach"].items()
}
REVIEW_STATES = {k: set(v) for k, v in PERMISSIONS["dossier"]["review_states"].items()}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def phase_of(key: str, state) -> str:
    if state.final:
        return "closed"
    if state.level == "commune" and state.key not in REVIEW_STATES.get(key, set()):
        return "open"
    return "review"


def may(role_level: dict[str, str], role: str, key: str, state, doc_type: str, decided: str | None) -> bool:
    phase = phase_of(key, state)
    if doc_type not in ATTACH.get(phase, {}).get(role, set()):
        return False
    if phase == "open":
        return True
    levels = {decided} | ({state.level} if phase == "review" else set())
    return role_level[role] in levels or role_level[role] == "any"


@dataclass
class FakeProduct:
    """What `authorize` reads of a product: its state, commune and producer."""

    state: str
    commune: Organisation
    producer_id: int


def test_every_state_type_and_role_through_authorize(db, registry, world) -> None:
    role_level = {r: d.level for r, d in registry.catalogue.roles.items()}
    checked = refused = 0
    with db.session() as s:
        c1 = s.scalars(select(Organisation).where(Organisation.code == "C1")).one()
        producer = world.producers["cooperative"]  # the producer account of C1 acts for it
        actors = {}
        for role, rdef in registry.catalogue.roles.items():
            org = {"commune": "C1", "district": "D1", "province": "P", "central": "VN", "any": "P"}[rdef.level]
            actors[role] = load_actor(s, world.user(role, org), policy=registry.policy)
        mistakes = []
        for d in registry.definitions.values():
            for state in d.states.values():
                for decided in (None, "district", "province", "central"):
                    product = FakeProduct(state.key, c1, producer)
                    for doc_type in registry.catalogue.document_types:
                        for role, actor in actors.items():
                            got = authorize(
                                actor, ATTACH_DOCUMENT, product, doc_type=doc_type, definition=d, decided_level=decided
                            ).allowed
                            want = may(role_level, role, d.key, state, doc_type, decided)
                            checked += 1
                            refused += not got
                            if got != want:
                                mistakes.append((d.ident, state.key, decided, doc_type, role, want, got))
    assert not mistakes[:20], f"{len(mistakes)} mistakes"
    n_types, n_roles = len(registry.catalogue.document_types), len(registry.catalogue.roles)
    assert (n_types, n_roles) == (
        23,
        14,
    )  # the chairs came with issue #10, the association's district and province with #12
    assert checked == sum(len(d.states) for d in registry.definitions.values()) * 4 * n_types * n_roles
    assert 0 < refused < checked


def _put_in_state(s, product_id: int, state: str, rating_level: str | None) -> None:
    s.execute(update(Product).where(Product.id == product_id).values(state=state, version=Product.version + 1))
    if rating_level is not None:
        s.add(
            Rating(
                product_id=product_id,
                event_id=_first_event(s, product_id),
                level=rating_level,
                score=75,
                star=4,
                final=True,
            )
        )
    s.flush()


def _first_event(s, product_id: int) -> int:
    from ocop_workflow.models import ProductEvent

    return s.scalar(select(ProductEvent.id).where(ProductEvent.product_id == product_id).limit(1))


@pytest.mark.parametrize("key", ["ocop-148", "ocop-1489"])
def test_uploads_in_every_state_follow_the_phase(db, registry, world, upload_dir: Path, key: str) -> None:
    """Real uploads, each state of the definition × a document of each kind of record × the roles
    that matter (the producer's account, the commune officer, the secretariats, the central council)."""
    d = registry.latest(key)
    role_level = {r: rd.level for r, rd in registry.catalogue.roles.items()}
    types = ("business_plan", "lab_test_report", "commune_assessment_report", "council_minutes", "recognition_decision")
    users = {
        "producer": "C1",
        "commune_association": "C1",
        "commune_officer": "C1",
        "district_secretariat": "D1",
        "province_secretariat": "P",
        "central_council": "VN",
    }
    mistakes = []
    for state in d.states.values():
        decided = None if phase_of(key, state) == "open" else "province"
        with db.transaction() as s:
            officer = load_actor(s, world.user("commune_officer", "C1"), policy=registry.policy)
            pid = create_product(
                s,
                registry,
                officer,
                name=f"Sản phẩm {state.key}",
                product_group="food",
                producer_id=world.producers["cooperative"],
                workflow_key=key,
            ).id
            _put_in_state(s, pid, state.key, decided)
        for doc_type in types:
            for role, org in users.items():
                want = may(role_level, role, key, state, doc_type, decided)
                with db.session() as s:
                    before = s.scalar(select(func.count()).select_from(Document).where(Document.product_id == pid))
                try:
                    with db.transaction() as s:
                        actor = load_actor(s, world.user(role, org), policy=registry.policy)
                        attach_document(
                            s,
                            actor,
                            pid,
                            doc_type,
                            f"{doc_type}.pdf",
                            PDF,
                            upload_dir=upload_dir,
                            max_bytes=1 << 20,
                            known_types=registry.catalogue.document_types,
                            registry=registry,
                        )
                    got = True
                except PermissionDenied:
                    got = False
                with db.session() as s:
                    after = s.scalar(select(func.count()).select_from(Document).where(Document.product_id == pid))
                if got != want or after != before + int(got):
                    mistakes.append((state.key, doc_type, role, want, got, before, after))
    assert not mistakes
    # a refused upload leaves no file behind either
    with db.session() as s:
        stored = set(s.scalars(select(Document.stored_name)))
    assert {p.name for p in upload_dir.iterdir() if not p.name.startswith(".")} == stored


def test_a_producer_never_files_minutes_or_decisions(db, registry, world) -> None:
    policy = registry.policy
    for phase, by_role in policy.attach.items():
        for role in policy.acts_for_producer:
            assert not by_role.get(role, set()) & {
                "council_minutes",
                "recognition_decision",
                "commune_assessment_report",
            }, phase
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Producer)) >= 4
