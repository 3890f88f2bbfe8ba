"""The home page ``/``: one part per role of the user, in the order in which the work waits
for them — a decision body's 待审批, the command group's queue, the duty officer's intake,
what the user's sections owe, the auditor's closed cases. Each part shows counts and the top few
of its lists, each count linking to the whole list; a list and its count come from one query
(a window count) — the counts of the command group's and the leader's lists (待研判, the deadline
watch, the running responses), which would read every row they count, ride the navigation's
capped counting query instead ("99+") — so each home runs the same queries whatever the number
of incidents."""

from django.db import connection
from django.db.models import Count, Window
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone

from deadlines import selectors as deadline_reads
from deadlines.models import Deadline, Heartbeat
from deadlines.policy import sweep_stale
from early_warnings.selectors import unsigned_receipts
from incidents import permissions as perms
from incidents.models import Incident, State
from incidents.selectors import awaiting_judgment, content_flag, visible
from organization import policy_defaults
from organization.calendar import provisional_banner
from organization.models import Role
from organization.selectors import identity_key, stable_days_target, units_of
from responses.models import Response, ResponseState
from responses.selectors import waiting_keys
from sentiment_ops import prepared

from . import nav
from .templatetags.workplace import urgency

TOP = 8  # the most urgent (or newest) few of each list; its count links to the rest
RUNNING = [ResponseState.ACTIVE, ResponseState.LIFT_PROPOSED]


def _counted(key, user, build, now=None) -> tuple[list, int]:
    """The first ``TOP`` incidents of ``build(now)``, each with the link to its case
    (``detail_url``, reversed once for the list), and the number of all of them, in one query
    whose SQL is compiled once per process for ``key`` and the user's identity
    (sentiment_ops.prepared: ``build`` is of a shape fixed by them)."""
    rows = _linked(_first(key, user, lambda when: build(when).annotate(total_rows=Window(Count("pk"))), now))
    return rows, (rows[0].total_rows if rows else 0)


def _linked(incidents: list) -> list:
    """The incidents, each with the link to its case (``detail_url``, reversed once for the list)."""
    detail = _urls("incident_detail")
    for incident in incidents:
        incident.detail_url = detail(incident.pk)
    return incidents


def _first(key, user, build, now=None) -> list:
    """The first ``TOP`` rows of ``build(now)`` (see ``_counted``)."""
    return prepared.rows(("workplace.home", key, TOP, identity_key(user)), lambda when: build(when)[:TOP], now)


def _running(user, levels=None):
    """Open incidents whose response runs (at ``levels`` if given), lowest level number first."""
    qs = (visible(user).exclude(state=State.CLOSED).filter(response__state__in=RUNNING)
          .select_related("response").annotate(content_ok=content_flag(user),
                                               needed_days=stable_days_target("response__level")))
    if levels is not None:
        qs = qs.filter(response__level__in=levels)
    return qs.order_by("response__level", "-reported_at", "-id")


def _running_first(user, levels=None):
    """``_running(user, levels)``'s first ``TOP``, in one query that reads them level by level:
    the newest ``TOP`` of each level (a walk of the open incidents in report order, or of the
    level's running responses — ``response_running_level`` — whichever is fewer), then those few
    sorted. The order mixes the responses' level with the incidents' report time, which no
    index serves: sorted at once, it joined every open incident to every running response."""
    # A running response's level is one of the policy's: a body of that level approved it (R30).
    newest = [_running(user, [level]).order_by("-reported_at", "-id").values("pk")[:TOP]
              for level in sorted(levels or policy_defaults.LEVELS)]
    return _running(user, levels).filter(pk__in=_keys_of(*newest))


