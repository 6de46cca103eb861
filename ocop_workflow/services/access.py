"""Who may see what: the one place that scopes users to their organisations (what they may *do*
is `authz.authorize`, reading the permission file).

A membership covers its organisation's whole subtree (a district sees its communes, a
province its tree), except a membership that acts for one producer (a producer's own account,
`Membership.producer_id`): it covers that producer's record and products only. Out-of-scope
objects are reported as not found, never as forbidden, so their existence does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, bindparam, false, or_, select, true
from sqlalchemy.orm import Session, joinedload, selectinload

from ..engine import Policy, get_registry
from ..errors import NotFound, PermissionDenied
from ..i18n import Text
from ..models import Membership, Organisation, Producer, Product, User
from ..validation import valid_id


@dataclass
class Actor:
    """A user with the memberships that are in force today, under the rules of a permission file.

    `system` is the explicit actor of trusted callers (the demo loader, imports, the scheduler):
    it sees everything and may do everything, and its history rows name no user. It replaces the
    old `actor=None`, which meant the same thing silently.
    """

    user: User | None
    memberships: list[Membership] = field(default_factory=list)
    policy: Policy | None = None
    system: bool = False

    def __post_init__(self) -> None:
        if self.policy is None:
            self.policy = get_registry().policy

    @classmethod
    def system_actor(cls, policy: Policy | None = None) -> Actor:
        return cls(None, [], policy, system=True)

    @property
    def id(self) -> int | None:
        return self.user.id if self.user is not None else None

    @property
    def locale(self) -> str:
        return (self.user.locale if self.user is not None else None) or "vi"

    def covers(self, m: Membership, org: Organisation, producer_id: int | None = None) -> bool:
        """Whether membership `m` covers an object of `org` (and of producer `producer_id`)."""
        if not m.organisation.contains(org):
            return False
        if self.acts_for_role(m):
            return m.producer_id is not None and m.producer_id == producer_id
        return True

    def roles_over(self, org: Organisation, producer_id: int | None = None) -> set[str]:
        """Roles this actor holds over an object of `org` (and of producer `producer_id`)."""
        return {m.role for m in self.memberships if self.covers(m, org, producer_id)}

    def can_see(self, org: Organisation, producer_id: int | None = None) -> bool:
        """Whether an object of `org` lies in scope; a producer's record or product names its producer,
        which a producer's own account must match. Without a producer, the organisation itself."""
        if self.system:
            return True
        if producer_id is None:
            return any(m.organisation.contains(org) for m in self.memberships)
        return any(self.covers(m, org, producer_id) for m in self.memberships)

    def membership_for(self, org: Organisation, roles: tuple[str, ...] | set[str] | frozenset[str],
                       producer_id: int | None = None) -> Membership | None:
        """The nearest membership over `org` with one of `roles` (the organisation acting)."""
        fitting = [m for m in self.memberships if m.role in roles and self.covers(m, org, producer_id)]
        return max(fitting, key=lambda m: len(m.organisation.path), default=None)

    @property
    def scope_paths(self) -> list[str]:
        """The roots of the organisations this actor sees whole (producer accounts' communes excluded)."""
        if self.system:
            return ["/"]
        return sorted({m.organisation.path for m in self.memberships if not self.acts_for_role(m)})

    @property
    def producer_ids(self) -> list[int]:
        """The producers this actor sees through producer accounts (outside the whole organisations)."""
        return sorted({m.producer_id for m in self.memberships if self.acts_for_role(m) and m.producer_id})

    @property
    def scope_key(self) -> tuple:
        """What this actor's scope depends on: a cache key for statements built per scope."""
        return tuple(self.scope_paths), tuple(self.producer_ids)

    def acts_for_role(self, m: Membership) -> bool:
        """Whether `m` is a producer's own account, confined to its producer."""
        return m.role in self.policy.acts_for_producer

    def subtree(self, column: ColumnElement, paths: list[str] | None = None) -> ColumnElement[bool]:
        """The one subtree condition: `column` (an organisation id) lies under one of `paths`
        (default: the organisations this actor sees whole)."""
        paths = self.scope_paths if paths is None else paths
        if not paths:
            return false()
        if paths == ["/"]:
            return true()
        inner = select(Organisation.id).where(
            or_(*[Organisation.path.startswith(p, autoescape=True) for p in paths])
        )
        return column.in_(inner)

    def org_filter(self, column: ColumnElement) -> ColumnElement[bool]:
        """A SQL condition: `column` (an organisation id) lies within the organisations this actor sees
        whole. Products and producers are scoped with `object_filter` (producer accounts see theirs)."""
        return self.subtree(column)

    def object_filter(self, org_column: ColumnElement, producer_column: ColumnElement) -> ColumnElement[bool]:
        """A SQL condition for products and producers: in an organisation seen whole, or of a producer
        this actor acts for."""
        producers = self.producer_ids
        whole = self.subtree(org_column)
        if not producers:
            return whole
        mine = producer_column.in_(producers)
        return mine if not self.scope_paths else or_(whole, mine)


