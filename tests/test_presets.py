"""Issue 16: each plan preset set up from nothing (``setup_unit``, then ``seed_demo --preset``
for its demo users) runs the same lifecycle: a response started, lowered and lifted, each step
decided by the level's deciding body — four bodies in plan 002, the one 领导小组 in plan 000."""

import io

import pytest
from django.core.management import call_command

from incidents.models import Incident
from lifecycle.actions import ACTIONS
from organization.models import LevelPolicy, UnitPolicy, User
from organization.presets import PRESETS
from organization.selectors import deciding_bodies, deciding_body, office_section

from .api import Api, local

SHAPES = {  # preset → (office section, {level: deciding body's name})
    "housing-002": ("信息中心", {1: "局应急指挥工作组", 2: "局应急指挥小组", 3: "信息中心应急指挥工作组", 4: "现场工作组"}),
    "justice-000": ("党政办", dict.fromkeys((1, 2, 3, 4), "应对网络舆情突发事件领导小组")),
}


@pytest.fixture
def unit(request, unseeded, settings):
    preset = request.param
    call_command("setup_unit", preset=preset, name=f"测试单位 {preset}", stdout=io.StringIO())
    settings.DEBUG = settings.DEMO = True
    call_command("seed_demo", preset=preset, stdout=io.StringIO())
    return preset, {u.username: u for u in User.objects.all()}


def _decider(api, iid, action, users, body):
    """The user who may take ``action`` now (asked of the action's own check), who must be a
    member of ``body``; a member of no deciding body is refused."""
    incident = Incident.objects.select_related("response__proposal").get(pk=iid)
    able = [name for name, user in users.items() if ACTIONS[action].available(incident, user)]
    assert able, action
    assert set(able) <= {m.username for m in body.members.all()}, (action, able, body)
    return able[0]


def _stable_days(api, iid, time_machine, days):
    for day in days:
        time_machine.move_to(local(2026, 6, day, 20, 0), tick=False)
        api.act("command", iid, "assess", date=f"2026-06-{day:02d}", stable=True)


@pytest.mark.django_db
@pytest.mark.parametrize("unit", sorted(SHAPES), indirect=True)
def test_each_preset_runs_start_lowering_and_lift_by_the_right_body(unit, time_machine):
    preset, users = unit
    office, deciders = SHAPES[preset]
    assert UnitPolicy.current().unit_name == f"测试单位 {preset}"
    assert office_section().name == office
    assert {level: body.name for level, body in deciding_bodies().items()} == deciders
    # Where plan 000 is silent it takes 002's numbers.
    assert [LevelPolicy.for_level(n).stable_working_days for n in (1, 2, 3)] == [7, 5, 3]
    assert len({body.pk for body in deciding_bodies().values()}) == len(set(deciders.values()))

    api = Api(users)
    time_machine.move_to(local(2026, 6, 8, 9, 0), tick=False)  # a Monday, no holiday for weeks
    incident = api.log()
    assert incident["deadlines"][0]["owner"] == PRESETS[preset].office  # the quick report: the office
    iid = incident["id"]
    section = PRESETS[preset].sections[-1][0]
    api.act("command", iid, "assign", sections=[section])
    api.act("command", iid, "judge", veracity="true", severity="medium", analysis="诉求集中，存在扩散风险")

    api.act("command", iid, "propose-response", level=2)
    api.act("command", iid, "approve-response", expect=403)  # four eyes: never the proposer
    outsider = next(name for name, u in users.items()
                    if not u.bodies.exists() and not u.is_superuser)
    api.act(outsider, iid, "approve-response", expect=403)
    approver = _decider(api, iid, "approve-response", users, deciding_body(2))
    assert api.act(approver, iid, "approve-response")["response"]["level"] == 2

    _stable_days(api, iid, time_machine, range(8, 13))  # level II: 5 stable working days
    time_machine.move_to(local(2026, 6, 12, 21, 0), tick=False)
    api.act("command", iid, "propose-response", level=3, reason="连续5个工作日平稳，降为Ⅲ级")
    lowering = {deciding_body(2).pk}  # a lowering: the body of the higher (current) level (R4)
    incident = Incident.objects.get(pk=iid)
    able = [n for n, u in users.items() if ACTIONS["approve-response"].available(incident, u)]
    assert able and all(users[n].bodies.filter(pk__in=lowering).exists() for n in able)
    assert api.act(able[0], iid, "approve-response")["response"]["level"] == 3

    _stable_days(api, iid, time_machine, range(15, 18))  # level III: 3 stable working days
    time_machine.move_to(local(2026, 6, 17, 21, 0), tick=False)
    api.act("command", iid, "propose-lift", reason="连续3个工作日平稳")
    approver = _decider(api, iid, "approve-lift", users, deciding_body(3))
    assert api.act(approver, iid, "approve-lift")["response"]["state"] == "lifted"


@pytest.mark.django_db
def test_the_first_run_page_sets_the_unit_up_for_a_superuser(client, demo):
    client.force_login(demo["command"])
    assert client.get("/admin/organization/unitpolicy/setup/").status_code in (302, 403)
    client.force_login(demo["admin"])
    page = client.get("/admin/organization/unitpolicy/setup/").content.decode()
    assert "区司法局预案（000）" in page and "应对网络舆情突发事件领导小组" in page
    answer = client.post("/admin/organization/unitpolicy/setup/", {"preset": "justice-000", "name": "某区司法局"})
    assert answer.status_code == 302
    assert UnitPolicy.current().unit_name == "某区司法局" and office_section().name == "党政办"
    assert {body.code for body in deciding_bodies().values()} == {"leading"}
    # The housing bodies stay (with their members), deciding nothing; the checklist shows the
    # new 领导小组 has no member yet, so four eyes are not possible until someone joins it.
    page = client.get("/admin/").content.decode()
    assert 'id="check-four_eyes" data-ok="0"' in page and 'id="check-levels" data-ok="1"' in page