def _keys_of(*querysets) -> RawSQL:
    """The primary keys of ``querysets`` (each selecting its key as ``pk``, sliced and ordered
    as it is), as one subquery: ``UNION ALL`` of each run as it stands, so that
    PostgreSQL reads each one's few rows from its own index before the outer query joins them,
    instead of planning the whole filter at once."""
    parts, params = [], []
    for queryset in querysets:
        sql, part_params = queryset.query.sql_with_params()
        parts.append(f"SELECT part.{connection.ops.quote_name('pk')} FROM ({sql}) part")
        params.extend(part_params)
    return RawSQL(" UNION ALL ".join(parts), params)


def _urls(name: str, *after):
    """``reverse(name, args=[pk, *after])`` for the rows of a list: reversed once, with a
    marker where the pk goes (an ``int`` converter prints the pk as it is)."""
    marker = "2147483647"
    head, tail = reverse(name, args=[int(marker), *after]).split(marker)
    return lambda pk: f"{head}{int(pk)}{tail}"


def _shown(deadlines: list, now) -> list:
    """The deadlines with what their rows print (workplace/home/_deadline_item.html) computed
    once each, not by the template's tags and filters: the kind's label (``get_kind_display``
    rebuilds the choices on every call), the time due in the current time zone (as the
    ``date`` filter prints it: "m-d H:i" and ISO 8601), the urgency colour at ``now`` (the
    ``urgency`` filter's rule) and the links to the case and its zero report."""
    labels = dict(Deadline._meta.get_field("kind").flatchoices)
    detail, report = _urls("incident_detail"), _urls("incident_action", "report")
    for d in deadlines:
        due = timezone.localtime(d.due_at)
        d.kind_label = labels.get(d.kind, d.kind)
        d.due_label, d.due_iso = due.strftime("%m-%d %H:%M"), due.isoformat()
        d.urgency = urgency(d.due_at, now)
        d.detail_url, d.report_url = detail(d.incident_id), report(d.incident_id)
    return deadlines


def _waiting_rows(user, levels, read) -> list:
    """The first ``TOP`` responses waiting at ``levels`` (every level when None), as
    ``read(keys)`` gives them (a queryset filtered by ``keys``, in the keys' order), in one
    query: the keys are ``responses.selectors.waiting_keys``' first ``TOP`` (read from the
    waiting rows' own indexes), as its subquery."""
    return _first(("waiting", levels and tuple(levels)), user,
                  lambda _when: read(_keys_of(waiting_keys(user, levels)[:TOP])))


def leader_part(request, levels):
    """待审批 first, then the running responses at the user's levels (every level for
    leadership without a body)."""
    user = request.user
    # The first few waiting keys (from the waiting rows' own indexes), then only what the part
    # shows of each (its incident, its proposal's level): the approvals page's eight joins cost
    # more to plan (3 ms) than to run.
    waiting = _waiting_rows(user, levels, lambda keys: Response.objects.filter(pk__in=keys).select_related(
        "incident", "proposal").annotate(content_ok=content_flag(user, "incident_id"))
        .order_by("incident__reported_at", "incident_id")) if levels else []
    running = _linked(_first(("running", tuple(levels)), user, lambda _when: _running_first(user, levels or None)))
    counts = nav.badges(request, also=(("leader", tuple(levels)),
                                       lambda _when: {"running": _running(user, levels or None)}))  # capped
    return {"approvals": waiting, "approvals_count": counts["approvals"],
            "levels": levels, "responses": running, "responses_count": counts["running"]}


