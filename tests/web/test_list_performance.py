"""What keeps the product pages fast at 100,000 products (bench/web.py measures it): few SQL statements
per page whatever the number of rows, list queries that read one index range in the order shown, a
count that stops at its cap, and the edit history on the product page."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from conftest import csrf, login, text
from sqlalchemy import event, select

from ocop_workflow.models import Product, ProductEvent
from ocop_workflow.services import listing


@contextmanager
def statements(env):
    """The SQL statements the app runs inside the block (BEGIN and COMMIT included)."""
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    event.listen(env.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(env.db.engine, "before_cursor_execute", record)


def _queries(seen: list[str]) -> list[str]:
    return [s for s in seen if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]


@pytest.mark.app_config(PRODUCTS_PER_PAGE=5)
def test_pages_run_a_fixed_small_number_of_statements(env, client):
    names = ["Vải thiều Lục Ngạn", "Gà đồi Yên Thế", "Mì Chũ", "Rượu làng Vân", "Bánh đa Kế", "Mật ong", "Chè xanh"]
    ids = [env.product(name=n) for n in names]
    env.to_district(ids[0])
    env.fire(ids[0], "return_for_revision", key="dsec", comment="Bổ sung")
    login(client, env, "dsec")
    client.get("/products")  # warm up: the organisation choices are kept a minute
    # page -> most queries (the user with memberships, the data, the count of a full page, the page's
    # certificates: one query for all its rows; the product page reads its certificates and decisions, and
    # which programme records it has, then only those it has)
    budget = {
        "/products": 4,
        "/products?page=2": 4,
        "/products?q=vai+thieu&state=implementation": 4,
        "/products?state=idea&group=tourism": 4,
        f"/products?org={env.world.orgs['C1']}": 5,
        # + one statement since issue #12: which records (supports, listings, revenue, areas) the product has
        f"/products/{ids[0]}": 8,
        f"/products/{ids[1]}": 7,
        # the dashboard: the user, the counts by stage (all and waiting), the next products, the census (per
        # commune, group and star), the organisations of the area, the ratings per year, the certified per star
        "/": 7,
        "/inbox": 3,
    }
    for url, most in budget.items():
        with statements(env) as seen:
            r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        assert len(_queries(seen)) <= most, (url, _queries(seen))
    # N+1 guard: five times the products, the same statements
    for _ in range(3):
        ids.append(env.product(name="Thêm sản phẩm"))
    with statements(env) as seen:
        client.get("/products")
    assert len(_queries(seen)) <= budget["/products"]


@pytest.mark.app_config(PRODUCTS_PER_PAGE=2)
def test_the_count_stops_at_its_cap(env, client, monkeypatch):
    for i in range(6):
        env.product(name=f"Sản phẩm {i}")
    monkeypatch.setattr(listing, "COUNT_CAP", 3)
    login(client, env, "officer")
    page1 = text(client.get("/products"))
    assert "(3+)" in page1 and "Trang 1/2+" in page1 and "page=2" in page1
    page2 = text(client.get("/products?page=2"))  # past the cap: counted up to the page asked for, and one more
    assert "(4+)" in page2 and "Trang 2/2+" in page2 and "page=3" in page2
    page3 = text(client.get("/products?page=3"))  # that count reaches the end: exact again
    assert "(6)" in page3 and "Trang 3/3" in page3 and "Trang 3/3+" not in page3 and "page=4" not in page3
    last = text(client.get("/products?page=9"))  # past the end: the last page
    assert "Trang 3/3" in last and "Sản phẩm 0" in last


PLANS = {  # filter -> the index the page must be read from, in order (no sorting step)
    "": "ix_products_entered",
    "state=idea": "ix_products_state_entered",
    "state=idea&group=tourism": "ix_products_state_group_entered",
    "group=tourism": "ix_products_group_entered",
    "q=vai": "ix_products_entered",
    "star=3": "ix_products_entered",
    "waiting=1": "ix_products_state_entered",  # the province council waits in one state
    "waiting=1&who=officer": "ix_products_commune_id",  # a commune's few products: by commune, then sorted
    "waiting=1&who=psec": "ix_products_",
}


@pytest.mark.parametrize("query", PLANS)
def test_the_list_reads_an_index_in_the_order_it_shows(env, query):
    """A province user sees most products: the page must come from a list index read in order and
    stop after a page, never from the commune index and a sort (SQLite guesses without ANALYZE)."""
    from ocop_workflow.services.access import load_actor

    args = dict(p.split("=") for p in query.split("&") if p)
    flt = listing.ProductFilter(
        state=args.get("state"),
        group=args.get("group"),
        q=args.get("q"),
        star=int(args["star"]) if "star" in args else None,
        waiting="waiting" in args,
    )
    registry = env.app.extensions["ocop"].registry
    with env.db.session() as s:
        who = load_actor(s, env.world.emails[args.get("who", "pcouncil")])
        statements, params = listing.product_conditions(s, registry, who, flt)
        compiled = statements.rows.compile(env.db.engine)
        values = {**compiled.params, **params, "limit": 25, "offset": 0}
        positional = tuple(values[name] for name in compiled.positiontup)
        plan = " | ".join(
            row[3] for row in s.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", positional)
        )
    assert PLANS[query] in plan, plan
    if args.get("who") != "officer":
        assert "TEMP B-TREE" not in plan and "ix_products_commune_id" not in plan, plan


def test_an_edit_is_in_the_history_and_the_state_is_kept(env, client):
    pid = env.product()
    env.attach(pid, "idea_registration")
    env.fire(pid, "accept_idea")
    login(client, env, "officer")
    r = client.post(
        f"/products/{pid}/edit",
        data={
            "csrf_token": csrf(client, "/"),
            "name": "Vải thiều Hồng Giang",
            "product_group": "food",
            "subgroup": "",
            "expected_version": "2",
        },
    )
    assert r.status_code == 302, text(r)
    with env.db.session() as s:
        product = s.get(Product, pid)
        events = list(s.scalars(select(ProductEvent).where(ProductEvent.product_id == pid).order_by(ProductEvent.seq)))
        assert (product.state, product.version, product.history_count) == ("production_plan", 3, 3)
        assert product.name_folded == "vai thieu hong giang"
    edit = events[-1]
    assert (edit.trigger, edit.from_state, edit.to_state) == ("edit", "production_plan", "production_plan")
    assert edit.data == {
        "name": {"old": "Vải thiều Lục Ngạn", "new": "Vải thiều Hồng Giang"},
        "product_group": {"old": "tourism", "new": "food"},
    }
    page = text(client.get(f"/products/{pid}"))
    assert "Sửa thông tin sản phẩm" in page and "Vải thiều Lục Ngạn → Vải thiều Hồng Giang" in page
    assert 'class="state state-production_plan" id="current-state"' in page  # an edit moves nothing
    assert "vai thieu hong giang" not in page
    assert "Vải thiều Hồng Giang" in text(client.get("/products?q=hong+giang"))
    assert "Vải thiều Hồng Giang" not in text(client.get("/products?q=luc+ngan"))


def test_a_web_step_runs_at_most_five_statements(env, client):
    """POST /products/ID/advance: the user with memberships, the product with its dossier, the
    conditional UPDATE and the history INSERT, and the move notice's one read of the commune's
    organisations and members (issue #11; nobody but the actor can act next here, so nothing is
    written); the flash names the new state without a re-read."""
    pid = env.product()
    env.attach(pid, "idea_registration")
    login(client, env, "officer")
    token = csrf(client, "/")
    version = env.state_of(pid)[1]
    with statements(env) as seen:
        r = client.post(
            f"/products/{pid}/advance",
            data={"csrf_token": token, "trigger": "accept_idea", "expected_version": str(version), "confirm": "y"},
        )
    assert r.status_code == 302, text(r)
    assert env.state_of(pid) == ("production_plan", version + 1, 2)
    assert len(seen) <= 5, seen  # BEGIN and COMMIT go to the driver directly; everything else is here
    assert sum(s.lstrip().upper().startswith("SELECT") for s in seen) == 3, seen
    page = text(client.get(f"/products/{pid}"))
    assert "Xong: sản phẩm đang ở bước «Phương án sản xuất kinh doanh»." in page
