"""Issue 14, "notifications follow access": when a section is unassigned, its members' notices
about the incident — which carry its title — are withdrawn (redacted, unlinked, read) in the
unassign transaction, with their unsent e-mail; those who still see the incident keep theirs."""

import pytest
from django.test import Client

from deadlines.models import Delivery, Notification

from .api import Api

WARNING = {"level": 3, "subject": "涉事楼盘业主", "scope": "全市购房群体", "matters": "聚集维权风险",
           "measures": "核实交房进度，及时回应关切", "delivery": "system"}
TITLE = "某楼盘业主维权独有标题"


@pytest.fixture
def api(demo, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return Api(demo)


def warned_case(api):
    incident = api.log(title=TITLE, sections=["petition", "market"])
    api.act("command", incident["id"], "judge", veracity="true", severity="medium")
    api.act("command", incident["id"], "warn", **WARNING)
    return incident["id"]


def test_unassigning_a_section_withdraws_its_notices_about_the_incident(api, demo, django_assert_max_num_queries):
    demo["petition"].email = "petition@example.gov.cn"
    demo["petition"].save(update_fields=["email"])
    pk = warned_case(api)
    mine = Notification.objects.filter(recipient=demo["petition"], incident_id=pk)
    assert mine.exists() and all(TITLE in n.title or "预警" in n.title for n in mine)
    Delivery.objects.create(key="test-email-1", channel=Delivery.Channel.EMAIL, target="petition@example.gov.cn",
                            subject=TITLE, text=TITLE, notification=mine.first())
    before_market = list(Notification.objects.filter(recipient=demo["market"]).values_list("title", flat=True))
    assert api.get("petition", "/api/v1/notifications/unread-count/").json()["unread"] >= 1

    api.act("command", pk, "unassign", expect=200, sections=["petition"])

    listed = api.get("petition", "/api/v1/notifications/").json()["results"]
    assert listed and all(TITLE not in n["title"] and n["incident"] is None and n["link"] == "" for n in listed)
    assert {n["title"] for n in listed} == {"一条通知已撤回：相关事件已不再由您处理。"}
    assert api.get("petition", "/api/v1/notifications/unread-count/").json() == {"unread": 0}
    page = Client()
    page.force_login(demo["petition"])
    assert TITLE not in page.get("/notifications/").content.decode()
    withdrawn = Delivery.objects.get(key="test-email-1")
    assert withdrawn.state == Delivery.State.FAILED and TITLE not in withdrawn.subject + withdrawn.text
    # the section that still handles it, and the command group, keep their notices
    assert list(Notification.objects.filter(recipient=demo["market"]).values_list("title", flat=True)) == before_market


def test_a_member_who_still_sees_the_incident_through_another_role_keeps_the_notices(api, demo):
    pk = warned_case(api)
    command_notices = Notification.objects.filter(recipient=demo["command"], incident_id=pk).count()
    api.act("command", pk, "unassign", sections=["market"])
    assert Notification.objects.filter(recipient=demo["command"], incident_id=pk).count() == command_notices
    assert not Notification.objects.filter(recipient=demo["market"], incident_id=pk).exists()
