"""The unit's policy: the numbers of DOMAIN.md's response table and API.md's deadline table
are the defaults, and the admin refuses nonsense."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from organization.models import Body, LevelPolicy, UnitPolicy
from organization.selectors import deciding_bodies

# Written out from DOMAIN.md / API.md, independently of organization/policy_defaults.py.
SEED_LEVELS = {
    # level: (status cadence h, judgments/day, briefings/day, verification h, stable working days)
    1: (3, 3, 3, 3, 7),
    2: (6, 2, 2, 3, 5),
    3: (8, 2, 2, 3, 3),
}


@pytest.mark.django_db
@pytest.mark.parametrize("level", [1, 2, 3])
def test_level_policy_defaults_equal_the_seed_plans(level):
    p = LevelPolicy.objects.get(level=level)
    cadence, judgments, briefings, verification, stable = SEED_LEVELS[level]
    assert p.status_cadence_hours == cadence
    assert len(p.judgment_time_list) == judgments
    assert len(p.briefing_time_list) == briefings
    assert p.verification_hours == verification
    assert p.stable_working_days == stable


@pytest.mark.django_db
def test_level_four_defaults_to_daily_reporting():
    p = LevelPolicy.objects.get(level=4)
    assert p.status_cadence_hours == 24
    assert len(p.judgment_time_list) == 1 and len(p.briefing_time_list) == 1


@pytest.mark.django_db
def test_unit_policy_defaults_equal_api_deadline_table():
    p = UnitPolicy.current()
    assert (p.quick_report_minutes, p.flash_report_minutes) == (60, 60)
    assert (p.feedback_hours, p.feedback_hard_hours) == (12, 24)
    assert p.summary_working_days == 5
    assert p.reminder_leads == [30, 5]
    assert (p.urge_after_minutes, p.supervise_after_minutes, p.notify_after_minutes) == (0, 30, 120)
    assert p.quiet_hours_enabled is False


@pytest.mark.django_db
def test_level_one_judgments_run_at_fixed_times():
    assert LevelPolicy.objects.get(level=1).judgment_time_list == [dt.time(8), dt.time(14), dt.time(20)]


@pytest.mark.django_db
def test_bodies_per_response_level_exist():
    assert set(Body.objects.values_list("code", flat=True)) == {"command", "level1", "level2", "level3", "level4"}
    assert {level: body.code for level, body in deciding_bodies().items()} == {
        1: "level1", 2: "level2", 3: "level3", 4: "level4"}
    assert Body.objects.get(code="level2").name == "局应急指挥小组"


@pytest.mark.django_db
@pytest.mark.parametrize("field,value", [
    ("status_cadence_hours", 0),
    ("verification_hours", 0),
    ("stable_working_days", 0),
    ("judgment_times", "25:00"),
    ("briefing_times", ""),
    ("judgment_times", "08:00,08:00"),
])
def test_invalid_level_policy_is_refused(field, value):
    p = LevelPolicy.objects.get(level=2)
    setattr(p, field, value)
    with pytest.raises(ValidationError) as err:
        p.full_clean()
    assert field in err.value.message_dict


@pytest.mark.django_db
def test_invalid_unit_policy_is_refused_with_chinese_messages():
    p = UnitPolicy.current()
    p.feedback_hard_hours = 6  # earlier than the 12 h feedback
    p.reminder_leads_minutes = "30,-5"
    with pytest.raises(ValidationError) as err:
        p.full_clean()
    assert "最迟时限不能早于一般时限" in str(err.value.message_dict["feedback_hard_hours"])
    assert "reminder_leads_minutes" in err.value.message_dict


@pytest.mark.django_db
def test_policy_is_editable_in_the_admin(admin_client):
    p = LevelPolicy.objects.get(level=2)
    url = f"/admin/organization/levelpolicy/{p.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    form = {
        "level": 2, "status_cadence_hours": 0, "judgment_times": "08:00,16:00",
        "briefing_times": "09:00,17:00", "briefing_recipients": "局党委",
        "verification_hours": 3, "stable_working_days": 5,
    }
    refused = admin_client.post(url, form)
    assert refused.status_code == 200 and "errornote" in refused.content.decode()
    form["status_cadence_hours"] = 4
    assert admin_client.post(url, form).status_code == 302
    p.refresh_from_db()
    assert p.status_cadence_hours == 4
