"""The home page ``/``: one part per role of the user, in the order in which the work waits
for them — a decision body's 待审批, the command group's queue, the duty officer's intake,
what the user's sections owe, the auditor's closed cases. Each part shows counts and the top few
of its lists, each count linking to the whole list; a list and its count come from one query
(a window count) — the counts of the command group's and the leader's lists (待研判, the deadline
watch, the running responses), which would read every row they count, ride the navigation's
capped counting query instead ("99+") — so each home runs the same queries whatever the number
of incidents."""

from types import SimpleNamespace

from django.db import connection
from django.db.models import Count, Window
from django.db.models.expressions import RawSQL
from django.middleware.csrf import get_token
from django.template.defaultfilters import timesince_filter
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deadlines import selectors as deadline_reads
from deadlines.models import Deadline, Heartbeat
from deadlines.policy import sweep_stale
from early_warnings.selectors import unsigned_keys, unsigned_receipts
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
from .formats import csrf_input, local, provisional_mark, row_urls
from .templatetags.workplace import (
    level_badge,
    roman,
    shown_title,
    state_badge,
    urgency,
)

TOP = 8  # the most urgent (or newest) few of each list; its count links to the rest
RUNNING = [ResponseState.ACTIVE, ResponseState.LIFT_PROPOSED]


def _counted(key, user, build, fields, now=None) -> tuple[list, int]:
    """The first ``TOP`` incidents of ``build(now)`` (their ``fields``, see ``_first``), each
    with the link to its case (``detail_url``, reversed once for the list), and the number of
    all of them, in one query whose SQL is compiled once per process for ``key`` and the
    user's identity (sentiment_ops.prepared: ``build`` is of a shape fixed by them)."""
    rows = _linked(_first(key, user, lambda when: build(when).annotate(total_rows=Window(Count("pk"))), now,
                          fields=(*fields, "total_rows")))
    return rows, (rows[0].total_rows if rows else 0)


def _linked(incidents: list) -> list:
    """The incidents, each with the link to its case (``detail_url``, reversed once for the list)."""
    detail = row_urls("incident_detail")
    for incident in incidents:
        incident.detail_url = detail(incident.pk)
    return incidents


def _first(key, user, build, now=None, fields=None) -> list:
    """The first ``TOP`` rows of ``build(now)`` (see ``_counted``); with ``fields``, only
    their values, each row as attributes (``_nested``): no model built per row."""
    if fields is None:
        return prepared.rows(("workplace.home", key, TOP, identity_key(user)), lambda when: build(when)[:TOP], now)
    rows = prepared.rows(("workplace.home", key, TOP, identity_key(user), fields),
                         lambda when: build(when).values(*fields)[:TOP], now)
    return [_nested(row) for row in rows]


def _nested(row: dict) -> SimpleNamespace:
    """A row of values as attributes, a related row's under its name (``response__level`` →
    ``.response.level``), as the templates and the printers read a model's."""
    found = SimpleNamespace()
    for name, value in row.items():
        *path, last = name.split("__")
        at = found
        for part in path:
            at = at.__dict__.setdefault(part, SimpleNamespace())
        setattr(at, last, value)
    return found


# What each list prints, read as values (see ``_first``).
INCIDENT_VALUES = ("pk", "title", "content_ok")
RUNNING_VALUES = (*INCIDENT_VALUES, "needed_days", "response__level", "response__state",
                  "response__stable_working_days")
WAITING_VALUES = (*INCIDENT_VALUES, "response__state", "response__level", "response__proposal__level")
APPROVAL_VALUES = ("incident_id", "state", "level", "proposal__level", "incident__title", "content_ok")


def _running_set(user, levels=None):
    """The incidents whose response runs (at ``levels`` if given), as counted: an incident is
    never closed while its response runs (lifecycle.services refuses, R50), so their count reads
    the running responses and their incidents' keys, not a hash of every open incident."""
    qs = visible(user).filter(response__state__in=RUNNING)
    return qs if levels is None else qs.filter(response__level__in=levels)


def _running(user, levels=None):
    """``_running_set`` as the lists read it, lowest level number first: said to be open, which
    lets them walk the open incidents' index (``incident_open``) in report order."""
    return (_running_set(user, levels).exclude(state=State.CLOSED).select_related("response")
            .annotate(content_ok=content_flag(user), needed_days=stable_days_target("response__level"))
            .order_by("response__level", "-reported_at", "-id"))


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


