"""The browser workplace. Views are thin: fetch through the one access function and the
selectors the API uses, run actions through ``lifecycle.actions.run`` (the API's path),
render a page or the htmx partial of its target. No module of api/ is imported here."""

import functools
from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template import Context
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from deadlines import accountability as account
from deadlines import selectors as deadline_reads
from deadlines.models import DeadlineState
from deadlines.notifications import notification_mark_read
from incidents import permissions as perms
from incidents import services as records
from incidents.models import Platform, State
from incidents.selectors import (
    assigned_sections,
    count_visible,
    get_incident_for,
    latest_event_values,
    latest_judgment_values,
    visible,
)
from lifecycle import services as lifecycle
from lifecycle.actions import ACTIONS, ATTACH
from lifecycle.payloads import IncidentCreateSerializer
from lifecycle.selectors import (
    CASE_TIMELINE,
    IncidentFilter,
    case_history,
    case_incident,
    timeline_page_queryset,
)
from organization.models import Section, UnitPolicy
from responses.models import ResponseState
from responses.selectors import approval_values, waiting_page
from sentiment_ops.exceptions import Forbidden

from . import home, nav, todo_list
from .detail import PANEL_OF, PANELS, build, choices, timeline_items
from .formats import csrf_input
from .forms import (
    Forms,
    FormState,
    execute,
    form_key,
    payload_from_post,
    serializer_errors,
    service_call,
)
from .paging import page_of, page_of_rows, page_read
from .rows import (
    approval_html,
    approval_labels,
    incident_rows,
    listed,
    notification_rows,
    option_parts,
    options,
    timeline_html,
)

# Uploading evidence is not in the action registry (the API has its own endpoint); the page
# calls the same service with the API's serializer.


def _partial(request, template, context, *, oob_messages=True):
    """An htmx partial, with the messages swapped into their place out of band."""
    html = render_to_string(template, context, request)
    if oob_messages:
        html += render_to_string("workplace/_messages.html", {"oob": True}, request)
    return HttpResponse(html)


def _partial_swap(request):
    return request.htmx and not request.htmx.history_restore_request


# --- home -------------------------------------------------------------------------------

@login_required
@require_GET
def dashboard(request):
    """The home page of the user's roles (workplace/home.py): counts and the top few of
    each list, each with a link to the whole of it."""
    return render(request, "workplace/home.html", home.home_context(request))


# --- 登记舆情 ----------------------------------------------------------------------------

SOURCE_FIELDS = ("url", "platform", "title", "mainstream_first")
EMPTY_ROW = {"url": "", "platform": "", "mainstream_first": False, "title": "", "errors": {}}


def _source_indices(post) -> list[int]:
    """The indices of the source rows on a submitted form (``sources-<i>-<field>``), in order."""
    indices = set()
    for key in post:
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == "sources" and parts[1].isdigit():
            indices.add(int(parts[1]))
    return sorted(indices)


def _source_rows(post, errors=None) -> list[dict]:
    """The rows as typed, each with its own errors, for the form to come back as it was sent."""
    errors = errors or {}
    return [{"index": i, "url": post.get(f"sources-{i}-url", ""), "platform": post.get(f"sources-{i}-platform", ""),
             "mainstream_first": post.get(f"sources-{i}-mainstream_first") == "on",
             "title": post.get(f"sources-{i}-title", ""),
             "errors": {f: errors.get(f"sources-{i}-{f}", []) for f in SOURCE_FIELDS}}
            for i in _source_indices(post)]


def _create_payload(post) -> tuple[dict, list[int]]:
    """The API's create payload from the form; rows with nothing typed are left out. Returns
    the payload and, for each source in it, the index of the row it came from."""
    data = payload_from_post(IncidentCreateSerializer, post)
    data["sources"], kept = [], []
    for row in _source_rows(post):
        if row["url"].strip() or row["title"].strip():
            data["sources"].append({"url": row["url"].strip(), "platform": row["platform"],
                                    "mainstream_first": row["mainstream_first"], "title": row["title"].strip()})
            kept.append(row["index"])
    return data, kept


def _may_log(user) -> bool:
    return perms.is_duty(user) or perms.is_command(user)


