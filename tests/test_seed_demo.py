"""seed_demo: the demo organisation of API.md, idempotent, refused in production."""

import io
import logging

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from organization.models import Body, BodyMembership, Section, SectionMembership, User, WorkCalendar


def _snapshot():
    return {
        "users": sorted(User.objects.values_list("username", "full_name", "password", "is_superuser")),
        "groups": sorted(User.groups.through.objects.values_list("user__username", "group__name")),
        "sections": sorted(Section.objects.values_list("code", "name", "group__name")),
        "section_members": sorted(SectionMembership.objects.values_list("section__code", "user__username", "is_head")),
        "bodies": sorted(BodyMembership.objects.values_list("body__code", "user__username")),
        "groups_total": Group.objects.count(),
        "calendar": WorkCalendar.objects.count(),
    }


@pytest.mark.django_db
def test_seed_demo_twice_leaves_the_same_data(unseeded, settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    first = _snapshot()
    call_command("seed_demo", verbosity=0)
    assert _snapshot() == first


@pytest.mark.django_db
def test_demo_organisation_matches_api_md(demo):
    assert dict(Section.objects.values_list("code", "name")) == {
        "office": "局办公室", "info": "信息中心", "petition": "信访科",
        "market": "房地产市场科", "housing": "住房保障科"}
    for name in ["duty", "command", "command2", "leader", "infohead", "onsite", "petition", "market", "auditor"]:
        assert demo[name].check_password("demo-pass-2026"), name

    def sections(u):
        return sorted(demo[u].sections.values_list("code", flat=True))

    def bodies(u):
        return sorted(demo[u].bodies.values_list("code", flat=True))

    assert sections("duty") == ["info"] and demo["duty"].has_role("duty_officer")
    assert sections("command") == ["info"] and bodies("command") == ["command"]
    assert sections("command2") == ["office"] and bodies("command2") == ["command"]
    assert demo["command"].has_role("command_group") and demo["command2"].has_role("command_group")
    assert bodies("leader") == ["level1", "level2"] and demo["leader"].has_role("leadership")
    assert bodies("infohead") == ["level3"]
    assert SectionMembership.objects.get(user=demo["infohead"], section__code="info").is_head
    assert bodies("onsite") == ["level4"]
    assert sections("petition") == ["petition"] and sections("market") == ["market"]
    assert demo["auditor"].has_role("auditor") and not demo["auditor"].sections.exists()
    assert Body.objects.get(code="level4").members.get() == demo["onsite"]


@pytest.mark.django_db
def test_seed_demo_runs_with_debug_false_in_demo_mode(unseeded, settings):
    # make run serves the demo as users see it (DEBUG off); demo mode alone decides.
    settings.DEBUG, settings.DEMO = False, True
    call_command("seed_demo", verbosity=0)
    assert User.objects.filter(username="duty").exists()


@pytest.mark.django_db
def test_with_cases_adds_a_dozen_cases_in_every_stage_once(demo, settings):
    """seed_demo --with-cases (make run): every stage through the services, a lift the level III
    body can approve at once, a missed status slot; run again, it adds nothing."""
    from incidents.models import Incident
    from lifecycle.actions import ACTIONS, run

    settings.DEBUG = True
    call_command("seed_demo", with_cases=True, verbosity=0)
    incidents = Incident.objects.select_related("response")
    states = {i.state for i in incidents}
    assert len(incidents) == 12
    assert states == {"reported", "judging", "warned", "responding", "aftermath", "closed"}
    assert {i.response.level for i in incidents if i.state == "responding"} == {2, 3}
    assert incidents.filter(deadlines__kind="status", deadlines__state="missed").exists()
    assert incidents.filter(state="closed", reports__kind="summary").count() == 2
    lift = incidents.get(response__state="lift_proposed")
    run(ACTIONS["approve-lift"], lift, demo["infohead"], {})  # the first minute's lift
    assert Incident.objects.get(pk=lift.pk).state == "aftermath"
    call_command("seed_demo", with_cases=True, verbosity=0)
    assert Incident.objects.count() == 12


@pytest.mark.django_db
def test_make_run_prints_the_url_and_the_logins_last(demo):
    out = io.StringIO()
    call_command("demo_ready", url="http://127.0.0.1:8999/", timeout=0, no_wait=True, stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8999/" in text and "demo-pass-2026" in text
    assert all(name in text for name in ("duty", "command", "leader", "petition", "auditor"))


@pytest.mark.django_db
def test_the_sweep_task_logs_only_when_it_did_something(demo, caplog, time_machine):
    from deadlines.tasks import sweep
    from tests.api import Api, local

    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    with caplog.at_level(logging.INFO, logger="deadlines.tasks"):
        sweep.run()  # nothing due: silence
        assert not caplog.records
        api = Api(demo)
        iid = api.log(discovered_at=local(2026, 11, 2, 8, 30).isoformat())["id"]
        api.act("command", iid, "assign", sections=["petition"])
        api.act("command", iid, "warn", level=4, subject="s", scope="全市", matters="m", measures="m",
                delivery="system")
        time_machine.move_to(local(2026, 11, 3, 9, 0), tick=False)  # the verification is overdue
        sweep.run()
    assert [r.getMessage().startswith("sweep: ") for r in caplog.records] == [True]
