"""The product catalogue and account services (services.catalog, services.accounts), on SQLite and
PostgreSQL: lists with filters and capped counts, search without diacritics, edits in the history,
and migration 0003's backfill of `name_folded`."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, select, text

from ocop_workflow import migrate_db
from ocop_workflow.errors import InvalidData, NotFound, PermissionDenied, StaleVersion
from ocop_workflow.folding import fold, search_words
from ocop_workflow.models import Product, ProductEvent, User
from ocop_workflow.services import accounts, listing
from ocop_workflow.services import producers as producer_service
from ocop_workflow.services import products as product_service
from ocop_workflow.services.access import load_actor

from .helpers import attach, move, new_product, product_row

OFFICER = ("commune_officer", "C1")
NAMES = ["Vải thiều Lục Ngạn", "Gà đồi Yên Thế", "Mì Chũ", "Rượu làng Vân", "Đậu phụ Mơ", "Bánh đa Kế"]


def test_fold_lowers_and_strips_vietnamese_marks():
    assert fold("Vải thiều Lục Ngạn") == "vai thieu luc ngan"
    assert fold("ĐẬU PHỤ Đông Đô") == "dau phu dong do"
    assert fold("Cà phê Buôn Ma Thuột") == "ca phe buon ma thuot"
    assert fold(None) == "" and search_words("  VẢI   thiều ") == ["vai", "thieu"]


@pytest.fixture
def products(db, registry, world):
    officer = world.user(*OFFICER)
    ids = {
        n: new_product(
            db,
            registry,
            officer,
            world.producers["cooperative"],
            name=n,
            group="food" if n.startswith("M") else "tourism",
        )
        for n in NAMES
    }
    ids["other"] = new_product(
        db, registry, world.user("commune_officer", "C3"), world.other_producer, name="Vải sớm Đồng Kỳ"
    )
    return ids


def _list(db, registry, email, **flt):
    per_page = flt.pop("per_page", 25)
    cap = flt.pop("count_cap", None)
    rows = flt.pop("rows", False)
    with db.session() as s:
        return listing.list_products(
            s, registry, load_actor(s, email), listing.ProductFilter(**flt), per_page=per_page, count_cap=cap, rows=rows
        )


def test_search_matches_with_or_without_diacritics(db, registry, world, products):
    officer = world.user(*OFFICER)
    with db.session() as s:
        assert s.get(Product, products["Đậu phụ Mơ"]).name_folded == "dau phu mo"
    for q in ("vai thieu", "VẢI THIỀU", "Vải", "thieu luc"):
        assert [p.name for p in _list(db, registry, officer, q=q).items] == ["Vải thiều Lục Ngạn"], q
    assert [p.name for p in _list(db, registry, officer, q="dau").items] == ["Đậu phụ Mơ"]
    assert _list(db, registry, officer, q="50%").items == []  # LIKE wildcards are taken literally
    province = world.user("province_council", "P")
    assert {p.name for p in _list(db, registry, province, q="vai").items} == {"Vải thiều Lục Ngạn", "Vải sớm Đồng Kỳ"}


def test_filters_scope_order_and_rows(db, registry, world, products, upload_dir):
    officer = world.user(*OFFICER)
    attach(db, registry, officer, products["Mì Chũ"], ["idea_registration"], upload_dir)
    move(db, registry, officer, products["Mì Chũ"], "accept_idea")
    everything = _list(db, registry, officer)
    assert everything.items[0].name == "Mì Chũ"  # the most recent move first
    assert "Vải sớm Đồng Kỳ" not in {p.name for p in everything.items}  # another district
    assert [p.name for p in _list(db, registry, officer, state="production_plan").items] == ["Mì Chũ"]
    assert [p.name for p in _list(db, registry, officer, group="food").items] == ["Mì Chũ"]
    assert _list(db, registry, officer, star=4).items == []
    with pytest.raises(NotFound):
        _list(db, registry, officer, org_id=world.orgs["C3"])
    rows = _list(db, registry, officer, rows=True)
    assert [r.id for r in rows.items] == [p.id for p in everything.items]
    assert (rows.items[0].producer_name, rows.items[0].commune_name) == ("Chủ thể cooperative", "Phượng Sơn")
    with db.session() as s:
        actor = load_actor(s, officer)
        counts = {st: n for _k, st, n in listing.state_counts(s, actor)}
    assert counts == {"idea": 5, "production_plan": 1}


def test_pages_and_the_capped_count(db, registry, world, products):
    officer = world.user(*OFFICER)
    first = _list(db, registry, officer, per_page=2, count_cap=3)
    assert (first.total, first.exact, first.pages, first.has_next, first.total_label) == (3, False, 2, True, "3+")
    third = _list(db, registry, officer, per_page=2, count_cap=3, page=3)
    assert (third.total, third.exact, third.pages, len(third.items)) == (6, True, 3, 2)
    past = _list(db, registry, officer, per_page=2, page=99)
    assert (past.page, past.total, past.exact) == (3, 6, True)
    small = _list(db, registry, officer, q="mi")  # a first page that is not full counts itself
    assert (small.total, small.exact, small.pages) == (1, True, 1)


def test_an_edit_is_a_history_row_that_keeps_the_state(db, registry, world, products, upload_dir):
    officer = world.user(*OFFICER)
    pid = products["Vải thiều Lục Ngạn"]
    attach(db, registry, officer, pid, ["idea_registration"], upload_dir)
    move(db, registry, officer, pid, "accept_idea")
    with db.transaction() as s:
        actor = load_actor(s, officer)
        product_service.update_product(
            s,
            registry,
            actor,
            pid,
            name="Vải thiều Thanh Hà",
            product_group="food",
            subgroup=" quả tươi ",
            expected_version=2,
        )
    p = product_row(db, pid)
    assert (p.state, p.version, p.history_count, p.name_folded) == ("production_plan", 3, 3, "vai thieu thanh ha")
    with db.session() as s:
        events = list(s.scalars(select(ProductEvent).where(ProductEvent.product_id == pid).order_by(ProductEvent.seq)))
    edit = events[-1]
    assert (edit.seq, edit.trigger, edit.from_state, edit.to_state) == (3, "edit", "production_plan", "production_plan")
    assert edit.data == {
        "name": {"old": "Vải thiều Lục Ngạn", "new": "Vải thiều Thanh Hà"},
        "product_group": {"old": "tourism", "new": "food"},
        "subgroup": {"old": None, "new": "quả tươi"},
    }
    assert all(a.to_state == b.from_state for a, b in zip(events, events[1:], strict=False))  # replays
    assert events[-1].to_state == p.state and len(edit.dossier_fingerprint) == 64
    # the next move chains on from the edit
    move(db, registry, officer, pid, "withdraw", comment="Ngừng sản xuất")
    with db.session() as s:
        last = s.scalars(select(ProductEvent).where(ProductEvent.product_id == pid, ProductEvent.seq == 4)).one()
    assert (last.from_state, last.to_state) == ("production_plan", "withdrawn")


def test_edits_refused_or_without_change(db, registry, world, products):
    officer, pid = world.user(*OFFICER), products["Mì Chũ"]
    with db.transaction() as s:
        actor = load_actor(s, officer)
        same = product_service.update_product(
            s, registry, actor, pid, name=" Mì Chũ ", product_group="food", expected_version=1
        )
        assert (same.version, same.history_count) == (1, 1)  # nothing changed, nothing written
        with pytest.raises(StaleVersion):
            product_service.update_product(s, registry, actor, pid, name="Mì", product_group="food", expected_version=7)
        with pytest.raises(InvalidData) as bad:
            product_service.update_product(s, registry, actor, pid, name="", product_group="nope")
        assert "required" in bad.value.message("en") and "Unknown product group" in bad.value.message("en")
    with db.transaction() as s, pytest.raises(PermissionDenied):
        product_service.update_product(
            s,
            registry,
            load_actor(s, world.user("district_council", "D1")),
            pid,
            name="Mì Chũ Lục Nam",
            product_group="food",
        )
    with db.transaction() as s, pytest.raises(NotFound):
        product_service.update_product(
            s,
            registry,
            load_actor(s, world.user("commune_officer", "C3")),
            pid,
            name="Mì Chũ Lục Nam",
            product_group="food",
        )


def test_producer_edit_and_account_activation(db, registry, world):
    officer = world.user(*OFFICER)
    with db.transaction() as s:
        actor = load_actor(s, officer)
        producer = producer_service.update_producer(
            s, actor, world.producers["household"], name=" Hộ An ", kind="household", tax_code="0101234567"
        )
        assert (producer.name, producer.tax_code) == ("Hộ An", "0101234567")
        with pytest.raises(InvalidData):
            producer_service.update_producer(
                s, actor, world.producers["household"], name="Hộ An", kind="household", tax_code="12"
            )
    admin_email = world.user("admin", "P")
    with db.transaction() as s:
        admin = load_actor(s, admin_email)
        target = s.scalars(select(User).where(User.email == officer)).one()
        assert target in accounts.users_for_admin(s, admin)
        accounts.set_user_active(s, admin, target.id, False)
        with pytest.raises(InvalidData):
            accounts.set_user_active(s, admin, admin.id, False)
        with pytest.raises(PermissionDenied):
            accounts.set_user_active(s, load_actor(s, world.user("province_council", "P")), target.id, True)
    with db.session() as s, pytest.raises(PermissionDenied):
        load_actor(s, officer)  # deactivated


def test_waiting_keys_follow_the_roles(registry, db, world):
    with db.session() as s:
        dsec = load_actor(s, world.user("district_secretariat", "D1"))
        keys = listing.waiting_keys(registry, dsec)
        assert ("ocop-148", 1, "district_review") in keys
        assert all(state != "idea" for _k, _v, state in keys)
        assert listing.waiting_keys(registry, dsec) == keys  # cached per set of roles


def test_migration_0003_folds_existing_names_up_and_down(empty_database_url):
    url = empty_database_url
    migrate_db.upgrade(url, "0002")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO organisations (id, code, name, level, path) VALUES (1, 'C', 'Xã', 'commune', '/C/')")
        )
        conn.execute(text("INSERT INTO producers (id, name, kind, commune_id) VALUES (1, 'HTX', 'cooperative', 1)"))
        for i, name in enumerate(["Vải thiều Lục Ngạn", "ĐẬU PHỤ Mơ", "Chè"], start=1):
            conn.execute(
                text(
                    "INSERT INTO products (id, name, product_group, producer_id, commune_id, workflow_key, "
                    "workflow_version, state, state_entered_at, application_type, history_count, created_at, "
                    "version) VALUES (:id, :name, 'food', 1, 1, 'ocop-148', 1, 'idea', :at, 'first_rating', 1, "
                    ":at, 1)"
                ),
                {"id": i, "name": name, "at": "2024-01-01 00:00:00"},
            )
    engine.dispose()
    migrate_db.upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        folded = conn.execute(text("SELECT name_folded FROM products ORDER BY id")).scalars().all()
    assert folded == ["vai thieu luc ngan", "dau phu mo", "che"]
    names = {ix["name"] for ix in inspect(engine).get_indexes("products")}
    assert {"ix_products_state_group_entered", "ix_products_name_folded"} <= names
    assert "ix_products_state" not in names
    engine.dispose()
    migrate_db.downgrade(url, "0002")
    engine = create_engine(url)
    assert "name_folded" not in {c["name"] for c in inspect(engine).get_columns("products")}
    names = {ix["name"] for ix in inspect(engine).get_indexes("products")}
    assert {"ix_products_state", "ix_products_product_group", "ix_products_workflow_state"} <= names
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM products")).scalar() == 3
    engine.dispose()


def test_a_page_past_the_end_of_a_short_list_shows_the_last_page(db, registry, world, products):
    """`?page=2` of a list that fits on one page (a bookmark, a changed filter) shows that page."""
    officer = world.user(*OFFICER)
    page = _list(db, registry, officer, group="food", page=2)
    assert (page.page, page.total, [p.name for p in page.items]) == (1, 1, ["Mì Chũ"])
    page = _list(db, registry, officer, per_page=2, page=7)
    assert page.page == 3 and len(page.items) == 2 and page.total == 6
