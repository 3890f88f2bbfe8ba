"""Login and logout in Chinese; the home page shows who you are."""

import pytest


@pytest.mark.django_db
def test_login_page_is_chinese_by_default(client):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录" in html and "用户名" in html and "密码" in html


@pytest.mark.django_db
def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_duty_logs_in_and_sees_role_and_section(client, demo):
    response = client.post("/accounts/login/", {"username": "duty", "password": "demo-pass-2026"}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "值班员 王晓" in html
    assert "值班监测员" in html  # role
    assert "信息中心" in html  # section


@pytest.mark.django_db
def test_leader_home_lists_bodies(client, demo):
    client.force_login(demo["leader"])
    html = client.get("/").content.decode()
    assert "局应急指挥工作组" in html and "局应急指挥小组" in html


@pytest.mark.django_db
def test_wrong_password_says_so_in_chinese_and_keeps_the_username(client, demo):
    html = client.post("/accounts/login/", {"username": "duty", "password": "nope"}).content.decode()
    assert "请输入一个正确的" in html  # Django's zh-hans message
    assert 'value="duty"' in html


@pytest.mark.django_db
def test_english_on_request(client, demo):
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in html
    assert "Log in" in html and "Username" in html


@pytest.mark.django_db
def test_logout(client, demo):
    client.force_login(demo["duty"])
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_unknown_page_is_a_chinese_404(client, demo):
    client.force_login(demo["duty"])
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
