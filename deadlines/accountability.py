"""Who owed what and how it went (R41): per section, per body and per person.

Read-only. The figures are sums of the per-day and per-month tallies (deadlines/tallies.py:
kept by database triggers, so they cannot drift from the rows), plus ``overdue`` counted live
from the open rows; a report costs the same four queries for any period and any number of
deadlines (the units, the tallies, the overdue, the people with their memberships).

Definitions
-----------
- A deadline counts for its owner: the section (``owner_section``) or, for a body-owned
  deadline, the body (``owner_body``); bodies are rows too (``command``, ``level1`` …).
- Cancelled deadlines (their cause lapsed) are not owed and appear nowhere.
- ``waived`` deadlines were owed and released by the command group at closing, with a
  reason (API.md v1.1): counted in ``owed`` and shown as ``waived``, never in the rate.
- ``owed`` = every other deadline in the period = ``met + late + missed + open + waived``.
- ``open`` = not yet met and not (yet) found missed; it is never counted as missed.
  ``overdue`` is the part of ``open`` already past its due time when the report is made
  (the sweep turns it into ``missed`` once the hard due time passes).
- ``on_time_rate`` = ``met / (met + late + missed)``; ``None`` when that is 0.
- A person: ``met`` and ``late`` are the deadlines they met themselves (``met_by``);
  ``owed``, ``missed``, ``open`` and ``overdue`` are those of the sections and bodies they
  belong to. So a person's row shows what their units owed and what they themselves did.
- The period filters on ``due_at`` by local (``TIME_ZONE``, Asia/Shanghai) dates, both ends
  inclusive; either end may be left open.
"""

import dataclasses
import datetime as dt

from django import forms
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents import permissions as perms
from organization.models import Body, Section, User
from organization.selectors import all_units, units_of
from organization.validators import validate_date_in_range
from sentiment_ops.exceptions import Forbidden

from . import tallies
from .models import Deadline, DeadlineState

COUNTED = (DeadlineState.MET, DeadlineState.LATE, DeadlineState.MISSED, DeadlineState.OPEN, DeadlineState.WAIVED)


# --- rows --------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, kw_only=True)
class Figures:
    owed: int = 0
    met: int = 0
    late: int = 0
    missed: int = 0
    open: int = 0
    overdue: int = 0
    waived: int = 0

    @property
    def done(self) -> int:
        """The deadlines whose outcome is known: met on time, late or missed."""
        return self.met + self.late + self.missed

    @property
    def on_time_rate(self) -> float | None:
        return round(self.met / self.done, 4) if self.done else None

    def figures(self) -> dict:
        return {"owed": self.owed, "met": self.met, "late": self.late, "missed": self.missed,
                "open": self.open, "overdue": self.overdue, "waived": self.waived, "on_time_rate": self.on_time_rate}


@dataclasses.dataclass(frozen=True, kw_only=True)
class UnitRow(Figures):
    kind: str  # "section" | "body"
    code: str
    name: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "code": self.code, "name": self.name, **self.figures()}


@dataclasses.dataclass(frozen=True, kw_only=True)
class PersonRow(Figures):
    username: str
    full_name: str

    def as_dict(self) -> dict:
        return {"username": self.username, "full_name": self.full_name, **self.figures()}


@dataclasses.dataclass(frozen=True)
class Report:
    sections: list[UnitRow]
    people: list[PersonRow]

    def as_dict(self) -> dict:
        return {"sections": [r.as_dict() for r in self.sections], "people": [r.as_dict() for r in self.people]}


# --- who may see which rows --------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Scope:
    """``everything``: all rows. Otherwise the rows of ``codes`` (the caller's own sections
    and bodies) and the caller's own person row."""

    everything: bool
    codes: frozenset[str] = frozenset()
    user_id: int | None = None


def scope_for(user) -> Scope | None:
    """Command group, leadership, the auditor and superusers see every row; a member (or head)
    of a section or body sees that unit's rows and their own row; anyone else nothing (None)."""
    if not user.is_authenticated:
        return None
    if user.is_superuser or perms.is_command(user) or perms.is_leadership(user) or perms.is_auditor(user):
        return Scope(everything=True)
    codes = frozenset(unit.code for unit in units_of(user))
    if not codes:
        return None
    return Scope(everything=False, codes=codes, user_id=user.pk)


# --- filters -----------------------------------------------------------------------------

def period_bounds(start: dt.date | None, end: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Local dates → [lower, upper) aware datetimes in the project's time zone."""
    tz = timezone.get_default_timezone()
    lower = dt.datetime.combine(start, dt.time.min, tzinfo=tz) if start else None
    upper = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz) if end else None
    return lower, upper


