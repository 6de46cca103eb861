"""Products through the web: forms, the cycle with a return for revision, lists, filters and the inbox."""

from __future__ import annotations

import pytest
from conftest import PDF, csrf, login, text, upload
from sqlalchemy import select

from ocop_workflow.models import Producer, Product, User
from ocop_workflow.services.access import Actor, load_actor
from ocop_workflow.services.decisions import draft_decision, sign_decision
from ocop_workflow.services.products import advance


def _step(client, pid: int, trigger: str, version: int, **extra):
    data = {"csrf_token": csrf(client, "/"), "trigger": trigger, "expected_version": str(version), "confirm": "y"}
    data.update(extra)
    return client.post(f"/products/{pid}/advance", data=data)


def test_producer_and_product_forms(env, client):
    login(client, env, "assoc")
    r = client.post(
        "/producers/new",
        data={
            "csrf_token": csrf(client, "/"),
            "name": "",
            "kind": "household",
            "tax_code": "12",
            "commune_id": str(env.world.orgs["C1"]),
        },
    )
    assert r.status_code == 422 and "Trường này là bắt buộc." in text(r)
    r = client.post(
        "/producers/new",
        data={
            "csrf_token": csrf(client, "/"),
            "name": "Hộ Nguyễn Văn An",
            "kind": "household",
            "tax_code": "",
            "commune_id": env.world.orgs["C1"],
        },
    )
    assert r.status_code == 302, text(r)
    with env.db.session() as s:
        producer = s.scalars(select(Producer).where(Producer.name == "Hộ Nguyễn Văn An")).one()
    r = client.post(
        "/products/new",
        data={
            "csrf_token": csrf(client, "/"),
            "name": "Bánh đa Kế",
            "product_group": "food",
            "producer_id": producer.id,
            "workflow_key": "ocop-148",
            "subgroup": "",
        },
    )
    assert r.status_code == 302
    pid = int(r.headers["Location"].rsplit("/", 1)[1])
    page = text(client.get(f"/products/{pid}"))
    assert "Bánh đa Kế" in page and "Ý tưởng sản phẩm" in page and 'aria-current="step"' in page
    r = client.post(
        f"/products/{pid}/edit",
        data={
            "csrf_token": csrf(client, "/"),
            "name": "Bánh đa Kế Bắc Giang",
            "product_group": "food",
            "subgroup": "bánh",
            "expected_version": "1",
        },
    )
    assert r.status_code == 302, text(r)
    r = client.post(
        f"/producers/{producer.id}/edit",
        data={"csrf_token": csrf(client, "/"), "name": "HTX An", "kind": "cooperative", "tax_code": "0101234567"},
    )
    assert r.status_code == 302
    with env.db.session() as s:
        assert s.get(Product, pid).name == "Bánh đa Kế Bắc Giang"
        assert s.get(Producer, producer.id).kind == "cooperative"


def test_edit_with_a_stale_version_changes_nothing(env, client):
    pid = env.product()
    login(client, env, "officer")
    env.attach(pid, "idea_registration")
    env.fire(pid, "accept_idea")
    r = client.post(
        f"/products/{pid}/edit",
        data={"csrf_token": csrf(client, "/"), "name": "Tên khác", "product_group": "food", "expected_version": "1"},
    )
    assert r.status_code == 409 and "Hồ sơ đã được người khác cập nhật" in text(r)
    with env.db.session() as s:
        assert s.get(Product, pid).name == "Vải thiều Lục Ngạn"


