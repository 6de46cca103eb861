"""Organisations, users, memberships and producers: the people and places around products."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine import Catalogue
from ..errors import InvalidData, NotFound
from ..i18n import Text
from ..models import LEVELS, PRODUCER_KINDS, Membership, Organisation, Producer, User
from ..passwords import MIN_LENGTH, hash_password
from ..validation import check_text
from .access import Actor, require_role

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PARENT_LEVEL = {"province": "central", "district": "province", "commune": ("district", "province")}


def get_org(session: Session, code: str) -> Organisation:
    org = session.scalars(select(Organisation).where(Organisation.code == code)).one_or_none()
    if org is None:
        raise NotFound(Text(f"Không có đơn vị mã {code}", f"No organisation with code {code}"))
    return org


def create_organisation(
    session: Session, *, code: str, name: str, level: str, parent_code: str | None = None,
    valid_from: date | None = None, valid_to: date | None = None,
) -> Organisation:
    """Add a unit under its parent. A commune may sit under a district (until 2025) or a province."""
    if level not in LEVELS:
        raise InvalidData(Text(f"Cấp không hợp lệ: {level}", f"Unknown level: {level}"))
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", code or ""):
        raise InvalidData(Text(f"Mã đơn vị không hợp lệ: {code!r}", f"Invalid organisation code: {code!r}"))
    check_text(name, Text("Tên đơn vị", "Organisation name"))
    parent = get_org(session, parent_code) if parent_code else None
    if level != "central":
        allowed = PARENT_LEVEL[level]
        if parent is None or parent.level not in (allowed if isinstance(allowed, tuple) else (allowed,)):
            raise InvalidData(Text(f"Đơn vị cấp {level} phải thuộc đơn vị cấp {allowed}",
                                   f"A {level} must sit under a {allowed}"))
    org = Organisation(
        code=code, name=name.strip(), level=level, parent=parent,
        path=f"{parent.path if parent else '/'}{code}/", valid_from=valid_from, valid_to=valid_to,
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
    if password is not None and len(password) < MIN_LENGTH:
        raise InvalidData(Text(f"Mật khẩu cần ít nhất {MIN_LENGTH} ký tự",
                               f"The password needs at least {MIN_LENGTH} characters"))
    if locale not in ("vi", "en"):
        raise InvalidData(Text("Ngôn ngữ phải là vi hoặc en", "The language must be vi or en"))
    user = User(email=email, name=(name or email).strip(), locale=locale,
                password_hash=hash_password(password) if password else None, active=True)
    session.add(user)
    session.flush()
    return user


def add_membership(session: Session, catalogue: Catalogue, user: User, org: Organisation, role: str) -> Membership:
    """Give a user a role in an organisation; the role must belong to the organisation's level."""
    role_def = catalogue.roles.get(role)
    if role_def is None:
        raise InvalidData(Text(f"Vai trò không hợp lệ: {role}", f"Unknown role: {role}"))
    if role_def.level not in ("any", org.level):
        raise InvalidData(Text(
            f"Vai trò «{role_def.label.vi}» thuộc cấp {role_def.level}, không dùng được ở {org.name}",
            f"The role “{role_def.label.en}” belongs to the {role_def.level} level, not to {org.name}"))
    existing = session.scalars(select(Membership).where(
        Membership.user_id == user.id, Membership.organisation_id == org.id, Membership.role == role)).first()
    if existing:
        return existing
    membership = Membership(user=user, organisation=org, role=role)
    session.add(membership)
    session.flush()
    return membership


def create_producer(
    session: Session, actor: Actor | None, *, name: str, kind: str, commune: Organisation,
    tax_code: str | None = None,
) -> Producer:
    """Register a producer in a commune. `actor=None` is for trusted callers (demo, import)."""
    if kind not in PRODUCER_KINDS:
        raise InvalidData(Text(f"Loại chủ thể không hợp lệ: {kind}", f"Unknown producer kind: {kind}"))
    if commune.level != "commune":
        raise InvalidData(Text("Chủ thể phải thuộc một xã", "A producer must belong to a commune"))
    check_text(name, Text("Tên chủ thể", "Producer name"))
    if not (name or "").strip():
        raise InvalidData(Text("Tên chủ thể không được để trống", "The producer name is required"))
    if tax_code and not re.fullmatch(r"\d{10}(-\d{3})?", tax_code):
        raise InvalidData(Text(f"Mã số thuế không hợp lệ: {tax_code}", f"Invalid tax code: {tax_code}"))
    if actor is not None:
        require_role(actor, commune, ("producer", "commune_association", "commune_officer", "admin"),
                     Text("đăng ký chủ thể ở xã này", "register producers in this commune"))
    producer = Producer(name=name.strip(), kind=kind, commune=commune, tax_code=tax_code or None)
    session.add(producer)
    session.flush()
    return producer
