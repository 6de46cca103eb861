"""Who is reminded: the organisation that owns a state, its parent on escalation, and their members.

* Owner: a state's `level` names the tier that must act. The owning organisation is the
  product's commune, or the commune's ancestor at that level (found through the materialised
  `path`). When the tree has no unit at that level — a commune placed straight under its
  province after the 2025 reform following a three-tier definition — the nearest ancestor
  above it owns the state (the province took over the district's work).
* Owner's recipients: active members of exactly that organisation whose role appears in the
  transitions leaving the state (the people who can move it on).
* Escalation: the owner's parent organisation, to the members holding its supervisory role (the
  permission file's `notices.supervisors`, by level):
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

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine import Policy
from ..levels import is_above
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
        self._members: dict[int, list[tuple[str, Recipient]]] = {}

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

    def parent(self, org: Org) -> Org | None:
        chain = self.chain(org.id)
        return chain[1] if len(chain) > 1 else None

    def load_members(self, org_ids: Iterable[int]) -> None:
        missing = sorted({i for i in org_ids if i not in self._members})
        for i in missing:
            self._members[i] = []
        for chunk in _chunks(missing):
            stmt = (
                select(
                    Membership.organisation_id,
                    Membership.role,
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
            for org_id, role, uid, email, name, locale, mode in self.session.execute(stmt):
                self._members[org_id].append((role, Recipient(uid, email, name, locale or "vi", mode or "single")))

    def members(self, org: Org | None, roles: Iterable[str]) -> list[Recipient]:
        """Active members of `org` holding one of `roles`, each user once."""
        if org is None or not org.is_active(self.today):
            return []
        if org.id not in self._members:
            self.load_members([org.id])
        wanted = set(roles)
        seen: dict[int, Recipient] = {}
        for role, rec in self._members[org.id]:
            if role in wanted:
                seen.setdefault(rec.user_id, rec)
        return list(seen.values())


def supervisors(directory: Directory, policy: Policy, org: Org | None) -> list[Recipient]:
    """The members holding the supervising role of `org`'s level (the permission file's `notices`)."""
    return directory.members(org, policy.supervisors.get(org.level, ()) if org else ())


def group_by(items: Iterable, key) -> dict:
    out: dict = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return out