def command_part(request, now):
    """待研判, what is overdue and due soon, proposals waiting for a body, running responses."""
    user = request.user
    to_judge = _linked(_first("to_judge", user, lambda _when: awaiting_judgment(user)))
    urgent = _shown(_first("urgent", user, lambda when: deadline_reads.urgent(user, when), now), now)
    due = nav.badges(request, also=("urgent", lambda when: {**deadline_reads.urgent_parts(user, when),
                                                            "waiting": waiting_keys(user, ordered=False),
                                                            "to_judge": awaiting_judgment(user),
                                                            "running": _running(user)}),
                     now=now)  # counted with the badges
    waiting = _waiting_rows(user, None, lambda keys: Incident.objects.filter(response__pk__in=keys).select_related(
        "response", "response__proposal").annotate(content_ok=content_flag(user)).order_by("reported_at", "pk"))
    _linked(waiting)
    running = _linked(_first("running", user, lambda _when: _running_first(user)))
    last_sweep = Heartbeat.last("sweep")
    return {
        "to_judge": to_judge, "to_judge_count": due["to_judge"],
        "overdue": [d for d in urgent if d.due_at < now], "overdue_count": due["overdue"],
        "due_soon": [d for d in urgent if d.due_at >= now], "due_soon_count": due["due_soon"],
        "waiting": waiting, "waiting_count": due["waiting"],
        "responses": running, "responses_count": due["running"],
        "last_sweep": last_sweep, "sweep_stale": sweep_stale(last_sweep, now),
    }


def section_part(request, now, *, owed=True):
    """What the user's sections (and bodies) owe now, soonest first, and the notices to sign;
    the counts are the navigation's. Without ``owed`` (the command group, whose deadline
    watch above lists every deadline) only the notices to sign."""
    user = request.user
    badges = nav.badges(request)
    mine = perms.user_section_ids(user)
    owed = _shown(_first("owed", user, lambda _when: deadline_reads.owed_by(user)), now) if owed else None
    for d in owed or []:
        d.zero_ok = d.kind == "status" and d.owner_section_id in mine
    receipts = _first("to_sign", user, lambda _when: unsigned_receipts(user)) if mine else []
    detail, sign = _urls("incident_detail"), _urls("incident_action", "sign")
    for r in receipts:  # what each row prints, computed once (as _shown does for deadlines)
        r.detail_url, r.sign_url = detail(r.notice.incident_id), sign(r.notice.incident_id)
        r.issued_label = timezone.localtime(r.notice.issued_at).strftime("%m-%d %H:%M")
    return {"owed": owed, "receipts": receipts, "todo_count": badges["todo"]}


def duty_part(user):
    """登记舆情 and the user's recent incidents, each with its 1-hour quick-report state."""
    recent, total = _counted("recent", user, lambda _when: deadline_reads.with_quick_report(
        visible(user).filter(reported_by=user).annotate(content_ok=content_flag(user))
        .order_by("-reported_at", "-id")))
    return {"recent": recent, "recent_count": total}


def auditor_part(user):
    """Closed cases, the most recently closed first."""
    closed, total = _counted("closed", user, lambda _when: (
        visible(user).filter(state=State.CLOSED).select_related("warning", "response")
        .annotate(content_ok=content_flag(user)).order_by("-closed_at", "-id")))
    return {"closed": closed, "closed_count": total}


def home_context(request) -> dict:
    """The parts of the user's roles, in order (a part only for a role the user has)."""
    user = request.user
    now = timezone.now()
    levels = perms.body_levels(user)
    context = {"now": now, "parts": []}
    if levels or perms.is_leadership(user):
        context["parts"].append("leader")
        context["leader"] = leader_part(request, levels)
    if perms.is_command(user):
        context["parts"].append("command")
        context["command"] = command_part(request, now)
    if perms.is_duty(user):
        context["parts"].append("duty")
        context["duty"] = duty_part(user)
    if nav.has_duties(user) and perms.user_section_ids(user):
        context["parts"].append("section")
        context["section"] = section_part(request, now, owed="command" not in context["parts"])
    if perms.is_auditor(user) or (user.is_superuser and not context["parts"]):
        context["parts"].append("auditor")
        context["auditor"] = auditor_part(user)
    units = units_of(user)
    context["roles"] = [Role(r).label for r in Role.values if r in user.roles]
    context["my_sections"] = [u for u in units if u.kind == "section"]
    context["my_bodies"] = [u for u in units if u.kind == "body"]
    context["can_log"] = perms.is_duty(user) or perms.is_command(user)
    context["calendar_banner"] = provisional_banner(user, timezone.localdate())
    return context
