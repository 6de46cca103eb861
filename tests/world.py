"""A small administrative world for tests: two districts, communes, a user per role."""

from __future__ import annotations

from dataclasses import dataclass, field

from ocop_workflow.db import Database
from ocop_workflow.engine import Registry
from ocop_workflow.models import Producer
from ocop_workflow.passwords import hash_password
from ocop_workflow.services import directory, producers
from ocop_workflow.services.access import Actor

PASSWORD = "mat-khau-123"


@dataclass
class World:
    emails: dict[str, str] = field(default_factory=dict)  # "role@org" -> email
    orgs: dict[str, int] = field(default_factory=dict)  # code -> id
    producers: dict[str, int] = field(default_factory=dict)  # kind -> id (in commune C1)
    other_producer: int = 0  # a producer in commune C3 (other district)

    def user(self, role: str, org: str) -> str:
        return self.emails[f"{role}@{org}"]


_HASH: list[str] = []


def _password_hash() -> str:
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


def build_world(db: Database, registry: Registry) -> World:
    """VN > P (province) > D1 > C1, C2; P > D2 > C3; P > C4 (a post-2025 commune straight under the province)."""
    world = World()
    with db.transaction() as s:
        tree = [
            ("VN", "Việt Nam", "central", None),
            ("P", "Bắc Giang", "province", "VN"),
            ("D1", "Lục Ngạn", "district", "P"),
            ("D2", "Yên Thế", "district", "P"),
            ("C1", "Phượng Sơn", "commune", "D1"),
            ("C2", "Hồng Giang", "commune", "D1"),
            ("C3", "Đồng Kỳ", "commune", "D2"),
            ("C4", "Tân Sơn", "commune", "P"),
        ]
        orgs = {}
        for code, name, level, parent in tree:
            orgs[code] = directory.create_organisation(s, code=code, name=name, level=level, parent_code=parent)
            world.orgs[code] = orgs[code].id
        system = Actor.system_actor(registry.policy)
        for kind in ("cooperative", "cooperative_group", "enterprise", "household"):
            p = producers.create_producer(s, system, name=f"Chủ thể {kind}", kind=kind, commune=orgs["C1"])
            world.producers[kind] = p.id
        world.other_producer = producers.create_producer(
            s, system, name="HTX Gà đồi Yên Thế", kind="cooperative", commune=orgs["C3"]
        ).id
        # a producer's own account acts for one producer: in C1 the co-operative, elsewhere the commune's first
        own = {"C1": world.producers["cooperative"], "C3": world.other_producer}
        for code in ("C2", "C4"):
            own[code] = producers.create_producer(
                s, system, name=f"Hộ kinh doanh {code}", kind="household", commune=orgs[code]
            ).id
        for role, role_def in registry.catalogue.roles.items():
            level = role_def.level if role_def.level != "any" else "province"
            codes = [c for c, (_, _, lvl, _) in zip(orgs, tree, strict=True) if lvl == level]
            for code in codes:
                email = f"{role}.{code.lower()}@test.ocop.vn"
                user = directory.create_user(s, email=email, name=f"{role} {code}", password=None)
                user.password_hash = _password_hash()  # argon2 is slow on purpose: hash once per run
                producer = s.get(Producer, own[code]) if role in registry.policy.acts_for_producer else None
                directory.add_membership(s, registry, user, orgs[code], role, actor=system, producer=producer)
                world.emails[f"{role}@{code}"] = email
    return world
