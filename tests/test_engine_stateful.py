"""Stateful property test of the engine through the services, on a real SQLite database.

Hypothesis drives random products of both definitions (ocop-148 and ocop-1489) with random
documents (sometimes invalid bytes), random triggers from *all* triggers of the definition, by
random actors (including out-of-scope ones), with random comments and scores (sometimes missing,
sometimes out of range). A small independent model predicts, for every call, whether it must be
accepted and where the product must land; the database is checked against the model and against
invariants after every step:

* the state is always a state of the product's definition;
* an accepted move is exactly one new history row (plus one rating row when it scores);
  a refused one (any OcopError) changes nothing at all: products, history, ratings, documents, files;
* replaying the history from the 'create' event gives the current state, each step a transition
  the definition allows;
* the current star is the star of the last final rating; a rating's star is the band of its score
  capped at the level's max star; a council scoring below its `min_star` (the central council
  below 90) leaves the forwarding level's result standing as the final rating (definition's
  `evaluation`). A council's rating step is fired with a round's verdict (a person alone is refused).
* version 2 (issue #10): a final result of 3★ or more waits in the awaiting state of the level the
  definition's `recognition` names; only a signed recognition decision (services.decisions, drafted by
  that level's secretariat, signed by its chair) moves it on and issues the certificate, which
  supersedes the one held; a failed upgrade keeps the certificate and its star; a re-evaluation below
  3★ ends it; applications need (or, for `apply_again`, must not have) a valid certificate, and the
  step that sends the dossier needs the application's documents uploaded again.

The template database is migrated and filled once per module; every Hypothesis example starts from a
fresh copy of it, so examples are independent. The run is derandomized (same walks on every machine, no
example database); a failure is shrunk to a short walk, which can take a few minutes.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from ocop_workflow import migrate_db
from ocop_workflow.config import Settings
from ocop_workflow.db import Database
from ocop_workflow.engine import Registry, TransitionDef, WorkflowDefinition
from ocop_workflow.errors import OcopError
from ocop_workflow.levels import rank
from ocop_workflow.models import Certificate, Document, Producer, Product, ProductEvent, Rating, RecognitionDecision
from ocop_workflow.services import directory
from ocop_workflow.services import producers as producer_service
from ocop_workflow.services.access import Actor, load_actor
from ocop_workflow.services.certificates import held_certificate, local_day
from ocop_workflow.services.decisions import draft_decision, sign_decision
from ocop_workflow.services.documents import attach_document
from ocop_workflow.services.products import Verdict, advance, create_product
from ocop_workflow.validation import has_control

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
REGISTRY = Registry.from_directory(WORKFLOWS)
KEYS = ("ocop-148", "ocop-1489")
GROUPS = tuple(REGISTRY.catalogue.product_groups)
DOC_TYPES = tuple(REGISTRY.catalogue.document_types)
CREATE_ROLES = {"producer", "commune_association", "commune_officer", "admin"}
PRODUCER_ROLE = "producer"  # acts for one producer only
# who may attach what, read from the permission file independently of the engine's loader:
# phase -> role -> document types
_PERMISSIONS = yaml.safe_load((WORKFLOWS / "permissions.yaml").read_text(encoding="utf-8"))
ATTACH = {
    phase: {role: set(types) for role, types in by_role.items()}
    for phase, by_role in _PERMISSIONS["dossier"]["attach"].items()
}
REVIEW_STATES = {key: set(states) for key, states in _PERMISSIONS["dossier"]["review_states"].items()}
DOCUMENT_ROLES = {role for by_role in ATTACH.values() for role in by_role}
MAX_BYTES = 64 * 1024
MAX_PRODUCTS = 8  # per example
MAX_ACTIVE = 2  # products not yet in a final state: few at a time, so each gets far
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
VALID_CONTENT = (
    PDF,
    b"%PDF-1.7\n" + bytes(range(256)),
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
)
INVALID_CONTENT = (
    b"",
    b"MZ\x90\x00\x03\x00",
    b"PK\x03\x04not really a zip",
    b"%PDF",
    b"<html>%PDF-1.4</html>",
    b"x" * (MAX_BYTES + 1),
    b"%PDF-1.4" + b"x" * MAX_BYTES,
)

# VN > P > D1 > C1, C2;  P > D2 > C3, C4;  P > C5 (a commune straight under the province, as after 2025)
TREE = (
    ("VN", "central", None),
    ("P", "province", "VN"),
    ("D1", "district", "P"),
    ("D2", "district", "P"),
    ("C1", "commune", "D1"),
    ("C2", "commune", "D1"),
    ("C3", "commune", "D2"),
    ("C4", "commune", "D2"),
    ("C5", "commune", "P"),
)
PRODUCERS = (
    ("C1", "cooperative"),
    ("C1", "cooperative_group"),
    ("C1", "enterprise"),
    ("C1", "household"),
    ("C2", "household"),
    ("C3", "cooperative"),
    ("C4", "enterprise"),
    ("C5", "cooperative_group"),
)


def band(score: float) -> int:
    """Decision 148: 1★ < 30 ≤ 2★ < 50 ≤ 3★ < 70 ≤ 4★ < 90 ≤ 5★ (written out again, independently of the engine)."""
    return 1 if score < 30 else 2 if score < 50 else 3 if score < 70 else 4 if score < 90 else 5


@dataclass(frozen=True)
class UserInfo:
    email: str
    memberships: tuple[tuple[str, str], ...]  # (role, organisation code)
    producer: int | None = None  # the producer a producer's account acts for


@dataclass(frozen=True)
class World:
    template: Path
    scratch: Path
    paths: dict[str, str]  # organisation code -> path
    org_ids: dict[str, int]
    users: tuple[UserInfo, ...]
    producers: tuple[tuple[int, str, str], ...]  # (id, commune code, kind)

    def over(
        self, user: UserInfo, commune: str, roles: set[str] | None = None, producer: int | None = None
    ) -> list[tuple[str, str]]:
        """The user's memberships that cover `commune` (with one of `roles`, if given); a producer's
        account covers only its own producer's things."""
        return [
            (r, o)
            for r, o in user.memberships
            if self.paths[commune].startswith(self.paths[o])
            and (roles is None or r in roles)
            and (r != PRODUCER_ROLE or (producer is not None and user.producer == producer))
        ]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    base = tmp_path_factory.mktemp("stateful")
    template = base / "template.sqlite3"
    migrate_db.upgrade(f"sqlite:///{template}")
    db = Database(f"sqlite:///{template}")
    paths, org_ids, users, producers = {}, {}, [], []
    with db.transaction() as s:
        orgs = {}
        for code, level, parent in TREE:
            orgs[code] = directory.create_organisation(
                s, code=code, name=f"Đơn vị {code}", level=level, parent_code=parent
            )
            paths[code], org_ids[code] = orgs[code].path, orgs[code].id
        for commune, kind in PRODUCERS:
            p = producer_service.create_producer(
                s, Actor.system_actor(), name=f"Chủ thể {kind} {commune}", kind=kind, commune=orgs[commune]
            )
            producers.append((p.id, commune, kind))
        first_producer = {}
        for pid, commune, _kind in producers:
            first_producer.setdefault(commune, pid)
        for role, role_def in REGISTRY.catalogue.roles.items():
            level = "central" if role_def.level == "any" else role_def.level
            for code, org_level, _ in TREE:
                if org_level == level:
                    user = directory.create_user(
                        s, email=f"{role}.{code.lower()}@test.ocop.vn", name=role, password=None
                    )
                    own = first_producer[code] if role == PRODUCER_ROLE else None
                    directory.add_membership(
                        s,
                        REGISTRY,
                        user,
                        orgs[code],
                        role,
                        actor=Actor.system_actor(),
                        producer=s.get(Producer, own) if own else None,
                    )
                    users.append(UserInfo(user.email, ((role, code),), own))
        # one person with two hats: commune officer in C2 and district council member of D1
        multi = directory.create_user(s, email="hai.vai@test.ocop.vn", name="Hai vai", password=None)
        directory.add_membership(s, REGISTRY, multi, orgs["C2"], "commune_officer", actor=Actor.system_actor())
        directory.add_membership(s, REGISTRY, multi, orgs["D1"], "district_council", actor=Actor.system_actor())
        users.append(UserInfo(multi.email, (("commune_officer", "C2"), ("district_council", "D1"))))
    db.dispose()
    assert not Path(f"{template}-wal").exists(), "the template must be fully checkpointed before it is copied"
    return World(template, base, paths, org_ids, tuple(users), tuple(producers))


