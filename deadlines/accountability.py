"""Who owed what and how it went (R41): per section, per body and per person.

Read-only. Every figure is a database aggregate over ``Deadline`` rows, so a report costs the
same few queries whatever the number of deadlines (sections, bodies, what each person met,
what each person's units owed, and the people themselves).

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
from collections.abc import Iterable

from django import forms
from django.db.models import Count, FilteredRelation, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents import permissions as perms
from organization.models import Body, BodyMembership, Section, SectionMembership, User
from organization.selectors import units_of
from organization.validators import validate_date_in_range
from sentiment_ops.exceptions import Forbidden

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


def _deadline_q(prefix: str, start, end, owners: Iterable[str] | None) -> Q:
    """The counted deadlines (not cancelled, due in the period, of ``owners``), seen from a
    model that reaches ``Deadline`` through ``prefix`` (e.g. ``"deadlines__"``)."""
    lower, upper = period_bounds(start, end)
    q = Q(**{f"{prefix}state__in": COUNTED})
    if lower:
        q &= Q(**{f"{prefix}due_at__gte": lower})
    if upper:
        q &= Q(**{f"{prefix}due_at__lt": upper})
    if owners is not None:
        owners = list(owners)
        q &= Q(**{f"{prefix}owner_section__code__in": owners}) | Q(**{f"{prefix}owner_body__code__in": owners})
    return q


FIGURES = ("owed", "met", "late", "missed", "open", "overdue", "waived")


def _pick(values: dict, names=FIGURES) -> dict:
    return {n: values.get(n) or 0 for n in names}


# --- the report --------------------------------------------------------------------------

def unit_rows(*, start=None, end=None, owners: Iterable[str] | None = None) -> list[UnitRow]:
    """Sections (in their order) then bodies (by code), zeros included: two queries. The
    period and the counted states are the JOIN's condition (a FilteredRelation), so each unit
    reads only its deadlines of the period, from the (owner, due_at, state) index."""
    now = timezone.now()
    rows = []
    for kind, model, order in (("section", Section, ("order", "code")), ("body", Body, ("code",))):
        qs = model.objects.order_by(*order)  # Meta.ordering does not apply to GROUP BY queries
        if owners is not None:
            qs = qs.filter(code__in=list(owners))
        # A FilteredRelation is resolved against one model: a fresh one per model.
        counted = FilteredRelation("deadlines", condition=_deadline_q("deadlines__", start, end, None))
        # One COUNT per (unit, state) rather than six filtered COUNTs per unit: the aggregate
        # over a long period costs a third; the figures are summed here.
        qs = qs.annotate(counted=counted).values("code", "name", "counted__state").annotate(
            n=Count("counted__state"), overdue=Count("counted__state", filter=Q(counted__due_at__lt=now)))
        figures: dict[tuple[str, str], dict] = {}
        for values in qs:
            mine = figures.setdefault((values["code"], values["name"]), dict.fromkeys(FIGURES, 0))
            state = values["counted__state"]
            if state is None:  # a unit that owed nothing in the period: the LEFT JOIN's empty row
                continue
            mine["owed"] += values["n"]
            mine[state] += values["n"]
            if state == DeadlineState.OPEN:
                mine["overdue"] += values["overdue"]
        rows += [UnitRow(kind=kind, code=code, name=name, **f) for (code, name), f in figures.items()]
    return rows


def person_rows(*, start=None, end=None, owners: Iterable[str] | None = None,
                user_ids: Iterable[int] | None = None, units: list[UnitRow] | None = None) -> list[PersonRow]:
    """Members of the units (of ``owners`` when given) and whoever met one of their
    deadlines, or just ``user_ids``: three queries (plus ``unit_rows``' two unless ``units``,
    the unit rows of the same period and owners, are given)."""
    owners = None if owners is None else list(owners)
    user_ids = None if user_ids is None else list(user_ids)
    counted = Deadline.objects.filter(_deadline_q("", start, end, owners))

    # What each person met themselves.
    done = counted.filter(met_by__isnull=False)
    if user_ids is not None:
        done = done.filter(met_by__in=user_ids)
    did = {v["met_by"]: v for v in done.order_by().values("met_by").annotate(
        met=Count("state", filter=Q(state=DeadlineState.MET)),  # index-only: (met_by, due_at, state)
        late=Count("state", filter=Q(state=DeadlineState.LATE)))}

    # What each person's sections and bodies owed: the sum of their units' rows (a deadline
    # has exactly one owner, so summing over a person's units counts each deadline once).
    if units is None:
        units = unit_rows(start=start, end=end, owners=owners)
    figures_of = {row.code: row for row in units}
    memberships = []
    for membership, unit in ((SectionMembership, "section"), (BodyMembership, "body")):
        qs = membership.objects.order_by()
        if owners is not None:
            qs = qs.filter(**{f"{unit}__code__in": owners})
        if user_ids is not None:
            qs = qs.filter(user__in=user_ids)
        memberships.append(qs.values_list("user_id", f"{unit}__code"))
    owed: dict[int, dict] = {}
    for user_id, code in memberships[0].union(memberships[1], all=True):
        mine = owed.setdefault(user_id, dict.fromkeys(FIGURES, 0))
        for name in FIGURES:
            mine[name] += getattr(figures_of[code], name) if code in figures_of else 0

    if user_ids is not None:
        people = User.objects.filter(pk__in=user_ids)
    else:
        in_units = Q(section_memberships__isnull=False) | Q(body_memberships__isnull=False)
        if owners is not None:
            in_units = (Q(pk__in=SectionMembership.objects.filter(section__code__in=owners).values("user"))
                        | Q(pk__in=BodyMembership.objects.filter(body__code__in=owners).values("user")))
        # Whoever met one of the deadlines is already a key of ``did``: no second scan of them.
        people = User.objects.filter((in_units & Q(is_active=True)) | Q(pk__in=list(did)))
    rows = []
    for pk, username, full_name in people.distinct().order_by("username").values_list("pk", "username", "full_name"):
        figures = {**_pick(owed.get(pk, {})), **_pick(did.get(pk, {}), ("met", "late"))}
        rows.append(PersonRow(username=username, full_name=full_name, **figures))
    return rows


def report(*, scope: Scope, start: dt.date | None = None, end: dt.date | None = None,
           owner: str | None = None) -> Report:
    """The rows ``scope`` may see, for deadlines due from ``start`` to ``end`` (local dates,
    inclusive), of the unit ``owner`` (a section or body code) when given."""
    owners = None if owner is None else [owner]
    if scope.everything:
        units = unit_rows(start=start, end=end, owners=owners)
        return Report(units, person_rows(start=start, end=end, owners=owners, units=units))
    visible = scope.codes if owners is None else scope.codes.intersection(owners)
    units = unit_rows(start=start, end=end, owners=visible)
    # The caller's own units are ``visible`` (their memberships, narrowed to ``owners``).
    return Report(units, person_rows(start=start, end=end, owners=owners, user_ids=[scope.user_id], units=units))


def report_for(user, *, start: dt.date | None = None, end: dt.date | None = None, owner: str | None = None,
               scope: Scope | None = None) -> Report:
    """The report ``user`` may see (``scope``: theirs, when the caller has it already). Refused
    (Forbidden) to whoever may see no figures, and for a unit outside the user's own."""
    scope = scope or scope_for(user)
    if scope is None:
        raise Forbidden(_("您无权查看问责统计。"))
    if owner and not scope.everything and owner not in scope.codes:
        raise Forbidden(_("您只能查看本人所在股室或机构的问责统计。"))
    return report(scope=scope, start=start, end=end, owner=owner)


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
