"""Writers for the organisation: structure, memberships and the working-day calendar.

Services are the only code that writes; each is one transaction.
"""

import dataclasses
import datetime as dt
import logging
import secrets

import chinese_calendar
from chinese_calendar import constants
from django.conf import settings
from django.contrib.auth.hashers import get_hashers_by_algorithm, make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import holidays, presets, workbook
from . import policy_defaults as seeds
from .calendar import year_confirmed, years_to_enter
from .models import (
    Body,
    BodyMembership,
    CalendarConfirmation,
    LevelPolicy,
    Role,
    Section,
    SectionMembership,
    UnitPolicy,
    User,
    WorkCalendar,
)
from .signals import calendar_confirmed, calendar_reminder

log = logging.getLogger(__name__)


# --- Structure --------------------------------------------------------------------------

@transaction.atomic
def structure_ensure() -> None:
    """The policy rows, the command group and the role groups exist (idempotent; after every
    migrate). The unit's sections, bodies and deciding bodies come from a preset
    (``unit_setup``) or the admin; the first-run checklist shows what is missing."""
    if not UnitPolicy.objects.exists():
        UnitPolicy.objects.create()
    for level, values in seeds.LEVELS.items():
        LevelPolicy.objects.get_or_create(level=level, defaults=values)
    Body.objects.get_or_create(code=Body.COMMAND, defaults={"name": presets.HOUSING_002.bodies[0][1]})
    for role in Role.values:
        Group.objects.get_or_create(name=role)


@transaction.atomic
def unit_setup(*, preset: str, name: str = "") -> UnitPolicy:
    """Set the unit up from one of the seed plans (issue 16; ``organization/presets.py``): its
    name, the policy's numbers, the plan's sections and bodies with the plan's names, the office
    section (R12) and which body decides each response level (R4). Idempotent: existing
    sections and bodies keep their members and robots and take the plan's names; nothing is
    deleted (a body of another shape stays, deciding nothing)."""
    if preset not in presets.PRESETS:
        raise ValidationError({"preset": _("未知的预案：%(preset)s") % {"preset": preset}})
    plan = presets.PRESETS[preset]
    structure_ensure()
    for order, (code, section_name) in enumerate(plan.sections):
        section = section_ensure(code=code, name=section_name, order=order)
        if (section.name, section.order) != (section_name, order):
            section.name, section.order = section_name, order
            section.save(update_fields=["name", "order"])
    bodies = {}
    for code, body_name in plan.bodies:
        bodies[code], _created = Body.objects.update_or_create(code=code, defaults={"name": body_name})
    for level, values in plan.levels().items():
        LevelPolicy.objects.update_or_create(level=level, defaults={
            **values, "deciding_body": bodies[plan.deciding[level]]})
    unit = UnitPolicy.current()
    for field, value in plan.unit.items():
        setattr(unit, field, value)
    # Without a name, a unit already set up keeps its own (seed_demo runs this again).
    unit.unit_name = ((name or "").strip()[:100]
                      or (unit.unit_name if unit.office_section_id else plan.unit_name))
    unit.office_section = Section.objects.get(code=plan.office)
    unit.full_clean()
    unit.save()
    return unit


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
    last = max(max(constants.holidays), max(constants.workdays)).year
    return list(range(seeds.CALENDAR_FIRST_YEAR, last + 1))


def _package_rows(year: int) -> list[WorkCalendar]:
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


def _admin_confirmed_years() -> set[int]:
    """Years in which an administrator confirmed rows: chinesecalendar never replaces them."""
    return {d.year for d in WorkCalendar.objects.filter(source=WorkCalendar.Source.ADMIN, confirmed=True)
            .dates("date", "year")}


