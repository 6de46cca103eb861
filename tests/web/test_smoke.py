from conftest import csrf, login, text


def test_dashboard_renders(env, client):
    login(client, env, "officer")
    r = client.get("/")
    assert r.status_code == 200, text(r)
    assert "Đăng xuất" in text(r)
    assert csrf(client, "/")
