"""Issue 14, "doors": per-username lockout with a timed cool-off on the login page and the token
endpoint (in Chinese, the real client address behind the proxy, an administrator unlocks);
expiring, revocable API tokens on API.md's contract; long-lived tokens only for service
accounts; CSP without inline script; no-store on authenticated answers; the session lifetime;
the schema behind login; demo mode the only home of the demo password."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.contrib.admin.sites import site as admin_site
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, RequestFactory
from knox.models import AuthToken
from rest_framework.test import APIClient

from organization.models import User
from sentiment_ops import settings as production_settings
from sentiment_ops.security import client_ip

TOKEN_URL = "/api/v1/auth/token/"
PASSWORD = "demo-pass-2026"


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def obtain(username="duty", password=PASSWORD, lang="zh-hans", **extra):
    return APIClient(HTTP_ACCEPT_LANGUAGE=lang, **extra).post(
        TOKEN_URL, {"username": username, "password": password}, format="json")


def with_token(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


# --- lockout ------------------------------------------------------------------------------

def test_the_token_endpoint_locks_a_username_after_the_limit_and_cools_off(demo, settings, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC), tick=False)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert obtain(password="wrong").status_code == 400
    locked = obtain(password="wrong")
    assert locked.status_code == 429
    assert locked.json() == {"detail": "登录失败次数过多，该账号已被临时锁定；请 15 分钟后再试，或请管理员解锁。"}
    refused = obtain()  # the right password does not open a locked door
    assert refused.status_code == 429 and "token" not in refused.json()
    assert obtain(lang="en").json()["detail"].startswith("Too many failed logins")
    # another user behind the same (NAT) address is not locked
    assert obtain("command").status_code == 200
    time_machine.move_to(dt.datetime(2026, 11, 23, 9, 16, tzinfo=dt.UTC), tick=False)
    assert obtain().status_code == 200


def test_the_login_page_locks_too_and_an_administrator_unlocks(demo, settings):
    page = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.post("/accounts/login/", {"username": "petition", "password": "wrong"})
    locked = page.post("/accounts/login/", {"username": "petition", "password": PASSWORD})
    assert locked.status_code == 429
    assert "登录失败次数过多，该账号已被临时锁定" in locked.content.decode()
    assert "_auth_user_id" not in page.session
    attempt = AccessAttempt.objects.get(username="petition")
    assert "axes" in {m.__module__.split(".")[0] for m in admin_site._registry}  # the admin's 访问尝试 list
    attempt.delete()  # what the administrator's "delete" in the admin does
    assert page.post("/accounts/login/", {"username": "petition", "password": PASSWORD}).status_code == 302
    call_command("axes_reset_username", "petition", verbosity=0)


def test_behind_the_proxy_the_client_address_is_the_one_the_proxy_saw(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2",
                                   HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")  # 6.6.6.6: forged by the client
    settings.BEHIND_PROXY = False
    assert client_ip(request) == "10.0.0.2"
    settings.BEHIND_PROXY, settings.PROXY_COUNT = True, 1
    assert client_ip(request) == "203.0.113.7"
    settings.PROXY_COUNT = 2
    assert client_ip(request) == "6.6.6.6"


# --- tokens --------------------------------------------------------------------------------

def test_a_token_keeps_the_contract_and_expires(demo, settings, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC), tick=False)
    issued = obtain()
    assert issued.status_code == 200 and set(issued.json()) == {"token"}
    assert dt.datetime.fromisoformat(issued["X-Token-Expires"]) == dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)
    client = with_token(issued.json()["token"])
    assert client.get("/api/v1/incidents/").status_code == 200
    assert AuthToken.objects.get().digest != issued.json()["token"]  # stored as a digest
    time_machine.move_to(dt.datetime(2026, 11, 23, 17, 1, tzinfo=dt.UTC), tick=False)
    expired = client.get("/api/v1/incidents/")
    assert expired.status_code == 401 and set(expired.json()) == {"detail"}
    assert not AuthToken.objects.exists()


def test_delete_revokes_the_presented_token(demo):
    first, second = obtain().json()["token"], obtain().json()["token"]
    assert with_token(first).delete(TOKEN_URL).status_code == 204
    assert with_token(first).get("/api/v1/incidents/").status_code == 401
    assert with_token(second).get("/api/v1/incidents/").status_code == 200


def test_logout_password_change_and_deactivation_revoke_every_token(demo):
    token = obtain().json()["token"]
    page = Client()
    assert page.post("/accounts/login/", {"username": "duty", "password": PASSWORD}).status_code == 302
    page.post("/accounts/logout/")
    assert with_token(token).get("/api/v1/incidents/").status_code == 401

    token = obtain().json()["token"]
    duty = User.objects.get(username="duty")
    duty.set_password("a-new-long-passphrase-2026")
    duty.save()
    assert with_token(token).get("/api/v1/incidents/").status_code == 401

    token = obtain(password="a-new-long-passphrase-2026").json()["token"]
    duty.refresh_from_db()
    duty.is_active = False
    duty.save(update_fields=["is_active"])
    assert not AuthToken.objects.filter(user=duty).exists()
    assert with_token(token).get("/api/v1/incidents/").status_code == 401


def test_only_a_service_account_gets_a_long_lived_token_from_the_admin(demo, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC), tick=False)
    service = User.objects.create_user("monitor-feed", is_service_account=True)
    service.groups.add(*demo["duty"].groups.all())
    admin = Client()
    admin.force_login(demo["admin"])
    answer = admin.post("/admin/organization/user/", {"action": "issue_long_lived_token",
                                                      "_selected_action": [service.pk, demo["duty"].pk]}, follow=True)
    text = answer.content.decode()
    assert "“duty”不是服务账号，未签发长期令牌。" in text
    token = text.split("请妥善保存）：", 1)[1].split("<", 1)[0].strip()
    assert AuthToken.objects.get(user=service).expiry is None
    time_machine.move_to(dt.datetime(2027, 11, 23, 9, 0, tzinfo=dt.UTC), tick=False)
    assert with_token(token).get("/api/v1/sections/").status_code == 200
    assert not AuthToken.objects.filter(user=demo["duty"]).exists()


# --- headers, sessions, docs -----------------------------------------------------------------

def test_csp_forbids_inline_script_and_authenticated_answers_are_not_stored(demo, settings):
    page = Client()
    page.force_login(demo["command"])
    dashboard = page.get("/")
    policy = dashboard["Content-Security-Policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src")).split()[1:]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "<script>" not in dashboard.content.decode() and "onchange=" not in dashboard.content.decode()
    assert "no-store" in dashboard["Cache-Control"] and "private" in dashboard["Cache-Control"]
    api = APIClient()
    api.force_authenticate(demo["command"])
    assert "no-store" in api.get("/api/v1/incidents/")["Cache-Control"]


def test_a_session_lasts_eight_hours_by_default(demo, settings, time_machine):
    assert production_settings.SESSION_COOKIE_AGE == 8 * 3600  # SESSION_HOURS unset
    settings.SESSION_COOKIE_AGE = production_settings.SESSION_COOKIE_AGE
    time_machine.move_to(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC), tick=False)
    page = Client()
    assert page.post("/accounts/login/", {"username": "duty", "password": PASSWORD}).status_code == 302
    time_machine.move_to(dt.datetime(2026, 11, 23, 16, 59, tzinfo=dt.UTC), tick=False)
    assert page.get("/").status_code == 200
    time_machine.move_to(dt.datetime(2026, 11, 23, 17, 1, tzinfo=dt.UTC), tick=False)
    assert page.get("/")["Location"].startswith("/accounts/login/")


def test_the_schema_and_the_docs_are_behind_login(demo):
    assert APIClient().get("/api/schema/").status_code == 401
    docs = Client().get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/accounts/login/")
    page = Client()
    page.force_login(demo["auditor"])
    swagger = page.get("/api/docs/")
    nonce = swagger.context["request"].csp_nonce
    assert f'<script nonce="{nonce}">' in swagger.content.decode()
    assert f"'nonce-{nonce}'" in swagger["Content-Security-Policy"]


# --- demo mode ---------------------------------------------------------------------------------

def deploy_errors():
    return [e for e in checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
            if e.id == "organization.E001"]


def test_demo_users_exist_only_in_demo_mode(unseeded, settings):
    settings.DEMO, settings.DEBUG = False, True
    with pytest.raises(CommandError, match="demo mode"):
        call_command("seed_demo", "--force", verbosity=0)
    assert not User.objects.exists()
    settings.DEMO = True
    call_command("seed_demo", verbosity=0)
    assert deploy_errors() == []  # in demo mode the demo password is expected
    settings.DEMO = False
    [error] = deploy_errors()
    assert "admin" in error.msg and "duty" in error.msg
    for user in User.objects.all():
        user.set_unusable_password()
        user.save()
    assert deploy_errors() == []