@transaction.atomic
def calendar_import_package_years() -> list[int]:
    """Import every year chinesecalendar knows that the table does not hold confirmed.

    Rows of such a year that nobody confirmed (drafts, provisional rows) are replaced; a year
    in which an administrator confirmed rows is never touched: admin entries win. Each year
    imported is announced with ``calendar_confirmed`` (open deadlines counted on its
    provisional days are recomputed)."""
    admin_years = _admin_confirmed_years()
    imported = []
    for year in package_years():
        if year in admin_years or year_confirmed(year):
            continue
        WorkCalendar.objects.filter(date__year=year).delete()
        WorkCalendar.objects.bulk_create(_package_rows(year))
        imported.append(year)
    for year in imported:
        calendar_confirmed.send(sender=WorkCalendar, year=year)
    return imported


@transaction.atomic
def calendar_draft_year(*, year: int) -> int:
    """Unconfirmed rows for every missing day of ``year`` by the statutory rules (holidays and
    补假 off, weekends off, no make-up working days), for an admin to correct and confirm.
    Unconfirmed rows count for nothing: the rules decide those dates anyway. Returns how many
    rows were added."""
    have = set(WorkCalendar.objects.filter(date__year=year).values_list("date", flat=True))
    rows = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        if day not in have:
            workday, name = holidays.provisional_day(day)
            rows.append(WorkCalendar(date=day, is_workday=workday, holiday_name=name,
                                     source=WorkCalendar.Source.DRAFT, confirmed=False))
        day += dt.timedelta(days=1)
    WorkCalendar.objects.bulk_create(rows)
    return len(rows)


def _statutory_left_working(rows) -> list[dt.date]:
    return [day for day, workday in rows
            if workday and day in {h.date for h in holidays.statutory_days(day.year)}]


@transaction.atomic
def calendar_confirm(*, rows) -> int:
    """Confirm the selected rows as they are (admin action). A statutory holiday marked as a
    working day is refused here: the import page records a reason for that."""
    left = _statutory_left_working(rows.values_list("date", "is_workday"))
    if left:
        raise ValidationError(_("法定节假日 %(dates)s 被标为工作日：请在“录入官方安排”页面填写理由后确认。")
                              % {"dates": "、".join(d.isoformat() for d in left)})
    years = {d.year for d in rows.dates("date", "year")}
    n = rows.update(confirmed=True)
    for year in sorted(years):
        if year_confirmed(year):
            calendar_confirmed.send(sender=WorkCalendar, year=year)
    return n


@transaction.atomic
def calendar_year_confirm(*, year: int, table: dict, actor=None, source_name: str = "", source_text: str = "",
                          override_reason: str = "") -> CalendarConfirmation:
    """Confirm ``year`` in one action from an official schedule (``table``: date →
    (is_workday, holiday_name) for every date of the year, ``notice.Schedule.table()``).

    Every difference from the statutory rules is recorded; a statutory holiday left as a
    working day is refused unless ``override_reason`` says why. The year's rows are replaced
    by the administrator's (source ``admin``, confirmed) and ``calendar_confirmed`` is sent."""
    length = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
    if len(table) != length or any(day.year != year for day in table):
        raise ValidationError(_("%(year)s 年的日历必须逐日完整。") % {"year": year})
    comparison = holidays.compare_with_rules(year, table)
    overridden = [row["date"].isoformat() for row in comparison if row["statutory_left_working"]]
    override_reason = override_reason.strip()
    if overridden and not override_reason:
        raise ValidationError({"override_reason": _(
            "法定节假日 %(dates)s 在录入的安排中是工作日：如确属国务院通知的安排，请填写理由后再确认。")
            % {"dates": "、".join(overridden)}})
    WorkCalendar.objects.filter(date__year=year).delete()
    WorkCalendar.objects.bulk_create([
        WorkCalendar(date=day, is_workday=workday, holiday_name=name[:64], source=WorkCalendar.Source.ADMIN,
                     confirmed=True)
        for day, (workday, name) in sorted(table.items())])
    confirmation = CalendarConfirmation.objects.create(
        year=year, confirmed_by=actor if actor is not None and actor.is_authenticated else None,
        source_name=source_name[:200], source_text=source_text, override_reason=override_reason if overridden else "",
        overridden=overridden,
        differences=[{"date": row["date"].isoformat(), "rules": row["rules_name"] or None,
                      "rules_workday": row["rules_workday"], "official": row["official_name"] or None,
                      "official_workday": row["official_workday"]} for row in comparison if row["differs"]])
    calendar_confirmed.send(sender=WorkCalendar, year=year)
    return confirmation