def test_the_cycle_with_a_return_for_revision(env):
    officer, dsec, dcouncil, pcouncil = (env.app.test_client() for _ in range(4))
    for c, key in ((officer, "officer"), (dsec, "dsec"), (dcouncil, "dcouncil"), (pcouncil, "pcouncil")):
        login(c, env, key)
    pid = env.product()
    page = text(officer.get(f"/products/{pid}"))
    assert "Cần cho bước tiếp theo" in page and "Phiếu đăng ký ý tưởng sản phẩm" in page
    steps = [
        ("idea_registration",),
        ("business_plan", "organisation_intro"),
        ("registration_form", "self_assessment_report", "product_story"),
    ]
    for trigger, docs in zip(("accept_idea", "approve_plan", "submit_to_district"), steps, strict=True):
        for doc_type in docs:
            r = upload(
                officer,
                f"/products/{pid}/documents",
                {"csrf_token": csrf(officer, "/"), "doc_type": doc_type},
                f"{doc_type} – bản scan.pdf",
                PDF,
            )
            assert r.status_code == 302, text(r)
        r = _step(officer, pid, trigger, env.state_of(pid)[1])
        assert r.status_code == 302, text(r)
    assert env.state_of(pid)[0] == "district_review"
    assert "Vải thiều Lục Ngạn" in text(dsec.get("/inbox"))
    assert "Vải thiều Lục Ngạn" not in text(officer.get("/inbox"))
    # the reason is required
    r = _step(dsec, pid, "return_for_revision", env.state_of(pid)[1], comment="  ")
    assert r.status_code == 303 and "cần ghi ý kiến/lý do" in text(dsec.get(r.headers["Location"]))
    assert env.state_of(pid)[0] == "district_review"
    r = _step(dsec, pid, "return_for_revision", env.state_of(pid)[1], comment="Bổ sung phiếu kiểm nghiệm")
    assert r.status_code == 302
    page = text(officer.get(f"/products/{pid}"))
    assert "Bị trả lại để bổ sung" in page and "Bổ sung phiếu kiểm nghiệm" in page
    assert _step(officer, pid, "submit_to_district", env.state_of(pid)[1]).status_code == 302
    # without confirmation nothing happens
    r = dsec.post(
        f"/products/{pid}/advance",
        data={
            "csrf_token": csrf(dsec, "/"),
            "trigger": "return_for_revision",
            "expected_version": env.state_of(pid)[1],
            "comment": "Thiếu nhãn",
        },
    )
    assert r.status_code == 303 and "Hãy đánh dấu ô để xác nhận bước này." in text(dsec.get(r.headers["Location"]))
    # the council's score comes from a round: no rating button, and a forged form is refused
    assert 'id="step-rate_district"' not in text(dcouncil.get(f"/products/{pid}"))
    assert _step(dcouncil, pid, "rate_district", env.state_of(pid)[1], score="150").status_code == 303
    r = _step(dcouncil, pid, "rate_district", env.state_of(pid)[1], score="75")
    assert r.status_code == 403 and "đợt đánh giá" in text(r)
    assert env.state_of(pid)[0] == "district_review"
    registry = env.app.extensions["ocop"].registry
    with env.db.transaction() as s:  # the round's result, as the system records it
        system = Actor.system_actor(registry.policy)
        advance(s, registry, pid, "rate_district", system, data={"score": 75})
    assert env.state_of(pid)[0] == "province_review"
    with env.db.transaction() as s:
        advance(s, registry, pid, "rate_province", system, comment="Đạt 4 sao", data={"score": 82.5})
    assert env.state_of(pid)[0] == "province_recognition"  # 4★: the province's decision recognises it
    page = text(officer.get(f"/products/{pid}"))
    assert "Chờ UBND tỉnh quyết định công nhận" in page and "★★★★" in page and "Đạt 4 sao" in page
    assert 'id="certified"' not in page  # not certified until the chair signs
    with env.db.transaction() as s:  # the province's secretariat drafts the decision, its chair signs
        psec = load_actor(s, env.world.emails["psec"])
        decision_id = draft_decision(s, registry, psec, organisation_id=env.world.orgs["P"]).id
    with env.db.transaction() as s:
        chair = load_actor(s, env.world.emails["chair"])
        sign_decision(s, registry, env.app.extensions["ocop"].settings, chair, decision_id, number="7/QĐ-UBND")
    page = text(officer.get(f"/products/{pid}"))
    assert 'id="current-state">Đã đánh giá' in page and 'id="certified"' in page and "7/QĐ-UBND" in page
    assert "Người dùng dsec" in page  # the timeline names the actors


def test_guard_failure_lists_what_is_missing(env, client):
    pid = env.product()
    login(client, env, "officer")
    r = _step(client, pid, "accept_idea", 1)
    assert r.status_code == 303
    page = text(client.get(r.headers["Location"]))
    assert "Chưa thể chuyển bước" in page and "Phiếu đăng ký ý tưởng sản phẩm" in page
    assert env.state_of(pid)[0] == "idea"


@pytest.mark.app_config(PRODUCTS_PER_PAGE=2)
def test_list_filters_search_and_pagination(env, client):
    names = ["Vải thiều Lục Ngạn", "Gà đồi Yên Thế", "Mì Chũ", "Rượu làng Vân", "Bánh đa Kế"]
    ids = {n: env.product(name=n, group="food" if n.startswith("Mì") else "tourism") for n in names}
    other = env.product(key="officer3", name="Vải sớm Đồng Kỳ", producer=env.world.producer3)
    env.attach(ids["Mì Chũ"], "idea_registration")
    env.fire(ids["Mì Chũ"], "accept_idea")
    login(client, env, "officer")
    assert "Vải thiều Lục Ngạn" in text(client.get("/products?q=vai+thieu"))
    assert "Vải thiều Lục Ngạn" in text(client.get("/products?q=V%E1%BA%A2I"))  # "VẢI"
    assert "Gà đồi" in text(client.get("/products?q=ga+doi"))
    assert "Vải sớm Đồng Kỳ" not in text(client.get("/products?q=vai"))  # another district
    r = text(client.get("/products?state=production_plan"))
    assert "Mì Chũ" in r and "Gà đồi" not in r
    r = text(client.get("/products?group=food"))
    assert "Mì Chũ" in r and "Bánh đa" not in r
    assert "Không có sản phẩm nào khớp bộ lọc." in text(client.get("/products?star=4"))
    page1, page3 = text(client.get("/products")), text(client.get("/products?page=3"))
    assert "Trang 1/3" in page1 and "Trang 3/3" in page3
    assert client.get(f"/products?org={env.world.orgs['C3']}").status_code == 404  # out of scope
    assert "Mì Chũ" in text(client.get(f"/products?org={env.world.orgs['C1']}&group=food"))
    pcouncil = env.app.test_client()
    login(pcouncil, env, "pcouncil")
    assert "Vải sớm Đồng Kỳ" in text(pcouncil.get(f"/products?org={env.world.orgs['D2']}"))
    assert other


