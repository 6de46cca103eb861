"""Product lists: filters, pages, counts per state, what waits for whom, and the organisation choosers.

Read models as plain functions over a SQLAlchemy session, scoped by `Actor.object_filter` (products
of the organisations the actor sees whole, or of the producer a producer's account acts for). They
are written for big tables: a list page is one indexed range read in the order shown (see the
indexes on `Product`), its count stops at `COUNT_CAP`, the statements of each shape of list are
built once and reused with parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, and_, bindparam, case, false, func, literal, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from ..engine import Registry
from ..errors import NotFound
from ..folding import search_words
from ..i18n import Text
from ..levels import COMMUNE, DISTRICT
from ..models import Certificate, Organisation, Producer, Product, ProductEvent
from ..reminders.calendar import DEFAULT_TZ
from ..validation import valid_id
from .access import Actor
from .authz import can
from .certificates import local_day, valid_on
from .lateness import deadline_order, late_condition, late_params
from .products import EDIT_TRIGGER

RETURN_TRIGGER = "return_for_revision"  # the move that sends a dossier back for revision, in every definition
# the orders a list may be read in (`?sort=`): None is the most recent move first
SORTS = ("name", "state", "commune", "waiting", "deadline")
COUNT_CAP = 1000
SEARCH_COUNT_CAP = 200
MAX_PER_PAGE = 200


# --- listing -----------------------------------------------------------------------------------
@dataclass
class ProductFilter:
    """What a product list shows: all filters are optional and combine with AND."""

    state: str | None = None
    org_id: int | None = None
    group: str | None = None
    # 1-2: the product's star; 3-5: "certified at that star", a certificate of that star valid on
    # `on` (today in Vietnam by default): an expired, revoked or superseded one does not count
    star: int | None = None
    q: str | None = None
    waiting: bool = False
    page: int = 1
    on: date | None = None
    # only products past their state's time limit (services.lateness), at `now` (the present by default)
    late: bool = False
    sort: str | None = None  # one of SORTS; None: the most recent move first
    stage: str | None = None  # a stage of the catalogue (`stages:`): its states in every definition
    now: datetime | None = None
    tz: str = DEFAULT_TZ  # the programme's zone: local days for deadlines


@dataclass
class Page:
    """One page of a list. `total` is exact when `exact`; otherwise there are more than `total` items."""

    items: list
    total: int
    page: int
    per_page: int
    exact: bool = True

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages or not self.exact

    @property
    def total_label(self) -> str:
        """ "1000+" when the count stopped at its cap."""
        return f"{self.total}" if self.exact else f"{self.total}+"

    @property
    def pages_label(self) -> str:
        return f"{self.pages}" if self.exact else f"{self.pages}+"


def _compute_waiting_keys(registry: Registry, roles: frozenset[str]) -> tuple[tuple[str, int, str], ...]:
    out = []
    for d in registry.definitions.values():
        for key, sdef in d.states.items():
            if sdef.final:
                continue
            for t in d.transitions_from(key):
                mine = roles.intersection(t.roles)
                if any(registry.catalogue.roles[r].level == sdef.level for r in mine):
                    out.append((d.key, d.version, key))
                    break
    return tuple(out)


def waiting_keys(registry: Registry, actor: Actor) -> list[tuple[str, int, str]]:
    """(workflow, version, state) triples where one of the actor's roles takes the next step.

    A state waits for a role when a transition out of it needs that role and the role works at
    the state's level (so a commune's right to withdraw does not fill its inbox with dossiers
    that sit at the province). Final states never wait. Cached per registry and set of roles.
    """
    roles = frozenset(m.role for m in actor.memberships)
    # a registry never changes once loaded: the answer is kept on it, per set of roles
    cache = registry.__dict__.setdefault("_ocop_waiting_keys", {})
    keys = cache.get(roles)
    if keys is None:
        keys = cache[roles] = _compute_waiting_keys(registry, roles)
    return list(keys)


def waiting_condition(registry: Registry, actor: Actor):
    """A SQL condition: the product waits for one of the actor's roles (see `waiting_keys`)."""
    keys = waiting_keys(registry, actor)
    if not keys:
        return false()
    return or_(
        *[and_(Product.workflow_key == k, Product.workflow_version == v, Product.state == s) for k, v, s in keys]
    )