def _log(user, post):
    """Validate with the API's create serializer, then the API's service."""
    data, kept = _create_payload(post)
    payload = IncidentCreateSerializer(data=data)
    if not payload.is_valid():
        errors = {}
        for key, msgs in serializer_errors(payload.errors).items():
            parts = key.split("-")  # source n of the payload is the kept[n]-th row of the form
            if parts[0] == "sources" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(kept):
                key = f"sources-{kept[int(parts[1])]}-{parts[2]}"
            errors[key] = msgs
        raise ValidationError(errors)
    return lifecycle.incident_create(actor=user, **payload.validated_data)


def _logged_message(incident) -> str:
    """Says whether logging met the quick report (R12) or was late, and by how much."""
    quick = deadline_reads.quick_report(incident)
    if quick is None or quick.state != DeadlineState.LATE:
        return _("已登记舆情 #%(id)s，1小时快报时限已满足。") % {"id": incident.pk}
    late = int((quick.met_at - quick.due_at).total_seconds() // 60)
    return (_("已登记舆情 #%(id)s。发现时间 %(discovered)s 距登记已超过快报时限（迟报 %(late)s 分钟），已记为迟报。")
            % {"id": incident.pk, "discovered": timezone.localtime(incident.discovered_at).strftime("%m-%d %H:%M"),
               "late": max(late, 1)})


@login_required
@require_http_methods(["GET", "POST"])
def incident_new(request):
    """登记舆情 (R1, R10–R12): the 1-hour quick-report clock runs while the form is typed."""
    user = request.user
    if not _may_log(user):
        raise Http404
    state = FormState("new", initial={"discovered_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                                      "channel": "monitoring"})
    rows = [{"index": 0, **EMPTY_ROW}]
    if request.method == "POST":
        state = FormState("new", request.POST)
        incident = service_call(request, state, lambda: _log(user, request.POST))
        if state.ok:
            messages.success(request, _logged_message(incident))
            return redirect("incident_detail", pk=incident.pk)
        rows = _source_rows(request.POST, state.errors) or rows
        state.rendered.update(f"sources-{r['index']}-{f}" for r in rows for f in SOURCE_FIELDS)
    recent = (visible(user).filter(reported_by=user)
              .prefetch_related("sections").order_by("-reported_at")[:10])
    return render(request, "workplace/incident_new.html", {
        "fs": state,
        "rows": rows,
        "next_index": max(r["index"] for r in rows) + 1,
        "template_row": {"index": "__i__", **EMPTY_ROW},
        "choices": choices(),
        "section_choices": list(Section.objects.order_by("order", "code").values_list("code", "name")),
        "platforms": Platform.choices,
        "quick_minutes": UnitPolicy.current().quick_report_minutes,
        "recent": recent,
    })


# --- incident list ---------------------------------------------------------------------

@login_required
@require_GET
def incident_list(request):
    """Filters and search as the API's (IncidentFilter reuses ``search_filter``)."""
    user = request.user
    qs = visible(user, probe=True)  # read newest first a page at a time: each row's sections probed
    if request.GET.get("open") == "1":
        qs = qs.exclude(state=State.CLOSED)
    search_errors = None
    if any(request.GET.get(name) for name in IncidentFilter.base_filters):
        filterset = IncidentFilter(data=request.GET, queryset=qs, request=request)
        # Other unknown filter values are ignored; a search over its bounds is refused (400).
        search_errors = filterset.errors.get("q") if not filterset.is_valid() else None
        qs = qs.none() if search_errors else filterset.qs
    results = qs.order_by("-reported_at", "-id")  # without a filter's value: the filterset's qs is qs
    # The whole list is counted in its order (the newest-first index), a section's from its
    # assignment rows (``count_visible``); a filtered or searched one from its filters' own
    # indexes. A search for a longer term, whose page query reads and sorts every match (the
    # candidates of its bigrams checked), reads its keys once, counted and paged here.
    filtered = any(value for key, value in request.GET.items() if key != "page")
    counter = None if filtered or perms.sees_everything(user) else (lambda cap: count_visible(user, cap=cap))
    longer = not search_errors and any(len(term) > 2 for term in request.GET.get("q", "").split())
    page = page_of_rows(results, request.GET.get("page"), ordered=not filtered, at_once=longer, counter=counter,
                        rows=listed)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "rows": incident_rows(user, page.object_list, assigned_sections([i.pk for i in page.object_list])),
        "query": query.urlencode(),
        "filters": request.GET,
        "options": _filter_options(request.GET),
        "can_log": _may_log(user),
        "search_errors": search_errors,
    }
    if _partial_swap(request):  # htmx swaps only 2xx answers: the error shows in the table
        return _partial(request, "workplace/_incident_table.html", context, oob_messages=False)
    return render(request, "workplace/incident_list.html", context, status=400 if search_errors else 200)


def _filter_options(filters) -> dict:
    """The ``<option>``s of the list's filters, the chosen ones selected."""
    fixed = _fixed_options(get_language())
    sections = Section.objects.order_by("order", "code").values_list("code", "name")
    return {name: options(parts, filters.get(name)) for name, parts in (*fixed, ("section", sections))}


@functools.lru_cache(maxsize=8)
def _fixed_options(language) -> tuple:
    """The list's filters of fixed choices, translated into ``language`` once."""
    choice = choices()
    return tuple((name, option_parts(values)) for name, values in (
        ("state", State.choices), ("severity", choice["severity"]), ("warning_level", choice["level"]),
        ("response_level", choice["response_level"])))


# --- incident detail and its actions ------------------------------------------------------

def _incident(request, pk):
    """The incident with everything its case page shows, if the user may see it (else 404)."""
    return case_history(case_incident(request.user, pk))


@login_required
@require_GET
def incident_detail(request, pk):
    incident = _incident(request, pk)
    records.classified_access_log(incident=incident, user=request.user, via="web")
    return render(request, "workplace/incident_detail.html", build(request, incident))


@login_required
@require_GET
def incident_panel(request, pk, panel):
    """One panel, fresh and with its lists (a panel opened; the deadlines panel refreshes
    itself)."""
    if panel not in PANELS:
        raise Http404
    incident = _incident(request, pk)
    return _partial(request, f"workplace/panels/{panel}.html", build(request, incident, full={panel}),
                    oob_messages=False)


TIMELINE_PAGE = 50


@login_required
@require_GET
def incident_timeline(request, pk):
    """The case page's older timeline events, latest first, a page at a time (the page shows
    the latest ``CASE_TIMELINE``; the whole timeline is also ``GET …/incidents/{id}/timeline/``)."""
    incident = _incident(request, pk)
    events = timeline_page_queryset(incident).select_related("actor").reverse()
    paginator = Paginator(events[CASE_TIMELINE:], TIMELINE_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    names = dict(Section.objects.values_list("code", "name"))
    visible_content = perms.can_see_content(request.user, incident)
    items = timeline_items(page.object_list, names, visible_content)
    return _partial(request, "workplace/_timeline_items.html", {
        "incident": incident, "timeline_html": timeline_html(items, visible_content), "page": page},
        oob_messages=False)


@login_required
@require_POST
def incident_action(request, pk, action):
    """Every form of every page posts here: the action's payload serializer, then
    ``actions.run`` — the code path of ``POST /api/v1/incidents/{id}/{action}/``. The incident
    is read plainly here (the service locks and re-reads it); what the answer shows is read
    once, after the action."""
    act = ATTACH if action == "attach" else ACTIONS.get(action)
    if act is None:
        raise Http404
    incident = get_incident_for(request.user, pk)
    state = execute(request, act, incident, form_key(request.POST.get("_form"), action))
    origin = request.POST.get("_from", "")
    if origin == "approvals":
        return _after_approvals(request, incident, state)
    if origin == "todo":
        return _after_todo(request, state)
    if origin == "home":  # 签收 and 零报告 on the home page: back to it, with the message
        return redirect("home")
    return _after_detail(request, pk, act.name, state)


def _after_detail(request, pk, action, state):
    # The panel of the action's form: its own, or its group's "other actions" (an action
    # rendered from its payload, workplace/detail.generic_actions).
    panel = PANEL_OF.get(action) or f"more-{ACTIONS[action].section}"
    try:
        incident = _incident(request, pk)
    except Http404:  # the action took the incident out of the user's sight
        if request.htmx:
            return HttpResponseClientRedirect(reverse("incident_list"))
        return redirect("incident_list")
    if state.ok:
        if request.htmx:  # the case again, the panel acted in with its lists
            return _partial(request, "workplace/_incident_body.html", build(request, incident, full={panel}))
        return redirect(reverse("incident_detail", args=[pk]) + f"#panel-{panel}")
    context = build(request, incident, Forms({state.key: state}), full={panel})
    if request.htmx:
        if action in PANEL_OF:
            response = _partial(request, f"workplace/panels/{panel}.html", context)
        else:
            response = _partial(request, "workplace/_generic_actions.html",
                                {**context, "group": ACTIONS[action].section})
        return reswap(retarget(response, f"#panel-{panel}"), "outerHTML")
    return render(request, "workplace/incident_detail.html", context)


# --- approvals inbox ----------------------------------------------------------------------

APPROVAL_EVENTS = 6


def _approval_items(request, forms=None, params=None):
    """One page of the proposals waiting for the user's bodies, each with its judgment, warning,
    latest timeline entries and stable-day target, printed (workplace.rows.approval_html): four
    statements a page, each compiled once per process — the page's keys with the total, the
    proposals' values, their judgments, their timeline entries."""
    user = request.user
    forms = forms if forms is not None else Forms()
    params = request.GET if params is None else params
    levels = perms.body_levels(user)
    page = page_read(lambda offset, limit: waiting_page(user, levels, offset, limit), params.get("page"))
    rows = approval_values(user, [response for response, _incident in page.object_list])
    ids = [row["incident_id"] for row in rows]
    judgments = latest_judgment_values(ids)
    events = latest_event_values(ids, APPROVAL_EVENTS)
    labels, context = approval_labels(), Context()
    csrf = csrf_input(get_token(request)) if rows else ""  # as {% csrf_token %} prints it, once a page
    items = []
    for v in rows:
        pk = v["incident_id"]
        lift = v["state"] == ResponseState.LIFT_PROPOSED
        item = {
            "incident": SimpleNamespace(pk=pk, title=v["incident__title"], classified=v["incident__classified"],
                                        state=v["incident__state"], reported_by_id=v["incident__reported_by_id"]),
            "lift": lift,
            "mine": (v["lift_proposed_by_id"] if lift else v["proposal__proposed_by_id"]) == user.pk,
            "visible": bool(v["content_ok"]),
            "form": forms[f"reject_{pk}"],
        }
        item["html"] = approval_html(user, item, v, judgments.get(pk), events.get(pk, ()), page.number, csrf,
                                     context, labels)
        items.append(item)
    return items, page


def _require_body_member(user):
    if not perms.body_levels(user):
        raise Http404


@login_required
@require_GET
def approvals(request):
    """Leadership bodies (R4, R30): only proposals for the user's own levels."""
    _require_body_member(request.user)
    items, page = _approval_items(request)
    return render(request, "workplace/approvals.html", {
        "items": items, "page": page, "levels": perms.body_levels(request.user)})


def _after_approvals(request, incident, state):
    items, page = _approval_items(request, Forms({state.key: state}), request.POST)
    context = {"items": items, "page": page, "levels": perms.body_levels(request.user)}
    if request.htmx:
        response = _partial(request, "workplace/_approvals_list.html", context)
        return reswap(retarget(response, "#approvals"), "outerHTML")
    if state.ok:
        return redirect("approvals")
    return render(request, "workplace/approvals.html", context)


# --- 我的待办 ------------------------------------------------------------------------------

def _todo_context(request, params=None):
    """One page of what the user's units owe now, soonest first, and the notices to sign
    (``params``: the query string, or the list's hidden fields on a POST): workplace/todo_list.py."""
    return todo_list.context(request, request.GET if params is None else params)


@login_required
@require_GET
def todo(request):
    """Sections: what my sections (and my bodies) owe, soonest first; notices to sign."""
    if not nav.has_duties(request.user):
        raise Http404
    context = _todo_context(request)
    if _partial_swap(request):
        return _partial(request, "workplace/_todo_list.html", context, oob_messages=False)
    return render(request, "workplace/todo.html", context)


def _after_todo(request, state):
    context = _todo_context(request, request.POST)
    if request.htmx:
        response = _partial(request, "workplace/_todo_list.html", context)
        return reswap(retarget(response, "#todo"), "outerHTML")
    return redirect("todo")


# --- 通知中心 ------------------------------------------------------------------------------

def _notifications_context(request, params):
    """The user's own notices, newest first (the API's queryset), all or only the unread
    (``params``: the query string, or the list's hidden fields on a POST)."""
    unread_only = params.get("unread") in ("1", "true")
    qs = deadline_reads.notifications_of(request.user, unread_only=unread_only)
    page = page_of(qs, params.get("page"))
    rows = notification_rows(page.object_list, unread_only=unread_only, page=page.number,
                             csrf=csrf_input(get_token(request)))
    return {"page": page, "rows": rows, "unread_only": unread_only, "query": "unread=1" if unread_only else "",
            "unread": nav.unread(request), "unread_shown": nav.shown(nav.unread(request)) or "0"}


@login_required
@require_GET
def notifications(request):
    """通知中心: reminders, urgings, supervision and notices of the deadline engine, and the
    notices that belong to no deadline (a proposal to decide, a warning to sign)."""
    context = _notifications_context(request, request.GET)
    if _partial_swap(request):
        return _partial(request, "workplace/_notification_list.html", context, oob_messages=False)
    return render(request, "workplace/notifications.html", context)


def _own_notification(request, pk):
    """A notification of the user's own; anyone else's is a 404 (as in the API)."""
    notification = deadline_reads.notifications_of(request.user).filter(pk=pk).first()
    if notification is None:
        raise Http404
    return notification


def _after_notifications(request):
    """The list again (with the filter and page the user was on) and the badge, out of band."""
    if request.htmx:
        return _partial(request, "workplace/_notification_list.html", _notifications_context(request, request.POST))
    params = {k: request.POST[k] for k in ("unread", "page") if request.POST.get(k)}
    url = reverse("notifications")
    return redirect(f"{url}?{urlencode(params)}" if params else url)


@login_required
@require_POST
def notification_read(request, pk):
    notification = _own_notification(request, pk)
    if notification_mark_read(user=request.user, ids=[notification.pk]):
        messages.success(request, _("已标为已读。"))
    return _after_notifications(request)


@login_required
@require_POST
def notification_read_all(request):
    marked = notification_mark_read(user=request.user)
    if marked:
        messages.success(request, _("已将 %(n)s 条通知标为已读。") % {"n": marked})
    else:
        messages.info(request, _("没有未读通知。"))
    return _after_notifications(request)


@login_required
@require_GET
def notification_open(request, pk):
    """Following a notice marks it read, then goes where it points (a path of this site
    only; otherwise the incident, or back to the list)."""
    notification = _own_notification(request, pk)
    notification_mark_read(user=request.user, ids=[notification.pk])
    link = notification.link
    if link and link.startswith("/") and url_has_allowed_host_and_scheme(
            link, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(link)
    if notification.incident_id:
        return redirect("incident_detail", pk=notification.incident_id)
    return redirect("notifications")


# --- 问责统计 ------------------------------------------------------------------------------

def _accountability_units(scope, units):
    """The sections and bodies the user may pick: every one, or the user's own."""
    return [(u.code, u.name) for u in units if scope.everything or u.code in scope.codes]


def _percent(rate):
    return None if rate is None else round(rate * 100, 1)


@login_required
@require_GET
def accountability_page(request):
    """R41 in the browser: the service and the input form of GET /api/v1/accountability/
    (and the admin page), with the same rule of who sees which rows."""
    scope = account.scope_for(request.user)
    if scope is None:
        raise Http404
    # Without a period chosen: this month so far (a bounded period, and the one asked first).
    today = timezone.localdate()
    form = account.AccountabilityFilter(request.GET or {"from": today.replace(day=1).isoformat(),
                                                        "to": today.isoformat()})
    report, every = None, account.units()  # the report's units and the form's choices
    if form.is_valid():
        data = form.cleaned_data
        try:
            report = account.report_for(request.user, scope=scope, start=data.get("from"), end=data.get("to"),
                                        owner=data.get("section"), every=every)
        except Forbidden as exc:  # a unit that is not the user's own
            form.add_error("section", str(exc.detail))
    errors = {name: [str(m) for m in msgs] for name, msgs in form.errors.items()}
    state = FormState("accountability", form.data, errors)
    units = [{"row": r, "rate": _percent(r.on_time_rate)} for r in report.sections] if report else []
    people = [{"row": r, "rate": _percent(r.on_time_rate)} for r in report.people] if report else []
    context = {
        "fs": state,
        "scope": scope,
        "unit_choices": _accountability_units(scope, every),
        "units": units,
        "people": people,
        "report": report,
        "chart": {"names": [u["row"].name for u in units], "rates": [u["rate"] for u in units],
                  "name": _("按时率")},
        "chart_height": max(160, 40 + 28 * len(units)),
    }
    if _partial_swap(request):
        return _partial(request, "workplace/_accountability_report.html", context, oob_messages=False)
    return render(request, "workplace/accountability.html", context)