@dataclass
class ProductModel:
    id: int
    key: str
    group: str
    kind: str
    commune: str
    state: str
    star: int | None = None
    version: int = 1
    events: int = 1
    application_type: str = "first_rating"
    docs: set[str] = field(default_factory=set)
    level_star: dict[str, int] = field(default_factory=dict)
    producer: int = 0
    last_rating_level: str | None = None
    last_rating: tuple | None = None  # (level, organisation code, score, star, final)
    cert_star: int | None = None  # the star of the certificate valid today (v2), None: none
    fresh: set[str] = field(default_factory=set)  # document types uploaded since the application started

    def may_attach(self, role_levels: dict[str, str], memberships: list[tuple[str, str]], doc_type: str) -> bool:
        """The dossier's phases, written out again: open at the commune (unless the state is a review),
        the reviewing level's own records in review, the deciding level's records after a decision."""
        state = self.definition.states[self.state]
        if state.final:
            phase, levels = "closed", {self.last_rating_level}
        elif state.level == "commune" and self.state not in REVIEW_STATES.get(self.key, set()):
            phase, levels = "open", None
        else:
            phase, levels = "review", {state.level, self.last_rating_level}
        for role, _org in memberships:
            allowed = ATTACH.get(phase, {}).get(role, set())
            if doc_type in allowed and (levels is None or role_levels[role] in levels | {"any"}):
                return True
        return False

    @property
    def definition(self) -> WorkflowDefinition:
        return REGISTRY.latest(self.key)


@dataclass
class Expected:
    to_state: str
    tdef: TransitionDef
    score: float | None
    star: int | None  # the star the history row names
    organisation: str | None  # the membership that acts (for ratings)
    rows: tuple[tuple, ...] = ()  # the rating rows written: (level, organisation code, score, star, final)
    star_now: int | None = None
    ends_certificate: bool = False  # a re-evaluation below 3★ ends the certificate it re-assessed


STATS: Counter = Counter()

