"""Who may see what: the one place that scopes users to their organisations (what they may *do*
is `authz.authorize`, reading the permission file).

A membership covers its organisation's whole subtree (a district sees its communes, a
province its tree), except a membership that acts for one producer (a producer's own account,
`Membership.producer_id`): it covers that producer's record and products only. Out-of-scope
objects are reported as not found, never as forbidden, so their existence does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, bindparam, false, inspect, or_, select, true
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import instance_dict

from ..engine import Policy, get_registry
from ..errors import NotFound, PermissionDenied
from ..i18n import Text
from ..models import CouncilMember, EvaluationRound, Membership, Organisation, Producer, Product, RoundProduct, User
from ..validation import valid_id


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
    """A user with the memberships that are in force today, under the rules of a permission file.

    `load_actor` reads the user's row with the memberships; the `User` object is made from that
    row the first time `.user` is read (in the session the actor was loaded in), so a step that
    only needs the actor's id and roles builds no ORM object at all.

    `system` is the explicit actor of trusted callers (the demo loader, imports, the CLI's
    administration commands): it sees everything and may do everything, and its history rows name
    no user. It replaces the old `actor=None`, which meant the same thing silently.
    """

    __slots__ = ("_user", "_session", "_row", "memberships", "policy", "system")

    def __init__(
        self,
        user: User | None,
        memberships: list | None = None,
        policy: Policy | None = None,
        *,
        system: bool = False,
        session: Session | None = None,
        row: tuple | None = None,
    ) -> None:
        if (session is None) != (row is None):
            raise TypeError("Actor takes the session and the user's row together")
        self._user, self._session, self._row = user, session, row
        self.memberships: list[MembershipView | Membership] = list(memberships or [])
        self.policy: Policy = policy if policy is not None else get_registry().policy
        self.system = system

    @classmethod
    def system_actor(cls, policy: Policy | None = None) -> Actor:
        return cls(None, [], policy, system=True)

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
        if self.system:
            return "Actor(system)"
        return f"Actor(user_id={self.id}, memberships={[(m.role, m.organisation.code) for m in self.memberships]})"

    def covers(self, m: Membership, org: Organisation, producer_id: int | None = None) -> bool:
        """Whether membership `m` covers an object of `org` (and of producer `producer_id`)."""
        if not m.organisation.contains(org):
            return False
        if self.acts_for_role(m):
            return m.producer_id is not None and m.producer_id == producer_id
        return True

    def can_see(self, org: Organisation, producer_id: int | None = None) -> bool:
        """Whether an object of `org` lies in scope; a producer's record or product names its producer,
        which a producer's own account must match. Without a producer, the organisation itself."""
        if self.system:
            return True
        if producer_id is None:
            return any(m.organisation.contains(org) for m in self.memberships)
        return any(self.covers(m, org, producer_id) for m in self.memberships)

    def membership_for(
        self, org: Organisation, roles: tuple[str, ...] | set[str] | frozenset[str], producer_id: int | None = None
    ) -> Membership | None:
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
        inner = select(Organisation.id).where(or_(*[Organisation.path.startswith(p, autoescape=True) for p in paths]))
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


# Every request loads its actor, so this is one prebuilt Core statement (the user's row joined to
# each membership and its organisation) read into plain values: hydrating the memberships and the
# organisations as ORM objects cost more than the rest of a workflow step.
_U, _M, _O = User.__table__, Membership.__table__, Organisation.__table__
_USER_COLUMNS = ("id", "email", "name", "password_hash", "locale", "active", "created_at")
_ORG_COLUMNS = ("id", "code", "name", "level", "parent_id", "path", "valid_from", "valid_to")
_ACTOR_ROWS = (
    select(*[_U.c[c] for c in _USER_COLUMNS], _M.c.id, _M.c.role, _M.c.producer_id, *[_O.c[c] for c in _ORG_COLUMNS])
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


def load_actor(
    session: Session, user_or_email: int | str, today: date | None = None, *, policy: Policy | None = None
) -> Actor:
    """Load a user and their active memberships; unknown or deactivated users are refused. `policy`:
    the permission file the actor acts under (default: the configured folder's)."""
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
        org = OrgView(*row[_N_USER + 3 :])
        if org.is_active(today):
            active.append(MembershipView(row[_N_USER], user_id, org.id, row[_N_USER + 1], row[_N_USER + 2], org))
    return Actor(None, active, policy, session=session, row=tuple(first[:_N_USER]))


def actor_for(user: User, today: date | None = None, policy: Policy | None = None) -> Actor:
    """The Actor of a user loaded with its memberships: those of organisations in force `today`."""
    today = today or date.today()
    return Actor(user, [m for m in user.memberships if m.organisation.is_active(today)], policy)


def product_not_found(product_id: object) -> NotFound:
    return NotFound(Text(f"Không tìm thấy sản phẩm #{product_id}", f"Product #{product_id} not found"))


_PRODUCT_WITH_PLACE = (
    select(Product)
    .where(Product.id == bindparam("product_id"))
    .options(joinedload(Product.commune), joinedload(Product.producer))
)


def get_visible_product(session: Session, actor: Actor, product_id: int, *, for_update: bool = False) -> Product:
    """The product if the actor may see it; NotFound otherwise (also when it is out of scope)."""
    product = (
        session.scalars(_PRODUCT_WITH_PLACE, {"product_id": product_id}).one_or_none() if valid_id(product_id) else None
    )
    if product is None:
        raise product_not_found(product_id)
    if not actor.can_see(product.commune, product.producer_id) and not _sent_to_member(session, actor, product.id):
        raise product_not_found(product_id)
    return product


def _sent_to_member(session: Session, actor: Actor, product_id: int) -> bool:
    """Whether the product is in an open round of a council the actor sits on: its dossier is sent to
    the council's members (148/QĐ-TTg, the councils' rules), an invited expert from outside the area
    included. Reading only: what a person may *do* stays with `authz.authorize` and their roles."""
    if actor.id is None:
        return False
    stmt = (
        select(RoundProduct.id)
        .join(EvaluationRound, EvaluationRound.id == RoundProduct.round_id)
        .join(CouncilMember, CouncilMember.council_id == EvaluationRound.council_id)
        .where(
            RoundProduct.product_id == product_id,
            RoundProduct.status == "pending",
            EvaluationRound.status == "open",
            CouncilMember.user_id == actor.id,
        )
        .limit(1)
    )
    return session.scalar(stmt) is not None


def get_visible_producer(session: Session, actor: Actor, producer_id: int) -> Producer:
    producer = (
        session.get(Producer, producer_id, options=[selectinload(Producer.commune)]) if valid_id(producer_id) else None
    )
    if producer is None or not actor.can_see(producer.commune, producer.id):
        raise NotFound(Text(f"Không tìm thấy chủ thể #{producer_id}", f"Producer #{producer_id} not found"))
    return producer
