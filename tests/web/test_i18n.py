"""Acceptance 2: every page renders in Vietnamese and English; no user-facing string lacks a translation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import csrf, login, text
from sqlalchemy import select

from ocop_workflow.config import ConfigError, Settings
from ocop_workflow.models import Product, User
from web.babel_tools import extract, read
from web.i18n import fast_timezone


@pytest.fixture(scope="module")
def extracted():
    return extract()


def _translated(entry) -> bool:
    """An entry with its text; a plural entry (ngettext) with every form (msgstr[0] … all filled)."""
    if entry is None or not entry.string:
        return False
    return all(entry.string) if isinstance(entry.string, tuple) else True


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_message_has_a_translation(extracted, locale):
    catalog = read(locale)
    missing = [m.id for m in extracted if m.id and not _translated(catalog.get(m.id))]
    assert not missing, f"{locale}: untranslated messages (run python -m web.babel_tools): {missing}"
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"{locale}: fuzzy messages: {fuzzy}"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert not problems, problems


def test_the_template_catalogue_is_up_to_date(extracted):
    from babel.messages.pofile import read_po

    from web.i18n import TRANSLATIONS

    with open(TRANSLATIONS / "messages.pot", "rb") as fh:
        pot = read_po(fh)
    assert {m.id for m in extracted if m.id} <= {m.id for m in pot if m.id}


def test_extraction_finds_python_and_template_strings(extracted):
    ids = {m.id for m in extracted}
    assert "Log in" in ids  # template and form label
    assert "Wrong e-mail or password, or the account is deactivated." in ids  # Python
    assert len(ids) > 100


def test_compiled_catalogues_translate(env):
    from flask_babel import force_locale, gettext

    with env.app.test_request_context(), force_locale("vi"):
        assert gettext("Log out") == "Đăng xuất"


def _pages(env) -> dict[str, list[str]]:
    pid = env.product()
    doc = env.attach(pid, "idea_registration")  # noqa: F841
    district = env.product(name="Rượu làng Vân")
    env.to_district(district)
    with env.db.session() as s:
        officer_id = s.scalar(select(User.id).where(User.email == env.world.emails["officer"]))
    return {
        "officer": [
            "/",
            "/inbox",
            "/products",
            "/products?q=vai+thieu&state=idea&group=tourism&star=3",
            "/products/new",
            f"/products/{pid}",
            f"/products/{pid}/edit",
            f"/products/{district}",
            "/producers",
            "/producers/new",
            f"/producers/{env.world.producer}/edit",
            "/account",
            "/notifications/",
        ],
        "dcouncil": ["/", "/inbox", f"/products/{district}", "/products?waiting=1"],
        "admin": [
            "/admin/users",
            "/admin/users/new",
            f"/admin/users/{officer_id}",
            "/admin/outbox",
            "/admin/outbox?show=sent",
        ],
        None: ["/login"],
    }


MARKERS = {"vi": ("Tổng quan", 'lang="vi"'), "en": ("Dashboard", 'lang="en"')}
# words that only appear when an English page leaks Vietnamese interface text (data may be Vietnamese)
VI_UI_WORDS = re.compile(r"Đăng xuất|Sản phẩm mới|Lưu|Huỷ|Bước tiếp theo|Lịch sử|Hồ sơ chờ xử lý")


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_page_renders_in_both_languages(env, locale):
    for who, urls in _pages(env).items():
        client = env.app.test_client()
        if who:
            login(client, env, who)
        client.post("/language", data={"csrf_token": csrf(client, "/login" if not who else "/"), "locale": locale})
        for url in urls:
            r = client.get(url)
            body = text(r)
            assert r.status_code == 200, (who, url, r.status_code)
            assert MARKERS[locale][1] in body, (who, url)
            if who:
                assert MARKERS[locale][0] in body, (who, url)
            if locale == "en":
                assert not VI_UI_WORDS.search(body), (who, url, VI_UI_WORDS.search(body))


@pytest.mark.parametrize("locale,word", [("vi", "Không tìm thấy"), ("en", "Not found")])
def test_error_pages_in_both_languages(env, client, locale, word):
    login(client, env, "officer")
    client.post("/language", data={"csrf_token": csrf(client, "/"), "locale": locale})
    r = client.get("/products/424242")
    assert r.status_code == 404 and word in text(r)


def test_times_are_shown_in_vietnam_time(env, client):
    from datetime import UTC, datetime

    from ocop_workflow.models import Product

    pid = env.product()
    with env.db.transaction() as s:
        s.get(Product, pid).state_entered_at = datetime(2024, 1, 1, 17, 30, tzinfo=UTC)
    login(client, env, "officer")
    body = text(client.get(f"/products/{pid}"))
    assert "00:30" in body  # 17:30 UTC is 00:30 the next day in Hà Nội


# --- the time zone -------------------------------------------------------------------------------
def _entered_at(env, pid: int, at: datetime) -> None:
    with env.db.transaction() as s:
        s.get(Product, pid).state_entered_at = at


def test_times_are_shown_in_vietnam_time_by_default(env, client):
    pid = env.product(name="Chè Tân Cương")
    _entered_at(env, pid, datetime(2026, 7, 1, 20, 30, tzinfo=UTC))
    login(client, env, "officer")
    assert "02/07/2026 03:30" in text(client.get("/products"))  # UTC+7, day first as everywhere


@pytest.mark.app_config(BABEL_DEFAULT_TIMEZONE="America/New_York")
def test_times_are_shown_in_the_configured_time_zone_with_its_daylight_saving(env, client):
    summer, winter = env.product(name="Chè Tân Cương"), env.product(name="Mật ong Mèo Vạc")
    _entered_at(env, summer, datetime(2026, 7, 1, 3, 30, tzinfo=UTC))
    _entered_at(env, winter, datetime(2026, 1, 15, 3, 30, tzinfo=UTC))
    login(client, env, "officer")
    page = text(client.get("/products"))
    assert "30/06/2026 23:30" in page and "14/01/2026 22:30" in page  # UTC-4 in summer, UTC-5 in winter


def test_a_zone_without_daylight_saving_is_a_fixed_offset_and_one_with_it_keeps_its_rules():
    vietnam = fast_timezone("Asia/Ho_Chi_Minh")
    assert vietnam.utcoffset(None) == timedelta(hours=7)
    paris = fast_timezone("Europe/Paris")
    assert isinstance(paris, ZoneInfo)
    assert datetime(2026, 7, 1, tzinfo=UTC).astimezone(paris).utcoffset() == timedelta(hours=2)


def test_an_unknown_time_zone_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("OCOP_TIMEZONE", "Asia/Hanoi_City")
    with pytest.raises(ConfigError, match="OCOP_TIMEZONE must be a time zone name"):
        Settings()
