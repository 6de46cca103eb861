"""Issue #10, item 6 (web): the public verification page, the register and their JSON, without login.

The certificates come from the real path: dossiers with documents and comments, an evaluation round whose
members score (one recuses with a reason), the district's recognition decision signed by its chair, a
revocation with a reason, an upgrade recognised by the province. Those steps leave distinctive private
values everywhere (users, member names and marks, file names, comments, the revocation reason, a tax code);
the leak test renders every public answer and asserts none of them appears.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from conftest import make_app, text
from rounds_world import open_round_with, setup_council
from sqlalchemy import select

from ocop_workflow.engine import get_registry
from ocop_workflow.models import Document, Organisation, Producer, User
from ocop_workflow.services import certificates as cert_service
from ocop_workflow.services import directory, rounds, sheets
from ocop_workflow.services.access import Actor, load_actor
from tests.helpers import recognise

TOURISM = get_registry().catalogue.product_groups["tourism"]
CHAIR_EMAIL = "chutich.bimat@private.test.vn"
CHAIR_NAME = "Đặng Văn Bí Mật"
PRIVATE_FILE = "hop-dong-rieng-tu-BIMAT-777.pdf"
COMMENT = "Ghi chú nội bộ BIMAT-COMMENT, SĐT 0912 345 678"
RECUSAL = "Tôi là em họ của chủ cơ sở BIMAT-RECUSE"
REVOKE_REASON = "Phát hiện hàng giả tại kho BIMAT-REASON, gọi 0987 654 321"
TAX_CODE = "0109998887"
MARKS = {"m1": {"A": 33.25, "B": 21.5, "C": 11.0}, "m3": {"A": 29.75, "B": 18.0, "C": 9.25}}  # 65.75, 57.0


@dataclass
class Certified:
    path: Path  # the SQLite file holding them
    vai: str  # 3★, valid
    mien: str  # 3★, revoked
    cam_old: str  # 3★, superseded by cam_new
    cam_new: str  # 4★ by the province, valid
    ids: dict[str, int] = field(default_factory=dict)
    private: list[str] = field(default_factory=list)


def _dossier(env, name: str) -> int:
    pid = env.product(name=name)
    env.attach(pid, "idea_registration", name=PRIVATE_FILE)
    env.fire(pid, "accept_idea", comment=COMMENT)
    for t in ("business_plan", "organisation_intro"):
        env.attach(pid, t)
    env.fire(pid, "approve_plan", comment=COMMENT)
    for t in ("registration_form", "self_assessment_report", "product_story"):
        env.attach(pid, t)
    env.fire(pid, "submit_to_district", comment=COMMENT)
    return pid


def build_certified(env) -> Certified:
    """Three products through a real round and decision (see the module docstring)."""
    registry = env.app.extensions["ocop"].registry
    with env.db.transaction() as s:
        system = Actor.system_actor(registry.policy)
        chair = directory.create_user(s, email=CHAIR_EMAIL, name=CHAIR_NAME, password=None)
        district = s.get(Organisation, env.world.orgs["D1"])
        directory.add_membership(s, registry, chair, district, "district_chair", actor=system)
        s.get(Producer, env.world.producer).tax_code = TAX_CODE
    seats = setup_council(env)
    vai, mien, cam = (_dossier(env, n) for n in ("Vải thiều Lục Ngạn", "Miến dong Phượng Sơn", "Cam Bố Hạ"))
    rid = open_round_with(env, seats, [vai, mien, cam])
    with env.db.transaction() as s:
        for pid in (vai, mien, cam):
            for key, marks in MARKS.items():
                sheets.save_sheet(s, registry, load_actor(s, seats.emails[key]), rid, pid, marks, submit=True)
            sheets.recuse(s, registry, load_actor(s, seats.emails["m2"]), rid, pid, RECUSAL)
    with env.db.transaction() as s:
        dsec = env.actor(s, "dsec")
        for pid in (vai, mien, cam):
            rounds.close_product(s, registry, dsec, rid, pid)
        rounds.close_round(s, registry, dsec, rid)
    dsec_email = env.world.emails["dsec"]
    _d, (c_vai, c_mien, c_cam) = recognise(
        env.db,
        registry,
        [vai, mien, cam],
        drafter=dsec_email,
        signer=CHAIR_EMAIL,
        organisation_id=env.world.orgs["D1"],
        number="777/QĐ-UBND",
    )
    with env.db.transaction() as s:
        cert_service.revoke_certificate(
            s, load_actor(s, CHAIR_EMAIL), c_mien, reason=REVOKE_REASON, decision_number="55/QĐ-UBND"
        )
    # the upgrade: a renewed dossier, the councils' results as a round records them, the province's decision
    env.fire(cam, "apply_upgrade", comment=COMMENT)
    for t in ("registration_form", "self_assessment_report"):
        env.attach(cam, t)
    env.fire(cam, "submit_to_district")
    _system_rate(env, cam, "rate_district", 75)
    _system_rate(env, cam, "rate_province", 80)
    _d, (c_cam_new,) = recognise(
        env.db,
        registry,
        cam,
        drafter=env.world.emails["psec"],
        signer=env.world.emails["chair"],
        organisation_id=env.world.orgs["P"],
        number="888/QĐ-UBND",
    )
    with env.db.session() as s:
        users = s.execute(select(User.email, User.name)).all()
        docs = s.execute(select(Document.original_name, Document.stored_name, Document.sha256)).all()
    private = [e for e, _n in users] + [n for _e, n in users] + [x for row in docs for x in row if x != "tai-lieu.pdf"]
    private += ["tai-lieu.pdf", PRIVATE_FILE, COMMENT, "BIMAT", "0912 345 678", RECUSAL, REVOKE_REASON, TAX_CODE]
    private += ["65,75", "65.75", "57,00", "61,375", "61.375", "61,38", "@test.ocop.vn", "@hoidong"]
    private += ["Hội đồng đánh giá"]  # the council's name
    return Certified(
        Path(),
        c_vai,
        c_mien,
        c_cam,
        c_cam_new,
        ids={"vai": vai, "mien": mien, "cam": cam, "round": rid},
        private=sorted(set(private), key=len, reverse=True),
    )


def _system_rate(env, pid: int, trigger: str, score: float) -> None:
    from ocop_workflow.services.products import advance

    registry = env.app.extensions["ocop"].registry
    with env.db.transaction() as s:
        advance(s, registry, pid, trigger, Actor.system_actor(registry.policy), data={"score": score})


@pytest.fixture(scope="module")
def certified_template(tmp_path_factory, web_template) -> Certified:
    """Built once per module, then copied for each test (a round and three decisions take seconds)."""
    from conftest import Env

    tmp = tmp_path_factory.mktemp("public")
    app, db = make_app(tmp, web_template)
    made = build_certified(Env(app, web_template, db, tmp / "uploads"))
    db.dispose()
    made.path = tmp / "ocop.sqlite3"
    return made


@dataclass
class PublicEnv:
    app: object
    db: object
    c: Certified

    def client(self):
        return self.app.test_client()


def public_app(tmp_path: Path, web_template, certified: Certified, **config):
    copy = tmp_path / "certified.sqlite3"
    shutil.copy(certified.path, copy)
    return make_app(tmp_path, replace(web_template, path=copy), **config)


@pytest.fixture
def pub(tmp_path, web_template, certified_template, request):
    marker = request.node.get_closest_marker("app_config")
    app, db = public_app(tmp_path, web_template, certified_template, **(marker.kwargs if marker else {}))
    yield PublicEnv(app, db, certified_template)
    db.dispose()


def _no_cookie(response) -> None:
    assert "Set-Cookie" not in response.headers, response.headers.get("Set-Cookie")


# --- the verification page -----------------------------------------------------------------------------------
def test_the_verification_page_needs_no_login_and_says_it_all(pub):
    today = cert_service.local_day().strftime("%d/%m/%Y")
    r = pub.client().get(f"/xac-minh/{pub.c.vai}")
    assert r.status_code == 200
    _no_cookie(r)
    icon = pub.client().get("/favicon.ico")  # what a browser asks next: no session either
    assert icon.status_code == 204
    _no_cookie(icon)
    page = text(r)
    for expected in (
        pub.c.vai,
        "Vải thiều Lục Ngạn",
        "Tổ hợp tác Vải thiều Phượng Sơn",
        "Phượng Sơn",
        "Lục Ngạn",
        "Bắc Giang",
        "★★★",
        "Ba sao",
        TOURISM.vi,
        "Còn hiệu lực",
        "777/QĐ-UBND",
        f"Số 777/QĐ-UBND ngày {today}",
        f'Ngày cấp</dt><dd id="cert-issued">{today}',
    ):
        assert expected in page, expected
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


def test_english_with_lang_and_with_the_readers_own_choice(pub):
    c = pub.client()
    page = text(c.get(f"/xac-minh/{pub.c.vai}?lang=en"))
    assert "Valid" in page and "Three stars" in page and "Recognition decision" in page and "Còn hiệu lực" not in page
    assert f'href="/xac-minh/{pub.c.vai}?lang=vi"' in page  # the switch back keeps the page
    with c.session_transaction() as sess:
        sess["locale"] = "en"  # what the app's own language switch stores
    assert "Three stars" in text(c.get(f"/xac-minh/{pub.c.vai}"))
    assert "Ba sao" in text(c.get(f"/xac-minh/{pub.c.vai}?lang=vi"))


def test_revoked_shows_date_and_decision_not_the_reason(pub):
    page = text(pub.client().get(f"/xac-minh/{pub.c.mien}"))
    today = cert_service.local_day().strftime("%d/%m/%Y")
    assert "Đã bị thu hồi" in page and f"Thu hồi từ ngày {today} theo quyết định số 55/QĐ-UBND" in page
    assert "BIMAT-REASON" not in page and "Còn hiệu lực" not in page


def test_superseded_links_to_the_newer_certificate(pub):
    page = text(pub.client().get(f"/xac-minh/{pub.c.cam_old}"))
    assert "Đã được thay thế" in page
    assert f'href="/xac-minh/{pub.c.cam_new}"' in page
    newer = text(pub.client().get(f"/xac-minh/{pub.c.cam_new}"))
    assert "★★★★" in newer and "Bốn sao" in newer and "888/QĐ-UBND" in newer and "Tỉnh — Bắc Giang" in newer


BAD_CODES = [
    "KHONG-CO-SO-NAY",
    "x" * 5000,
    "Vải-thiều-Lục-Ngạn",
    "..%2F..%2Fetc%2Fpasswd",
    "../../etc/passwd",
    "a/b/c",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "OCOP-P-2026-99999",
    "%E2%80%AE",
    "%00",
    "%FF%FE",
    "ab",
]


@pytest.mark.parametrize("code", BAD_CODES)
def test_unknown_or_malformed_codes_are_a_clear_404(pub, code):
    c = pub.client()
    r = c.get(f"/xac-minh/{code}")
    assert r.status_code == 404
    page = text(r)
    assert "Không có giấy chứng nhận OCOP nào mang số" in page
    assert "<script>alert" not in page and len(page) < 20000
    english = c.get(f"/xac-minh/{code}?lang=en")
    assert english.status_code == 404 and "There is no OCOP certificate numbered" in text(english)
    as_json = c.get(f"/xac-minh/{code}.json")
    assert as_json.status_code == 404 and as_json.mimetype == "application/problem+json"
    assert as_json.json["code"] == "not_found" and "Không có giấy chứng nhận OCOP" in as_json.json["detail"]


def test_other_methods_are_refused_not_crashed(pub):
    c = pub.client()
    for url in (f"/xac-minh/{pub.c.vai}", "/so-dang-ky-ocop", "/so-dang-ky-ocop.json"):
        assert c.post(url).status_code in (400, 405)  # 400: the app's CSRF check comes first
        assert c.delete(url).status_code == 405
    assert c.head(f"/xac-minh/{pub.c.vai}.json").status_code == 200


def test_the_lookup_box_leads_to_the_page(pub):
    c = pub.client()
    assert 'name="code"' in text(c.get("/xac-minh"))
    r = c.get(f"/xac-minh?code=+{pub.c.vai}+")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/xac-minh/{pub.c.vai}")
    assert c.get("/xac-minh?code=%00").status_code == 422  # control characters: the app's own check
    r = c.get("/xac-minh?code=../../so-dang-ky-ocop&lang=en")
    assert r.status_code == 302 and r.headers["Location"] == "/xac-minh/..%2F..%2Fso-dang-ky-ocop?lang=en"
    r = c.get(r.headers["Location"])
    assert r.status_code == 404 and "There is no OCOP certificate numbered" in text(r)


# --- the register page ---------------------------------------------------------------------------------------
def _listed(page: str, c: Certified) -> list[str]:
    return [code for code in (c.cam_new, c.vai, c.mien, c.cam_old) if f">{code}</a>" in page]


def test_the_register_lists_what_is_in_force(pub):
    r = pub.client().get("/so-dang-ky-ocop")
    assert r.status_code == 200
    _no_cookie(r)
    page = text(r)
    assert _listed(page, pub.c) == [pub.c.cam_new, pub.c.vai]
    assert page.index(pub.c.cam_new) < page.index(pub.c.vai)  # Cam before Vải
    assert f'href="/xac-minh/{pub.c.vai}"' in page
    assert "/so-dang-ky-ocop.json" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=vai+thieu", ["cam_new", "vai"]),  # Cam's producer is "Tổ hợp tác Vải thiều Phượng Sơn"
        ("q=vai+thieu+luc+ngan", ["vai"]),
        ("q=VAI+THIEU+LUC+NGAN", ["vai"]),
        ("q=V%E1%BA%A3i+thi%E1%BB%81u+L%E1%BB%A5c+Ng%E1%BA%A1n", ["vai"]),
        ("q=to+hop+tac+phuong+son", ["cam_new", "vai"]),
        ("q=mien+dong", []),
        ("star=4", ["cam_new"]),
        ("star=3", ["vai"]),
        ("area=D1", ["cam_new", "vai"]),  # Cam's 4★ is the province's, yet Cam is a product of D1
        ("area=C1&group=tourism", ["cam_new", "vai"]),
        ("area=D2", []),
        ("province=P&group=food", []),
    ],
)
def test_register_search_and_filters(pub, query, expected):
    page = text(pub.client().get(f"/so-dang-ky-ocop?{query}"))
    assert _listed(page, pub.c) == [getattr(pub.c, name) for name in expected]
    if not expected:
        assert "Không có giấy chứng nhận nào còn hiệu lực khớp" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("star=2", "Hạng sao phải là 3, 4 hoặc 5"),
        ("star=abc", "Hạng sao phải là 3, 4 hoặc 5"),
        ("area=NOPE", "Không có đơn vị hành chính mã «NOPE»"),
        ("province=D1", "Không có đơn vị hành chính mã «D1»"),
        ("group=%3Cb%3E", "Không có nhóm sản phẩm «&lt;b&gt;»"),
        ("page=-1", "Số trang phải là số nguyên dương"),
        ("page=99999999999", "Số trang phải là số nguyên dương"),
        ("q=" + "x" * 101, "Từ khóa tìm kiếm dài quá 100 ký tự"),
    ],
)
def test_register_bad_filters_are_a_translated_4xx(pub, query, message):
    r = pub.client().get(f"/so-dang-ky-ocop?{query}")
    assert r.status_code == 422 and message in text(r)
    english = pub.client().get(f"/so-dang-ky-ocop?{query}&lang=en")
    assert english.status_code == 422 and "Invalid data" in text(english)
    feed = pub.client().get(f"/so-dang-ky-ocop.json?{query}")
    assert feed.status_code == 422 and feed.mimetype == "application/problem+json"
    assert message.replace("&lt;", "<").replace("&gt;", ">") in feed.json["detail"]


def test_register_pages(pub):
    c = pub.client()
    first = c.get("/so-dang-ky-ocop.json?per_page=1")
    body = first.json
    assert (body["total"], body["pages"], body["page"], body["prev"]) == (2, 2, 1, None)
    assert body["next"] == "/so-dang-ky-ocop.json?page=2&per_page=1"
    assert [i["code"] for i in body["items"]] == [pub.c.cam_new]
    second = c.get(body["next"]).json
    assert [i["code"] for i in second["items"]] == [pub.c.vai] and second["next"] is None
    assert c.get("/so-dang-ky-ocop.json?per_page=101").status_code == 422
    assert c.get("/so-dang-ky-ocop.json?page=3").json["items"] == []


# --- JSON ------------------------------------------------------------------------------------------------------
FIELDS = {
    "code",
    "verify_url",
    "product_name",
    "producer_name",
    "group",
    "star",
    "status",
    "status_label",
    "valid",
    "issued_on",
    "expires_on",
    "recognised_by",
    "decision",
    "commune",
    "district",
    "province",
    "revoked",
    "superseded",
}


def test_the_json_lookup_and_feed_have_stable_fields(pub):
    c = pub.client()
    today = cert_service.local_day().isoformat()
    one = c.get(f"/xac-minh/{pub.c.vai}.json")
    assert one.status_code == 200 and one.mimetype == "application/json"
    cert = one.json["certificate"]
    assert set(cert) == FIELDS and one.json["as_of"] == today
    assert cert["verify_url"].endswith(f"/xac-minh/{pub.c.vai}")
    assert (cert["star"], cert["status"], cert["valid"]) == (3, "valid", True)
    assert cert["status_label"] == {"vi": "Còn hiệu lực", "en": "Valid"}
    assert cert["group"] == {"key": "tourism", "vi": TOURISM.vi, "en": TOURISM.en}
    assert cert["decision"] == {"number": "777/QĐ-UBND", "date": today}
    assert cert["district"] == {"code": "D1", "name": "Lục Ngạn"} and cert["province"]["name"] == "Bắc Giang"
    assert cert["recognised_by"]["level"] == "district" and cert["recognised_by"]["name"] == "Lục Ngạn"
    revoked = c.get(f"/xac-minh/{pub.c.mien}.json").json["certificate"]
    assert (revoked["status"], revoked["valid"], revoked["revoked"]) == (
        "revoked",
        False,
        {"on": today, "decision_number": "55/QĐ-UBND"},
    )
    old = c.get(f"/xac-minh/{pub.c.cam_old}.json").json["certificate"]
    assert old["superseded"]["by_code"] == pub.c.cam_new and old["superseded"]["by_url"].endswith(pub.c.cam_new)
    feed = c.get("/so-dang-ky-ocop.json")
    assert [set(i) for i in feed.json["items"]] == [FIELDS, FIELDS]
    assert feed.json["as_of"] == today


def test_json_is_cacheable_with_etag_and_304(pub):
    c = pub.client()
    for url in ("/so-dang-ky-ocop.json?star=3", f"/xac-minh/{pub.c.vai}.json"):
        r = c.get(url)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=300"
        _no_cookie(r)
        etag = r.headers["ETag"]
        assert etag
        again = c.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.get_data() == b""
        other = c.get(url, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200 and other.json == r.json
    etags = {c.get(f"/so-dang-ky-ocop.json?star={n}").headers["ETag"] for n in (3, 4)}
    assert len(etags) == 2


@pytest.mark.app_config(PUBLIC_JSON_RATE_LIMIT="3 per minute", RATELIMIT_ENABLED=True)
def test_json_is_rate_limited_per_address_with_a_problem_body(pub):
    # RATELIMIT_ENABLED: one Limiter serves every app, and an app without the key inherits the setting of
    # the app made before it (test_bad_input turns limits off)
    c = pub.client()
    urls = ["/so-dang-ky-ocop.json", f"/xac-minh/{pub.c.vai}.json", "/so-dang-ky-ocop.json?star=3"]
    assert [c.get(u).status_code for u in urls] == [200, 200, 200]
    r = c.get("/so-dang-ky-ocop.json", headers={"Accept-Language": "en"})
    assert r.status_code == 429 and r.mimetype == "application/problem+json"
    assert r.json["code"] == "rate_limited" and "Too many requests from your address" in r.json["detail"]
    assert int(r.headers["Retry-After"]) > 0
    assert c.get("/so-dang-ky-ocop.json").json["detail"].startswith("Quá nhiều yêu cầu")
    assert c.get(f"/xac-minh/{pub.c.vai}.json").status_code == 429
    # another address has its own allowance; the pages have theirs
    assert c.get("/so-dang-ky-ocop.json", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert c.get(f"/xac-minh/{pub.c.vai}").status_code == 200


@pytest.mark.app_config(PUBLIC_PAGE_RATE_LIMIT="2 per minute", RATELIMIT_ENABLED=True)
def test_pages_are_rate_limited_with_a_page(pub):
    c = pub.client()
    assert [c.get("/so-dang-ky-ocop").status_code for _ in range(2)] == [200, 200]
    r = c.get(f"/xac-minh/{pub.c.vai}")
    assert r.status_code == 429 and "Quá nhiều yêu cầu từ địa chỉ của bạn" in text(r)


# --- nothing private ---------------------------------------------------------------------------------------------
def test_nothing_private_leaks(pub):
    c = pub.client()
    codes = [pub.c.vai, pub.c.mien, pub.c.cam_old, pub.c.cam_new]
    urls = [f"/xac-minh/{code}" for code in codes] + [f"/xac-minh/{code}.json" for code in codes]
    urls += [f"/xac-minh/{code}?lang=en" for code in codes]
    urls += ["/so-dang-ky-ocop", "/so-dang-ky-ocop?lang=en", "/so-dang-ky-ocop.json", "/so-dang-ky-ocop?q=vai"]
    assert len(pub.c.private) > 30
    for url in urls:
        r = c.get(url)
        assert r.status_code == 200, url
        body = r.get_data(as_text=True)
        if r.mimetype == "application/json":
            body += json.dumps(r.json, ensure_ascii=False)  # escaped and unescaped alike
        found = [value for value in pub.c.private if value and value in body]
        assert not found, (url, found)
        for name, internal in pub.c.ids.items():
            assert f"/products/{internal}" not in body and f"/rounds/{internal}" not in body, (url, name)
        if r.mimetype == "application/json":
            keys = _keys(r.json)
            assert not keys & {"id", "product_id", "producer_id", "decision_id", "user", "email", "score", "reason"}


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()