comments = st.one_of(
    st.none(),
    st.just(""),
    st.just("   "),
    st.sampled_from(["Thiếu phiếu kiểm nghiệm", "Bổ sung nhãn, bao bì", "Rút hồ sơ theo đề nghị của chủ thể"]),
    st.text(max_size=20),
)
valid_scores = st.one_of(
    st.floats(min_value=0, max_value=100, allow_nan=False),
    st.integers(min_value=0, max_value=100),
    st.sampled_from([0, 29.99, 30, 49.99, 50, 69.99, 69.996, 70, 89.99, 90, 100]),
    st.floats(min_value=70, max_value=100),  # enough good dossiers to reach the province
    st.floats(min_value=90, max_value=100),  # ... and the centre
)
bad_scores = st.sampled_from([-5, 150, -0.01, 100.01, math.nan, math.inf, "", "abc", "75"])
# mostly 0–100, sometimes none, sometimes out of range or not a number
scores = st.one_of(valid_scores, valid_scores, valid_scores, st.none(), bad_scores)
names = st.one_of(
    st.sampled_from(["Vải thiều Lục Ngạn", "Gà đồi Yên Thế", "Mỳ Chũ", "Bánh đa Kế"]),
    st.sampled_from(["", "   ", "x" * 201]),
    st.text(min_size=1, max_size=30),
)


def parse_score(value: object) -> tuple[bool, float | None]:
    """(valid, score) as the services must read a score: None/'' is no score; numbers 0–100, 2 decimals."""
    if value is None or value == "":
        return True, None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False, None
    if math.isnan(number) or not 0 <= number <= 100:
        return False, None
    return True, round(number, 2)


