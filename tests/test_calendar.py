"""Working days (R32): the 2026 calendar from chinesecalendar, and clear errors past it."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from deadlines.models import Delivery
from organization import services
from organization.calendar import (
    CalendarNotConfirmed,
    add_working_days,
    confirmed_years,
    day_info,
    is_workday,
    working_days_between,
)
from organization.models import WorkCalendar

D = dt.date


@pytest.mark.django_db
def test_national_day_2026_is_off_and_make_up_days_are_on():
    for day in range(1, 8):
        assert is_workday(D(2026, 10, day)) is False, f"2026-10-0{day} is National Day"
    assert is_workday(D(2026, 9, 20)) is True  # Sunday, make-up working day
    assert is_workday(D(2026, 10, 10)) is True  # Saturday, make-up working day
    assert is_workday(D(2026, 10, 11)) is False  # ordinary Sunday
    assert is_workday(D(2026, 10, 9)) is True


@pytest.mark.django_db
def test_mid_autumn_2026_is_a_holiday():
    assert WorkCalendar.objects.get(date=D(2026, 9, 25)).holiday_name == "Mid-autumn Festival"
    assert is_workday(D(2026, 9, 25)) is False


@pytest.mark.django_db
def test_nth_working_day_after_skips_the_holiday_and_counts_make_up_saturday():
    # After 09-30: 10-08 Thu, 10-09 Fri, 10-10 Sat (make-up), 10-12 Mon, 10-13 Tue.
    assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)
    assert add_working_days(D(2026, 9, 30), 5) == D(2026, 10, 13)
    assert working_days_between(D(2026, 10, 1), D(2026, 10, 12)) == [
        D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10), D(2026, 10, 12)]


@pytest.mark.django_db
def test_a_2027_date_is_provisional_by_the_statutory_rules_and_only_a_year_past_the_rules_raises():
    # Issue 9: 2027 is not in chinesecalendar; its days follow the statutory rules, marked.
    assert is_workday(D(2027, 3, 1)) is True
    assert day_info(D(2027, 3, 1)).provisional is True
    assert day_info(D(2026, 3, 2)).provisional is False
    # Counting working days across the year end no longer stops at 2027 (01-01 is 元旦).
    assert add_working_days(D(2026, 12, 28), 5) == D(2027, 1, 5)
    # The lunar tables end with 2099: beyond them the calendar still says which year it lacks.
    with pytest.raises(CalendarNotConfirmed) as err:
        is_workday(D(2100, 3, 1))
    assert err.value.year == 2100
    assert "2100" in str(err.value)


@pytest.mark.django_db
def test_a_drafted_year_follows_the_rules_and_counts_as_official_once_an_admin_confirms_it():
    assert 2027 not in confirmed_years()
    added = services.calendar_draft_year(year=2027)
    assert added == 365
    assert WorkCalendar.objects.get(date=D(2027, 1, 1)).is_workday is False  # 元旦, not a weekday
    assert day_info(D(2027, 3, 1)).provisional is True  # a draft is not confirmed
    services.calendar_confirm(rows=WorkCalendar.objects.filter(date__year=2027))
    assert is_workday(D(2027, 3, 1)) is True  # a Monday
    assert day_info(D(2027, 3, 1)).provisional is False
    assert 2027 in confirmed_years()
    assert add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)  # 01-01 元旦, then a weekend


@pytest.mark.django_db
def test_the_nightly_sync_reimports_a_lost_year_and_tells_admins_of_a_provisional_one(settings):


    settings.ADMINS = [("admin", "admin@example.org")]
    WorkCalendar.objects.filter(date__year=2026).delete()
    with time_machine.travel(dt.datetime(2026, 12, 2, 3, 17, tzinfo=dt.UTC)):
        result = services.calendar_sync()
    assert result["imported"] == [2026]
    assert result["missing"] == [2027]  # from November on, the coming year is needed
    assert is_workday(D(2026, 10, 10)) is True
    (mail,) = Delivery.objects.filter(target="admin@example.org")
    assert "2027" in mail.text


@pytest.mark.django_db
def test_admin_shows_which_years_are_confirmed(admin_client):
    services.calendar_draft_year(year=2027)
    page = admin_client.get(reverse("admin:organization_workcalendar_changelist")).content.decode()
    assert "年度覆盖情况" in page
    assert "2026" in page and "2027" in page
    assert "未确认" in page
