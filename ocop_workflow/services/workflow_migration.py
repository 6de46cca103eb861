"""Move in-flight products to a newer workflow definition through its declared state mapping.

All or nothing by default: if any product's state has no mapping, nothing moves and the
refused products are listed, so an operator never ends up with half a province migrated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine import Registry
from ..errors import InvalidData
from ..i18n import Text
from ..models import Product, ProductEvent
from .products import current_documents, dossier_fingerprint


@dataclass
class PlannedMove:
    product_id: int
    name: str
    from_state: str
    to_state: str | None  # None: no mapping


@dataclass
class MigrationPlan:
    source: str
    target: str
    moves: list[PlannedMove] = field(default_factory=list)

    @property
    def mapped(self) -> list[PlannedMove]:
        return [m for m in self.moves if m.to_state is not None]

    @property
    def refused(self) -> list[PlannedMove]:
        return [m for m in self.moves if m.to_state is None]


def plan_migration(session: Session, registry: Registry, source_key: str, target_key: str) -> MigrationPlan:
    target = registry.latest(target_key)
    registry.latest(source_key)  # NotFound for an unknown source
    mapping = target.migrate_from.get(source_key)
    if mapping is None:
        raise InvalidData(
            Text(
                f"Quy trình {target.ident} không khai báo cách chuyển từ {source_key}",
                f"{target.ident} declares no mapping from {source_key}",
            )
        )
    plan = MigrationPlan(source=source_key, target=target.ident)
    stmt = select(Product.id, Product.name, Product.state).where(Product.workflow_key == source_key)
    if source_key == target.key:  # a newer version of the same definition: only products on older ones move
        stmt = stmt.where(Product.workflow_version < target.version)
    rows = session.execute(stmt.order_by(Product.id))
    for pid, name, state in rows:
        plan.moves.append(PlannedMove(pid, name, state, mapping.get(state)))
    return plan


def apply_migration(
    session: Session,
    registry: Registry,
    plan: MigrationPlan,
    *,
    skip_unmapped: bool = False,
    actor_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Write the plan: new definition, mapped state and one history row per product. Returns the count."""
    if plan.refused and not skip_unmapped:
        names = ", ".join(f"#{m.product_id} ({m.from_state})" for m in plan.refused[:20])
        raise InvalidData(
            Text(f"Không có trạng thái tương ứng cho: {names}", f"No state mapping for: {names}"),
            refused=[m.product_id for m in plan.refused],
        )
    target = registry.latest(plan.target.split("@")[0])
    at = now or datetime.now(UTC)
    moved = 0
    for move in plan.mapped:
        product = session.get(Product, move.product_id)
        if product is None or product.workflow_key != plan.source or product.state != move.from_state:
            continue  # changed since the plan was made; a later run picks it up
        old = f"{product.workflow_key}@v{product.workflow_version}"
        product.history_count += 1
        session.add(
            ProductEvent(
                product_id=product.id,
                seq=product.history_count,
                workflow_key=target.key,
                workflow_version=target.version,
                from_state=product.state,
                to_state=move.to_state,
                trigger="migrate_workflow",
                actor_id=actor_id,
                at=at,
                comment=f"{old} → {target.ident}",
                data={"from_workflow": old, "to_workflow": target.ident},
                dossier_fingerprint=dossier_fingerprint(current_documents(session, product.id)),
            )
        )
        if product.state != move.to_state:
            product.state_entered_at = at
        product.workflow_key, product.workflow_version, product.state = target.key, target.version, move.to_state
        moved += 1
    session.flush()
    return moved
