"""Who may see and do what: the one place that scopes users to their organisations.

A membership covers its organisation's whole subtree (a district sees its communes, a
province its tree). Out-of-scope objects are reported as not found, never as forbidden,
so their existence does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, bindparam, false, inspect, or_, select
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import instance_dict

from ..errors import NotFound, PermissionDenied
from ..i18n import Text
from ..models import Membership, Organisation, Producer, Product, User


@dataclass(frozen=True, slots=True)
class OrgView:
    """An organisation as an actor's membership names it: the columns of `Organisation`, read once
    per request. A value, not an ORM object, so loading an actor hydrates no organisation."""

    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    path: str
    valid_from: date | None
    valid_to: date | None

    def is_active(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (self.valid_to is None or on <= self.valid_to)

    def contains(self, other: Organisation | OrgView) -> bool:
        return other.path.startswith(self.path)


@dataclass(frozen=True, slots=True)
class MembershipView:
    """A membership in force (the columns of `Membership`, with its organisation as an `OrgView`)."""

    id: int
    user_id: int
    organisation_id: int
    role: str
    producer_id: int | None
    organisation: OrgView


class Actor:
    """A user with the memberships that are in force today.

    `load_actor` reads the user's row with the memberships; the `User` object is made from that
    row the first time `.user` is read (in the session the actor was loaded in), so a step that
    only needs the actor's id and roles builds no ORM object at all."""

    __slots__ = ("_user", "_session", "_row", "memberships")

    def __init__(self, user: User | None, memberships: list[MembershipView] | None = None, *,
                 session: Session | None = None, row: tuple | None = None) -> None:
        if (session is None) != (row is None):
            raise TypeError("Actor takes the session and the user's row together")
        self._user, self._session, self._row = user, session, row
        self.memberships: list[MembershipView] = list(memberships or [])

    @property
    def user(self) -> User | None:
        if self._user is None and self._row is not None:
            self._user = _persistent_user(self._session, self._row)
            self._session = self._row = None
        return self._user

    @property
    def id(self) -> int | None:
        if self._row is not None:
            return self._row[0]
        return self._user.id if self._user is not None else None

    @property
    def locale(self) -> str:
        if self._row is not None:
            return self._row[_LOCALE] or "vi"
        return (self._user.locale if self._user is not None else None) or "vi"

    def __repr__(self) -> str:
        return f"Actor(user_id={self.id}, memberships={[(m.role, m.organisation.code) for m in self.memberships]})"

    def roles_over(self, org: Organisation | OrgView) -> set[str]:
        """Roles this actor holds in `org` or in one of its ancestors."""
        path = org.path
        return {m.role for m in self.memberships if path.startswith(m.organisation.path)}

    def can_see(self, org: Organisation | OrgView) -> bool:
        path = org.path
        return any(path.startswith(m.organisation.path) for m in self.memberships)

    def membership_for(self, org: Organisation | OrgView, roles: tuple[str, ...] | set[str] | frozenset[str],
                       ) -> MembershipView | None:
        """The nearest membership over `org` with one of `roles` (the organisation acting)."""
        path = org.path
        fitting = [m for m in self.memberships if m.role in roles and path.startswith(m.organisation.path)]
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


# Every request loads its actor, so this is one prebuilt Core statement (the user's row joined to
# each membership and its organisation) read into plain values: hydrating the memberships and the
# organisations as ORM objects cost more than the rest of a workflow step.
_U, _M, _O = User.__table__, Membership.__table__, Organisation.__table__
_USER_COLUMNS = ("id", "email", "name", "password_hash", "locale", "active", "created_at")
_ORG_COLUMNS = ("id", "code", "name", "level", "parent_id", "path", "valid_from", "valid_to")
_ACTOR_ROWS = (
    select(*[_U.c[c] for c in _USER_COLUMNS], _M.c.id, _M.c.role, _M.c.producer_id,
           *[_O.c[c] for c in _ORG_COLUMNS])
    .select_from(_U.outerjoin(_M, _M.c.user_id == _U.c.id).outerjoin(_O, _O.c.id == _M.c.organisation_id))
    .order_by(_M.c.id)
)
_USER_BY_ID = _ACTOR_ROWS.where(_U.c.id == bindparam("key"))
_USER_BY_EMAIL = _ACTOR_ROWS.where(_U.c.email == bindparam("key"))
_N_USER, _N_ORG, _LOCALE = len(_USER_COLUMNS), len(_ORG_COLUMNS), _USER_COLUMNS.index("locale")
_USER_MAPPER = inspect(User)


def _persistent_user(session: Session, values: tuple) -> User:
    """The session's `User` for this row: the one it already holds, or one made from the row and
    attached as loaded (persistent and clean, no second query; later changes flush as usual).
    Once the session's transaction is over (an actor kept across transactions), the user is made
    detached, as a loaded user is after its session closes."""
    key = _USER_MAPPER.identity_key_from_primary_key((values[0],))
    user = session.identity_map.get(key)
    if user is None:
        user = User()
        # the row's values as the loaded state (no attribute events: `make_transient_to_detached`
        # marks them committed); `memberships` stays unloaded and lazy-loads if ever read
        instance_dict(user).update(zip(_USER_COLUMNS, values, strict=True))
        make_transient_to_detached(user)
        if session.in_transaction():
            session.add(user)
    return user


def load_actor(session: Session, user_or_email: int | str, today: date | None = None) -> Actor:
    """Load a user and their active memberships; unknown or deactivated users are refused."""
    if isinstance(user_or_email, int):
        stmt, key = _USER_BY_ID, user_or_email
    else:
        stmt, key = _USER_BY_EMAIL, user_or_email.strip().lower()
    rows = session.connection().execute(stmt, {"key": key}).all()
    if not rows:
        raise NotFound(Text(f"Không có người dùng {user_or_email}", f"No user {user_or_email}"))
    first = rows[0]
    if not first.active:
        raise PermissionDenied(Text("Tài khoản đã bị khoá", "This account is deactivated"))
    user_id = first[0]
    today = today or date.today()
    active = []
    for row in rows:
        if row[_N_USER] is None:  # no membership at all
            break
        org = OrgView(*row[_N_USER + 3:])
        if org.is_active(today):
            active.append(MembershipView(row[_N_USER], user_id, org.id, row[_N_USER + 1], row[_N_USER + 2], org))
    return Actor(None, active, session=session, row=tuple(first[:_N_USER]))


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


def require_role(actor: Actor, org: Organisation | OrgView, roles: set[str] | tuple[str, ...], what: Text,
                 ) -> MembershipView:
    membership = actor.membership_for(org, roles)
    if membership is None:
        raise PermissionDenied(
            Text(f"Bạn không có quyền {what.vi}", f"You are not allowed to {what.en}"), roles=sorted(roles)
        )
    return membership