def get_visible_organisation(session: Session, actor: Actor, org_id: int) -> Organisation:
    """The organisation if it lies in the actor's scope; NotFound otherwise."""
    org = session.get(Organisation, org_id) if valid_id(org_id) else None
    if org is None or not actor.can_see(org):
        raise NotFound(Text(f"Không tìm thấy đơn vị #{org_id}", f"Organisation #{org_id} not found"))
    return org


def _unindexed(sqlite: bool, column):
    """`column` in a form SQLite's planner will not pick an index for (`commune_id + 0`).

    A scope of a province or district covers most products: walking the list index in the order
    shown and checking the commune from that index (it holds commune_id) stops after one page,
    whereas the commune index would fetch every product of the scope and sort them. Without
    statistics (no ANALYZE) SQLite guesses the commune index, hence this. PostgreSQL plans by cost.
    """
    return column + 0 if sqlite else column


def _narrow(actor: Actor) -> bool:
    """Whether the actor sees at most a few communes (then the commune index is the right one)."""
    return bool(actor.memberships) and all(m.organisation.level == COMMUNE for m in actor.memberships)


def _product_scope(actor: Actor, sqlite: bool):
    commune = Product.commune_id if _narrow(actor) else _unindexed(sqlite, Product.commune_id)
    return actor.object_filter(commune, Product.producer_id)


def _scope_condition(session: Session, actor: Actor):
    return _product_scope(actor, session.get_bind().dialect.name == "sqlite")


def _like_escape(value: str) -> str:
    return value.replace("/", "//").replace("%", "/%").replace("_", "/_")


CERTIFIED_STAR = 3


def stage_condition(registry: Registry, key: str):
    """SQL on Product: its state lies in the catalogue's stage `key`; None for an unknown stage."""
    for stage in registry.catalogue.stages:
        if stage.key == key:
            return or_(
                *[and_(Product.workflow_key == wf, Product.state.in_(states)) for wf, states in stage.states.items()]
            )
    return None


def certified_condition(star=None, today=None):
    """SQL on Product: it holds a certificate valid on `today` (bind parameter "today" by default),
    of the star `star` when given. The one meaning of "certified" in lists and counts (issue #10)."""
    cond = and_(Certificate.product_id == Product.id, valid_on(today if today is not None else bindparam("today")))
    if star is not None:
        cond = and_(cond, Certificate.star == star)
    return select(Certificate.id).where(cond).exists()


def _conditions(registry: Registry, actor: Actor, scope, flt: ProductFilter, org_column, n_words: int) -> list:
    """The WHERE conditions of one shape of list: the scope first, then each filter with a named parameter."""
    conds = [scope]
    if flt.state:
        conds.append(Product.state == bindparam("state"))
    if flt.stage:
        cond = stage_condition(registry, flt.stage)
        conds.append(cond if cond is not None else false())
    if flt.group:
        conds.append(Product.product_group == bindparam("group"))
    if flt.star and flt.star >= CERTIFIED_STAR:
        conds.append(certified_condition(bindparam("star")))
    elif flt.star:
        conds.append(Product.current_star == bindparam("star"))
    if org_column is not None:
        conds.append(
            org_column.in_(select(Organisation.id).where(Organisation.path.like(bindparam("org_path"), escape="/")))
        )
    conds.extend(Product.name_folded.like(bindparam(f"word{i}"), escape="/") for i in range(n_words))
    if flt.late:
        conds.append(late_condition(registry))
    if flt.waiting:
        conds.append(waiting_condition(registry, actor))
    return conds


def _ordered_waiting(sqlite: bool, keys: tuple[tuple[str, int, str], ...]) -> list:
    """The waiting condition for reading a page in order on SQLite. With parameters, SQLite reads each
    (workflow, version, state) from the counting index and sorts them all; instead the state (when
    there is one) picks the list index, or the order index is read and each row checked."""
    if not sqlite or not keys:
        return []
    states = {s for _k, _v, s in keys}
    each = or_(
        *[
            and_(Product.workflow_key.concat("") == k, Product.workflow_version + 0 == v, Product.state.concat("") == s)
            for k, v, s in keys
        ]
    )
    return [Product.state == states.pop(), each] if len(states) == 1 else [each]