def calendar_sync() -> dict:
    """The nightly job: import new package years, then check that the calendar is confirmed
    for this year and, from November 1, the next one. While one is provisional, the command
    group and the administrators are told once a week through the outbox
    (``calendar_reminder``; deadlines/receivers.py writes the deliveries, once per week)."""
    imported = calendar_import_package_years()
    today = timezone.localdate()
    missing = years_to_enter(today)
    if missing:
        years = "、".join(str(y) for y in missing)
        subject = _("工作日历：%(years)s 年仍为暂定") % {"years": years}
        text = _("%(years)s 年的工作日历尚未按国务院办公厅的放假安排通知确认，目前按法定节假日规则暂定"
                 "（含补假，无调休上班日），据此计算的期限标为“暂定”。请管理员在管理后台“工作日历 → "
                 "录入官方安排”中粘贴通知条目或上传 CSV/ICS 文件并确认：%(url)s") % {
                     "years": years, "url": settings.SITE_URL.rstrip("/") + CALENDAR_ADMIN_PATH}
        log.warning(text)
        iso = today.isocalendar()
        calendar_reminder.send(sender=WorkCalendar, year=missing[-1], subject=subject, text=text,
                               key=f"calendar:{'-'.join(map(str, missing))}:{iso.year}-W{iso.week:02d}")
    return {"imported": imported, "missing": missing}


CALENDAR_ADMIN_PATH = "/admin/organization/workcalendar/official/"


# --- The organisation workbook (issue 16) -----------------------------------------------------

ONE_TIME_HASHER = "pbkdf2_sha256_otp"  # organization/hashers.py


@dataclasses.dataclass
class ImportResult:
    changes: list[str]  # what the import changes (or changed), in Chinese
    errors: list[str]  # every row's error; with any, nothing changes
    passwords: dict[str, str]  # new username → one-time password (only when applied)
    applied: bool


class _DryRun(Exception):
    pass


def one_time_password(user: User) -> str:
    """Give ``user`` a fresh one-time password (returned once, never stored in clear) that
    must be changed at the next login (``organization.middleware``)."""
    password = secrets.token_urlsafe(9)
    hasher = ONE_TIME_HASHER if ONE_TIME_HASHER in get_hashers_by_algorithm() else "default"
    user.set_password(password)  # also leaves the raw password for the demo-password verdict
    user.password = make_password(password, hasher=hasher)
    user.must_change_password = True
    return password


@transaction.atomic
def user_one_time_password(*, user: User) -> str:
    """Reset ``user``'s password to a one-time password (shown once to the administrator)."""
    password = one_time_password(user)
    user.save(update_fields=["password", "must_change_password"])
    return password


def organization_import(*, data: bytes, actor=None, dry_run: bool = True) -> ImportResult:
    """Import the organisation workbook (``workbook.read``) in one transaction: sections and
    bodies created or renamed (never deleted), people created (with a one-time password),
    updated (name, phone, e-mail, sections, bodies, roles) or re-activated, and active people
    missing from the workbook deactivated (never deleted; superusers, service accounts and the
    importing administrator are left alone). With any row in error nothing changes. A dry run
    reports the same changes and rolls them back. Importing the same workbook again changes
    nothing."""
    book = workbook.read(data)
    if book.errors:
        return ImportResult([], book.errors, {}, False)
    result = ImportResult([], [], {}, False)
    try:
        with transaction.atomic():
            _import(book, actor, result, dry_run)
            if dry_run:
                raise _DryRun
    except _DryRun:
        result.passwords = {}
    else:
        result.applied = True
    return result


