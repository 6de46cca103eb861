"""Producers (chủ thể): register, edit, list, and the choosers of the product and producer forms.

A producer's own account (a membership that acts for it) sees and edits only its own record; the
commune's officers see every producer of the commune. Who may do what is `authz.authorize`.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..errors import InvalidData
from ..i18n import Text
from ..levels import COMMUNE
from ..models import PRODUCER_KINDS, Organisation, Producer
from ..validation import check_text
from .access import Actor, get_visible_producer
from .authz import can, require
from .listing import organisations_in_scope

MAX_NAME = 200
TAX_CODE = re.compile(r"\d{10}(-\d{3})?")


def _valid_producer(name: str | None, kind: str, tax_code: str | None) -> tuple[str, str, str | None]:
    """A producer's name, kind and tax code (10 digits, optionally -3 more), cleaned; InvalidData
    listing every problem at once. The one validation of registering and editing a producer."""
    check_text(name, Text("Tên chủ thể", "Producer name"))  # before strip(), which drops some silently
    check_text(tax_code, Text("Mã số thuế", "Tax code"))
    name = (name or "").strip()
    tax_code = (tax_code or "").strip() or None
    problems: list[Text] = []
    if kind not in PRODUCER_KINDS:
        problems.append(Text(f"Loại chủ thể không hợp lệ: {kind}", f"Unknown producer kind: {kind}"))
    if not name:
        problems.append(Text("Tên chủ thể không được để trống", "The producer name is required"))
    elif len(name) > MAX_NAME:
        problems.append(Text(f"Tên chủ thể dài quá {MAX_NAME} ký tự", f"The name is over {MAX_NAME} characters"))
    if tax_code and not TAX_CODE.fullmatch(tax_code):
        problems.append(Text(f"Mã số thuế không hợp lệ: {tax_code}", f"Invalid tax code: {tax_code}"))
    if problems:
        raise InvalidData(Text("; ".join(p.vi for p in problems), "; ".join(p.en for p in problems)))
    return name, kind, tax_code


def create_producer(
    session: Session, actor: Actor, *, name: str, kind: str, commune: Organisation, tax_code: str | None = None
) -> Producer:
    """Register a producer in a commune (trusted callers such as the demo pass `Actor.system_actor()`)."""
    name, kind, tax_code = _valid_producer(name, kind, tax_code)
    if commune.level != COMMUNE:
        raise InvalidData(Text("Chủ thể phải thuộc một xã", "A producer must belong to a commune"))
    require(actor, "create_producer", commune)
    producer = Producer(name=name, kind=kind, commune=commune, tax_code=tax_code)
    session.add(producer)
    session.flush()
    return producer


def update_producer(
    session: Session, actor: Actor, producer_id: int, *, name: str, kind: str, tax_code: str | None = None
) -> Producer:
    """Change a producer's name, kind and tax code."""
    producer = get_visible_producer(session, actor, producer_id)
    require(actor, "edit_producer", producer)
    producer.name, producer.kind, producer.tax_code = _valid_producer(name, kind, tax_code)
    session.flush()
    return producer


def creatable_communes(session: Session, actor: Actor) -> list[Organisation]:
    """Communes where the actor may register producers."""
    return [o for o in organisations_in_scope(session, actor, (COMMUNE,)) if can(actor, "create_producer", o)]


def producers_for_actor(
    session: Session, actor: Actor, *, action: str | None = None, limit: int = 500
) -> list[Producer]:
    """Producers in the actor's scope by name (with their commune); with `action` ("edit_producer",
    "create_product"), only those the actor may do it for."""
    stmt = (
        select(Producer)
        .where(actor.object_filter(Producer.commune_id, Producer.id))
        .options(joinedload(Producer.commune))
        .order_by(Producer.name, Producer.id)
        .limit(limit)
    )
    producers = list(session.scalars(stmt))
    if action is not None:
        producers = [p for p in producers if can(actor, action, p)]
    return producers


__all__ = ["create_producer", "creatable_communes", "producers_for_actor", "update_producer"]