# one query with the memberships and their organisations (every web request does this), built once
_USER_WITH_MEMBERSHIPS = select(User).options(joinedload(User.memberships).joinedload(Membership.organisation))
_USER_BY_ID = _USER_WITH_MEMBERSHIPS.where(User.id == bindparam("key"))
_USER_BY_EMAIL = _USER_WITH_MEMBERSHIPS.where(User.email == bindparam("key"))


def load_actor(session: Session, user_or_email: int | str, today: date | None = None, *,
               policy: Policy | None = None) -> Actor:
    """Load a user and their active memberships; unknown or deactivated users are refused. `policy`:
    the permission file the actor acts under (default: the configured folder's)."""
    if isinstance(user_or_email, int):
        stmt, key = _USER_BY_ID, user_or_email
    else:
        stmt, key = _USER_BY_EMAIL, user_or_email.strip().lower()
    user = session.scalars(stmt, {"key": key}).unique().one_or_none()
    if user is None:
        raise NotFound(Text(f"Không có người dùng {user_or_email}", f"No user {user_or_email}"))
    if not user.active:
        raise PermissionDenied(Text("Tài khoản đã bị khoá", "This account is deactivated"))
    return actor_for(user, today, policy)


def actor_for(user: User, today: date | None = None, policy: Policy | None = None) -> Actor:
    """The Actor of a user loaded with its memberships: those of organisations in force `today`."""
    today = today or date.today()
    return Actor(user, [m for m in user.memberships if m.organisation.is_active(today)], policy)


def product_not_found(product_id: object) -> NotFound:
    return NotFound(Text(f"Không tìm thấy sản phẩm #{product_id}", f"Product #{product_id} not found"))


_PRODUCT_WITH_PLACE = (select(Product).where(Product.id == bindparam("product_id"))
                       .options(joinedload(Product.commune), joinedload(Product.producer)))


def get_visible_product(session: Session, actor: Actor, product_id: int, *, for_update: bool = False) -> Product:
    """The product if the actor may see it; NotFound otherwise (also when it is out of scope)."""
    product = (session.scalars(_PRODUCT_WITH_PLACE, {"product_id": product_id}).one_or_none()
               if valid_id(product_id) else None)
    if product is None or not actor.can_see(product.commune, product.producer_id):
        raise product_not_found(product_id)
    return product


def get_visible_producer(session: Session, actor: Actor, producer_id: int) -> Producer:
    producer = (session.get(Producer, producer_id, options=[selectinload(Producer.commune)])
                if valid_id(producer_id) else None)
    if producer is None or not actor.can_see(producer.commune, producer.id):
        raise NotFound(Text(f"Không tìm thấy chủ thể #{producer_id}", f"Producer #{producer_id} not found"))
    return producer