class EngineMachine(RuleBasedStateMachine):
    products = Bundle("products")

    def __init__(self, world: World, keys: tuple[str, ...] = KEYS) -> None:
        super().__init__()
        self.world = world
        self.keys = keys
        self.dir = Path(tempfile.mkdtemp(dir=world.scratch))
        shutil.copy(world.template, self.dir / "ocop.sqlite3")
        self.db = Database(f"sqlite:///{self.dir / 'ocop.sqlite3'}")
        self.uploads = self.dir / "uploads"
        self.model: dict[int, ProductModel] = {}
        self.numbers = 0  # decision numbers, unique per organisation
        STATS["examples"] += 1

    def teardown(self) -> None:
        self.db.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- helpers ------------------------------------------------------------------------------

    def user(self, email: str) -> UserInfo:
        return next(u for u in self.world.users if u.email == email)

    def snapshot(self) -> tuple:
        with self.db.session() as s:
            products = tuple(tuple(r) for r in s.execute(select(Product.__table__).order_by(Product.id)))
            events = s.scalar(select(func.count()).select_from(ProductEvent))
            ratings = s.scalar(select(func.count()).select_from(Rating))
            documents = tuple(s.execute(select(Document.id, Document.current).order_by(Document.id)))
            certificates = tuple(tuple(r) for r in s.execute(select(Certificate.__table__).order_by(Certificate.id)))
            decisions = tuple(
                tuple(r) for r in s.execute(select(RecognitionDecision.id, RecognitionDecision.status).order_by("id"))
            )
        files = sorted(os.listdir(self.uploads)) if self.uploads.exists() else []
        return products, events, ratings, documents, files, certificates, decisions

    def run(self, action):
        """Run `action(session)` in a writer session: commit on success, roll back on a refusal."""
        session = self.db.write_session()
        try:
            result = action(session)
            session.commit()
            return result, None
        except OcopError as exc:
            session.rollback()
            return None, exc
        finally:
            session.close()

    def expect_refused(self, before: tuple, exc: OcopError | None, what: str) -> None:
        assert exc is not None, f"{what} was accepted but must be refused"
        assert self.snapshot() == before, f"refused {what} ({exc.code}: {exc}) changed something"
        STATS[f"refused:{exc.code}"] += 1

    # --- rules --------------------------------------------------------------------------------

    @precondition(
        lambda self: (
            len(self.model) < MAX_PRODUCTS
            and sum(not m.definition.states[m.state].final and self.movable(m) for m in self.model.values())
            < MAX_ACTIVE
        )
    )
    @rule(target=products, data=st.data(), group=st.sampled_from(GROUPS), name=names)
    def create(self, data: st.DataObject, group: str, name: str):
        STATS["rule_steps"] += 1
        key = data.draw(st.sampled_from(self.keys), label="workflow")
        producer_id, commune, kind = data.draw(st.sampled_from(self.world.producers), label="producer")
        officers = [u.email for u in self.world.users if self.world.over(u, commune, CREATE_ROLES, producer_id)]
        email = data.draw(
            st.one_of(st.sampled_from(officers), st.sampled_from([u.email for u in self.world.users])), label="actor"
        )
        may = bool(self.world.over(self.user(email), commune, CREATE_ROLES, producer_id))
        ok = may and 0 < len(name.strip()) <= 200 and not has_control(name)  # a name is one line of text
        before = self.snapshot()

        def action(s):
            return create_product(
                s,
                REGISTRY,
                load_actor(s, email),
                name=name,
                product_group=group,
                producer_id=producer_id,
                workflow_key=key,
            ).id

        pid, exc = self.run(action)
        if not ok:
            self.expect_refused(before, exc, f"create by {email}")
            return multiple()
        assert exc is None, f"create by {email} was refused: {exc}"
        d = REGISTRY.latest(key)
        self.model[pid] = ProductModel(pid, key, group, kind, commune, d.initial, producer=producer_id)
        STATS[f"created:{key}"] += 1
        return pid

    def _attach(self, pid: int, doc_type: str, email: str, content: bytes) -> None:
        m = self.model[pid]
        user = self.user(email)
        levels = {r: d.level for r, d in REGISTRY.catalogue.roles.items()}
        ok = (
            doc_type in DOC_TYPES
            and content in VALID_CONTENT
            and m.may_attach(levels, self.world.over(user, m.commune, DOCUMENT_ROLES, m.producer), doc_type)
        )
        before = self.snapshot()

        def action(s):
            return attach_document(
                s,
                load_actor(s, email),
                pid,
                doc_type,
                "Hồ sơ/../../tài liệu.pdf",
                content,
                upload_dir=self.uploads,
                max_bytes=MAX_BYTES,
                known_types=DOC_TYPES,
            ).id

        doc_id, exc = self.run(action)
        if not ok:
            self.expect_refused(before, exc, f"attach {doc_type} {content[:12]!r} by {email}")
            return
        assert exc is None, f"attach {doc_type} by {email} was refused: {exc}"
        products, events, ratings, documents, files, *rest = self.snapshot()
        assert (products, events, ratings) == before[:3] and rest == list(before[5:])
        assert len(documents) == len(before[3]) + 1 and len(files) == len(before[4]) + 1
        with self.db.session() as s:
            doc = s.get(Document, doc_id)
            assert (doc.product_id, doc.doc_type, doc.current, doc.size) == (pid, doc_type, True, len(content))
            assert doc.original_name == "tài liệu.pdf" and doc.stored_name in files
            if doc.replaces_id is not None:
                assert s.get(Document, doc.replaces_id).current is False
        m.docs.add(doc_type)
        m.fresh.add(doc_type)
        STATS["attached"] += 1

    @rule(pid=products, data=st.data())
    def attach_random(self, pid: int, data: st.DataObject) -> None:
        STATS["rule_steps"] += 1
        m = self.model[pid]
        helpers = [u.email for u in self.world.users if self.world.over(u, m.commune, DOCUMENT_ROLES, m.producer)]
        email = data.draw(
            st.one_of(st.sampled_from(helpers), st.sampled_from([u.email for u in self.world.users])), label="actor"
        )
        doc_type = data.draw(st.one_of(st.sampled_from(DOC_TYPES), st.just("not_a_type")), label="doc_type")
        content = data.draw(
            st.one_of(st.sampled_from(VALID_CONTENT), st.sampled_from(INVALID_CONTENT)), label="content"
        )
        self._attach(pid, doc_type, email, content)

    def attach_what_the_next_steps_need(self, pid: int, data: st.DataObject, all_of_them: bool) -> None:
        """The commune officer uploads the documents the current state's triggers ask for (to get further):
        all of them, or all but one (which the guard must then notice)."""
        m = self.model[pid]
        officer = f"commune_officer.{m.commune.lower()}@test.ocop.vn"
        needed = [
            doc_type
            for t in m.definition.transitions_from(m.state)
            if t.documents
            for doc_type in t.documents.required_for(m.group, m.kind)
            if doc_type not in m.docs
        ] + [doc_type for doc_type in self.to_renew(m) if doc_type not in m.fresh]
        needed = list(dict.fromkeys(needed))
        if needed and not all_of_them:
            needed.remove(data.draw(st.sampled_from(needed), label="left out"))
        for doc_type in needed:
            self._attach(pid, doc_type, officer, PDF)

    def expected(
        self,
        m: ProductModel,
        trigger: str,
        user: UserInfo,
        comment: str | None,
        raw_score: object,
        expected_version: int | None,
        verdict_org: str | None = None,
    ) -> Expected | None:
        """What the rules say must happen, or None when the move must be refused."""
        valid, score = parse_score(raw_score)
        if comment is not None and has_control(comment, multiline=True):  # NUL and the like; line breaks are fine
            return None
        if not valid or not self.world.over(user, m.commune, None, m.producer):
            return None
        if expected_version is not None and expected_version != m.version:
            return None
        d = m.definition
        cands = d.candidates(m.state, trigger)
        if not cands:
            return None
        if score is not None and not any(t.needs_score for t in cands):
            return None  # no score on a step that takes none
        tdef = self.candidate(cands, score)
        if tdef is None:
            return None
        if tdef.signs is not None:  # only a signed recognition decision takes a signing step
            return None
        if tdef.rating is not None:  # only a round's verdict rates; it stands in for the role check
            if verdict_org is None:
                return None
            acting = [("verdict", verdict_org)]
        else:
            acting = self.world.over(user, m.commune, set(tdef.roles), m.producer)
        if not acting:
            return None
        if not self.guards_hold(m, tdef, comment, score):
            return None
        nearest = max(acting, key=lambda ro: len(self.world.paths[ro[1]]))[1]
        star, rows, star_now = None, (), m.star
        if tdef.rating is not None and score is not None:
            star, rows, star_now = self.rating_rule(m, d, tdef, score, nearest)
        if d.recognition is None:  # version 1: a rating above the product's star is an upgrade
            upgrade = bool(rows) and tdef.on_upgrade and m.star is not None and star_now is not None
            upgrade = upgrade and star_now > m.star
            return Expected(tdef.on_upgrade if upgrade else tdef.dest, tdef, score, star, nearest, rows, star_now)
        return self.recognition_rule(m, d, tdef, score, star, nearest, rows, star_now)

    def guards_hold(self, m: ProductModel, tdef: TransitionDef, comment: str | None, score: float | None) -> bool:
        """The step's `requires:` written out again: documents, star, certificate, renewed documents, inputs."""
        if tdef.documents and not set(tdef.documents.required_for(m.group, m.kind)) <= m.docs:
            return False
        if tdef.star is not None and not tdef.star.contains(m.star):
            return False
        if not self.certificate_ok(m, tdef):
            return False
        if tdef.renewed and any(t in m.docs and t not in m.fresh for t in self.to_renew(m)):
            return False  # a document of the application's renew list predates the application
        if "comment" in tdef.fields and not (comment or "").strip():
            return False
        return not (tdef.needs_score and score is None)

    @staticmethod
    def recognition_rule(
        m: ProductModel,
        d: WorkflowDefinition,
        tdef: TransitionDef,
        score: float | None,
        star: int | None,
        nearest: str,
        rows: tuple[tuple, ...],
        star_now: int | None,
    ) -> Expected:
        """Version 2: a final result of 3★ or more waits for the recognising level's decision (only signing
        upgrades); a failed upgrade keeps the certificate's star; a re-evaluation below 3★ ends it."""
        to_state, ends = tdef.dest, False
        finals = [r for r in rows if r[4]]
        if finals:
            result = finals[-1][3]
            if m.application_type == "upgrade" and m.cert_star is not None and result <= m.cert_star:
                star = star_now = m.cert_star  # a failed upgrade: the certificate and its star stand
            elif result >= 3:
                to_state = d.recognition.awaiting[d.recognition.by_star[result]]
            elif m.application_type == "re_evaluation" and m.cert_star is not None:
                ends = True
        return Expected(to_state, tdef, score, star, nearest, rows, star_now, ends)

    @staticmethod
    def certificate_ok(m: ProductModel, tdef: TransitionDef) -> bool:
        """`requires: certificate:` written out again: valid (its star in range) or none."""
        rule = tdef.certificate
        if rule is None:
            return True
        if rule.valid:
            return m.cert_star is not None and (rule.star is None or rule.star.contains(m.cert_star))
        return m.cert_star is None

    @staticmethod
    def to_renew(m: ProductModel) -> list[str]:
        """The documents the current application uploads again, when the state has a step that checks them."""
        d = m.definition
        if not any(t.renewed for t in d.transitions_from(m.state)):
            return []
        renew = d.renew.get(m.application_type)
        return list(renew.required_for(m.group, m.kind)) if renew else []

    @staticmethod
    def candidate(cands: list[TransitionDef], score: float | None) -> TransitionDef | None:
        """The transition a score picks among a trigger's candidates (None: it fits none)."""
        if score is None or all(t.score is None for t in cands):
            return cands[0]
        fitting = [t for t in cands if t.score is None or t.score.contains(score)]
        return fitting[0] if fitting else None

    @staticmethod
    def rating_rule(
        m: ProductModel, d: WorkflowDefinition, tdef: TransitionDef, score: float, org: str
    ) -> tuple[int | None, tuple[tuple, ...], int | None]:
        """The rule of issue #9, written out again: (the history row's star, rows, the product's star)."""
        rule = tdef.rating
        b = band(score)
        own = (rule.level, org, score, min(b, rule.max_star))
        if not rule.final:
            return own[3], ((*own, False),), m.star
        last = m.last_rating
        forward = last if last is not None and not last[4] and rank(last[0]) > rank(rule.level) else None
        below = b < rule.min_star
        lower = forward is not None and b < band(forward[2])
        if forward is not None and (below or (lower and d.evaluation.lower_score == "previous_level_stands")):
            return forward[3], ((*own, False), (*forward[:4], True)), forward[3]
        if below:
            return None, ((*own, False),), m.star
        return own[3], ((*own, True),), own[3]

    @rule(pid=products, data=st.data(), comment=comments, score=scores)
    def advance_random(self, pid: int, data: st.DataObject, comment: str | None, score: object) -> None:
        """Any trigger of the definition (valid here or not), by anyone, with any comment and score."""
        STATS["rule_steps"] += 1
        m = self.model[pid]
        d = m.definition
        here = d.triggers_from(m.state)
        everything = sorted({t.trigger for t in d.transitions}) + ["no_such_trigger"]
        trigger = data.draw(
            st.one_of(st.sampled_from(here), st.sampled_from(everything)) if here else st.sampled_from(everything),
            label="trigger",
        )
        roles = {r for t in d.candidates(m.state, trigger) for r in t.roles}
        fitting = [u.email for u in self.world.users if self.world.over(u, m.commune, roles, m.producer)]
        anyone = st.sampled_from([u.email for u in self.world.users])
        email = data.draw(st.one_of(st.sampled_from(fitting), anyone) if fitting else anyone, label="actor")
        expected_version = data.draw(st.sampled_from([None, None, m.version, m.version - 1]), label="version")
        self._advance(pid, trigger, email, comment, score, expected_version)

    def active(self) -> list[int]:
        """Products someone can still move forward (a 148 product of a commune without a district is stuck at
        the district council, a 1★ or 2★ product cannot re-apply)."""
        return [pid for pid, m in self.model.items() if self.movable(m)]

    def movable(self, m: ProductModel) -> bool:
        d = m.definition
        steps = [t for t in d.transitions_from(m.state) if t.trigger not in ("withdraw", "return_for_revision")]
        if d.states[m.state].final:
            # v1: a 1★ or 2★ product cannot re-apply; v2: an application whose certificate condition holds
            steps = [t for t in steps if (t.star is None or t.star.contains(m.star)) and self.certificate_ok(m, t)]
        return any(self.world.over(u, m.commune, set(t.roles), m.producer) for u in self.world.users for t in steps)

    def awaiting_level(self, m: ProductModel) -> str | None:
        d = m.definition
        if d.recognition is None:
            return None
        return next((lvl for lvl, state in d.recognition.awaiting.items() if state == m.state), None)

    def recognising_org(self, m: ProductModel, level: str) -> str | None:
        """The organisation of `level` above the product's commune."""
        found = [
            code
            for code, org_level, _ in TREE
            if org_level == level and self.world.paths[m.commune].startswith(self.world.paths[code])
        ]
        return found[0] if found else None

    def sign(self, pid: int, data: st.DataObject) -> None:
        """The awaiting level's secretariat drafts a decision over the product and its chair signs it; sometimes
        a person who may not sign tries (refused, nothing written)."""
        m = self.model[pid]
        level = self.awaiting_level(m)
        org = self.recognising_org(m, level)
        if org is None:
            return
        drafter_role = {"district": "district_secretariat", "province": "province_secretariat"}.get(
            level, "central_council"
        )
        right = f"{level}_chair.{org.lower()}@test.ocop.vn"
        wrong = [f"{drafter_role}.{org.lower()}@test.ocop.vn"]
        if level == "district":
            wrong.append("province_chair.p@test.ocop.vn")  # the level's own chair signs, not the one above
        signer = data.draw(st.sampled_from([right] * 4 + wrong), label="signer")
        self.numbers += 1
        number = f"{self.numbers}/QĐ-UBND"
        before = self.snapshot()

        def action(s):
            draft = draft_decision(
                s,
                REGISTRY,
                load_actor(s, f"{drafter_role}.{org.lower()}@test.ocop.vn"),
                organisation_id=self.world.org_ids[org],
                product_ids=[pid],
            )
            signed = sign_decision(s, REGISTRY, Settings(), load_actor(s, signer), draft.id, number=number)
            return [(c.code, c.star, c.level) for c in signed.certificates]

        issued, exc = self.run(action)
        what = f"signing {level} decision over #{pid} ({m.key}, {m.state}) by {signer}"
        if signer != right:
            self.expect_refused(before, exc, what)
            return
        assert exc is None, f"{what} was refused: {exc.code}: {exc}"
        assert [(star, lvl) for _c, star, lvl in issued] == [(m.star, level)], what
        step = next(t for t in m.definition.transitions_from(m.state) if t.signs == level)
        upgraded = m.cert_star is not None and m.star > m.cert_star
        products, events, ratings, documents, files, certificates, decisions = self.snapshot()
        assert (events, ratings, documents, files) == (before[1] + 1, before[2], before[3], before[4])
        assert len(certificates) == len(before[5]) + 1 and len(decisions) == len(before[6]) + 1
        assert [p for p in products if p[0] != pid] == [p for p in before[0] if p[0] != pid]
        m.state = step.on_upgrade if upgraded and step.on_upgrade else step.dest
        m.events, m.version, m.cert_star = m.events + 1, m.version + 1, m.star
        STATS[f"signed:{m.key}:{level}"] += 1
        STATS[f"reached:{m.key}:{m.state}"] += 1

    @precondition(lambda self: self.active())
    @rule(data=st.data(), documents_dice=st.integers(0, 5), score_dice=st.integers(0, 9))
    def advance_plausible(self, data: st.DataObject, documents_dice: int, score_dice: int) -> None:
        """A trigger of an active product's state by someone holding one of its roles, with a comment and a
        mostly valid score, usually after the commune officer uploaded what the state's triggers ask for.

        Still random (the score decides the branch and the star; documents or the star may be missing),
        but likely to be accepted, so that walks get to the councils, ratings and upgrades.
        """
        STATS["rule_steps"] += 1
        pid = data.draw(st.sampled_from(self.active()), label="product")
        if self.awaiting_level(self.model[pid]) is not None and documents_dice:  # mostly: the decision is signed
            self.sign(pid, data)
            return
        if documents_dice:  # mostly with the documents the state's triggers ask for, sometimes all but one
            self.attach_what_the_next_steps_need(pid, data, all_of_them=documents_dice > 1)
        m = self.model[pid]
        d = m.definition
        here = d.triggers_from(m.state)
        # mostly forward (not withdrawing, not sending back), sometimes any trigger of the state
        forward = [t for t in here if t not in ("withdraw", "return_for_revision")]
        go_ahead = forward and data.draw(st.integers(0, 9), label="dice") > 1  # about 8 in 10
        trigger = data.draw(st.sampled_from(forward if go_ahead else here), label="trigger")
        roles = {r for t in d.candidates(m.state, trigger) for r in t.roles}
        fitting = [u.email for u in self.world.users if self.world.over(u, m.commune, roles, m.producer)]
        if not fitting:  # e.g. a 148 product in a commune without a district: nobody may rate it
            return
        email = data.draw(st.sampled_from(fitting), label="actor")
        if any(t.needs_score for t in d.candidates(m.state, trigger)):
            score = data.draw(
                bad_scores if score_dice == 0 else st.none() if score_dice == 1 else valid_scores, label="score"
            )
        else:  # a step without a score: sometimes one anyway, which must be refused
            score = data.draw(valid_scores, label="score") if score_dice == 0 else None
        comment = data.draw(st.sampled_from(["Đồng ý", "Thiếu phiếu kiểm nghiệm"]), label="comment")
        self._advance(pid, trigger, email, comment, score, data.draw(st.sampled_from([None, m.version])))

    def _advance(
        self, pid: int, trigger: str, email: str, comment: str | None, score: object, expected_version: int | None
    ) -> None:
        m = self.model[pid]
        d = m.definition
        user = self.user(email)
        # a council member of the product's level acts as the round's secretary: the round's verdict
        # carries the score and the council's organisation (a person without one is refused)
        verdict, verdict_org = None, None
        valid, parsed = parse_score(score)
        cands = d.candidates(m.state, trigger)
        rating_roles = {r for t in cands if t.rating is not None for r in t.roles}
        council = self.world.over(user, m.commune, rating_roles, m.producer) if rating_roles else []
        if council and valid and parsed is not None:
            verdict_org = max(council, key=lambda ro: len(self.world.paths[ro[1]]))[1]
            verdict = Verdict(1, "Đợt 1", 1, self.world.org_ids[verdict_org], parsed, None)
        want = self.expected(m, trigger, user, comment, score, expected_version, verdict_org)
        before = self.snapshot()

        def action(s):
            e = advance(
                s,
                REGISTRY,
                pid,
                trigger,
                load_actor(s, email),
                comment=comment,
                data={"score": score} if score is not None and verdict is None else None,
                expected_version=expected_version,
                verdict=verdict,
            )
            return e.id, e.seq, e.from_state, e.to_state, e.trigger, e.score, dict(e.data), e.comment

        event, exc = self.run(action)
        what = f"{trigger} on #{pid} ({m.key}, {m.state}) by {email}, comment={comment!r}, score={score!r}"
        if want is None:
            self.expect_refused(before, exc, what)
            return
        assert exc is None, f"{what} was refused: {exc.code}: {exc}"
        event_id, seq, from_state, to_state, fired, stored_score, event_data, stored_comment = event
        assert (seq, from_state, to_state, fired) == (m.events + 1, m.state, want.to_state, trigger), what
        assert to_state in d.states
        assert stored_score == want.score
        assert stored_comment == ((comment or "").strip() or None)
        assert event_data.get("star") == want.star, what
        products, events, ratings, documents, files, certificates, decisions = self.snapshot()
        assert events == before[1] + 1, "an accepted move is exactly one new history row"
        assert ratings == before[2] + len(want.rows)
        assert (documents, files) == before[3:5]
        assert len(certificates) == len(before[5]) and decisions == before[6], "only signing issues certificates"
        others = [p for p in products if p[0] != pid]
        assert others == [p for p in before[0] if p[0] != pid], "an accepted move changes only its product"
        if want.rows:
            with self.db.session() as s:
                written = s.scalars(select(Rating).where(Rating.event_id == event_id).order_by(Rating.id)).all()
                assert [(r.level, r.organisation_id, r.score, r.star, r.final) for r in written] == [
                    (level, self.world.org_ids[org], sc, star, final) for level, org, sc, star, final in want.rows
                ], what
            m.last_rating = want.rows[-1]
            m.last_rating_level = want.rows[-1][0]
            m.star = want.star_now
        m.state, m.events, m.version = to_state, m.events + 1, m.version + 1
        if want.ends_certificate:
            m.cert_star = None
        for key, value in want.tdef.sets.items():
            if key == "application_type":
                m.application_type = value
                m.fresh = set()  # a new dossier generation
        STATS[f"moved:{m.key}:{trigger}->{to_state}"] += 1
        STATS[f"reached:{m.key}:{to_state}"] += 1

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def database_agrees_with_the_rules(self) -> None:
        STATS["steps"] += 1
        with self.db.session() as s:
            products = {p.id: p for p in s.scalars(select(Product))}
            events: dict[int, list[ProductEvent]] = {}
            for e in s.scalars(select(ProductEvent).order_by(ProductEvent.product_id, ProductEvent.seq)):
                events.setdefault(e.product_id, []).append(e)
            ratings: dict[int, list[Rating]] = {}
            for r in s.scalars(select(Rating).order_by(Rating.id)):
                ratings.setdefault(r.product_id, []).append(r)
            docs = list(s.scalars(select(Document)))
            today = local_day()
            held = {pid: held_certificate(s, pid, today) for pid in self.model}
        assert set(products) == set(self.model)
        for pid, m in self.model.items():
            p = products[pid]
            d = REGISTRY.get(p.workflow_key, p.workflow_version)
            assert p.state in d.states
            assert (p.workflow_key, p.state, p.current_star, p.version, p.history_count, p.application_type) == (
                m.key,
                m.state,
                m.star,
                m.version,
                m.events,
                m.application_type,
            )
            self._check_history(p, d, events.get(pid, []), ratings.get(pid, []))
            current = [doc.doc_type for doc in docs if doc.product_id == pid and doc.current]
            assert len(current) == len(set(current)), "one current document per type"
            assert set(current) == m.docs
            assert (held[pid].star if held[pid] else None) == m.cert_star, "the certificate valid today"
        files = sorted(os.listdir(self.uploads)) if self.uploads.exists() else []
        assert sorted(doc.stored_name for doc in docs) == files, "every stored file has its row and no more"

    def _check_history(
        self, p: Product, d: WorkflowDefinition, events: list[ProductEvent], ratings: list[Rating]
    ) -> None:
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        star_now = None
        first = events[0]
        assert (first.trigger, first.from_state, first.to_state) == ("create", None, d.initial)
        state = first.to_state
        by_event: dict[int, list[Rating]] = {}
        for r in ratings:
            by_event.setdefault(r.event_id, []).append(r)
        for e in events[1:]:
            assert (e.workflow_key, e.workflow_version) == (p.workflow_key, p.workflow_version)
            assert e.from_state == state, "history must chain from one state to the next"
            waits = set(d.recognition.awaiting.values()) if d.recognition else set()
            allowed = [
                t
                for t in d.candidates(state, e.trigger)
                if e.to_state in (t.dest, t.on_upgrade) or (t.rating is not None and e.to_state in waits)
            ]
            assert allowed, f"{e.trigger}: {state} -> {e.to_state} is not a transition of {d.ident}"
            state = e.to_state
            rows = by_event.get(e.id, [])
            if rows:
                assert rows[0].score == e.score, "the council's own rating comes first"
                if "upgrade_not_granted" in e.data:  # a failed upgrade names the star of the certificate kept
                    assert e.data["star"] == e.data["upgrade_not_granted"] >= rows[-1].star
                    star_now = e.data["star"]
                else:
                    assert e.data.get("star") == (rows[-1].star if rows[-1].final or len(rows) == 1 else None) or (
                        "not_recognised_at" in e.data and "star" not in e.data
                    )
                    finals = [r for r in rows if r.final]
                    star_now = finals[-1].star if finals else star_now
            else:
                assert "star" not in e.data, "only a rating puts a star in the history"
                if e.trigger == "recognise":
                    assert e.data["decision"]["number"], "a signing names its decision"
        assert state == p.state, "replaying the history gives the current state"
        assert p.current_star == star_now, "the star is the last final rating's (or the certificate's kept)"
        previous: Rating | None = None
        for event_id, rows in by_event.items():
            event = next(e for e in events if e.id == event_id)
            own = rows[0]
            tdef = next(
                t
                for t in d.candidates(event.from_state, event.trigger)
                if t.rating and (t.score is None or t.score.contains(own.score))
            )
            assert own.level == tdef.rating.level
            assert own.star == min(band(own.score), tdef.rating.max_star), "the band, capped at the level's max"
            if len(rows) == 2:  # below the council's range: the forwarding level's result stands
                kept = rows[1]
                assert previous is not None and not previous.final and kept.final and not own.final
                assert (kept.level, kept.organisation_id, kept.score, kept.star) == (
                    previous.level,
                    previous.organisation_id,
                    previous.score,
                    previous.star,
                )
            elif band(own.score) < tdef.rating.min_star:
                assert not own.final
            else:
                assert own.final == tdef.rating.final
            previous = rows[-1]