FIGURES = ("owed", "met", "late", "missed", "open", "overdue", "waived")


@dataclasses.dataclass(frozen=True)
class Unit:
    kind: str  # "section" | "body"
    pk: int
    code: str
    name: str


def units() -> list[Unit]:
    """Every section (in their order) then every body (by code): one query. A caller that
    also lists them (the page's unit choices) passes them to ``report_for``."""
    return [Unit(*row) for row in all_units()]


def live_counts(start, end, *, states, sections=None, bodies=None):
    """What ``tallies.counts`` returns, counted from the deadlines themselves: the reference the
    summary must equal (tests/test_accountability_tallies.py), reading every row of the period."""
    qs = Deadline.objects.filter(_period_q(start, end), state__in=states)
    if sections is not None or bodies is not None:
        qs = qs.filter(Q(owner_section__in=list(sections or ())) | Q(owner_body__in=list(bodies or ())))
    rows = qs.order_by().values_list("owner_section", "owner_body", "met_by", "state").annotate(n=Count("id"))
    return [(section or 0, body or 0, met_by or 0, state, n) for section, body, met_by, state, n in rows]


def _period_q(start, end) -> Q:
    """Due from ``start`` to ``end``: local dates, both inclusive, either open."""
    lower, upper = period_bounds(start, end)
    q = Q()
    if lower:
        q &= Q(due_at__gte=lower)
    if upper:
        q &= Q(due_at__lt=upper)
    return q


def _overdue(start, end, units: list[Unit], owners) -> dict[tuple[str, int], int]:
    """Open and past due, per unit: the one figure that changes with the clock, counted live
    from the open rows' index (``deadline_open_due``, index-only). Written out: the page's
    hot path."""
    lower, upper = period_bounds(start, end)
    adapt = connection.ops.adapt_datetimefield_value
    where, params = ["state = %s", "due_at < %s"], [DeadlineState.OPEN, adapt(timezone.now())]
    for condition, bound in (("due_at >= %s", lower), ("due_at < %s", upper)):
        if bound:
            where.append(condition)
            params.append(adapt(bound))
    if owners is not None:
        sections = [u.pk for u in units if u.kind == "section"] or [-1]
        bodies = [u.pk for u in units if u.kind == "body"] or [-1]
        where.append(f"(owner_section_id IN ({', '.join(['%s'] * len(sections))}) "
                     f"OR owner_body_id IN ({', '.join(['%s'] * len(bodies))}))")
        params += [*sections, *bodies]
    overdue: dict[tuple[str, int], int] = {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT owner_section_id, owner_body_id, COUNT(*) FROM {Deadline._meta.db_table} "
                       f"WHERE {' AND '.join(where)} GROUP BY owner_section_id, owner_body_id", params)
        for section, body, n in cursor.fetchall():
            for key in (("section", section), ("body", body)):
                if key[1] is not None:
                    overdue[key] = overdue.get(key, 0) + n
    return overdue


# --- the report --------------------------------------------------------------------------

def _figures(start, end, owners: list[str] | None, counts,
             every: list[Unit] | None = None) -> tuple[list[UnitRow], dict[int, dict]]:
    """The unit rows (zeros included) and what each person met (``met_by`` → met, late) of the
    deadlines due in the period, of ``owners`` when given. The one place a state becomes a
    figure. ``counts``: ``tallies.counts`` (the summary) or ``live_counts``; ``every``: the
    units, when the caller has them."""
    shown = [u for u in every or units() if owners is None or u.code in owners]
    ids = None
    if owners is not None:
        ids = {"sections": [u.pk for u in shown if u.kind == "section"],
               "bodies": [u.pk for u in shown if u.kind == "body"]}
    figures = {(u.kind, u.pk): dict.fromkeys(FIGURES, 0) for u in shown}
    did: dict[int, dict] = {}
    totals: dict[tuple, int] = {}  # the summary's rows and the log's may share a key
    for *key, n in counts(start, end, states=COUNTED, **(ids or {})):
        totals[tuple(key)] = totals.get(tuple(key), 0) + n
    for (section, body, met_by, state), n in totals.items():
        if not n:
            continue
        # A deadline counts for its section and for its body (one of them, in practice).
        for key in (("section", section), ("body", body)):
            mine = figures.get(key) if key[1] else None
            if mine is not None:
                mine["owed"] += n
                mine[state] += n
        if met_by:
            mine = did.setdefault(met_by, {"met": 0, "late": 0})
            if state in mine:
                mine[state] += n
    for key, n in _overdue(start, end, shown, owners).items():
        if key in figures:
            figures[key]["overdue"] += n
    return [UnitRow(kind=u.kind, code=u.code, name=u.name, **figures[(u.kind, u.pk)]) for u in shown], did


