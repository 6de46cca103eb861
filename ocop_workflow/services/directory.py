"""Organisations, users, memberships and producers: the people and places around products."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine import Registry
from ..errors import InvalidData, NotFound
from ..i18n import Text
from ..levels import is_level, parent_levels
from ..models import Membership, Organisation, Producer, User
from ..passwords import check_password, hash_password
from ..validation import check_text
from .access import Actor
from .authz import admin_roots, require

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def get_org(session: Session, code: str) -> Organisation:
    org = session.scalars(select(Organisation).where(Organisation.code == code)).one_or_none()
    if org is None:
        raise NotFound(Text(f"Không có đơn vị mã {code}", f"No organisation with code {code}"))
    return org


def create_organisation(
    session: Session,
    *,
    code: str,
    name: str,
    level: str,
    parent_code: str | None = None,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> Organisation:
    """Add a unit under its parent. A commune may sit under a district (until 2025) or a province."""
    if not is_level(level):
        raise InvalidData(Text(f"Cấp không hợp lệ: {level}", f"Unknown level: {level}"))
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", code or ""):
        raise InvalidData(Text(f"Mã đơn vị không hợp lệ: {code!r}", f"Invalid organisation code: {code!r}"))
    check_text(name, Text("Tên đơn vị", "Organisation name"))
    parent = get_org(session, parent_code) if parent_code else None
    allowed = parent_levels(level)
    if allowed and (parent is None or parent.level not in allowed):
        raise InvalidData(
            Text(
                f"Đơn vị cấp {level} phải thuộc đơn vị cấp {' hoặc '.join(allowed)}",
                f"A {level} must sit under a {' or '.join(allowed)}",
            )
        )
    org = Organisation(
        code=code,
        name=name.strip(),
        level=level,
        parent=parent,
        path=f"{parent.path if parent else '/'}{code}/",
        valid_from=valid_from,
        valid_to=valid_to,
    )
    session.add(org)
    session.flush()
    return org


def create_user(session: Session, *, email: str, name: str, password: str | None, locale: str = "vi") -> User:
    check_text(email, Text("E-mail", "E-mail"))  # before strip(), which drops some silently
    check_text(name, Text("Họ tên", "Full name"))
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email):
        raise InvalidData(Text(f"Địa chỉ e-mail không hợp lệ: {email!r}", f"Invalid e-mail address: {email!r}"))
    if session.scalars(select(User.id).where(User.email == email)).first() is not None:
        raise InvalidData(Text(f"E-mail {email} đã được dùng", f"The e-mail {email} is already in use"))
    if password is not None:
        check_password(password, email=email, name=name or "")
    if locale not in ("vi", "en"):
        raise InvalidData(Text("Ngôn ngữ phải là vi hoặc en", "The language must be vi or en"))
    user = User(
        email=email,
        name=(name or email).strip(),
        locale=locale,
        password_hash=hash_password(password) if password else None,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def add_membership(
    session: Session,
    registry: Registry,
    user: User,
    org: Organisation,
    role: str,
    *,
    actor: Actor,
    producer: Producer | None = None,
) -> Membership:
    """Give a user a role in an organisation; the role must belong to the organisation's level.

    A role that acts for a producer (the permission file's `acts_for_producer`) needs the producer,
    who must belong to that commune; no other role takes one. The actor must administer both the
    user and the organisation (trusted callers pass `Actor.system_actor()`)."""
    role_def = registry.catalogue.roles.get(role)
    if role_def is None:
        raise InvalidData(Text(f"Vai trò không hợp lệ: {role}", f"Unknown role: {role}"))
    if role_def.level not in ("any", org.level):
        raise InvalidData(
            Text(
                f"Vai trò «{role_def.label.vi}» thuộc cấp {role_def.level}, không dùng được ở {org.name}",
                f"The role “{role_def.label.en}” belongs to the {role_def.level} level, not to {org.name}",
            )
        )
    if role in registry.policy.acts_for_producer:
        if producer is None or producer.commune_id != org.id:
            raise InvalidData(
                Text(
                    f"Vai trò «{role_def.label.vi}» cần chọn chủ thể của {org.name} mà tài khoản đại diện",
                    f"The role “{role_def.label.en}” needs the producer of {org.name} the account acts for",
                )
            )
    elif producer is not None:
        raise InvalidData(
            Text(
                f"Vai trò «{role_def.label.vi}» không gắn với một chủ thể",
                f"The role “{role_def.label.en}” is not bound to a producer",
            )
        )
    require(actor, "administer_users", user)
    if not actor.system and not any(root.contains(org) for root in admin_roots(actor)):
        raise NotFound(Text(f"Không tìm thấy đơn vị #{org.id}", f"Organisation #{org.id} not found"))
    producer_id = producer.id if producer is not None else None
    existing = session.scalars(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == org.id, Membership.role == role
        )
    ).first()
    if existing:
        if existing.producer_id != producer_id:
            raise InvalidData(
                Text(
                    "Người dùng đã có vai trò này ở đơn vị này, cho một chủ thể khác",
                    "The user already holds this role here, for another producer",
                )
            )
        return existing
    membership = Membership(user=user, organisation=org, role=role, producer_id=producer_id)
    session.add(membership)
    session.flush()
    return membership
