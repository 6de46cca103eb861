"""Issue #11: a notice is read in the reader's language of the moment — after switching to English the
bell and the API show the notices already received in English (each row keeps both languages)."""

from __future__ import annotations

from api_client import API, issue
from conftest import csrf, login, text


def test_switching_to_english_shows_existing_notices_in_english(env, client):
    pid = env.product(name="Mật ong Phượng Sơn")
    env.to_district(pid)  # the commune officer sends it: the district secretariat is told
    login(client, env, "dsec")
    page = text(client.get("/notifications/"))
    assert "«Mật ong Phượng Sơn»: Gửi hồ sơ lên Hội đồng huyện" in page
    client.post("/language", data={"csrf_token": csrf(client, "/"), "locale": "en"})
    page = text(client.get("/notifications/"))
    assert "“Mật ong Phượng Sơn”: Send the dossier to the district council" in page
    assert "What to do next:" in page and "Gửi hồ sơ" not in page


def test_the_api_lists_notices_in_the_callers_language(env, client):
    pid = env.product(name="Mật ong Phượng Sơn")
    env.to_district(pid)
    headers = {"Authorization": f"Bearer {issue(env, 'dsec')}"}
    items = client.get(f"{API}/notifications", headers={**headers, "Accept-Language": "en"}).get_json()["items"]
    assert items[0]["title"] == "“Mật ong Phượng Sơn”: Send the dossier to the district council"
    items = client.get(f"{API}/notifications", headers={**headers, "Accept-Language": "vi"}).get_json()["items"]
    assert items[0]["title"] == "«Mật ong Phượng Sơn»: Gửi hồ sơ lên Hội đồng huyện"