# What a deadline's row prints, read as values (no deadline, incident and owner built per row).
DEADLINE_VALUES = ("incident_id", "kind", "state", "owner_section_id", "due_at", "provisional", "content_ok",
                   "incident__title", "owner_section__code", "owner_section__name", "owner_body__name")


def _deadlines(key, user, build, now) -> list:
    """The first ``TOP`` of ``build(now)`` (pending deadlines), as ``_shown`` rows."""
    return _shown(_first(key, user, lambda when: build(when).values(*DEADLINE_VALUES), now), now)


def _shown(rows: list, now) -> list:
    """The deadlines (``DEADLINE_VALUES`` rows) as what their rows print: each its values as
    attributes, its owner section's ``code`` and ``name`` (``owner_section``, None for a
    body's), computed once each, not by the template's tags and filters: the owner's name, the
    kind's and the state's labels (``get_kind_display`` rebuilds the choices on every call),
    the time due in the current time zone (as the ``date`` filter prints it: "m-d H:i" and
    ISO 8601), the urgency colour at ``now`` (the ``urgency`` filter's rule) and the links to
    the case and its zero report."""
    kinds, states = (dict(Deadline._meta.get_field(name).flatchoices) for name in ("kind", "state"))
    detail, report = row_urls("incident_detail"), row_urls("incident_action", "report")
    deadlines = []
    for row in rows:
        d = SimpleNamespace(**row)
        d.owner_section = (SimpleNamespace(code=d.owner_section__code, name=d.owner_section__name)
                           if d.owner_section_id else None)
        d.owner_name = d.owner_section__name if d.owner_section_id else (d.owner_body__name or "")
        due = timezone.localtime(d.due_at)
        d.kind_label, d.state_label = kinds.get(d.kind, d.kind), states.get(d.state, d.state)
        d.due_label, d.due_iso = due.strftime("%m-%d %H:%M"), due.isoformat()
        d.urgency = urgency(d.due_at, now)
        d.detail_url, d.report_url = detail(d.incident_id), report(d.incident_id)
        deadlines.append(d)
    return deadlines


def _waiting_rows(user, levels, read, fields) -> list:
    """The first ``TOP`` responses waiting at ``levels`` (every level when None), as
    ``read(keys)`` gives them (a queryset filtered by ``keys``, in the keys' order; its
    ``fields``, see ``_first``), in one query: the keys are ``responses.selectors.waiting_keys``'
    first ``TOP`` (read from the waiting rows' own indexes), as its subquery."""
    return _first(("waiting", levels and tuple(levels)), user,
                  lambda _when: read(_keys_of(waiting_keys(user, levels)[:TOP])), fields=fields)


def leader_part(request, levels):
    """待审批 first, then the running responses at the user's levels (every level for
    leadership without a body)."""
    user = request.user
    # The first few waiting keys (from the waiting rows' own indexes), then only what the part
    # shows of each (its incident, its proposal's level): the approvals page's eight joins cost
    # more to plan (3 ms) than to run.
    waiting = _waiting_rows(user, levels, lambda keys: Response.objects.filter(pk__in=keys).select_related(
        "incident", "proposal").annotate(content_ok=content_flag(user, "incident_id"))
        .order_by("reported_at", "incident_id"), APPROVAL_VALUES) if levels else []
    running = _linked(_first(("running", tuple(levels)), user, lambda _when: _running_first(user, levels or None),
                             fields=RUNNING_VALUES))
    counts = nav.badges(request, also=(("leader", tuple(levels)),
                                       lambda _when: {"running": _running_set(user, levels or None)}))  # capped
    return {"approvals": waiting, "approvals_count": counts["approvals"],
            "levels": levels, "responses": running, "responses_count": counts["running"],
            "approvals_items": _approval_items(user, waiting), "responses_items": _running_items(user, running)}