@dataclass(frozen=True)
class ListQuery:
    """The statements of one shape of list (its scope and which filters it has), built once and kept:
    building a statement and its cache key costs more than SQLite takes to run it."""

    conditions: tuple
    count: Select  # parameter "cap": count at most that many
    rows: Select  # parameters "limit", "offset"
    products: Select


_LIST_QUERIES: dict[tuple, ListQuery] = {}


def product_conditions(
    session: Session, registry: Registry, actor: Actor, flt: ProductFilter
) -> tuple[ListQuery, dict]:
    """The statements of a filtered list and the values of their parameters. Raises NotFound for an
    organisation out of the actor's scope."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    params: dict = {}
    org_key = None
    if flt.org_id:
        org = get_visible_organisation(session, actor, flt.org_id)
        org_key = org.level == COMMUNE
        params["org_path"] = _like_escape(org.path) + "%"
    if flt.state:
        params["state"] = flt.state
    if flt.group:
        params["group"] = flt.group
    if flt.star:
        params["star"] = flt.star
        if flt.star >= CERTIFIED_STAR:
            params["today"] = flt.on or local_day()
    words = search_words(flt.q)
    params.update({f"word{i}": f"%{_like_escape(w)}%" for i, w in enumerate(words)})
    if flt.late:
        params.update(late_params(registry, flt.now, flt.tz))
    narrow = _narrow(actor)
    waiting = tuple(waiting_keys(registry, actor)) if flt.waiting else None
    order = _order(session, registry, flt)
    key = (
        sqlite,
        actor.scope_key,
        narrow,
        bool(flt.state),
        bool(flt.group),
        (flt.star >= CERTIFIED_STAR) if flt.star else None,
        org_key,
        len(words),
        waiting,
        flt.late,
        flt.stage,
        flt.sort if flt.sort in SORTS else None,
        id(order),
    )
    query = _LIST_QUERIES.get(key)
    if query is None:
        scope = _product_scope(actor, sqlite)
        org_column = None
        if org_key is not None:
            org_column = Product.commune_id if org_key else _unindexed(sqlite, Product.commune_id)
        conds = _conditions(registry, actor, scope, flt, org_column, len(words))
        # the page reads in order; with a waiting filter (always the last condition) it gets its own form
        ordered = _ordered_waiting(sqlite, waiting) if waiting and order is ORDER else []
        in_order = conds[:-1] + ordered if ordered else conds
        page = (bindparam("limit"), bindparam("offset"))
        query = ListQuery(
            conditions=tuple(conds),
            count=select(func.count()).select_from(_IDS.where(*conds).limit(bindparam("cap")).subquery()),
            rows=_sorted(_ROWS, order).where(*in_order).limit(page[0]).offset(page[1]),
            products=_sorted(_PRODUCTS, order).where(*in_order).limit(page[0]).offset(page[1]),
        )
        if len(_LIST_QUERIES) > 2000:
            _LIST_QUERIES.clear()
        _LIST_QUERIES[key] = query
    return query, params


@dataclass(frozen=True, slots=True)
class ProductRow:
    """A product as a list shows it: what one row needs, read without loading model objects."""

    id: int
    name: str
    state: str
    workflow_key: str
    workflow_version: int
    current_star: int | None
    state_entered_at: datetime
    producer_name: str
    commune_name: str
    district_name: str | None = None  # the commune's parent when it is a district
    returned: bool = False  # its last move sent it back for revision


ORDER = (Product.state_entered_at.desc(), Product.id.desc())
_COMMUNE = aliased(Organisation, name="commune")
_DISTRICT = aliased(Organisation, name="district")
_MOVE = aliased(ProductEvent, name="last_move")
# the trigger of the product's last move (edits of its details are not moves): one step back in the
# (product_id, seq) unique index per row of a page
_LAST_MOVE = (
    select(_MOVE.trigger)
    .where(_MOVE.product_id == Product.id, _MOVE.trigger != EDIT_TRIGGER)
    .order_by(_MOVE.seq.desc())
    .limit(1)
    .correlate(Product)
    .scalar_subquery()
)
_ORDERS: dict[tuple, tuple] = {}


def _order(session: Session, registry: Registry, flt: ProductFilter) -> tuple:
    """The ORDER BY terms of `flt.sort` (kept per registry so that the statements can be cached)."""
    sort = flt.sort if flt.sort in SORTS else None
    if sort is None:
        return ORDER
    if sort == "deadline":
        return deadline_order(registry, session.get_bind().dialect.name, flt.tz, flt.now)
    key = (id(registry), sort)
    hit = _ORDERS.get(key)
    if hit is not None and hit[0] is registry:
        return hit[1]
    if sort == "name":
        terms = (Product.name_folded.asc(), Product.id.asc())
    elif sort == "waiting":  # the longest waiting first
        terms = (Product.state_entered_at.asc(), Product.id.asc())
    elif sort == "commune":
        terms = (
            func.coalesce(_DISTRICT.name, "").asc(),
            _COMMUNE.name.asc(),
            Product.name_folded.asc(),
            Product.id.asc(),
        )
    else:  # state: the cycle's order (the catalogue's stages), then the name
        whens = [
            (and_(Product.workflow_key == wf, Product.state.in_(states)), i)
            for i, stage in enumerate(registry.catalogue.stages)
            for wf, states in stage.states.items()
            if states
        ]
        position = case(*whens, else_=len(whens)) if whens else literal(0)
        terms = (position.asc(), Product.state.asc(), Product.name_folded.asc(), Product.id.asc())
    _ORDERS[key] = (registry, terms)
    return terms


def _sorted(stmt: Select, order: tuple) -> Select:
    return stmt if order is ORDER else stmt.order_by(None).order_by(*order)


_ROWS = (
    select(
        Product.id,
        Product.name,
        Product.state,
        Product.workflow_key,
        Product.workflow_version,
        Product.current_star,
        Product.state_entered_at,
        Producer.name,
        _COMMUNE.name,
        _DISTRICT.name,
        func.coalesce(_LAST_MOVE, "") == RETURN_TRIGGER,
    )
    .join(Producer, Producer.id == Product.producer_id)
    .join(_COMMUNE, _COMMUNE.id == Product.commune_id)
    .outerjoin(_DISTRICT, and_(_DISTRICT.id == _COMMUNE.parent_id, _DISTRICT.level == DISTRICT))
    .order_by(*ORDER)
)
_PRODUCTS = (
    select(Product)
    .join(_COMMUNE, _COMMUNE.id == Product.commune_id)
    .outerjoin(_DISTRICT, and_(_DISTRICT.id == _COMMUNE.parent_id, _DISTRICT.level == DISTRICT))
    .options(joinedload(Product.commune), joinedload(Product.producer))
    .order_by(*ORDER)
)
_IDS = select(Product.id)


def list_products(
    session: Session,
    registry: Registry,
    actor: Actor,
    flt: ProductFilter,
    per_page: int = 25,
    *,
    count_cap: int | None = None,
    rows: bool = False,
) -> Page:
    """One page of the products in the actor's scope that match `flt`, the most recently moved first.

    The items are `Product`s with their commune and producer, or `ProductRow`s with `rows=True`
    (the same products, for screens that only show them: plain rows cost a fraction of model
    objects). The total is exact up to `count_cap` (default COUNT_CAP, SEARCH_COUNT_CAP for a name
    search, which checks every name it passes) or up to the requested page if further; beyond that
    the page says "more than" (`Page.exact` false). A first page that is not full is its own
    count. A page past the end shows the last page.
    """
    query, params = product_conditions(session, registry, actor, flt)

    def fetch(limit: int, offset: int) -> list:
        values = {**params, "limit": limit, "offset": offset}
        if rows:
            return [ProductRow(*row) for row in session.execute(query.rows, values)]
        return list(session.scalars(query.products, values))

    per_page = max(1, min(per_page, MAX_PER_PAGE))
    if count_cap is None:
        count_cap = SEARCH_COUNT_CAP if flt.q and search_words(flt.q) else COUNT_CAP
    page = max(1, flt.page)
    items: list | None = None
    if page == 1:
        items = fetch(per_page, 0)
        if len(items) < per_page:
            return Page(items, len(items), 1, per_page)
    limit = max(count_cap, page * per_page) + 1
    counted = session.scalar(query.count, {**params, "cap": limit}) or 0
    exact = counted < limit
    total = counted if exact else limit - 1
    last = max(1, math.ceil(total / per_page))
    if page > last and exact:
        page = last
    if items is None or page != 1:
        items = fetch(per_page, (page - 1) * per_page)
    return Page(items, total, page, per_page, exact)


def state_counts(session: Session, actor: Actor, *, waiting: Registry | None = None) -> list[tuple[str, str, int]]:
    """(workflow, state, count) of the products in the actor's scope; only those waiting for the
    actor when `waiting` (the registry that says what waits) is given."""
    conds = [_scope_condition(session, actor)]
    if waiting is not None:
        conds.append(waiting_condition(waiting, actor))
    # grouped like the index (workflow_key, workflow_version, state, commune_id): one pass over it, no sorting
    stmt = (
        select(Product.workflow_key, Product.state, func.count())
        .where(*conds)
        .group_by(Product.workflow_key, Product.workflow_version, Product.state)
    )
    counts: dict[tuple[str, str], int] = {}
    for key, state, n in session.execute(stmt):
        counts[key, state] = counts.get((key, state), 0) + n
    return [(key, state, n) for (key, state), n in sorted(counts.items())]


def certified_counts(session: Session, actor: Actor, today: date | None = None) -> dict[int, int]:
    """{star: products} of the products in the actor's scope certified on `today` (a certificate valid
    then; today in Vietnam by default), each counted once at the star of its newest valid certificate."""
    day = today or local_day()
    newest = (
        select(Certificate.product_id, func.max(Certificate.issued_on).label("issued_on"))
        .where(valid_on(day))
        .group_by(Certificate.product_id)
        .subquery()
    )
    stmt = (
        select(Certificate.star, func.count(func.distinct(Certificate.product_id)))
        .join(newest, and_(newest.c.product_id == Certificate.product_id, newest.c.issued_on == Certificate.issued_on))
        .join(Product, Product.id == Certificate.product_id)
        .where(valid_on(day), _scope_condition(session, actor))
        .group_by(Certificate.star)
    )
    return {star: n for star, n in session.execute(stmt)}


def provinces_for(session: Session, actor: Actor, action: str) -> list[Organisation]:
    """The provinces of the actor's area on which the actor may do `action` (a province's settings: its
    certificate number format, the rules of its new products), in tree order."""
    provinces = session.scalars(
        select(Organisation)
        .where(actor.subtree(Organisation.id), Organisation.level == "province")
        .order_by(Organisation.path)
    )
    return [o for o in provinces if can(actor, action, o)]


def organisations_in_scope(session: Session, actor: Actor, levels: tuple[str, ...] | None = None) -> list[Organisation]:
    """Every organisation the actor may see (optionally only some levels), in tree order."""
    if not actor.scope_paths:
        return []
    stmt = select(Organisation).where(actor.subtree(Organisation.id))
    if levels:
        stmt = stmt.where(Organisation.level.in_(levels))
    return list(session.scalars(stmt.order_by(Organisation.path)))


def organisation_options(
    session: Session, actor: Actor, levels: tuple[str, ...] | None = None
) -> list[tuple[int, str, str]]:
    """(id, name, level) of the organisations the actor may see, in tree order: for choosers, without
    loading a model object per organisation."""
    if not actor.scope_paths:
        return []
    stmt = select(Organisation.id, Organisation.name, Organisation.level).where(actor.subtree(Organisation.id))
    if levels:
        stmt = stmt.where(Organisation.level.in_(levels))
    return [(i, n, lv) for i, n, lv in session.execute(stmt.order_by(Organisation.path))]


__all__ = [
    "COUNT_CAP",
    "RETURN_TRIGGER",
    "SEARCH_COUNT_CAP",
    "SORTS",
    "provinces_for",
    "ListQuery",
    "Page",
    "ProductFilter",
    "ProductRow",
    "certified_condition",
    "certified_counts",
    "get_visible_organisation",
    "list_products",
    "organisation_options",
    "organisations_in_scope",
    "product_conditions",
    "stage_condition",
    "state_counts",
    "waiting_condition",
    "waiting_keys",
]