EXAMPLES, STEPS = 5, 150  # per definition: about 750–1000 rule steps each


@pytest.mark.parametrize("key", KEYS)
def test_random_walks_through_each_definition(world: World, key: str) -> None:
    """Each definition gets its own budget of walks (a product follows the definition it was created under)."""
    STATS.clear()
    run_state_machine_as_test(
        lambda: EngineMachine(world, (key,)),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        ),
    )
    print(
        f"\nstateful run {key}: {STATS['examples']} examples, {STATS['rule_steps']} rule steps, "
        f"{STATS['steps']} invariant checks"
    )
    for name, count in sorted(STATS.items()):
        print(f"  {name}: {count}")
    # the walk must really get somewhere in both definitions, or it proves little
    assert STATS[f"created:{key}"] > 0
    for state in ("province_review", "central_review", "rated", "province_recognition"):
        assert STATS[f"reached:{key}:{state}"] > 0, f"{key} never reached {state}"
    assert STATS[f"signed:{key}:province"] > 0, f"no {key} decision was signed"
    for code in ("invalid_trigger", "permission_denied", "guard_failed", "invalid_data", "not_found"):
        assert STATS[f"refused:{code}"] > 0, f"no move was refused with {code}"


def test_history_keeps_no_star_or_setting_the_caller_made_up(world: World, tmp_path: Path) -> None:
    shutil.copy(world.template, tmp_path / "ocop.sqlite3")
    db = Database(f"sqlite:///{tmp_path / 'ocop.sqlite3'}")
    producer_id = next(pid for pid, commune, _ in world.producers if commune == "C1")
    officer = "commune_officer.c1@test.ocop.vn"
    try:
        with db.transaction() as s:
            actor = load_actor(s, officer)
            pid = create_product(s, REGISTRY, actor, name="Mỳ Chũ", product_group="food", producer_id=producer_id).id
            attach_document(
                s,
                actor,
                pid,
                "idea_registration",
                "phieu.pdf",
                PDF,
                upload_dir=tmp_path / "up",
                max_bytes=MAX_BYTES,
                known_types=DOC_TYPES,
            )
            event = advance(s, REGISTRY, pid, "accept_idea", actor, data={"star": 5, "application_type": "upgrade"})
            assert "star" not in event.data, "a step without a rating must not record a star"
            assert event.data.get("application_type") in (None, s.get(Product, pid).application_type)
    finally:
        db.dispose()