def command_part(request, now):
    """待研判, what is overdue and due soon, proposals waiting for a body, running responses."""
    user = request.user
    to_judge = _linked(_first("to_judge", user, lambda _when: awaiting_judgment(user),
                              fields=(*INCIDENT_VALUES, "reported_at")))
    urgent = _deadlines("urgent", user, lambda when: deadline_reads.urgent(user, when), now)
    due = nav.badges(request, also=("urgent", lambda when: {**deadline_reads.urgent_parts(user, when),
                                                            "waiting": waiting_keys(user, ordered=False),
                                                            "to_judge": awaiting_judgment(user),
                                                            "running": _running_set(user)}),
                     now=now)  # counted with the badges
    waiting = _waiting_rows(user, None, lambda keys: Incident.objects.filter(response__pk__in=keys).select_related(
        "response", "response__proposal").annotate(content_ok=content_flag(user)).order_by("reported_at", "pk"),
        WAITING_VALUES)
    _linked(waiting)
    running = _linked(_first("running", user, lambda _when: _running_first(user), fields=RUNNING_VALUES))
    last_sweep = Heartbeat.last("sweep")
    overdue, due_soon = [d for d in urgent if d.due_at < now], [d for d in urgent if d.due_at >= now]
    return {
        "to_judge": to_judge, "to_judge_count": due["to_judge"],
        "overdue": overdue, "overdue_count": due["overdue"],
        "due_soon": due_soon, "due_soon_count": due["due_soon"],
        "waiting": waiting, "waiting_count": due["waiting"],
        "responses": running, "responses_count": due["running"],
        "last_sweep": last_sweep, "sweep_stale": sweep_stale(last_sweep, now),
        "to_judge_items": _judge_items(user, to_judge, now), "urgent_items": _deadline_items(user, overdue + due_soon),
        "waiting_items": _waiting_items(user, waiting), "responses_items": _running_items(user, running),
    }


def section_part(request, now, *, owed=True):
    """What the user's sections (and bodies) owe now, soonest first, and the notices to sign;
    the counts are the navigation's. Without ``owed`` (the command group, whose deadline
    watch above lists every deadline) only the notices to sign."""
    user = request.user
    badges = nav.badges(request)
    mine = perms.user_section_ids(user)
    owed = _deadlines("owed", user, lambda _when: deadline_reads.owed_by(user), now) if owed else None
    for d in owed or []:
        d.zero_ok = d.kind == "status" and d.owner_section_id in mine
    receipts = _first("to_sign", user, lambda _when: _receipts_first(user).values(*RECEIPT_VALUES)) if mine else []
    csrf = csrf_input(get_token(request)) if owed or receipts else ""
    return {"owed": owed, "receipts": receipts, "todo_count": badges["todo"],
            "owed_items": _deadline_items(user, owed or [], csrf), "receipts_items": _receipt_items(user, receipts, csrf)}


def _receipts_first(user):
    """``unsigned_receipts(user)``'s first ``TOP``, in one query that picks their keys first
    (``early_warnings.selectors.unsigned_keys``: in their notices' order, from the section's
    unsigned receipts), then only those few joined to their notice, incident and section —
    joined whole before the sort, every receipt of the section (~700 at 100,000 incidents) cost
    a notice, an incident and a wide row to sort."""
    receipts = unsigned_receipts(user)
    if receipts.query.is_empty():
        return receipts
    return receipts.filter(pk__in=_keys_of(unsigned_keys(user)[:TOP]))


def duty_part(user):
    """登记舆情 and the user's recent incidents, each with its 1-hour quick-report state."""
    recent, total = _counted("recent", user, lambda _when: deadline_reads.with_quick_report(
        visible(user).filter(reported_by=user).annotate(content_ok=content_flag(user))
        .order_by("-reported_at", "-id")), (*INCIDENT_VALUES, "state", "reported_at", "quick_state"))
    return {"recent": recent, "recent_count": total, "recent_items": _recent_items(user, recent)}


def auditor_part(user):
    """Closed cases, the most recently closed first."""
    closed, total = _counted("closed", user, lambda _when: (
        visible(user).filter(state=State.CLOSED).select_related("warning", "response")
        .annotate(content_ok=content_flag(user)).order_by("-closed_at", "-id")),
        (*INCIDENT_VALUES, "highest_warning_level", "highest_response_level", "closed_at"))
    return {"closed": closed, "closed_count": total, "closed_items": _closed_items(user, closed)}


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


# --- What the lists print --------------------------------------------------------------------
# Each part's rows are printed here in one pass (the templates keep the part's frame, its
# counts and links): through the template language every row cost a dozen tags, lookups and
# filters, the most of a home's CPU. Each value is what the tag or filter it replaces printed.

def _html(rows) -> str:
    return mark_safe("".join(rows))


def _judge_items(user, incidents, now) -> str:
    registered = _("已登记 %(age)s")
    return _html(
        '\n            <li class="list-group-item d-flex justify-content-between gap-2">\n'
        f'              <a href="{i.detail_url}" class="text-truncate min-w-0">#{i.pk} {escape(shown_title(user, i))}</a>\n'
        f'              <span class="small text-nowrap text-secondary" title="{local(i.reported_at, "Y-m-d H:i")}">'
        f'{escape(registered % {"age": timesince_filter(i.reported_at, now)})}</span>\n'
        '            </li>' for i in incidents)


