"""Issue 16: the first-run checklist on the admin home — red for a level whose deciding body
has only command-group members, green after the fix; a test message per channel goes through
the outbox; the demo password is found without hashing on the page."""

import re

import pytest

from deadlines.checklist import checklist
from deadlines.delivery import deliver_outbox
from deadlines.models import Delivery
from organization import services
from organization.models import Body, Section

from .helpers import Robot


def _state(page: str) -> dict[str, bool]:
    return {key: ok == "1" for key, ok in re.findall(r'id="check-(\w+)" data-ok="([01])"', page)}


@pytest.mark.django_db
def test_a_body_of_command_group_members_only_is_red_until_someone_else_joins(client, demo):
    client.force_login(demo["admin"])
    assert _state(client.get("/admin/").content.decode())["four_eyes"] is True
    level3 = Body.objects.get(code="level3")
    services.body_remove_member(body=level3, user=demo["infohead"])
    services.body_add_member(body=level3, user=demo["command2"])  # only the command group left

    page = client.get("/admin/").content.decode()
    assert _state(page)["four_eyes"] is False
    assert "仅有指挥小组成员：Ⅲ级（信息中心应急指挥工作组）" in page
    assert f'href="/admin/organization/body/{level3.pk}/change/"' in page  # where it is fixed

    services.body_add_member(body=level3, user=demo["infohead"])
    assert _state(client.get("/admin/").content.decode())["four_eyes"] is True


@pytest.mark.django_db
def test_each_channel_is_tested_through_the_outbox(client, demo, mailoutbox):
    admin = demo["admin"]
    admin.email = "admin@unit.example.cn"
    admin.save(update_fields=["email"])
    robot = Robot()
    try:
        Section.objects.filter(code="petition").update(webhook_url=robot.url)
        client.force_login(admin)
        page = client.get("/admin/").content.decode()
        assert _state(page)["channels"] is False and "未测试：电子邮件、信访科" in page
        for channel, unit in (("email", ""), ("webhook", "petition")):
            answer = client.post("/admin/deadlines/delivery/test/", {"channel": channel, "unit": unit})
            assert answer.status_code == 302
        rows = Delivery.objects.filter(key__startswith="test:")
        assert sorted(rows.values_list("channel", "target")) == [
            ("email", "admin@unit.example.cn"), ("webhook", robot.url)]
        deliver_outbox()  # what the worker does
        assert [m.to for m in mailoutbox] == [["admin@unit.example.cn"]]
        assert len(robot.received) == 1 and "测试消息" in robot.received[0]["text"]["content"]
    finally:
        robot.close()
    assert _state(client.get("/admin/").content.decode())["channels"] is True


@pytest.mark.django_db
def test_the_rest_of_the_checklist(client, demo):
    items = {item.key: item for item in checklist(demo["admin"])}
    assert items["unit"].ok and items["structure"].ok and items["levels"].ok
    assert items["demo_password"].ok is False  # the demo users have it (seed_demo set it)
    assert "duty" in items["demo_password"].detail
    client.force_login(demo["command"])  # staff without being a superuser see no checklist
    assert "setup-checklist" not in client.get("/admin/", follow=True).content.decode()


@pytest.mark.django_db
def test_accounts_not_checked_yet_are_checked_by_the_button(client, demo):
    from django.contrib.auth.hashers import make_password

    from organization.models import User

    # A password hash that arrived without its password (an old account, a restored dump).
    User.objects.create(username="legacy", password=make_password("demo-pass-2026"))
    detail = {i.key: i for i in checklist(demo["admin"])}["demo_password"].detail
    assert "legacy" not in detail and "1 个账号尚未检查" in detail
    client.force_login(demo["admin"])
    answer = client.post("/admin/deadlines/delivery/demo-password/", follow=True).content.decode()
    assert "legacy" in answer
    assert "legacy" in {i.key: i for i in checklist(demo["admin"])}["demo_password"].detail
