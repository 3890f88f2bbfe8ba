"""Issue 9, the turn of the year: a provisional calendar by the statutory rules for a year
nobody has confirmed, nothing blocks on it, the official schedule entered in minutes, and
people told in time."""

import datetime as dt
import importlib
from pathlib import Path

import chinese_calendar
import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from deadlines.models import Deadline, Delivery
from incidents.models import TimelineEvent
from organization import holidays, notice, services
from organization.calendar import add_working_days_marked, day_info, is_workday, year_confirmed
from organization.models import CalendarConfirmation, WorkCalendar

from .api import Api, local, ready_to_respond

D = dt.date
# The notices' items as shared/calendar/ holds them (beside the clone); the repository keeps a
# copy in fixtures/calendar/ for a checkout without shared/.
SHARED = Path(__file__).resolve().parents[2] / "shared" / "calendar"
if not (SHARED / "2026.txt").is_file():
    SHARED = Path(__file__).resolve().parents[1] / "fixtures" / "calendar"

# A made-up notice for 2027 (the real one is not out yet): 元旦 with a bridge Monday and a
# make-up Saturday, so that a summary deadline counted on the provisional days moves.
NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
一、元旦：1月1日（周五）至4日（周一）放假调休，共4天。1月9日（周六）上班。
二、春节：2月5日（农历除夕、周五）至12日（周五）放假调休，共8天。2月20日（周六）上班。
三、清明节：4月3日（周六）至5日（周一）放假，共3天。
四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。5月8日（周六）上班。
五、端午节：6月9日（周三）放假，共1天。
六、中秋节：9月15日（周三）放假，共1天。
七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。
"""


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _package_table(year):
    day, out = D(year, 1, 1), {}
    while day.year == year:
        out[day] = chinese_calendar.is_workday(day)
        day += dt.timedelta(days=1)
    return out


# --- 1. the statutory rules ------------------------------------------------------------

@pytest.mark.parametrize("year", range(2020, 2027))
def test_every_statutory_day_and_make_up_day_of_the_rules_is_a_rest_day_in_the_package(year):
    rules = holidays.rest_days(year)
    assert len(holidays.statutory_days(year)) == (11 if year < 2025 else 13) - _overlaps(year)
    wrongly_working = sorted(f"{d} {r.name}" for d, r in rules.items() if chinese_calendar.is_workday(d))
    assert wrongly_working == []


def _overlaps(year):
    # 2020: 中秋 fell on 10-01, one date for two holidays.
    return 1 if year == 2020 else 0


def test_the_rules_in_force_before_2025_have_no_new_years_eve_and_one_labour_day():
    dates = {h.date for h in holidays.statutory_days(2024)}
    assert D(2024, 2, 9) not in dates  # 除夕 2024: a holiday only from 2025
    assert {D(2024, 2, 10), D(2024, 2, 11), D(2024, 2, 12)} <= dates  # 初一–初三
    assert D(2024, 5, 2) not in dates and D(2024, 5, 1) in dates
    dates_2025 = {h.date for h in holidays.statutory_days(2025)}
    assert {D(2025, 1, 28), D(2025, 5, 2)} <= dates_2025  # 除夕 and 5-02 under the 2024 amendment


def test_2027_provisional_rest_days():
    rest = holidays.rest_days(2027)
    named = {d: r.name for d, r in rest.items()}
    assert named[D(2027, 1, 1)] == "元旦"
    # 除夕 02-05 (Fri) to 初三 02-08 (Mon); 初一 and 初二 fall on the weekend: 补假 02-09, 02-10.
    for day in (5, 6, 7, 8):
        assert named[D(2027, 2, day)] == "春节"
    assert named[D(2027, 2, 9)] == named[D(2027, 2, 10)] == "春节（补假）"
    # 10-01 (Fri) to 10-03 (Sun): 10-02 and 10-03 are made up on 10-04 and 10-05.
    for day in (1, 2, 3):
        assert named[D(2027, 10, day)] == "国庆节"
    assert named[D(2027, 10, 4)] == named[D(2027, 10, 5)] == "国庆节（补假）"
    assert D(2027, 10, 6) not in rest
    # Make-up working days cannot be derived: every weekend of the provisional year is off.
    assert all(not is_workday_rule(D(2027, 1, 1) + dt.timedelta(days=i))
               for i in range(365) if (D(2027, 1, 1) + dt.timedelta(days=i)).weekday() >= 5)


def is_workday_rule(day):
    return holidays.provisional_day(day)[0]


@pytest.mark.django_db
def test_provisional_days_are_marked_and_confirmed_ones_are_not():
    assert day_info(D(2027, 1, 1)) == day_info(D(2027, 1, 1))
    new_year = day_info(D(2027, 1, 1))
    assert (new_year.is_workday, new_year.holiday_name, new_year.provisional) == (False, "元旦", True)
    assert day_info(D(2027, 2, 9)).holiday_name == "春节（补假）"
    assert day_info(D(2026, 12, 31)).provisional is False
    assert add_working_days_marked(D(2026, 12, 1), 5) == (D(2026, 12, 8), False)
    assert add_working_days_marked(D(2026, 12, 31), 5) == (D(2027, 1, 8), True)


# --- 2. nothing blocks -------------------------------------------------------------------

def _respond_level3(api, time_machine, monday):
    """A level III response (3 stable working days) activated at 09:00 on ``monday``."""
    time_machine.move_to(local(monday.year, monday.month, monday.day, 9, 0), tick=False)
    iid = api.log()["id"]
    ready_to_respond(api, iid)
    api.act("command", iid, "propose-response", level=3)
    api.act("infohead", iid, "approve-response")
    return iid


def _assess(api, iid, time_machine, day, stable=True, expect=200):
    time_machine.move_to(local(day.year, day.month, day.day, 20, 0), tick=False)
    return api.act("command", iid, "assess", expect=expect, date=day.isoformat(), stable=stable)


def _lift(api, iid, time_machine, days, approve_at):
    for day in days:
        _assess(api, iid, time_machine, day)
    api.act("command", iid, "propose-lift", reason="连续3个工作日平稳")
    time_machine.move_to(approve_at, tick=False)
    inc = api.act("infohead", iid, "approve-lift")
    (summary,) = [d for d in inc["deadlines"] if d["kind"] == "summary"]
    return inc, summary


@pytest.mark.django_db
def test_a_lift_on_2026_12_31_is_approved_with_the_summary_due_on_2027_01_08_provisional(demo, time_machine,
                                                                                         client):
    api = Api(demo)
    iid = _respond_level3(api, time_machine, D(2026, 12, 28))
    inc, summary = _lift(api, iid, time_machine, [D(2026, 12, 28), D(2026, 12, 29), D(2026, 12, 30)],
                         local(2026, 12, 31, 10, 0))
    assert inc["response"]["state"] == "lifted"
    # 01-01 元旦 (provisional), 01-02/03 weekend, then 01-04 … 01-08 are the five working days.
    assert summary["due_at"] == "2027-01-08T10:00:00+08:00"
    assert summary["provisional"] is True
    client.force_login(demo["command"])
    html = client.get(f"/incidents/{iid}/").content.decode()
    assert "provisional-mark" in html and "暂定" in html


@pytest.mark.django_db
def test_the_issues_lift_on_2026_12_28_is_no_longer_refused(demo, time_machine):
    api = Api(demo)
    iid = _respond_level3(api, time_machine, D(2026, 12, 21))
    _inc, summary = _lift(api, iid, time_machine, [D(2026, 12, 22), D(2026, 12, 23), D(2026, 12, 24)],
                          local(2026, 12, 28, 16, 0))
    assert summary["due_at"] == "2027-01-05T16:00:00+08:00"  # 12-29, 12-30, 12-31, 01-04, 01-05
    assert summary["provisional"] is True


@pytest.mark.django_db
def test_a_summary_within_a_confirmed_year_is_not_provisional(demo, time_machine):
    api = Api(demo)
    iid = _respond_level3(api, time_machine, D(2026, 11, 30))
    _inc, summary = _lift(api, iid, time_machine, [D(2026, 11, 30), D(2026, 12, 1), D(2026, 12, 2)],
                          local(2026, 12, 3, 10, 0))
    assert summary["due_at"] == "2026-12-10T10:00:00+08:00"
    assert summary["provisional"] is False


@pytest.mark.django_db
def test_stability_in_2027_is_judged_on_the_provisional_calendar(demo, time_machine):
    api = Api(demo)
    iid = _respond_level3(api, time_machine, D(2026, 12, 30))
    err = _assess(api, iid, time_machine, D(2027, 1, 1), expect=400)
    assert "不是工作日" in err["date"][0] and "暂定" in err["date"][0] and "元旦" in err["date"][0]
    inc = _assess(api, iid, time_machine, D(2027, 1, 4))
    assert inc["response"]["stable_working_days"] == 1
    event = TimelineEvent.objects.filter(incident_id=iid, verb="stability_assessed").last()
    assert event.detail["provisional"] is True
    # 01-04 … 01-06: three stable working days, then the lift; 春节 is provisional too.
    _assess(api, iid, time_machine, D(2027, 1, 5))
    inc = _assess(api, iid, time_machine, D(2027, 1, 6))
    assert inc["response"]["lift_eligible"] is True
    _assess(api, iid, time_machine, D(2027, 2, 9), expect=400)  # 春节（补假）


# --- 3. the official schedule ----------------------------------------------------------

@pytest.mark.parametrize("year", [2026, 2017])
def test_the_state_councils_notice_parses_to_exactly_the_packages_table(year):
    schedule = notice.parse((SHARED / f"{year}.txt").read_text(encoding="utf-8"), filename=f"{year}.txt")
    assert schedule.year == year
    assert schedule.errors == []
    table = schedule.table()
    assert {d: w for d, (w, _name) in table.items()} == _package_table(year)


def test_the_parser_reports_every_line_it_cannot_read():
    text = ("一、元旦：1月1日（周五）放假，共1天。\n"
            "经国务院批准，现将2027年元旦、春节……\n"
            "二、春节：2月5日至11日放假调休，共8天。\n"
            "三、国庆节：10月1日（周二）至7日放假，共7天。\n"
            "四、植树节：3月12日放假。\n"
            "五、劳动节：5月1日放假，5月9日开会。\n")
    with translation.override("zh-hans"):  # the messages in the default language
        schedule = notice.parse(text, year=2027)
    assert [e.line for e in schedule.errors] == [2, 3, 4, 5, 6]
    messages = {e.line: e.message for e in schedule.errors}
    assert "共8天" in messages[3]
    assert "星期五" in messages[4] and "星期二" in messages[4]
    assert "植树节" in messages[5]
    assert "5月9日开会" in messages[6]
    assert D(2027, 1, 1) in schedule.rest  # the readable line is kept


def test_half_width_punctuation_csv_and_ics_are_read():
    half = notice.parse("1、元旦:1月1日(周五)至3日(周日)放假,共3天.", year=2027)
    assert half.errors == [] and sorted(half.rest) == [D(2027, 1, 1), D(2027, 1, 2), D(2027, 1, 3)]
    csv = notice.parse("date,kind,name\n2027-01-01,休,元旦\n2027-01-09,班,元旦\n2027-13-01,休,\n", year=2027,
                       filename="x.csv")
    assert csv.rest == {D(2027, 1, 1): "元旦"} and csv.work == {D(2027, 1, 9): "元旦"}
    assert [e.line for e in csv.errors] == [4]
    ics = notice.parse("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\nDTEND;VALUE=DATE:20270104\r\n"
                       "SUMMARY:元旦 休\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270109\r\n"
                       "SUMMARY:元旦 补班\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", filename="cn-2027.ics")
    assert ics.year == 2027 and ics.errors == []
    assert sorted(ics.rest) == [D(2027, 1, 1), D(2027, 1, 2), D(2027, 1, 3)] and list(ics.work) == [D(2027, 1, 9)]


@pytest.mark.django_db
def test_a_statutory_holiday_left_as_a_working_day_is_refused_without_a_recorded_reason(admin_user):
    text = NOTICE_2027.replace("五、端午节：6月9日（周三）放假，共1天。\n", "")  # 端午 forgotten
    schedule = notice.parse(text, year=2027)
    assert schedule.errors == []
    with pytest.raises(ValidationError) as err:
        services.calendar_year_confirm(year=2027, table=schedule.table(), actor=admin_user)
    assert "2027-06-09" in str(err.value)
    assert not year_confirmed(2027) and not CalendarConfirmation.objects.exists()
    confirmation = services.calendar_year_confirm(year=2027, table=schedule.table(), actor=admin_user,
                                                  override_reason="通知原文如此（测试）")
    assert confirmation.overridden == ["2027-06-09"] and confirmation.override_reason == "通知原文如此（测试）"
    assert is_workday(D(2027, 6, 9)) is True and day_info(D(2027, 6, 9)).provisional is False


@pytest.mark.django_db
def test_confirming_the_year_recomputes_open_provisional_deadlines_and_records_it(demo, time_machine, admin_user):
    api = Api(demo)
    open_one = _respond_level3(api, time_machine, D(2026, 12, 28))
    _inc, summary = _lift(api, open_one, time_machine, [D(2026, 12, 28), D(2026, 12, 29), D(2026, 12, 30)],
                          local(2026, 12, 31, 10, 0))
    met_one = _respond_level3(api, time_machine, D(2026, 12, 28))
    _inc, met_summary = _lift(api, met_one, time_machine, [D(2026, 12, 28), D(2026, 12, 29), D(2026, 12, 30)],
                              local(2026, 12, 31, 11, 0))
    time_machine.move_to(local(2027, 1, 4, 9, 0), tick=False)
    api.act("command", met_one, "report", kind="summary", characteristics="平稳", measures_effect="有效",
            experience="快", problems="无", recommendations="无")

    schedule = notice.parse(NOTICE_2027, filename="2027.txt")
    assert schedule.errors == []
    services.calendar_year_confirm(year=2027, table=schedule.table(), actor=admin_user, source_name="2027.txt")

    recomputed = Deadline.objects.get(pk=summary["id"])
    # Official: 01-04 is off (bridge), 01-09 (Sat) is a make-up working day: 01-05 … 01-09.
    assert recomputed.due_at == local(2027, 1, 9, 10, 0) and recomputed.provisional is False
    event = TimelineEvent.objects.get(incident_id=open_one, verb="deadline_recomputed")
    assert event.detail["due_before"] == "2027-01-08T02:00:00+00:00"
    assert event.detail["year"] == 2027 and event.detail["provisional"] is False
    met = Deadline.objects.get(pk=met_summary["id"])
    assert met.state == "met" and met.provisional is True and met.due_at == local(2027, 1, 8, 11, 0)
    assert not TimelineEvent.objects.filter(incident_id=met_one, verb="deadline_recomputed").exists()


@pytest.mark.django_db
def test_a_newer_package_replaces_provisional_rows_but_never_an_administrators(monkeypatch, admin_user):
    def rows_2027(year):
        return [WorkCalendar(date=d, is_workday=w, holiday_name="pkg", source=WorkCalendar.Source.PACKAGE,
                             confirmed=True) for d, (w, _n) in notice.parse(NOTICE_2027, year=2027).table().items()]

    real_rows = services._package_rows
    monkeypatch.setattr(services, "package_years", lambda: list(range(2020, 2028)))
    monkeypatch.setattr(services, "_package_rows", lambda year: rows_2027(year) if year == 2027 else real_rows(year))
    services.calendar_draft_year(year=2027)  # unconfirmed rows: replaced
    assert services.calendar_import_package_years() == [2027]
    assert WorkCalendar.objects.filter(date__year=2027, source="chinesecalendar", confirmed=True).count() == 365

    WorkCalendar.objects.filter(date__year=2027).delete()
    services.calendar_year_confirm(year=2027, table=notice.parse(NOTICE_2027, year=2027).table(), actor=admin_user)
    assert services.calendar_import_package_years() == []
    assert not WorkCalendar.objects.filter(date__year=2027).exclude(source="admin").exists()


@pytest.mark.django_db
def test_a_newer_package_also_recomputes_open_provisional_deadlines(demo, time_machine, monkeypatch):
    api = Api(demo)
    iid = _respond_level3(api, time_machine, D(2026, 12, 28))
    _inc, summary = _lift(api, iid, time_machine, [D(2026, 12, 28), D(2026, 12, 29), D(2026, 12, 30)],
                          local(2026, 12, 31, 10, 0))
    real_rows = services._package_rows
    table = notice.parse(NOTICE_2027, year=2027).table()
    monkeypatch.setattr(services, "package_years", lambda: list(range(2020, 2028)))
    monkeypatch.setattr(services, "_package_rows", lambda year: [
        WorkCalendar(date=d, is_workday=w, holiday_name=n, source=WorkCalendar.Source.PACKAGE, confirmed=True)
        for d, (w, n) in table.items()] if year == 2027 else real_rows(year))
    time_machine.move_to(local(2027, 1, 2, 3, 17), tick=False)
    assert services.calendar_sync()["imported"] == [2027]
    deadline = Deadline.objects.get(pk=summary["id"])
    assert deadline.due_at == local(2027, 1, 9, 10, 0) and deadline.provisional is False
    assert TimelineEvent.objects.filter(incident_id=iid, verb="deadline_recomputed").count() == 1


@pytest.mark.django_db
def test_the_admin_page_shows_the_parsed_year_beside_the_rules_and_confirms_it(admin_client):
    url = reverse("admin:organization_workcalendar_official")
    assert admin_client.get(url).status_code == 200
    page = admin_client.post(url, {"year": 2027, "text": NOTICE_2027, "preview": "1"}).content.decode()
    assert 'id="comparison"' in page and 'id="confirm-year"' in page
    assert 'class="differs" data-date="2027-01-04"' in page  # a bridge day the rules cannot know
    assert 'class="differs" data-date="2027-01-09"' in page  # a make-up working Saturday
    assert 'class="" data-date="2027-01-01"' in page  # both agree: not highlighted
    forgot = NOTICE_2027.replace("六、中秋节：9月15日（周三）放假，共1天。\n", "")
    page = admin_client.post(url, {"year": 2027, "text": forgot, "confirm": "1"}).content.decode()
    assert 'class="refused" data-date="2027-09-15"' in page and not year_confirmed(2027)
    response = admin_client.post(url, {"year": 2027, "text": NOTICE_2027, "confirm": "1"})
    assert response.status_code == 302 and year_confirmed(2027)
    (confirmation,) = CalendarConfirmation.objects.all()
    assert confirmation.confirmed_by.is_superuser and {"date": "2027-01-04", "rules": None, "rules_workday": True,
                                                       "official": "元旦", "official_workday": False} in confirmation.differences


@pytest.mark.django_db
def test_the_admin_page_reports_unreadable_lines_and_offers_no_confirm(admin_client):

    upload = SimpleUploadedFile("2027.txt", (NOTICE_2027 + "八、其他：另行通知。\n").encode())
    page = admin_client.post(reverse("admin:organization_workcalendar_official"),
                             {"year": 2027, "upload": upload, "preview": "1"}).content.decode()
    assert 'id="parse-errors"' in page and "第 9 行" in page and 'id="confirm-year"' not in page


@pytest.mark.django_db
def test_the_calendar_import_command(tmp_path):
    path = tmp_path / "2027.txt"
    path.write_text(NOTICE_2027.replace("六、中秋节：9月15日（周三）放假，共1天。\n", ""), encoding="utf-8")
    with pytest.raises(CommandError, match="2027-09-15"):
        call_command("calendar_import", str(path))
    assert not year_confirmed(2027)
    call_command("calendar_import", str(path), reason="测试：通知原文如此")
    assert year_confirmed(2027) and is_workday(D(2027, 9, 15)) is True
    bad = tmp_path / "bad.txt"
    bad.write_text("一、元旦：1月1日放假，共2天。\n", encoding="utf-8")
    with pytest.raises(CommandError, match="could not be read"):
        call_command("calendar_import", str(bad), "--year", "2028")


# --- 4. people are told in time -----------------------------------------------------------

@pytest.mark.django_db
def test_from_november_the_command_group_and_admins_see_a_banner(demo, client, time_machine):
    time_machine.move_to(local(2026, 10, 31, 9, 0), tick=False)
    client.force_login(demo["command"])
    assert 'id="calendar-banner"' not in client.get("/").content.decode()
    time_machine.move_to(local(2026, 11, 1, 9, 0), tick=False)
    page = client.get("/").content.decode()
    assert 'id="calendar-banner"' in page and "2027 年工作日历仍为暂定" in page
    assert reverse("admin:organization_workcalendar_official") in page
    client.force_login(demo["admin"])
    assert 'id="calendar-banner"' in client.get("/").content.decode()
    client.force_login(demo["duty"])
    assert 'id="calendar-banner"' not in client.get("/").content.decode()
    services.calendar_year_confirm(year=2027, table=notice.parse(NOTICE_2027, year=2027).table())
    client.force_login(demo["command"])
    assert 'id="calendar-banner"' not in client.get("/").content.decode()


@pytest.mark.django_db
def test_the_nightly_task_tells_them_through_the_outbox_once_a_week(demo, settings, time_machine):
    demo["command"].email = "command@example.org"
    demo["command"].save()
    demo["duty"].email = "duty@example.org"
    demo["duty"].save()
    settings.ADMINS = [("运维", "ops@example.org")]
    time_machine.move_to(local(2026, 10, 30, 3, 17), tick=False)
    services.calendar_sync()
    assert not Delivery.objects.exists()  # before November: nothing
    for day in (2, 3, 8):  # Monday and Tuesday of one week, Sunday of the same week
        time_machine.move_to(local(2026, 11, day, 3, 17), tick=False)
        assert services.calendar_sync()["missing"] == [2027]
    assert sorted(Delivery.objects.values_list("target", flat=True)) == ["command@example.org", "ops@example.org"]
    assert "/admin/organization/workcalendar/official/" in Delivery.objects.first().text
    time_machine.move_to(local(2026, 11, 9, 3, 17), tick=False)  # the next week
    services.calendar_sync()
    assert Delivery.objects.count() == 4


@pytest.mark.django_db
def test_upgrading_unconfirms_a_year_confirmed_from_the_old_weekday_draft():


    migration = importlib.import_module("organization.migrations.0003_unconfirm_weekday_drafts")
    day = D(2027, 1, 1)
    while day.year == 2027:  # what the old draft made and an admin confirmed as it was
        WorkCalendar.objects.create(date=day, is_workday=day.weekday() < 5, source="draft", confirmed=True)
        day += dt.timedelta(days=1)
    assert is_workday(D(2027, 1, 1)) is True
    migration.unconfirm_weekday_drafts(apps, None)
    assert not year_confirmed(2027)
    assert is_workday(D(2027, 1, 1)) is False and day_info(D(2027, 1, 1)).provisional is True
    assert year_confirmed(2026)  # package years are untouched