def _deadline_items(user, deadlines, csrf="") -> str:
    """The deadline rows of the command group's watch and a section's owed list (``_shown``
    worked out their values);
    ``csrf``: the token's input, for the zero reports of ``zero_ok`` rows."""
    due = _("到期")
    provisional, zero_word = provisional_mark(), escape(_("零报告"))
    rows = []
    for d in deadlines:
        missed = f' <span class="badge text-bg-danger">{escape(d.state_label)}</span>' if d.state == "missed" else ""
        title = perms.shown_title(d.incident__title, d.content_ok, d.incident_id)
        zero = ""
        if getattr(d, "zero_ok", False):
            zero = (f'<form method="post" action="{d.report_url}" class="mt-1" novalidate>{csrf}\n'
                    '        <input type="hidden" name="_from" value="home"><input type="hidden" name="_form" value="zero_report">\n'
                    '        <input type="hidden" name="kind" value="status"><input type="hidden" name="section" '
                    f'value="{escape(d.owner_section.code)}"><input type="hidden" name="zero" value="true">\n'
                    f'        <button class="btn btn-warning btn-sm" type="submit">{zero_word}</button></form>')
        rows.append(
            f'\n<li class="list-group-item urgency-row {d.urgency}" data-kind="{escape(d.kind)}">\n'
            '  <div class="d-flex justify-content-between align-items-start gap-2">\n'
            '    <div class="min-w-0">\n'
            f'      <a class="d-block text-truncate" href="{d.detail_url}#panel-deadlines">#{d.incident_id} '
            f'{escape(title)}</a>\n'
            f'      <div class="small text-secondary">{escape(d.kind_label)}{missed} · '
            f'{escape(d.owner_name)} · {escape(due)} {d.due_label}{provisional if d.provisional else ""}\n</div>\n'
            '    </div>\n'
            f'    <div class="text-end text-nowrap countdown-cell"><span class="countdown {d.urgency}" '
            f'data-due="{d.due_iso}">{d.due_label}</span>\n\n      {zero}\n'
            '    </div>\n  </div>\n</li>')
    return _html(rows)


def _waiting_items(user, incidents) -> str:
    lifting, proposing = _("解除%(level)s级响应"), _("提议%(level)s级响应")
    rows = []
    for i in incidents:
        response = i.response
        if response.state == "lift_proposed":
            what = escape(lifting % {"level": roman(response.level)})
        elif response.proposal.level is not None:  # a proposal (its level is never null)
            what = escape(proposing % {"level": roman(response.proposal.level)})
        else:
            what = ""
        rows.append(
            '\n            <li class="list-group-item d-flex justify-content-between gap-2">\n'
            f'              <a href="{i.detail_url}" class="text-truncate min-w-0">#{i.pk} {escape(shown_title(user, i))}</a>\n'
            f'              <span class="small text-nowrap">{what}</span>\n'
            '            </li>')
    return _html(rows)


def _running_items(user, incidents) -> str:
    """The running responses' rows: each one's incident, level and stable days."""
    stable, lifting_word = _("连续平稳 %(n)s / %(need)s 个工作日"), escape(_("待审批解除"))
    lifting = f'<span class="badge text-bg-info">{lifting_word}</span>'
    rows = []
    for i in incidents:
        response = i.response
        rows.append(
            '\n          <li class="list-group-item">\n'
            '  <div class="d-flex justify-content-between align-items-center gap-2">\n'
            f'    <a class="text-truncate min-w-0" href="{i.detail_url}">#{i.pk} {escape(shown_title(user, i))}</a>\n'
            f'    <span class="text-nowrap">{level_badge(response.level, "response") if response.level else ""}</span>\n'
            '  </div>\n  <div class="small text-secondary">\n'
            f'    {lifting if response.state == "lift_proposed" else ""}\n'
            f'    {escape(stable % {"n": response.stable_working_days, "need": i.needed_days}) if i.needed_days else ""}\n'
            '  </div>\n</li>')
    return _html(rows)