def test_dashboard_counts_what_waits_for_me(env, client):
    a, b = env.product(), env.product(name="Gà đồi")
    env.to_district(a)
    login(client, env, "dcouncil")
    body = text(client.get("/"))
    assert "Đang chờ tôi xử lý" in body and "Hồ sơ tại Hội đồng huyện" in body
    assert "Vải thiều Lục Ngạn" in body and "Gà đồi" not in body.split("Mọi sản phẩm")[0]
    assert b


def test_admin_creates_a_user_gives_a_role_and_deactivates(env, client):
    login(client, env, "admin")
    r = client.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf(client, "/"),
            "email": "can.bo@xa.vn",
            "name": "Cán bộ mới",
            "password": "mat-khau-dai",
            "locale": "vi",
            "organisation_id": env.world.orgs["C2"],
            "role": "commune_officer",
        },
    )
    assert r.status_code == 302, text(r)
    with env.db.session() as s:
        user = s.scalars(select(User).where(User.email == "can.bo@xa.vn")).one()
    r = client.post(
        f"/admin/users/{user.id}",
        data={"csrf_token": csrf(client, "/"), "organisation_id": env.world.orgs["D1"], "role": "commune_officer"},
    )
    assert r.status_code == 422  # a commune role at a district
    r = client.post(
        f"/admin/users/{user.id}",
        data={"csrf_token": csrf(client, "/"), "organisation_id": env.world.orgs["C2"], "role": "commune_association"},
    )
    assert r.status_code == 302
    r = client.post(f"/admin/users/{user.id}/active", data={"csrf_token": csrf(client, "/"), "active": "0"})
    assert r.status_code == 302
    with env.db.session() as s:
        user = s.get(User, user.id)
        assert not user.active and {m.role for m in user.memberships} == {"commune_officer", "commune_association"}
    assert "can.bo@xa.vn" in text(client.get("/admin/users"))


def test_a_step_on_an_unknown_or_hidden_product_is_404_whatever_the_form_holds(env, client):
    pid = env.product()
    env.attach(pid, "idea_registration")
    login(client, env, "officer3")  # commune C3, another district: the product is out of scope
    token = csrf(client, "/")
    before = env.state_of(pid)
    forms = {
        "valid": {"trigger": "accept_idea", "expected_version": str(before[1]), "confirm": "y"},
        "not confirmed": {"trigger": "accept_idea", "expected_version": str(before[1])},
        "bad score": {"trigger": "accept_idea", "expected_version": str(before[1]), "confirm": "y", "score": "500"},
        "bad version": {"trigger": "accept_idea", "expected_version": "abc", "confirm": "y"},
        "unknown step": {"trigger": "no_such_step", "expected_version": str(before[1]), "confirm": "y"},
        "empty": {},
    }
    for what, form in forms.items():
        for target in (pid, pid + 1000):
            r = client.post(f"/products/{target}/advance", data={"csrf_token": token, **form})
            assert r.status_code == 404, (what, target, r.status_code)
    assert env.state_of(pid) == before
    # in scope, the same bad forms are the form's own errors
    login(client, env, "officer")
    token = csrf(client, "/")
    r = client.post(f"/products/{pid}/advance", data={"csrf_token": token, **forms["bad score"]})
    assert r.status_code == 303 and "Điểm phải từ 0 đến 100" in text(client.get(r.headers["Location"]))
    r = client.post(f"/products/{pid}/advance", data={"csrf_token": token, **forms["unknown step"]})
    assert r.status_code == 303 and "no_such_step" in text(client.get(r.headers["Location"]))
    assert env.state_of(pid) == before


def test_a_central_refusal_shows_as_not_recognised_and_the_province_keeps_its_4_stars(env):
    """District 92 → province 91 → central 85: the product page credits the 4★ to the province and
    says the central council did not recognise it, instead of calling the central row "forwarded"."""
    pid = env.product()
    env.to_district(pid)
    registry = env.app.extensions["ocop"].registry
    system = Actor.system_actor(registry.policy)
    with env.db.transaction() as s:
        for trigger, score in (("rate_district", 92), ("rate_province", 91), ("rate_central", 85)):
            advance(s, registry, pid, trigger, system, data={"score": score})
    page = text(login(env.app.test_client(), env, "officer").get(f"/products/{pid}"))
    assert "không công nhận ở cấp này; giữ kết quả của cấp đề nghị" in page
    # the district's and the province's first rows forwarded the dossier; the central row did not
    assert page.count("(chuyển lên cấp trên)") == 2
    assert page.count("(không công nhận ở cấp này") == 1
