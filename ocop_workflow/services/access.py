"""Who may see and do what: the one place that scopes users to their organisations.

A membership covers its organisation's whole subtree (a district sees its communes, a
province its tree). Out-of-scope objects are reported as not found, never as forbidden,
so their existence does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, bindparam, false, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..errors import NotFound, PermissionDenied
from ..i18n import Text
from ..models import Membership, Organisation, Producer, Product, User


@dataclass
class Actor:
    """A user with the memberships that are in force today."""

    user: User
    memberships: list[Membership] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def locale(self) -> str:
        return self.user.locale or "vi"

    def roles_over(self, org: Organisation) -> set[str]:
        """Roles this actor holds in `org` or in one of its ancestors."""
        return {m.role for m in self.memberships if m.organisation.contains(org)}

    def can_see(self, org: Organisation) -> bool:
        return any(m.organisation.contains(org) for m in self.memberships)

    def membership_for(self, org: Organisation, roles: tuple[str, ...] | set[str]) -> Membership | None:
        """The nearest membership over `org` with one of `roles` (the organisation acting)."""
        fitting = [m for m in self.memberships if m.role in roles and m.organisation.contains(org)]
        return max(fitting, key=lambda m: len(m.organisation.path), default=None)

    @property
    def scope_paths(self) -> list[str]:
        return sorted({m.organisation.path for m in self.memberships})

    def org_filter(self, column: ColumnElement) -> ColumnElement[bool]:
        """A SQL condition: `column` (an organisation id) lies within this actor's scope."""
        paths = self.scope_paths
        if not paths:
            return false()
        inner = select(Organisation.id).where(
            or_(*[Organisation.path.startswith(p, autoescape=True) for p in paths])
        )
        return column.in_(inner)


# one query with the memberships and their organisations (every web request does this), built once
_USER_WITH_MEMBERSHIPS = select(User).options(joinedload(User.memberships).joinedload(Membership.organisation))
_USER_BY_ID = _USER_WITH_MEMBERSHIPS.where(User.id == bindparam("key"))
_USER_BY_EMAIL = _USER_WITH_MEMBERSHIPS.where(User.email == bindparam("key"))


def load_actor(session: Session, user_or_email: int | str, today: date | None = None) -> Actor:
    """Load a user and their active memberships; unknown or deactivated users are refused."""
    if isinstance(user_or_email, int):
        stmt, key = _USER_BY_ID, user_or_email
    else:
        stmt, key = _USER_BY_EMAIL, user_or_email.strip().lower()
    user = session.scalars(stmt, {"key": key}).unique().one_or_none()
    if user is None:
        raise NotFound(Text(f"Không có người dùng {user_or_email}", f"No user {user_or_email}"))
    if not user.active:
        raise PermissionDenied(Text("Tài khoản đã bị khoá", "This account is deactivated"))
    return actor_for(user, today)


def actor_for(user: User, today: date | None = None) -> Actor:
    """The Actor of a user loaded with its memberships: those of organisations in force `today`."""
    today = today or date.today()
    return Actor(user, [m for m in user.memberships if m.organisation.is_active(today)])


def product_not_found(product_id: object) -> NotFound:
    return NotFound(Text(f"Không tìm thấy sản phẩm #{product_id}", f"Product #{product_id} not found"))


_PRODUCT_WITH_PLACE = (select(Product).where(Product.id == bindparam("product_id"))
                       .options(joinedload(Product.commune), joinedload(Product.producer)))


def get_visible_product(session: Session, actor: Actor, product_id: int, *, for_update: bool = False) -> Product:
    """The product if the actor may see it; NotFound otherwise (also when it is out of scope)."""
    product = session.scalars(_PRODUCT_WITH_PLACE, {"product_id": product_id}).one_or_none()
    if product is None or not actor.can_see(product.commune):
        raise product_not_found(product_id)
    return product


def get_visible_producer(session: Session, actor: Actor, producer_id: int) -> Producer:
    producer = session.get(Producer, producer_id, options=[selectinload(Producer.commune)])
    if producer is None or not actor.can_see(producer.commune):
        raise NotFound(Text(f"Không tìm thấy chủ thể #{producer_id}", f"Producer #{producer_id} not found"))
    return producer


def require_role(actor: Actor, org: Organisation, roles: set[str] | tuple[str, ...], what: Text) -> Membership:
    membership = actor.membership_for(org, roles)
    if membership is None:
        raise PermissionDenied(
            Text(f"Bạn không có quyền {what.vi}", f"You are not allowed to {what.en}"), roles=sorted(roles)
        )
    return membership
