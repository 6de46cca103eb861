"""What a user sees of late work, sorting, the returned mark and the dashboard's grouping (issue #11)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from conftest import login, text
from sqlalchemy import update

from ocop_workflow.models import Product

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _entered(env, pid: int, days_ago: int) -> datetime:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    with env.db.transaction() as s:
        s.execute(update(Product).where(Product.id == pid).values(state_entered_at=at))
    return at


def _row(page: str, name: str) -> str:
    match = re.search(r"<tr[^>]*>(?:(?!</tr>).)*?" + re.escape(name) + r".*?</tr>", page, re.S)
    assert match, name
    return match.group(0)


def _order(page: str, names: list[str]) -> list[str]:
    return sorted(names, key=lambda n: page.index(f">{n}</a>"))


def test_the_list_marks_late_work_returns_and_sorts_by_each_column(env, client):
    late = env.product(name="Mật ong Sơn Động")
    env.product(name="Bánh đa Kế")
    back = env.product(name="Cam Bố Hạ")
    env.to_district(back)
    env.fire(back, "return_for_revision", key="dsec", comment="Bổ sung phiếu kiểm nghiệm")
    entered = _entered(env, late, 45)  # idea: 30 days, so 15 days late
    _entered(env, back, 2)
    login(client, env, "psec")
    page = text(client.get("/products"))
    row = _row(page, "Mật ong Sơn Động")
    deadline = (entered + timedelta(days=30)).astimezone(VN).strftime("%d/%m/%Y")
    assert 'class="late-mark late">Quá hạn 15 ngày<' in row and deadline in row and "45 ngày" in row
    assert 'class="is-late"' in row
    fresh_row = _row(page, "Bánh đa Kế")
    assert "còn 30 ngày" in fresh_row and "Quá hạn" not in fresh_row and "0 ngày" in fresh_row
    returned = _row(page, "Cam Bố Hạ")
    assert "Bị trả lại để bổ sung" in returned and "Quá hạn" not in returned
    assert "trả lại" not in fresh_row
    assert "Lục Ngạn" in fresh_row and "Phượng Sơn" in fresh_row  # district under the commune
    names = ["Mật ong Sơn Động", "Bánh đa Kế", "Cam Bố Hạ"]
    assert _order(page, names) == ["Bánh đa Kế", "Cam Bố Hạ", "Mật ong Sơn Động"]  # newest move first
    # the headers are links that sort; the current one is marked
    for key in ("name", "state", "commune", "waiting", "deadline"):
        assert f'href="/products?sort={key}"' in page
    by_name = text(client.get("/products?sort=name"))
    assert 'class="sorted" aria-current="true"' in by_name
    assert _order(by_name, names) == ["Bánh đa Kế", "Cam Bố Hạ", "Mật ong Sơn Động"]
    assert _order(text(client.get("/products?sort=waiting")), names)[0] == "Mật ong Sơn Động"
    assert _order(text(client.get("/products?sort=deadline")), names) == [
        "Mật ong Sơn Động",
        "Bánh đa Kế",
        "Cam Bố Hạ",  # implementation: 180 days
    ]
    assert _order(text(client.get("/products?sort=state")), names)[-1] == "Cam Bố Hạ"
    # late only, and the filters keep the order chosen
    only = text(client.get("/products?late=1&sort=name"))
    assert "Mật ong Sơn Động" in only and "Bánh đa Kế" not in only and "Cam Bố Hạ" not in only
    assert 'name="late" value="1" id="f-late" checked' in only and 'name="sort" value="name"' in only
    assert "Chỉ các sản phẩm đã quá hạn." in only
    # the phone layout folds the filters behind one button
    assert 'id="filters-toggle" class="fold-toggle"' in page and 'class="filters foldable"' in page
    # an unknown sort or stage is ignored, never an error
    assert client.get("/products?sort=evil&stage=nope&late=2").status_code == 200


def test_the_inbox_puts_the_most_overdue_first(env, client):
    a = env.product(name="Chè Tân Cương")
    b = env.product(name="Gà đồi Yên Thế")
    c = env.product(name="Vải sấy")
    _entered(env, a, 35)
    _entered(env, b, 90)
    _entered(env, c, 1)
    login(client, env, "officer")
    page = text(client.get("/inbox"))
    assert "quá hạn lâu nhất lên đầu" in page
    names = ["Chè Tân Cương", "Gà đồi Yên Thế", "Vải sấy"]
    assert _order(page, names) == ["Gà đồi Yên Thế", "Chè Tân Cương", "Vải sấy"]
    home = text(client.get("/"))
    assert _order(home, ["Chè Tân Cương", "Gà đồi Yên Thế", "Vải sấy"])[0] == "Gà đồi Yên Thế"
    detail = text(client.get(f"/products/{b}"))
    assert 'id="deadline"' in detail and "đã chờ 90 ngày" in detail and "Quá hạn 60 ngày" in detail


def test_the_dashboard_groups_by_stage_without_codes_or_twice_the_same_label(env, client):
    registry = env.app.extensions["ocop"].registry
    for key in ("ocop-148", "ocop-1489"):
        with env.db.transaction() as s:
            from ocop_workflow.services.products import create_product

            create_product(
                s,
                registry,
                env.actor(s, "officer"),
                name=f"Ý tưởng {key}",
                product_group="food",
                producer_id=env.world.producer_b,
                workflow_key=key,
            )
    login(client, env, "officer")
    page = text(client.get("/"))
    tiles = re.findall(r'<a class="count" href="([^"]+)"><strong>(\d+)</strong><span>([^<]+)</span>', page)
    assert [(n, label) for _href, n, label in tiles] == [("2", "Ý tưởng sản phẩm")]
    assert "stage=idea" in tiles[0][0]
    assert "ocop-148" not in page.replace("Ý tưởng ocop-148", "").replace("Ý tưởng ocop-1489", "")
    stage_rows = re.findall(r'<tr data-stage="([^"]+)"><td><a [^>]+>([^<]+)</a></td><td class="num">(\d+)', page)
    assert stage_rows == [("idea", "Ý tưởng sản phẩm", "2")]
    listed = text(client.get("/products?stage=idea"))
    assert "Ý tưởng ocop-148" in listed and "Ý tưởng ocop-1489" in listed and "Bước: Ý tưởng sản phẩm" in listed
    area = re.findall(r'<tr data-org="(\d+)"><td><a [^>]+>([^<]+)</a></td><td class="num">(\d+)', page)
    assert [(name, n) for _id, name, n in area] == [("Phượng Sơn", "2")]
    province = login(env.app.test_client(), env, "psec")
    top = text(province.get("/"))
    districts = re.findall(r'<tr data-org="(\d+)"><td><a [^>]+>([^<]+)</a></td><td class="num">(\d+)', top)
    assert [(name, n) for _id, name, n in districts] == [("Lục Ngạn", "2"), ("Yên Thế", "0")]
    drill = text(province.get(f"/?org={districts[0][0]}"))
    communes = re.findall(r'<tr data-org="(\d+)"><td><a [^>]+>([^<]+)</a></td><td class="num">(\d+)', drill)
    assert [(name, n) for _id, name, n in communes] == [("Phượng Sơn", "2"), ("Hồng Giang", "0")]
    assert province.get("/?org=999999").status_code == 404
    assert login(env.app.test_client(), env, "officer3").get(f"/?org={env.world.orgs['C1']}").status_code == 404


def test_the_api_list_takes_the_same_sort_and_late_filter(env):
    from api_client import API, ApiClient, issue, problem_of

    api = ApiClient(env.app, issue(env, "officer"))
    late = env.product(name="Mật ong Sơn Động")
    fresh = env.product(name="Bánh đa Kế")
    _entered(env, late, 45)
    ids = [p["id"] for p in api.get(f"{API}/products?late=true").get_json()["items"]]
    assert ids == [late]
    assert [p["id"] for p in api.get(f"{API}/products?sort=name").get_json()["items"]] == [fresh, late]
    assert [p["id"] for p in api.get(f"{API}/products?sort=deadline").get_json()["items"]] == [late, fresh]
    body = problem_of(api.get(f"{API}/products?sort=evil"), 400, "invalid_request")
    assert {p["name"] for p in body["invalid_params"]} == {"sort"}
