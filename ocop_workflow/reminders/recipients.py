"""Who is reminded: the organisation that owns a state, its parent on escalation, and their members.

* Owner: a state's `level` names the tier that must act. The owning organisation is the
  product's commune, or the commune's ancestor at that level (found through the materialised
  `path`). When the tree has no unit at that level — a commune placed straight under its
  province after the 2025 reform following a three-tier definition — the nearest ancestor
  above it owns the state (the province took over the district's work).
* Owner's recipients: active members of exactly that organisation whose role appears in the
  transitions leaving the state (the people who can move it on).
* Escalation: the owner's parent organisation, to the members holding its supervisory role (the
  permission file's `notices.supervisors`, by level); the parent is the nearest ancestor at a level
  the product's definition has (`parent(org, levels)`): under a two-tier definition a commune
  escalates to its province even where the tree still holds its old district:
  a district's or province's OCOP secretariat (Thường trực OCOP), at central level the central
  council. So a commune escalates to the district secretariat, or to the province secretariat
  when it sits straight under the province (two tiers); a district to the province
  secretariat; a province to the central council. Central has no parent: no escalation.
* Memberships of closed organisations (valid_to in the past) and deactivated users are skipped,
  as `load_actor` skips them: those people can no longer act.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import String, bindparam, select
from sqlalchemy.orm import Session

from ..engine import Policy
from ..levels import LEVELS, is_above
from ..models import Membership, NotificationPreference, Organisation, User

CHUNK = 500


@dataclass(frozen=True)
class Org:
    id: int
    code: str
    name: str
    level: str
    path: str
    valid_from: date | None
    valid_to: date | None

    def is_active(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (self.valid_to is None or on <= self.valid_to)

    @property
    def codes(self) -> list[str]:
        return [c for c in self.path.split("/") if c]


@dataclass(frozen=True)
class Recipient:
    user_id: int
    email: str
    name: str
    locale: str
    email_mode: str


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Directory:
    """The organisations and members one sweep needs, loaded in a few batched queries."""

    def __init__(self, session: Session, today: date) -> None:
        self.session = session
        self.today = today
        self.by_id: dict[int, Org] = {}
        self.by_code: dict[str, Org] = {}
        # per organisation: (role, producer_id of a producer's own account, recipient)
        self._members: dict[int, list[tuple[str, int | None, Recipient]]] = {}

    def _add(self, rows: Iterable) -> None:
        for r in rows:
            org = Org(r.id, r.code, r.name, r.level, r.path, r.valid_from, r.valid_to)
            self.by_id[org.id] = org
            self.by_code[org.code] = org

    def load_orgs(self, org_ids: Iterable[int]) -> None:
        """Load these organisations and all their ancestors."""
        cols = (
            Organisation.id,
            Organisation.code,
            Organisation.name,
            Organisation.level,
            Organisation.path,
            Organisation.valid_from,
            Organisation.valid_to,
        )
        missing = sorted({i for i in org_ids if i not in self.by_id})
        for chunk in _chunks(missing):
            self._add(self.session.execute(select(*cols).where(Organisation.id.in_(chunk))))
        codes = sorted({c for i in org_ids if i in self.by_id for c in self.by_id[i].codes} - set(self.by_code))
        for chunk in _chunks(codes):
            self._add(self.session.execute(select(*cols).where(Organisation.code.in_(chunk))))

    def chain(self, org_id: int) -> list[Org]:
        """The organisation and its ancestors, nearest first."""
        org = self.by_id.get(org_id)
        if org is None:
            return []
        return [self.by_code[c] for c in reversed(org.codes) if c in self.by_code]

    def owner(self, commune_id: int, level: str) -> Org | None:
        """The commune's unit at `level`, or the nearest one above it when the tree has none (a commune
        directly under a province has no district)."""
        chain = self.chain(commune_id)
        for org in chain:
            if org.level == level:
                return org
        return next((org for org in chain if is_above(org.level, level)), None)

    def parent(self, org: Org, levels: Iterable[str] | None = None) -> Org | None:
        """The organisation above `org`; with `levels` (the levels a definition has), the nearest one
        above at one of those levels (a two-tier definition skips the district the tree may still hold)."""
        chain = self.chain(org.id)[1:]
        if levels is None:
            return chain[0] if chain else None
        wanted = set(levels)
        return next((o for o in chain if o.level in wanted), None)

    def load_chain(self, path: str, statement=None, **params: object):
        """Load the organisations of a materialised `path` (a commune and its ancestors) with all their
        members, in one statement: what one move's notice needs. `statement`: `CHAIN` with columns
        added (the caller's other reads, in the same statement); returns the first row (None: no row)."""
        codes = [c for c in path.split("/") if c][-len(LEVELS) :]
        if not codes:
            return None
        params.update({f"code{i}": codes[i] if i < len(codes) else None for i in range(len(LEVELS))})
        first = None
        rows = self.session.connection().execute(CHAIN if statement is None else statement, params)
        for r in rows:
            first = first or r
            if r.id not in self.by_id:
                org = Org(r.id, r.code, r.name, r.level, r.path, r.valid_from, r.valid_to)
                self.by_id[org.id], self.by_code[org.code] = org, org
                self._members[org.id] = []
            if r.user_id is not None:
                rec = Recipient(r.user_id, r.email, r.user_name, r.locale or "vi", r.email_mode or "single")
                self._members[r.id].append((r.role, r.producer_id, rec))
        return first

    def load_members(self, org_ids: Iterable[int]) -> None:
        missing = sorted({i for i in org_ids if i not in self._members})
        for i in missing:
            self._members[i] = []
        for chunk in _chunks(missing):
            stmt = (
                select(
                    Membership.organisation_id,
                    Membership.role,
                    Membership.producer_id,
                    User.id,
                    User.email,
                    User.name,
                    User.locale,
                    NotificationPreference.email_mode,
                )
                .join(User, Membership.user_id == User.id)
                .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
                .where(Membership.organisation_id.in_(chunk), User.active.is_(True))
                .order_by(User.id)
            )
            for org_id, role, producer_id, uid, email, name, locale, mode in self.session.execute(stmt):
                rec = Recipient(uid, email, name, locale or "vi", mode or "single")
                self._members[org_id].append((role, producer_id, rec))

    def members(self, org: Org | None, roles: Iterable[str]) -> list[Recipient]:
        """Active members of `org` holding one of `roles`, each user once."""
        if org is None or not org.is_active(self.today):
            return []
        if org.id not in self._members:
            self.load_members([org.id])
        wanted = set(roles)
        seen: dict[int, Recipient] = {}
        for role, _producer, rec in self._members[org.id]:
            if role in wanted:
                seen.setdefault(rec.user_id, rec)
        return list(seen.values())

    def members_with_roles(
        self,
        org: Org | None,
        roles: Iterable[str],
        *,
        producer_id: int | None = None,
        acts_for_producer: Iterable[str] = (),
    ) -> list[tuple[Recipient, frozenset[str]]]:
        """Like `members`, with the roles each member holds among `roles`. A producer's own account
        (a role of `acts_for_producer`) counts only for its own producer, `producer_id`."""
        if org is None or not org.is_active(self.today):
            return []
        if org.id not in self._members:
            self.load_members([org.id])
        wanted, confined = set(roles), set(acts_for_producer)
        found: dict[int, tuple[Recipient, set[str]]] = {}
        for role, own, rec in self._members[org.id]:
            if role not in wanted or (role in confined and (own is None or own != producer_id)):
                continue
            found.setdefault(rec.user_id, (rec, set()))[1].add(role)
        return [(rec, frozenset(held)) for rec, held in found.values()]


_O, _M, _U, _P = Organisation.__table__, Membership.__table__, User.__table__, NotificationPreference.__table__
# A commune's chain of organisations with every active member of each (one row per membership; an
# organisation without members comes once with NULL member columns).
CHAIN = (
    select(
        _O.c.id,
        _O.c.code,
        _O.c.name,
        _O.c.level,
        _O.c.path,
        _O.c.valid_from,
        _O.c.valid_to,
        _M.c.role,
        _M.c.producer_id,
        _U.c.id.label("user_id"),
        _U.c.email,
        _U.c.name.label("user_name"),
        _U.c.locale,
        _P.c.email_mode,
    )
    .select_from(
        _O.outerjoin(_M, _M.c.organisation_id == _O.c.id)
        .outerjoin(_U, (_U.c.id == _M.c.user_id) & _U.c.active.is_(True))
        .outerjoin(_P, _P.c.user_id == _U.c.id)
    )
    # a fixed list of parameters, one per level (an expanding IN is rendered anew on every execution)
    .where(_O.c.code.in_([bindparam(f"code{i}", type_=String) for i in range(len(LEVELS))]))
)


def supervisors(directory: Directory, policy: Policy, org: Org | None) -> list[Recipient]:
    """The members holding the supervising role of `org`'s level (the permission file's `notices`)."""
    return directory.members(org, policy.supervisors.get(org.level, ()) if org else ())


def group_by(items: Iterable, key) -> dict:
    out: dict = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return out