def _people(units: list[UnitRow], did: dict[int, dict], *, owners: list[str] | None,
            user_ids: list[int] | None) -> list[PersonRow]:
    """Active members of the units (of ``owners`` when given) and whoever met one of their
    deadlines, or just ``user_ids``: one query (each person with their memberships). A
    person's owed, missed, open, overdue and waived are the sums of their units' rows (of
    ``owners``: ``units``); each deadline has one owner, so none counts twice."""
    if user_ids is not None:
        did = {pk: v for pk, v in did.items() if pk in user_ids}
        people = User.objects.filter(pk__in=user_ids)
    else:
        people = User.objects.filter(Q(section_memberships__isnull=False) | Q(body_memberships__isnull=False)
                                     | Q(pk__in=list(did)))
    rows = people.order_by("username").values_list("pk", "username", "full_name", "is_active",
                                                   "section_memberships__section__code", "body_memberships__body__code")
    figures_of = {row.code: row for row in units}
    seen: dict[int, tuple[str, str, bool, set]] = {}
    for pk, username, full_name, is_active, section, body in rows:
        codes = seen.setdefault(pk, (username, full_name, is_active, set()))[3]
        codes.update(code for code in (section, body) if code is not None and (owners is None or code in owners))
    result = []
    for pk, (username, full_name, is_active, codes) in seen.items():
        if user_ids is None and not (is_active and codes) and pk not in did:
            continue  # a member only of units not asked for, or inactive, who met none of them
        mine = dict.fromkeys(FIGURES, 0)
        for code in codes:
            row = figures_of.get(code)
            for name in FIGURES if row is not None else ():
                mine[name] += getattr(row, name)
        result.append(PersonRow(username=username, full_name=full_name,
                                **{**mine, **did.get(pk, {"met": 0, "late": 0})}))
    return result


def report(*, scope: Scope, start: dt.date | None = None, end: dt.date | None = None,
           owner: str | None = None, counts=tallies.counts, every: list[Unit] | None = None) -> Report:
    """The rows ``scope`` may see, for deadlines due from ``start`` to ``end`` (local dates,
    inclusive), of the unit ``owner`` (a section or body code) when given. Four queries
    whatever the period (three with ``every``, the units): the units, the summary, the
    overdue, the people with their memberships."""
    owners = None if owner is None else [owner]
    units, did = _figures(start, end, owners, counts, every)
    if scope.everything:
        return Report(units, _people(units, did, owners=owners, user_ids=None))
    # The caller's units, and the caller's own row: what they met of ``owners``' deadlines.
    units = [row for row in units if row.code in scope.codes]
    return Report(units, _people(units, did, owners=owners, user_ids=[scope.user_id]))


def report_for(user, *, start: dt.date | None = None, end: dt.date | None = None, owner: str | None = None,
               scope: Scope | None = None, every: list[Unit] | None = None) -> Report:
    """The report ``user`` may see (``scope``: theirs, when the caller has it already). Refused
    (Forbidden) to whoever may see no figures, and for a unit outside the user's own."""
    scope = scope or scope_for(user)
    if scope is None:
        raise Forbidden(_("您无权查看问责统计。"))
    if owner and not scope.everything and owner not in scope.codes:
        raise Forbidden(_("您只能查看本人所在股室或机构的问责统计。"))
    return report(scope=scope, start=start, end=end, owner=owner, every=every)


# --- the query string --------------------------------------------------------------------

class AccountabilityFilter(forms.Form):
    """``from``/``to`` (YYYY-MM-DD, inclusive) and ``section`` (a section or body code): the
    same input for the API and the admin page. ``from`` is a Python keyword, hence __init__."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from"] = forms.DateField(label=_("起始日期"), required=False, input_formats=["%Y-%m-%d"],
                                              validators=[validate_date_in_range], widget=forms.DateInput(attrs={"type": "date"}))
        self.fields["to"] = forms.DateField(label=_("截止日期"), required=False, input_formats=["%Y-%m-%d"],
                                            validators=[validate_date_in_range], widget=forms.DateInput(attrs={"type": "date"}))
        self.fields["section"] = forms.CharField(label=_("股室或机构代码"), required=False, max_length=32)
        self.order_fields(["from", "to", "section"])

    def clean_section(self):
        code = self.cleaned_data.get("section") or None
        if code and not (Section.objects.filter(code=code).exists() or Body.objects.filter(code=code).exists()):
            raise forms.ValidationError(_("没有代码为“%(code)s”的股室或机构。"), params={"code": code})
        return code

    def clean(self):
        data = super().clean()
        if data.get("from") and data.get("to") and data["from"] > data["to"]:
            self.add_error("to", _("截止日期不能早于起始日期。"))
        return data
