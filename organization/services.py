"""Writers for the organisation: structure, memberships and the working-day calendar.

Services are the only code that writes; each is one transaction.
"""

import datetime as dt
import logging

from django.contrib.auth.models import Group
from django.core.mail import mail_admins
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import policy_defaults as seeds
from .models import (
    Body,
    BodyMembership,
    LevelPolicy,
    Role,
    Section,
    SectionMembership,
    UnitPolicy,
    User,
    WorkCalendar,
)

log = logging.getLogger(__name__)


# --- Structure --------------------------------------------------------------------------

@transaction.atomic
def structure_ensure() -> None:
    """The policy rows, the five bodies and the role groups exist (idempotent)."""
    if not UnitPolicy.objects.exists():
        UnitPolicy.objects.create()
    for level, values in seeds.LEVELS.items():
        LevelPolicy.objects.get_or_create(level=level, defaults=values)
    for code, (name, level) in seeds.BODIES.items():
        Body.objects.get_or_create(code=code, defaults={"name": name, "level": level})
    for role in Role.values:
        Group.objects.get_or_create(name=role)


def section_group(code: str) -> Group:
    """The Django group through which a section's members receive per-incident grants."""
    group, _created = Group.objects.get_or_create(name=f"section:{code}")
    return group


@transaction.atomic
def section_ensure(*, code: str, name: str, order: int = 0) -> Section:
    section = Section.objects.filter(code=code).first()
    if section is None:
        section = Section.objects.create(code=code, name=name, order=order, group=section_group(code))
    return section


@transaction.atomic
def user_ensure(*, username: str, password: str, full_name: str = "", roles=(),
                is_superuser: bool = False) -> User:
    """Create the user with ``password`` if missing; give the roles (never removes any)."""
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, full_name=full_name, is_superuser=is_superuser,
                    is_staff=is_superuser)
        user.set_password(password)
        user.save()
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return user


@transaction.atomic
def section_add_member(*, section: Section, user: User, head: bool = False) -> SectionMembership:
    membership, _created = SectionMembership.objects.update_or_create(
        section=section, user=user, defaults={"is_head": head}
    )
    user.groups.add(section.group)
    user.groups.add(Group.objects.get(name=Role.SECTION_HEAD if head else Role.SECTION_STAFF))
    return membership


@transaction.atomic
def section_remove_member(*, section: Section, user: User) -> None:
    SectionMembership.objects.filter(section=section, user=user).delete()
    user.groups.remove(section.group)


@transaction.atomic
def body_add_member(*, body: Body, user: User) -> BodyMembership:
    membership, _created = BodyMembership.objects.get_or_create(body=body, user=user)
    return membership


@transaction.atomic
def body_remove_member(*, body: Body, user: User) -> None:
    BodyMembership.objects.filter(body=body, user=user).delete()


# --- Calendar ---------------------------------------------------------------------------

def package_years() -> list[int]:
    """The years chinesecalendar has holiday data for."""
    from chinese_calendar import constants

    last = max(max(constants.holidays), max(constants.workdays)).year
    return list(range(seeds.CALENDAR_FIRST_YEAR, last + 1))


def _package_rows(year: int) -> list[WorkCalendar]:
    import chinese_calendar

    rows = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
        rows.append(WorkCalendar(
            date=day, is_workday=not is_holiday, holiday_name=(name or "") if is_holiday else "",
            source=WorkCalendar.Source.PACKAGE, confirmed=True,
        ))
        day += dt.timedelta(days=1)
    return rows


@transaction.atomic
def calendar_import_package_years() -> list[int]:
    """Import every year chinesecalendar knows that the table lacks entirely.

    A year an admin has already started (any row) is left alone: admin entries win.
    """
    present = {d.year for d in WorkCalendar.objects.dates("date", "year")}
    imported = []
    for year in package_years():
        if year not in present:
            WorkCalendar.objects.bulk_create(_package_rows(year))
            imported.append(year)
    return imported


@transaction.atomic
def calendar_draft_year(*, year: int) -> int:
    """Rows for every missing day of ``year``: Monday–Friday working, unconfirmed, for an admin
    to mark holidays and make-up days, then confirm. Returns how many rows were added."""
    have = set(WorkCalendar.objects.filter(date__year=year).values_list("date", flat=True))
    rows = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        if day not in have:
            rows.append(WorkCalendar(date=day, is_workday=day.weekday() < 5,
                                     source=WorkCalendar.Source.DRAFT, confirmed=False))
        day += dt.timedelta(days=1)
    WorkCalendar.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def calendar_confirm(*, rows) -> int:
    return rows.update(confirmed=True)


def calendar_sync() -> dict:
    """The nightly job: import new package years, then check that the calendar covers this
    year and, from December on, the next one; tell the admins when it does not."""
    from .calendar import confirmed_years

    imported = calendar_import_package_years()
    today = timezone.localdate()
    needed = [today.year] + ([today.year + 1] if today.month == 12 else [])
    confirmed = set(confirmed_years())
    missing = [y for y in needed if y not in confirmed]
    if missing:
        years = "、".join(str(y) for y in missing)
        message = _("工作日历缺少 %(years)s 年的已确认数据。请在管理后台“工作日历”中生成草稿、"
                    "标注节假日与调休上班日后确认。") % {"years": years}
        log.warning(message)
        mail_admins(_("工作日历需要补录"), message, fail_silently=True)
    return {"imported": imported, "missing": missing}
