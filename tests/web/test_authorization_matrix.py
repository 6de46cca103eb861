"""The authorization matrix, generated from the permission file: every role × every action × objects
in and out of scope (the account's own producer, another producer of the same commune, another
commune of the district, another district), through the web and the API, with the exact status.

The expectation is computed here from `workflows/permissions.yaml` read with plain YAML and the
organisation tree written out again, not from the code under test: a role the file lists gets the
success status on what it sees, another role 403, an object it cannot see 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import PDF, USERS, Env, login, upload
from sqlalchemy import func, select

from ocop_workflow.models import Document, Membership, Organisation, Producer, User
from ocop_workflow.services import tokens

PERMISSIONS = yaml.safe_load((Path(__file__).resolve().parents[2] / "workflows" / "permissions.yaml").read_text())
ACTS_FOR_PRODUCER = set(PERMISSIONS["acts_for_producer"])
ACTIONS = {key: set(spec["roles"]) for key, spec in PERMISSIONS["actions"].items()}
OPEN_ATTACH = {role: set(types) for role, types in PERMISSIONS["dossier"]["attach"]["open"].items()}
# the web world's tree, written out again: P > D1 > C1, C2; P > D2 > C3; VN above all
PARENTS = {"C1": "D1", "C2": "D1", "C3": "D2", "D1": "P", "D2": "P", "P": "VN", "VN": None}
PLACES = ("own", "same_commune", "other_commune", "other_district")
COMMUNE_OF = {"own": "C1", "same_commune": "C1", "other_commune": "C2", "other_district": "C3"}

pytestmark = pytest.mark.app_config(WTF_CSRF_ENABLED=False)


def covers(org: str, commune: str) -> bool:
    while commune is not None:
        if commune == org:
            return True
        commune = PARENTS[commune]
    return False


def sees(key: str, place: str) -> bool:
    """Whether the user `key` sees a product or producer at `place` (the producer account: its own only)."""
    role, org = USERS[key]
    if role in ACTS_FOR_PRODUCER:
        return place == "own"
    return covers(org, COMMUNE_OF[place])


def expected(key: str, place: str, roles: set[str], success: int) -> int:
    if not sees(key, place):
        return 404
    return success if USERS[key][0] in roles else 403


@dataclass
class Objects:
    producers: dict[str, int]
    products: dict[str, int]


def objects(env: Env) -> Objects:
    w = env.world
    producers = {
        "own": w.producer,
        "same_commune": w.producer_b,
        "other_commune": w.producer2,
        "other_district": w.producer3,
    }
    products = {}
    for place, producer in producers.items():
        officer = "officer3" if place == "other_district" else "officer"
        if place == "other_commune":
            officer = "admin"  # no officer of C2 in the web world; the province admin registers it
        products[place] = env.product(key=officer, name=f"Sản phẩm {place}", producer=producer)
    return Objects(producers, products)


def every_user_and_place():
    return [(key, place) for key in USERS for place in PLACES]


def token(env: Env, key: str) -> str:
    with env.db.transaction() as s:
        user = s.scalars(select(User).where(User.email == env.world.emails[key])).one()
        return tokens.create_token(s, user, name="matrix").token


def test_every_role_of_the_catalogue_is_in_the_matrix(env: Env) -> None:
    roles = set(env.app.extensions["ocop"].registry.catalogue.roles)
    assert {role for role, _org in USERS.values()} == roles
    assert set(ACTIONS) == set(env.app.extensions["ocop"].registry.policy.actions)


def test_create_product(env: Env) -> None:
    objs = objects(env)
    failures = []
    for key, place in every_user_and_place():
        want_web = expected(key, place, ACTIONS["create_product"], 302)
        client = login(env.app.test_client(), env, key)
        got = client.post(
            "/products/new",
            data={
                "name": f"Ý tưởng {key}",
                "product_group": "food",
                "producer_id": objs.producers[place],
                "workflow_key": "ocop-148",
            },
        )
        if got.status_code != want_web:
            failures.append(("web", key, place, want_web, got.status_code))
        want_api = expected(key, place, ACTIONS["create_product"], 201)
        got = env.app.test_client().post(
            "/api/v1/products",
            headers={"Authorization": f"Bearer {token(env, key)}"},
            json={"name": f"Ý tưởng {key}", "product_group": "food", "producer_id": objs.producers[place]},
        )
        if got.status_code != want_api:
            failures.append(("api", key, place, want_api, got.status_code))
    assert not failures


def test_edit_product(env: Env) -> None:
    objs = objects(env)
    failures = []
    for key, place in every_user_and_place():
        want = expected(key, place, ACTIONS["edit_product"], 302)
        client = login(env.app.test_client(), env, key)
        got = client.post(
            f"/products/{objs.products[place]}/edit", data={"name": f"Sửa bởi {key}", "product_group": "food"}
        )
        if got.status_code != want:
            failures.append((key, place, want, got.status_code))
        got = client.get(f"/products/{objs.products[place]}/edit")
        if got.status_code != (200 if want == 302 else want):
            failures.append(("form", key, place, want, got.status_code))
    assert not failures


def test_create_producer(env: Env) -> None:
    communes = {}
    with env.db.session() as s:
        for code in ("C1", "C2", "C3"):
            communes[code] = s.scalars(select(Organisation.id).where(Organisation.code == code)).one()
    failures = []
    for key in USERS:
        role, org = USERS[key]
        for code in ("C1", "C2", "C3"):
            # an organisation is seen by the memberships above it, a producer's account's included
            want = 404 if not covers(org, code) else 302 if role in ACTIONS["create_producer"] else 403
            client = login(env.app.test_client(), env, key)
            got = client.post(
                "/producers/new", data={"name": f"HTX của {key}", "kind": "cooperative", "commune_id": communes[code]}
            )
            if got.status_code != want:
                failures.append((key, code, want, got.status_code))
    assert not failures


def test_edit_producer(env: Env) -> None:
    objs = objects(env)
    failures = []
    for key, place in every_user_and_place():
        want = expected(key, place, ACTIONS["edit_producer"], 302)
        client = login(env.app.test_client(), env, key)
        got = client.post(
            f"/producers/{objs.producers[place]}/edit",
            data={"name": f"Chủ thể sửa bởi {key}", "kind": "cooperative_group"},
        )
        if got.status_code != want:
            failures.append((key, place, want, got.status_code))
    assert not failures


def test_attach_a_document_while_the_dossier_is_open(env: Env) -> None:
    objs = objects(env)
    attachers = {role for role, types in OPEN_ATTACH.items() if "business_plan" in types}
    failures = []
    for key, place in every_user_and_place():
        product = objs.products[place]
        want = expected(key, place, attachers, 302)
        client = login(env.app.test_client(), env, key)
        got = upload(client, f"/products/{product}/documents", {"doc_type": "business_plan"}, "phuong-an.pdf", PDF)
        if got.status_code != want:
            failures.append(("web", key, place, want, got.status_code))
        want = expected(key, place, attachers, 201)
        got = env.app.test_client().post(
            f"/api/v1/products/{product}/documents",
            headers={"Authorization": f"Bearer {token(env, key)}"},
            data={"doc_type": "business_plan", "file": (_pdf(), "phuong-an.pdf")},
            content_type="multipart/form-data",
        )
        if got.status_code != want:
            failures.append(("api", key, place, want, got.status_code))
    assert not failures


def _pdf():
    import io

    return io.BytesIO(PDF)


def _user_id(env: Env, key: str) -> int:
    with env.db.session() as s:
        return s.scalars(select(User.id).where(User.email == env.world.emails[key])).one()


def test_administer_users(env: Env) -> None:
    targets = {
        "in_district": _user_id(env, "officer"),
        "other_district": _user_id(env, "officer3"),
        "province": _user_id(env, "psec"),
    }
    target_org = {"in_district": "C1", "other_district": "C3", "province": "P"}
    failures = []
    for key in USERS:
        role, org = USERS[key]
        client = login(env.app.test_client(), env, key)
        for name, uid in targets.items():
            allowed = role in ACTIONS["administer_users"]
            want = 403 if not allowed else 302 if covers(org, target_org[name]) else 404
            got = client.post(f"/admin/users/{uid}/active", data={"active": "1"})
            if got.status_code != want:
                failures.append((key, name, want, got.status_code))
        want = 200 if role in ACTIONS["read_outbox"] else 403
        got = client.get("/admin/outbox")
        if got.status_code != want:
            failures.append((key, "outbox", want, got.status_code))
    assert not failures


# --- the cases of the security review (issue #8, "Why") ------------------------------------------
def test_a_producer_account_sees_and_acts_for_its_own_producer_only(env: Env) -> None:
    objs = objects(env)
    api = {"Authorization": f"Bearer {token(env, 'producer')}"}
    client = env.app.test_client()
    listed = client.get("/api/v1/products?per_page=100", headers=api).get_json()
    assert {p["producer"]["id"] for p in listed["items"]} == {env.world.producer}
    # another producer's product in the same commune: not found, whatever the step
    other = objs.products["same_commune"]
    assert client.get(f"/api/v1/products/{other}", headers=api).status_code == 404
    got = client.post(
        f"/api/v1/products/{other}/documents",
        headers=api,
        data={"doc_type": "business_plan", "file": (_pdf(), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert got.status_code == 404
    got = client.post(
        "/api/v1/products",
        headers=api,
        json={"name": "Mượn tên", "product_group": "food", "producer_id": env.world.producer_b},
    )
    assert got.status_code == 404
    web = login(env.app.test_client(), env, "producer")
    assert web.post(f"/products/{other}/edit", data={"name": "x", "product_group": "food"}).status_code == 404
    assert (
        web.post(
            f"/producers/{env.world.producer_b}/edit", data={"name": "x", "kind": "household", "tax_code": "0101234567"}
        ).status_code
        == 404
    )
    # its own product and record: yes; minutes and decisions never
    own = objs.products["own"]
    assert (
        web.post(
            f"/producers/{env.world.producer}/edit",
            data={"name": "THT Vải thiều Phượng Sơn", "kind": "cooperative_group"},
        ).status_code
        == 302
    )
    got = upload(web, f"/products/{own}/documents", {"doc_type": "council_minutes"}, "bien-ban.pdf", PDF)
    assert got.status_code == 403
    got = upload(web, f"/products/{own}/documents", {"doc_type": "recognition_decision"}, "qd.pdf", PDF)
    assert got.status_code == 403


def test_a_final_product_cannot_be_edited(env: Env) -> None:
    pid = env.product()
    env.fire(pid, "withdraw", comment="Chủ thể rút hồ sơ")
    client = login(env.app.test_client(), env, "officer")
    before = env.state_of(pid)
    got = client.post(f"/products/{pid}/edit", data={"name": "Đổi tên", "product_group": "food"})
    assert got.status_code == 403
    assert "final step" in got.get_data(as_text=True) or "bước cuối" in got.get_data(as_text=True)
    assert env.state_of(pid) == before


def test_a_district_admin_cannot_touch_a_user_who_also_holds_a_role_above_the_district(env: Env) -> None:
    with env.db.transaction() as s:
        psec = s.scalars(select(User).where(User.email == env.world.emails["psec"])).one()
        c1 = s.scalars(select(Organisation).where(Organisation.code == "C1")).one()
        s.add(Membership(user=psec, organisation=c1, role="commune_officer"))
        uid = psec.id
    client = login(env.app.test_client(), env, "dadmin")
    assert client.post(f"/admin/users/{uid}/active", data={"active": "0"}).status_code == 404
    listing = client.get("/admin/users").get_data(as_text=True)
    assert f'/admin/users/{uid}"' not in listing and env.world.emails["psec"] not in listing
    with env.db.session() as s:
        assert s.get(User, uid).active is True
    # the province's administrator may
    assert (
        login(env.app.test_client(), env, "admin").post(f"/admin/users/{uid}/active", data={"active": "0"}).status_code
        == 302
    )


def test_membership_of_a_producer_account_names_a_producer_of_its_commune(env: Env) -> None:
    client = login(env.app.test_client(), env, "admin")
    uid = _user_id(env, "assoc")
    with env.db.session() as s:
        c1 = s.scalars(select(Organisation.id).where(Organisation.code == "C1")).one()
    got = client.post(f"/admin/users/{uid}", data={"organisation_id": c1, "role": "producer"})
    assert got.status_code == 422  # no producer chosen
    got = client.post(
        f"/admin/users/{uid}", data={"organisation_id": c1, "role": "producer", "producer_id": env.world.producer3}
    )
    assert got.status_code == 422  # a producer of another commune
    got = client.post(
        f"/admin/users/{uid}", data={"organisation_id": c1, "role": "producer", "producer_id": env.world.producer_b}
    )
    assert got.status_code == 302
    with env.db.session() as s:
        m = s.scalars(select(Membership).where(Membership.user_id == uid, Membership.role == "producer")).one()
        assert m.producer_id == env.world.producer_b
        assert s.get(Producer, m.producer_id).name


def _force_state(env: Env, pid: int, state: str, rating_level: str | None = None) -> None:
    """Put a product in a state directly (the walk there is tested elsewhere), with a rating if asked."""
    from sqlalchemy import update

    from ocop_workflow.models import Product, ProductEvent, Rating

    with env.db.transaction() as s:
        s.execute(update(Product).where(Product.id == pid).values(state=state, version=Product.version + 1))
        if rating_level:
            event = s.scalar(select(ProductEvent.id).where(ProductEvent.product_id == pid).limit(1))
            s.add(Rating(product_id=pid, event_id=event, level=rating_level, score=85, star=4, final=True))


@pytest.mark.parametrize(
    "state, key, doc_type, rating_level, want",
    [
        ("upgraded", "officer", "council_minutes", "central", 403),  # the commune over the centre's minutes
        ("district_review", "producer", "recognition_decision", None, 403),
        ("district_review", "dsec", "lab_test_report", None, 403),  # the reviewer does not touch the evidence
        ("district_review", "dsec", "council_minutes", None, 201),  # … but files its own minutes
        ("withdrawn", "officer", "business_plan", None, 403),
        ("province_review", "officer", "business_plan", "district", 403),
        ("province_review", "dsec", "council_minutes", "district", 201),  # the district that forwarded it
        ("rated", "officer", "lab_test_report", "province", 403),  # after a 4★ rating
        ("rated", "psec", "recognition_decision", "province", 201),
        ("implementation", "producer", "lab_test_report", None, 201),  # back at the commune: open again
    ],
)
def test_the_dossier_is_frozen_while_a_council_holds_it_and_after_a_decision(
    env: Env, state: str, key: str, doc_type: str, rating_level: str | None, want: int
) -> None:
    pid = env.product()
    env.attach(pid, doc_type if doc_type in OPEN_ATTACH["commune_officer"] else "business_plan")
    _force_state(env, pid, state, rating_level)
    with env.db.session() as s:
        before = s.scalar(select(func.count()).select_from(Document).where(Document.product_id == pid))
    got = env.app.test_client().post(
        f"/api/v1/products/{pid}/documents",
        headers={"Authorization": f"Bearer {token(env, key)}"},
        data={"doc_type": doc_type, "file": (_pdf(), "tai-lieu.pdf")},
        content_type="multipart/form-data",
    )
    assert got.status_code == want, got.get_json()
    web = upload(
        login(env.app.test_client(), env, key),
        f"/products/{pid}/documents",
        {"doc_type": doc_type},
        "tai-lieu.pdf",
        PDF,
    )
    assert web.status_code == (302 if want == 201 else want)
    with env.db.session() as s:
        after = s.scalar(select(func.count()).select_from(Document).where(Document.product_id == pid))
    assert after == before + (2 if want == 201 else 0)
    if want == 403:
        assert got.get_json()["detail"]  # the reason, in the reader's language