def _approval_items(user, responses) -> str:
    url = escape(reverse("approvals")) if responses else ""
    lifting, proposing, go = _("提议解除%(level)s级响应"), _("提议启动或调整为%(level)s级响应"), escape(_("去审批"))
    rows = []
    for r in responses:
        title = perms.shown_title(r.incident.title, r.content_ok, r.incident_id)
        what = (lifting % {"level": roman(r.level)} if r.state == "lift_proposed"
                else proposing % {"level": roman(r.proposal.level)})
        rows.append(
            '\n            <li class="list-group-item d-flex justify-content-between align-items-center gap-2">\n'
            '              <div class="min-w-0">\n'
            f'                <a class="d-block text-truncate" href="{url}#approval-{r.incident_id}">#{r.incident_id} '
            f'{escape(title)}</a>\n'
            f'                <div class="small text-secondary">{escape(what)}</div>\n'
            '              </div>\n'
            f'              <a class="btn btn-sm btn-primary text-nowrap" href="{url}#approval-{r.incident_id}">{go}</a>\n'
            '            </li>')
    return _html(rows)


# What a notice to sign prints (a row of values: no receipt, notice, incident and section built).
RECEIPT_VALUES = ("notice_id", "notice__level", "notice__incident_id", "notice__issued_at", "notice__incident__title",
                  "section__name", "section__code", "content_ok")


def _receipt_items(user, receipts, csrf) -> str:
    """The notices to sign (``RECEIPT_VALUES`` rows), each with its 签收 form."""
    issued, sign = escape(_("发布于")), escape(_("签收"))
    detail, signing = row_urls("incident_detail"), row_urls("incident_action", "sign")
    rows = []
    for r in receipts:
        incident = r["notice__incident_id"]
        title = perms.shown_title(r["notice__incident__title"], r["content_ok"], incident)
        rows.append(
            '\n            <li class="list-group-item d-flex justify-content-between align-items-center gap-2">\n'
            f'              <div class="min-w-0">{level_badge(r["notice__level"])}\n'
            f'                <a class="text-truncate" href="{detail(incident)}#panel-warning">#{incident} {escape(title)}</a>\n'
            f'                <div class="small text-secondary">{escape(r["section__name"])} · {issued} '
            f'{timezone.localtime(r["notice__issued_at"]).strftime("%m-%d %H:%M")}</div>\n'
            '              </div>\n'
            f'              <form method="post" action="{signing(incident)}" novalidate>{csrf}\n'
            '                <input type="hidden" name="_from" value="home"><input type="hidden" name="_form" value="sign">\n'
            f'                <input type="hidden" name="notice" value="{r["notice_id"]}"><input type="hidden" name="section" '
            f'value="{escape(r["section__code"])}">\n'
            f'                <button class="btn btn-success btn-sm text-nowrap" type="submit">{sign}</button>\n'
            '              </form>\n'
            '            </li>')
    return _html(rows)


QUICK_STATES = {"met": ("success", gettext_noop("快报按时报送")), "late": ("warning", gettext_noop("快报超时报送")),
                "missed": ("danger", gettext_noop("快报已逾期")), "open": ("warning", gettext_noop("快报待报送"))}


def _recent_items(user, incidents) -> str:
    registered = escape(_("登记于"))
    rows = []
    for i in incidents:
        quick = QUICK_STATES.get(i.quick_state)
        if quick:
            colour, label = quick[0], escape(_(quick[1]))
            quick = f'<span class="badge text-bg-{colour}">{label}</span>'
        rows.append(
            '\n        <li class="list-group-item d-flex justify-content-between align-items-center gap-2">\n'
            f'          <div class="min-w-0"><a class="d-block text-truncate" href="{i.detail_url}">#{i.pk} '
            f'{escape(shown_title(user, i))}</a>\n'
            f'            <div class="small text-secondary">{state_badge(i)} · {registered} '
            f'{local(i.reported_at, "m-d H:i")}</div></div>\n'
            '          <span class="text-nowrap small quick-state">\n'
            f'            {quick or ""}\n'
            '          </span>\n'
            '        </li>')
    return _html(rows)


def _closed_items(user, incidents) -> str:
    closed = escape(_("办结于"))
    return _html(
        '\n        <li class="list-group-item d-flex justify-content-between align-items-center gap-2">\n'
        f'          <a class="text-truncate min-w-0" href="{i.detail_url}">#{i.pk} {escape(shown_title(user, i))}</a>\n'
        f'          <span class="text-nowrap small">'
        f'{level_badge(i.highest_warning_level) if i.highest_warning_level else ""}\n'
        f'            {level_badge(i.highest_response_level, "response") if i.highest_response_level else ""}\n'
        f'            <span class="text-secondary">{closed} {local(i.closed_at, "Y-m-d")}</span></span>\n'
        '        </li>' for i in incidents)
