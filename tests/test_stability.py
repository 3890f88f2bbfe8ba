"""R32: stability is judged per working day; the counter skips holidays, counts make-up
working weekends, and resets on an unstable day (2026 Mid-Autumn and National Day)."""

import pytest

from deadlines.models import Notification

from .api import Api, local, ready_to_respond


@pytest.fixture
def responding(demo, time_machine):
    """A level II response activated on Monday 2026-09-21 (needs 5 stable working days)."""
    api = Api(demo)
    time_machine.move_to(local(2026, 9, 21, 9, 0), tick=False)
    iid = api.log()["id"]
    ready_to_respond(api, iid)
    api.act("command", iid, "propose-response", level=2)
    api.act("leader", iid, "approve-response")
    return api, iid


def _assess(api, iid, time_machine, date, stable=True, expect=200):
    y, m, d = (int(x) for x in date.split("-"))
    time_machine.move_to(local(y, m, d, 20, 0), tick=False)
    return api.act("command", iid, "assess", expect=expect, date=date, stable=stable)


@pytest.mark.django_db
def test_counter_skips_mid_autumn_and_national_day(responding, time_machine):
    api, iid = responding
    # 09-24 Thu; 09-25 Mid-Autumn (off); 09-28..09-30; 10-01..10-07 National Day (off); 10-08.
    expected = {"2026-09-24": 1, "2026-09-28": 2, "2026-09-29": 3, "2026-09-30": 4, "2026-10-08": 5}
    # 09-21..09-23 are left unassessed: the streak is counted back from the latest day.
    for date, count in expected.items():
        inc = _assess(api, iid, time_machine, date)
        assert inc["response"]["stable_working_days"] == count, date
    assert inc["response"]["lift_eligible"] is True
    assert api.act("command", iid, "propose-lift", reason="连续5个工作日平稳")["response"]["state"] == "lift_proposed"


@pytest.mark.django_db
def test_holidays_cannot_be_assessed(responding, time_machine):
    api, iid = responding
    for holiday in ("2026-09-25", "2026-10-01", "2026-10-07", "2026-10-11"):
        err = _assess(api, iid, time_machine, holiday, expect=400)
        assert "不是工作日" in err["date"][0]


@pytest.mark.django_db
def test_make_up_saturday_counts_and_an_unstable_day_resets(responding, time_machine):
    api, iid = responding
    for date in ("2026-09-30", "2026-10-08"):
        _assess(api, iid, time_machine, date)
    inc = _assess(api, iid, time_machine, "2026-10-09", stable=False)
    assert inc["response"]["stable_working_days"] == 0
    inc = _assess(api, iid, time_machine, "2026-10-10")  # Saturday, a make-up working day
    assert inc["response"]["stable_working_days"] == 1
    inc = _assess(api, iid, time_machine, "2026-10-12")  # Monday; Sunday 10-11 is off
    assert inc["response"]["stable_working_days"] == 2


@pytest.mark.django_db
def test_an_unassessed_working_day_breaks_the_streak(responding, time_machine):
    api, iid = responding
    _assess(api, iid, time_machine, "2026-09-28")
    inc = _assess(api, iid, time_machine, "2026-09-30")  # 09-29 was never judged stable
    assert inc["response"]["stable_working_days"] == 1


@pytest.mark.django_db
def test_instability_while_a_lift_is_pending_withdraws_it(responding, time_machine):
    api, iid = responding
    for date in ("2026-09-24", "2026-09-28", "2026-09-29", "2026-09-30", "2026-10-08"):
        _assess(api, iid, time_machine, date)
    api.act("command", iid, "propose-lift", reason="平稳")
    inc = _assess(api, iid, time_machine, "2026-10-09", stable=False)
    assert inc["response"]["state"] == "active" and inc["response"]["lift_eligible"] is False
    api.act("leader", iid, "approve-lift", expect=409)


@pytest.mark.django_db
def test_future_days_and_repeats_are_refused(responding, time_machine):
    api, iid = responding
    time_machine.move_to(local(2026, 9, 22, 10, 0), tick=False)
    assert "未来" in api.act("command", iid, "assess", expect=400, date="2026-09-23", stable=True)["date"][0]
    api.act("command", iid, "assess", date="2026-09-22", stable=True)
    api.act("command", iid, "assess", expect=409, date="2026-09-22", stable=False)


@pytest.mark.django_db
def test_summary_due_date_spans_national_day(responding, time_machine):
    """Lifted on 09-30 (Wed): 5 working days = 10-08, 10-09, 10-10 (Sat), 10-12, 10-13."""
    api, iid = responding
    for date in ("2026-09-23", "2026-09-24", "2026-09-28", "2026-09-29", "2026-09-30"):
        _assess(api, iid, time_machine, date)
    api.act("command", iid, "propose-lift", reason="平稳")
    inc = api.act("leader", iid, "approve-lift")
    (summary,) = [d for d in inc["deadlines"] if d["kind"] == "summary"]
    assert summary["due_at"] == "2026-10-13T20:00:00+08:00"


@pytest.mark.django_db
def test_the_body_is_asked_once_the_stable_days_are_reached(responding, time_machine):

    api, iid = responding
    for date in ("2026-09-24", "2026-09-28", "2026-09-29", "2026-09-30"):
        _assess(api, iid, time_machine, date)
    asked = Notification.objects.filter(title__startswith="【可解除】")
    assert not asked.exists()
    _assess(api, iid, time_machine, "2026-10-08")
    assert sorted(asked.values_list("recipient__username", flat=True)) == ["command", "command2", "leader"]
    assert "连续 5 个工作日平稳" in asked.first().title