def _import(book, actor, result: ImportResult, dry_run: bool) -> None:
    say = result.changes.append
    sections = {s.code: s for s in Section.objects.all()}
    for code, (name, order) in book.sections.items():
        section = sections.get(code)
        if section is None:
            sections[code] = section_ensure(code=code, name=name, order=order)
            say(_("新增股室 %(code)s（%(name)s）") % {"code": code, "name": name})
        elif (section.name, section.order) != (name, order):
            say(_("修改股室 %(code)s：%(old)s → %(new)s") % {"code": code, "old": section.name, "new": name})
            section.name, section.order = name, order
            section.save(update_fields=["name", "order"])
    bodies = {b.code: b for b in Body.objects.all()}
    for code, name in book.bodies.items():
        body = bodies.get(code)
        if body is None:
            bodies[code] = Body.objects.create(code=code, name=name)
            say(_("新增机构 %(code)s（%(name)s）") % {"code": code, "name": name})
        elif body.name != name:
            say(_("修改机构 %(code)s：%(old)s → %(new)s") % {"code": code, "old": body.name, "new": name})
            body.name = name
            body.save(update_fields=["name"])
    groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
    users = {u.username: u for u in User.objects.prefetch_related(
        "section_memberships__section", "body_memberships__body", "groups")}
    for person in book.people.values():
        user = users.get(person.username)
        what = []
        if user is None:
            user = User(username=person.username)
            if not dry_run:
                result.passwords[person.username] = one_time_password(user)
            else:
                user.set_unusable_password()
            current_sections, current_bodies, current_roles = {}, set(), set()
        else:
            current_sections = {m.section.code: m.is_head for m in user.section_memberships.all()}
            current_bodies = {m.body.code for m in user.body_memberships.all()}
            current_roles = {g.name for g in user.groups.all()} & set(Role.values)
        fields = {"full_name": person.full_name, "phone": person.phone, "email": person.email, "is_active": True}
        labels = {"full_name": _("姓名"), "phone": _("电话"), "email": _("电子邮件"), "is_active": _("启用")}
        changed = [f for f, v in fields.items() if getattr(user, f) != v]
        for f in changed:
            setattr(user, f, fields[f])
        new = user.pk is None
        if new or changed:
            user.save()
        what += [str(labels[f]) for f in changed if not new]
        wanted_sections = {**dict.fromkeys(person.sections, False), **dict.fromkeys(person.heads, True)}
        if wanted_sections != current_sections:
            what.append(str(_("股室")))
            for code in current_sections.keys() - wanted_sections.keys():
                section_remove_member(section=sections[code], user=user)
            for code, head in wanted_sections.items():
                if current_sections.get(code) != head:
                    section_add_member(section=sections[code], user=user, head=head)
        if set(person.bodies) != current_bodies:
            what.append(str(_("机构")))
            for code in current_bodies - set(person.bodies):
                body_remove_member(body=bodies[code], user=user)
            for code in set(person.bodies) - current_bodies:
                body_add_member(body=bodies[code], user=user)
        wanted_roles = set(person.roles) | ({Role.SECTION_HEAD} if person.heads else set()) | (
            {Role.SECTION_STAFF} if person.sections else set())
        if wanted_roles != current_roles:
            what.append(str(_("角色")))
            user.groups.remove(*[groups[r] for r in current_roles - wanted_roles if r in groups])
            user.groups.add(*[groups[r] for r in wanted_roles - current_roles if r in groups])
        if new:
            say(_("新增人员 %(username)s（%(name)s）") % {"username": user.username, "name": user.full_name})
        elif what:
            say(_("修改人员 %(username)s：%(what)s") % {"username": user.username, "what": "、".join(what)})
    keep = {actor.pk} if actor is not None and actor.pk else set()
    for user in users.values():
        if (user.username not in book.people and user.is_active and not user.is_superuser
                and not user.is_service_account and user.pk not in keep):
            user.is_active = False
            user.save(update_fields=["is_active"])
            say(_("停用人员 %(username)s（%(name)s）") % {"username": user.username, "name": user.full_name})
