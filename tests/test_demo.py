"""The demo data set: what someone exploring the demo would notice (on SQLite, self-contained)."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ocop_workflow import migrate_db
from ocop_workflow.db import Database
from ocop_workflow.demo import DemoLogin, load_demo, summary
from ocop_workflow.engine import Registry, get_registry, star_for_score
from ocop_workflow.errors import InvalidData, NotFound
from ocop_workflow.models import (
    Council,
    Document,
    EvaluationRound,
    Organisation,
    Producer,
    Product,
    ProductEvent,
    Rating,
    RoundProduct,
    User,
)
from ocop_workflow.passwords import verify_password
from ocop_workflow.services import rounds
from ocop_workflow.services.access import load_actor
from ocop_workflow.services.councils import list_councils
from ocop_workflow.services.documents import CONTENT_TYPES, sniff
from ocop_workflow.services.products import available_triggers, get_product
from ocop_workflow.services.sheets import member_queue

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
WORKFLOWS = ("ocop-148", "ocop-1489")
TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)


@dataclass
class Demo:
    db: Database
    registry: Registry
    upload_dir: Path
    logins: list[DemoLogin]

    def login(self, role: str, organisation: str | None = None) -> DemoLogin:
        return next(x for x in self.logins if x.role == role and organisation in (None, x.organisation))


def _load(tmp: Path, seed: int = 2024) -> Demo:
    url = "sqlite:///" + str(tmp / "demo.sqlite3")
    migrate_db.upgrade(url)
    db = Database(url)
    registry = get_registry()
    logins = load_demo(db, registry, tmp / "uploads", seed=seed, now=NOW)
    return Demo(db, registry, tmp / "uploads", logins)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    loaded = _load(tmp_path_factory.mktemp("demo"))
    yield loaded
    loaded.db.dispose()


def _products(demo: Demo) -> list[Product]:
    with demo.db.session() as s:
        return list(s.scalars(select(Product).order_by(Product.id)))


def _events(demo: Demo) -> dict[int, list[ProductEvent]]:
    with demo.db.session() as s:
        by_product: dict[int, list[ProductEvent]] = {}
        for e in s.scalars(select(ProductEvent).order_by(ProductEvent.product_id, ProductEvent.seq)):
            by_product.setdefault(e.product_id, []).append(e)
        return by_product


def test_every_state_of_both_definitions_has_a_product(demo: Demo) -> None:
    products = _products(demo)
    for key in WORKFLOWS:
        definition = demo.registry.latest(key)
        shown = {p.state for p in products if p.workflow_key == key and p.workflow_version == definition.version}
        assert set(definition.states) <= shown, f"{key}: no demo product in {set(definition.states) - shown}"
        # a few products started before version 2 are still in flight on version 1 (for `workflow migrate`)
        older = [p for p in products if p.workflow_key == key and p.workflow_version < definition.version]
        assert older and not any(demo.registry.get(key, p.workflow_version).states[p.state].final for p in older)
    counts = Counter(p.workflow_key for p in products)
    assert counts["ocop-148"] > counts["ocop-1489"] >= len(demo.registry.latest("ocop-1489").states)


def test_a_province_with_forty_plus_products_of_every_group_and_producer_kind(demo: Demo) -> None:
    products = _products(demo)
    assert len(products) >= 40
    assert {p.product_group for p in products} == set(demo.registry.catalogue.product_groups)
    assert len({p.name for p in products}) == len(products)
    with demo.db.session() as s:
        producers = list(s.scalars(select(Producer)))
        orgs = list(s.scalars(select(Organisation)))
    assert 20 <= len(producers) <= 30
    assert {p.kind for p in producers} == set(demo.registry.catalogue.producer_kinds)
    taxed = [p.tax_code for p in producers if p.tax_code]
    assert 10 <= len(taxed) < len(producers)
    for code in taxed:  # a real mã số thuế: province 24 (Bắc Giang) and a correct check digit
        assert re.fullmatch(r"24\d{8}", code)
        assert int(code[9]) == 10 - sum(int(d) * w for d, w in zip(code, TAX_WEIGHTS, strict=False)) % 11
    assert len(set(taxed)) == len(taxed)
    levels = Counter(o.level for o in orgs)
    assert levels == {"central": 1, "province": 1, "district": 10, "commune": 30}
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", o.code) for o in orgs)
    by_code = {o.code: o for o in orgs}
    assert by_code["24"].name.endswith("Bắc Giang")
    districts = [o for o in orgs if o.level == "district"]
    assert all(sum(1 for c in orgs if c.parent_id == d.id) == 3 for d in districts)
    assert {"Lục Ngạn", "Yên Thế", "Việt Yên", "Sơn Động"} <= {d.name.split(" ", 1)[1] for d in districts}


def test_each_history_replays_to_the_current_state(demo: Demo) -> None:
    events = _events(demo)
    for p in _products(demo):
        history = events[p.id]
        definition = demo.registry.get(p.workflow_key, p.workflow_version)
        assert [e.seq for e in history] == list(range(1, len(history) + 1)) and p.history_count == len(history)
        first = history[0]
        assert (first.trigger, first.from_state, first.to_state) == ("create", None, definition.initial)
        for before, after in zip(history, history[1:], strict=False):
            assert after.from_state == before.to_state, (p.name, after.seq)
            assert before.at <= after.at, (p.name, after.seq)
            assert after.to_state in definition.states
        assert history[-1].to_state == p.state, p.name
        assert p.state_entered_at == history[-1].at and p.created_at == first.at
        assert history[-1].at <= NOW


def test_rated_products_have_their_stars(demo: Demo) -> None:
    products = _products(demo)
    done = [p for p in products if p.state in ("rated", "upgraded")]
    assert all(p.current_star is not None for p in done)
    assert {3, 4, 5} <= {p.current_star for p in done if p.state == "rated"}
    assert {p.current_star for p in done if p.state == "upgraded"} >= {4, 5}
    with demo.db.session() as s:
        ratings = list(s.scalars(select(Rating).order_by(Rating.id)))
    caps = {"district": 3, "province": 4, "central": 5}
    for r in ratings:
        assert r.star <= min(star_for_score(r.score), caps[r.level]) or r.level == "central"
    final = {}
    for r in ratings:
        if r.final:
            final.setdefault(r.product_id, []).append(r.star)
    for p in done:
        assert final[p.id][-1] == p.current_star, p.name
        if p.state == "upgraded":
            assert len(final[p.id]) >= 2 and final[p.id][-1] > final[p.id][-2], p.name
    never_rated = [p for p in products if p.id not in final]
    assert all(p.current_star is None for p in never_rated if p.application_type == "first_rating")


def test_returns_withdrawals_upgrades_and_re_evaluations_are_shown(demo: Demo) -> None:
    products = {p.id: p for p in _products(demo)}
    events = _events(demo)
    returns = [e for h in events.values() for e in h if e.trigger == "return_for_revision"]
    assert len(returns) >= 3 and all(e.comment and len(e.comment) > 20 for e in returns)
    assert {e.from_state for e in returns} >= {"district_review", "province_review", "central_review", "commune_review"}
    waiting_after_return = [pid for pid, h in events.items() if h[-1].trigger == "return_for_revision"]
    assert waiting_after_return and all(products[pid].state == "implementation" for pid in waiting_after_return)
    withdrawn = [h[-1] for pid, h in events.items() if products[pid].state == "withdrawn"]
    assert withdrawn and all(e.trigger == "withdraw" and e.comment for e in withdrawn)
    assert {e.from_state for e in withdrawn} >= {"idea", "implementation", "district_review"}
    types = Counter(p.application_type for p in products.values())
    assert types["upgrade"] >= 3 and types["re_evaluation"] >= 1
    scored = [e for h in events.values() for e in h if e.trigger.startswith("rate_")]
    assert all(e.score is not None and e.data.get("star") for e in scored)
    # a seated council's result comes from its round; the others' are the system's historic records
    in_rounds = [e for e in scored if "round" in e.data]
    assert in_rounds and all(e.data["round"]["name"].startswith("Đợt ") for e in in_rounds)
    assert all(e.comment for e in scored if "round" not in e.data)


def test_timestamps_tell_a_2023_to_2025_story(demo: Demo) -> None:
    products = _products(demo)
    events = _events(demo)
    assert {p.created_at.year for p in products} >= {2023, 2024, 2025}
    for p in products:
        if p.workflow_key == "ocop-1489":  # Decision 1489 applies from 6 July 2025
            assert p.created_at >= datetime(2025, 7, 6, tzinfo=UTC)
        else:  # Decision 148 from 24 Feb 2023; district councils gone from 1 July 2025
            assert p.created_at >= datetime(2023, 2, 24, tzinfo=UTC)
            assert all(e.at < datetime(2025, 7, 1, tzinfo=UTC) for e in events[p.id])
    waiting = [
        NOW - p.state_entered_at
        for p in products
        if not demo.registry.get(p.workflow_key, p.workflow_version).states[p.state].final
    ]
    assert any(age > timedelta(days=180) for age in waiting)
    assert any(age < timedelta(days=30) for age in waiting)
    certified_at = [p.state_entered_at for p in products if p.state == "rated" and (p.current_star or 0) >= 3]
    assert min(certified_at) < datetime(2024, 1, 1, tzinfo=UTC) < max(certified_at)


def test_every_demo_login_works(demo: Demo) -> None:
    roles = set(demo.registry.catalogue.roles)
    assert {x.role for x in demo.logins} == roles
    assert len({x.email for x in demo.logins}) == len(demo.logins)
    assert sum(1 for x in demo.logins if x.role == "commune_officer") == 2
    with demo.db.session() as s:
        users = {u.email: u for u in s.scalars(select(User).where(User.email.in_([x.email for x in demo.logins])))}
        for login in demo.logins:
            assert login.email.endswith("@demo.ocop.vn") and len(login.password) >= 8
            actor = load_actor(s, login.email, NOW.date())
            assert [(m.role, m.organisation.name) for m in actor.memberships] == [(login.role, login.organisation)]
        assert "en" in {u.locale for u in users.values()}
    # argon2 is slow on purpose: check each distinct (password, hash) pair once
    for password, stored in {(x.password, users[x.email].password_hash) for x in demo.logins}:
        assert verify_password(stored, password) and not verify_password(stored, password + "x")
    assert demo.login("commune_officer", "Xã Phượng Sơn").email == "xa.phuongson@demo.ocop.vn"
    assert demo.login("district_secretariat").email == "huyen.lucngan@demo.ocop.vn"
    assert demo.login("province_council").email == "hoidong.tinh@demo.ocop.vn"
    assert demo.login("admin").email == "admin@demo.ocop.vn"


def test_each_officer_sees_only_their_own_unit(demo: Demo) -> None:
    phuong_son = demo.login("commune_officer", "Xã Phượng Sơn").email
    dong_ky = demo.login("commune_officer", "Xã Đồng Kỳ").email
    with demo.db.session() as s:

        def visible(email: str) -> list[Product]:
            actor = load_actor(s, email, NOW.date())
            return list(s.scalars(select(Product).where(actor.org_filter(Product.commune_id))))

        mine = visible(phuong_son)
        assert len(mine) >= 8 and {p.commune.name for p in mine} == {"Xã Phượng Sơn"}
        assert len({p.state for p in mine}) >= 8 and {p.workflow_key for p in mine} == set(WORKFLOWS)
        all_in_phuong_son = s.scalar(
            select(func.count()).select_from(Product).join(Product.commune).where(Organisation.name == "Xã Phượng Sơn")
        )
        assert len(mine) == all_in_phuong_son
        theirs = visible(dong_ky)
        assert theirs and {p.commune.name for p in theirs} == {"Xã Đồng Kỳ"}
        with pytest.raises(NotFound):
            get_product(s, load_actor(s, dong_ky, NOW.date()), mine[0].id)
        district = visible(demo.login("district_council").email)
        assert {p.commune.parent.name for p in district} == {"Huyện Lục Ngạn"}
        assert len(district) > len(mine)
        total = s.scalar(select(func.count()).select_from(Product))
        assert len(visible(demo.login("admin").email)) == len(visible(demo.login("central_council").email)) == total


def test_demo_logins_have_work_waiting(demo: Demo) -> None:
    """The Lục Ngạn dossiers waiting for the district council are complete: its secretariat can put
    them in a round at once (the rating itself comes from the round, not from a button)."""
    with demo.db.session() as s:
        secretariat = load_actor(s, demo.login("district_secretariat").email, NOW.date())
        waiting = list(
            s.scalars(
                select(Product).where(secretariat.org_filter(Product.commune_id), Product.state == "district_review")
            )
        )
        assert waiting
        council_user = load_actor(s, demo.login("district_council").email, NOW.date())
        for product in waiting:
            options = {o.trigger: o for o in available_triggers(s, demo.registry, council_user, product)}
            rating = options["rate_district"]
            assert not rating.missing, rating.missing
            assert rating.rating and not rating.role_ok  # scored in a round, never typed in by a person
        council = next(c for c in list_councils(s, secretariat) if c.organisation.code == "219")
        trial = rounds.create_round(
            s, secretariat, council.id, name="Đợt thử", meeting_date=NOW.date() + timedelta(days=7)
        )
        for product in waiting:
            assert rounds.add_product(s, demo.registry, secretariat, trial.id, product.id).status == "pending"
        s.rollback()
        officer = load_actor(s, demo.login("commune_officer", "Xã Phượng Sơn").email, NOW.date())
        ideas = list(s.scalars(select(Product).where(officer.org_filter(Product.commune_id), Product.state == "idea")))
        assert ideas and any(
            o.trigger == "withdraw" and o.role_ok
            for p in ideas
            for o in available_triggers(s, demo.registry, officer, p)
        )


def test_documents_on_disk_match_their_checksums(demo: Demo) -> None:
    with demo.db.session() as s:
        docs = list(s.scalars(select(Document)))
        current = {(d.product_id, d.doc_type) for d in docs if d.current}
    assert len(docs) > 300 and len(current) == sum(1 for d in docs if d.current)
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert {d.content_type for d in docs} == {"application/pdf", "image/png", docx}
    # the signed recognition decisions are the DOCX the signing filed; the rest are the demo's files
    for d in docs:
        data = (demo.upload_dir / d.stored_name).read_bytes()
        assert len(data) == d.size and hashlib.sha256(data).hexdigest() == d.sha256
        if d.content_type != docx:  # a zip: its type comes from its entries, checked at upload
            assert CONTENT_TYPES[sniff(data[:16])] == d.content_type
        if d.content_type == "application/pdf":
            assert data.rstrip().endswith(b"%%EOF") and b"/Type /Catalog" in data
        if d.content_type == docx:
            assert d.doc_type == "recognition_decision" and data.startswith(b"PK")
        assert d.original_name.endswith((".pdf", ".png", ".docx")) and "/" not in d.original_name
    assert len({d.sha256 for d in docs}) == len(docs)
    assert sorted(p.name for p in demo.upload_dir.iterdir()) == sorted(d.stored_name for d in docs)


def test_summary_counts_products_per_state(demo: Demo) -> None:
    counts = summary(demo.db)
    assert sum(counts.values()) == len(_products(demo))
    assert counts == dict(Counter(p.state for p in _products(demo)))
    per_workflow = summary(demo.db, by_workflow=True)
    assert per_workflow["ocop-1489/commune_review"] >= 1 and per_workflow["ocop-148/district_review"] >= 1
    assert sum(per_workflow.values()) == sum(counts.values())


def test_the_demo_loads_only_into_an_empty_database(demo: Demo) -> None:
    files = sorted(demo.upload_dir.iterdir())
    with pytest.raises(InvalidData):
        load_demo(demo.db, demo.registry, demo.upload_dir, now=NOW)
    assert sorted(demo.upload_dir.iterdir()) == files


def test_now_must_leave_room_for_the_1489_products(tmp_path: Path) -> None:
    url = "sqlite:///" + str(tmp_path / "early.sqlite3")
    migrate_db.upgrade(url)
    db = Database(url)
    try:
        with pytest.raises(InvalidData):
            load_demo(db, get_registry(), tmp_path / "uploads", now=datetime(2025, 3, 1, tzinfo=UTC))
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(Organisation)) == 0
    finally:
        db.dispose()


def test_the_same_seed_gives_the_same_demo(demo: Demo, tmp_path: Path) -> None:
    again = _load(tmp_path)
    try:

        def story(d: Demo) -> list[tuple]:
            events = _events(d)
            return [
                (
                    p.name,
                    p.state,
                    p.current_star,
                    p.producer_id,
                    [(e.trigger, e.at, e.score, e.comment) for e in events[p.id]],
                )
                for p in _products(d)
            ]

        assert story(again) == story(demo)
        with demo.db.session() as s1, again.db.session() as s2:
            codes = select(Producer.name, Producer.tax_code).order_by(Producer.id)
            assert s1.execute(codes).all() == s2.execute(codes).all()
    finally:
        again.db.dispose()


def test_councils_of_the_three_levels_with_their_seats(demo: Demo) -> None:
    logins = {x.email: x for x in demo.logins}
    with demo.db.session() as s:
        councils = {c.organisation.code: c for c in s.scalars(select(Council))}
        assert set(councils) == {"219", "24", "VN"}
        assert councils["219"].name.endswith("huyện Lục Ngạn") and councils["24"].name.endswith("tỉnh Bắc Giang")
        for council in councils.values():
            positions = Counter(m.position for m in council.members)
            assert positions["chair"] == 1 and positions["secretary"] == 1
            assert positions["member"] + positions["vice_chair"] >= 3
            assert council.decision_number and council.decision_date <= NOW.date()
            for seat in council.members:  # every seat is a demo login of the council's own unit
                login = logins[seat.user.email]
                assert login.organisation == council.organisation.name
        assert councils["219"].members[-1].user.email == demo.login("district_secretariat").email
        assert {m.user.email for m in councils["24"].members if m.position == "chair"} == {
            demo.login("province_council").email
        }


def test_closed_rounds_rated_the_products_with_their_sheets(demo: Demo) -> None:
    with demo.db.session() as s:
        closed = list(s.scalars(select(EvaluationRound).where(EvaluationRound.status == "closed")))
        assert {r.council.organisation.code for r in closed} == {"219", "24", "VN"}
        entries = [e for r in closed for e in r.entries]
        assert len(entries) >= 20 and all(e.status == "closed" for e in entries)
        recusals = 0
        quorum = demo.registry.latest("ocop-148").evaluation.quorum
        for e in entries:
            submitted = [sh for sh in e.sheets if sh.status == "submitted"]
            recusals += sum(1 for sh in e.sheets if sh.status == "recused")
            assert len(submitted) >= rounds.quorum_needed(len(e.sheets), quorum)
            assert e.average == rounds.average_of([sh.total for sh in submitted])
            assert all(sh.total == sum(sh.answers.values()) for sh in submitted)
            assert sorted(e.present) == sorted(sh.user_id for sh in submitted)
            event = s.get(ProductEvent, e.event_id)
            assert event.score == e.average and event.data["round"]["id"] == e.round_id
            assert event.actor_id == e.closed_by_id and event.to_state == e.to_state
            assert e.round.opened_at < min(sh.submitted_at for sh in submitted) <= e.closed_at <= e.round.closed_at
        assert recusals >= 1
        # a result of 3★ or more waits for the recognising level's decision (definition v2)
        assert {e.to_state for e in entries} >= {"province_review", "district_recognition", "province_recognition"}


def test_an_open_round_with_its_sheets_half_done(demo: Demo) -> None:
    with demo.db.session() as s:
        (found,) = s.scalars(select(EvaluationRound).where(EvaluationRound.status == "open"))
        assert found.council.organisation.code == "24" and found.meeting_date > NOW.date()
        entries = list(found.entries)
        assert len(entries) >= 2 and all(e.status == "pending" for e in entries)
        statuses = Counter(sh.status for e in entries for sh in e.sheets)
        assert statuses["submitted"] and statuses["draft"] and statuses["recused"]
        scorers = {m.user_id for m in found.council.members if m.position != "secretary"}
        assert any(len(e.sheets) < len(scorers) for e in entries)  # some members have not started
        secretary = load_actor(s, demo.login("province_secretariat").email, NOW.date())
        view = rounds.round_view(s, demo.registry, secretary, found.id)
        assert view.can_close and any(ev.tally.quorum_met for ev in view.entries)
        assert not all(ev.tally.quorum_met for ev in view.entries)
        assert not any(ev.sheets_visible for ev in view.entries)
        member = load_actor(s, demo.login("province_council").email, NOW.date())
        queue = member_queue(s, member)
        assert {q.round.id for q in queue} == {found.id} and len(queue) == len(entries)
        assert {(q.sheet.status if q.sheet else None) for q in queue} >= {"submitted", "draft"}
        pending = s.scalar(select(func.count()).select_from(RoundProduct).where(RoundProduct.status == "pending"))
        assert pending == len(entries)
