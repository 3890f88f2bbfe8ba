"""The rows of the paged lists, ready to print (issue 12): what a template would work out per
row — links, badges, labels, local times, the classified-title rule — is worked out here once
per row in Python, where it costs a fraction of the template's lookups, filters and tags. The
templates keep the markup; each value is what the filter or tag it replaces would print."""

import html
import unicodedata
from types import SimpleNamespace

from django.template.defaultfilters import truncatechars
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from incidents.models import Incident, Judgment
from sentiment_ops import prepared

from .formats import display, label, local, row_urls
from .forms import FormState
from .labels import verb_label
from .templatetags.workplace import (
    field,
    form_errors,
    level_badge,
    roman,
    shown_title,
    state_badge,
)


class Listed:
    """An incident as its row of the list reads it (``listed``): its own columns, and its
    warning and response (None when it has none) as plain objects — no model instances."""

    __slots__ = ("classified", "discovered_at", "highest_response_level", "highest_warning_level", "pk",
                 "reported_by_id", "response", "severity", "state", "title", "warning")


class _Part:
    __slots__ = ("level", "proposed_level", "state")


_LISTED = ("pk", "title", "classified", "state", "severity", "highest_warning_level", "highest_response_level",
           "discovered_at", "reported_by_id", "warning__state", "warning__level", "response__state",
           "response__level", "response__proposal__level")


def _listed_rows(ids):
    return Incident.objects.filter(pk__in=ids).order_by().values_list(*_LISTED)


def listed(ids) -> list[Listed]:
    """The page's incidents for ``incident_rows`` (``ids``: the page's keys), in one query
    compiled once per process and number of ids (``prepared.by_ids``): a page of model
    instances with their warnings and responses was 60 objects built and a query compiled."""
    ids = list(ids)
    if not ids:
        return []
    found = []
    for (pk, title, classified, state, severity, highest_warning, highest_response, discovered_at, reported_by_id,
         warning_state, warning_level, response_state, response_level, proposed_level) in prepared.by_ids(
            "workplace.rows.listed", _listed_rows, ids):
        row = Listed()
        row.pk, row.title, row.classified, row.state, row.severity = pk, title, classified, state, severity
        row.highest_warning_level, row.highest_response_level = highest_warning, highest_response
        row.discovered_at, row.reported_by_id = discovered_at, reported_by_id
        row.warning = row.response = None
        if warning_state is not None:  # a warning row's state is never null: it has one
            row.warning = _Part()
            row.warning.state, row.warning.level, row.warning.proposed_level = warning_state, warning_level, None
        if response_state is not None:
            row.response = _Part()
            row.response.state, row.response.level, row.response.proposed_level = (
                response_state, response_level, proposed_level)
        found.append(row)
    return found


_MARK = 987654321


def incident_rows(user, incidents, sections) -> list[dict]:
    """The incident list's rows (workplace/_incident_table.html): each incident with its
    warning (when active), its response, its sections (``sections``: (code, name) by incident,
    incidents.selectors.assigned_sections) and the highest levels it reached."""
    reached = _("曾达%(level)s级")
    comma = _("、")
    # Each row's link, as reverse() gives it (20 reverses were a tenth of the rows' cost).
    head, tail = reverse("incident_detail", args=[_MARK]).split(str(_MARK))
    rows = []
    for incident in incidents:
        # A missing one-to-one raises on every lookup: read each once.
        warning = getattr(incident, "warning", None)
        if warning is not None and warning.state != "active":
            warning = None
        response = getattr(incident, "response", None)
        assigned = sections[incident.pk]
        highest_warning, highest_response = incident.highest_warning_level, incident.highest_response_level
        warning_level = warning.level if warning is not None else None
        response_level = response.level if response is not None else None
        response_state = response.state if response is not None else None
        running = bool(response_level) and response_state != "lifted"
        rows.append({
            "pk": incident.pk,
            "url": f"{head}{incident.pk}{tail}",
            "title": shown_title(user, incident, codes={code for code, _name in assigned}),
            "classified": incident.classified,
            "state": state_badge(incident),
            "severity": label(Incident, "severity", incident.severity) or "—",
            "warning": level_badge(warning_level) if warning is not None else "—",
            "warning_reached": (reached % {"level": roman(highest_warning)}
                                if highest_warning and highest_warning != warning_level else ""),
            "response": level_badge(response_level, "response") if running else "",
            "response_pending": not running and response_state == "proposed",
            "response_reached": (reached % {"level": roman(highest_response)}
                                 if highest_response and (highest_response != response_level
                                                          or response_state == "lifted") else ""),
            "sections": comma.join(name for _code, name in assigned) or "—",
            "discovered": local(incident.discovered_at, "Y-m-d H:i"),
        })
    secret, pending = escape(_("涉密")), escape(_("待审批"))
    for row in rows:
        row["html"] = _incident_row_html(row, secret, pending)
    return rows


def _incident_row_html(row, secret, pending) -> str:
    """A row of the incident list as its template printed it (each row's dozen lookups, tags and
    filters through the template language were most of the list's rendering)."""
    classified = f' <span class="badge text-bg-dark">{secret}</span>' if row["classified"] else ""
    warning_reached = (f'<div class="small text-secondary level-reached">{escape(row["warning_reached"])}</div>'
                       if row["warning_reached"] else "")
    if row["response"]:
        response = conditional_escape(row["response"])
    elif row["response_pending"]:
        response = f'<span class="badge text-bg-light">{pending}</span>'
    else:
        response = "—"
    response_reached = (f'<div class="small text-secondary level-reached">{escape(row["response_reached"])}</div>'
                        if row["response_reached"] else "")
    return mark_safe(
        '<tr>\n'
        f'            <td class="text-secondary">{row["pk"]}</td>\n'
        f'            <td class="cell-title"><a href="{escape(row["url"])}">{escape(row["title"])}</a>{classified}</td>\n'
        f'            <td>{conditional_escape(row["state"])}</td>\n'
        f'            <td class="text-nowrap">{conditional_escape(row["severity"])}</td>\n'
        f'            <td class="text-nowrap">{conditional_escape(row["warning"])}\n'
        f'              {warning_reached}</td>\n'
        f'            <td class="text-nowrap">{response}\n'
        f'              {response_reached}</td>\n'
        f'            <td class="small">{escape(row["sections"])}</td>\n'
        f'            <td class="text-nowrap small">{escape(row["discovered"])}</td>\n'
        '          </tr>')


def options(choices, chosen) -> str:
    """A select's ``<option>``s, ``chosen`` (a query parameter, or None) selected — what
    ``{% for v, l in choices %}<option value="{{ v }}"{% if chosen == v %} selected{% endif %}>{{ l }}</option>{% endfor %}``
    prints (the incident list's filters: some thirty options, each a loop turn, a comparison
    and two escaped variables in the template). ``choices``: (value, label) pairs, or the
    ``option_parts`` of fixed ones."""
    parts = choices if isinstance(choices, _Parts) else option_parts(choices)
    return mark_safe("".join(f"{head}{' selected' if value == chosen else ''}{tail}" for value, head, tail in parts))


class _Parts(tuple):
    pass


def option_parts(choices) -> tuple:
    """Each option of ``choices`` as (value, its text before ``selected``, after it): the
    labels translated and escaped once, for choices fixed in a language."""
    return _Parts((str(value), f'<option value="{escape(value)}"', f">{escape(label)}</option>")
                  for value, label in choices)


def notification_rows(notifications, *, unread_only=False, page=1, csrf="") -> list[dict]:
    """通知中心's notices (workplace/_notification_list.html), with their links, each row
    printed (``html``) as the list's template printed it (``unread_only``, ``page``: the
    list's filter and page, which each 标为已读 form sends back; ``csrf``: the token's input)."""
    rows = []
    for n in notifications:
        rows.append({
            "pk": n.pk,
            "unread": not n.read_at,
            "step": n.step or "notice",
            "step_label": display(n, "step") if n.step else "",
            "created_iso": local(n.created_at, "c"),
            "created": local(n.created_at, "Y-m-d H:i"),
            "open_url": reverse("notification_open", args=[n.pk]) if n.link or n.incident_id else "",
            "title": n.title,
            "body": n.body,
            "incident_id": n.incident_id,
            "read": local(n.read_at, "m-d H:i"),
            "read_url": "" if n.read_at else reverse("notification_read", args=[n.pk]),
        })
    labels = {"notice": pgettext("notification step", "通知"), "unread": _("未读"), "seen": _("已读于"),
              "mark": _("标为已读"), "open": _("查看事件 #%(id)s")}
    kept = '<input type="hidden" name="unread" value="1">' if unread_only else ""
    for row in rows:
        row["html"] = _notification_row_html(row, labels, kept, page, csrf)
    return rows


def _notification_row_html(n, labels, kept, page, csrf) -> str:
    """A notice's row (its dozen tags and lookups through the template language were most of the
    page's rendering); the labels are translations of literals, printed as they are."""
    unread = n["unread"]
    title = (f'<a href="{escape(n["open_url"])}">{escape(n["title"])}</a>' if n["open_url"] else escape(n["title"]))
    body = f'<div class="small preserve-lines mt-1">{escape(n["body"])}</div>' if n["body"] else ""
    link = (f'<a href="{escape(n["open_url"])}" class="notification-link">{labels["open"] % {"id": n["incident_id"]}}</a>'
            if n["incident_id"] else "")
    read = (f'{" · " if n["incident_id"] else ""}{labels["seen"]} {escape(n["read"])}' if n["read"] else "")
    badge = f'<span class="badge text-bg-danger">{labels["unread"]}</span>'
    form = ""
    if unread:
        url = escape(n["read_url"])
        form = (f'\n            <form method="post" action="{url}" hx-post="{url}" hx-target="#notifications" '
                f'hx-swap="outerHTML" class="flex-shrink-0">{csrf}\n'
                f'              {kept}\n'
                f'              <input type="hidden" name="page" value="{page}">\n'
                f'              <button class="btn btn-outline-secondary btn-sm text-nowrap" type="submit">{labels["mark"]}</button>\n'
                '            </form>\n            ')
    return mark_safe(
        f'\n        <li class="list-group-item notification{" notification-unread" if unread else ""}" '
        f'id="notification-{n["pk"]}" data-step="{escape(n["step"])}">\n'
        '          <div class="d-flex flex-wrap flex-md-nowrap justify-content-between align-items-start gap-2">\n'
        '            <div class="notification-main">\n'
        '              <div class="d-flex flex-wrap align-items-center gap-1 mb-1">\n'
        f'                <span class="badge step-badge step-{escape(n["step"])}">'
        f'{escape(n["step_label"]) if n["step_label"] else labels["notice"]}</span>\n'
        f'                {badge if unread else ""}\n'
        f'                <time class="small text-secondary" datetime="{escape(n["created_iso"])}">{escape(n["created"])}</time>\n'
        '              </div>\n'
        f'              <div class="notification-title">{title}</div>\n'
        f'              {body}\n'
        '              <div class="small text-secondary mt-1">\n'
        f'                {link}\n'
        f'                {read}\n'
        '              </div>\n'
        '            </div>\n'
        f'            {form}\n'
        '          </div>\n'
        '        </li>\n      ')


def approval_labels() -> dict:
    """The approvals inbox's fixed text, translated once per page (as ``{% translate "…" %}``
    prints it: a literal's translation is not escaped), and its links' makers."""
    labels = {key: mark_safe(text) for key, text in {
        "lift": _("解除应急响应"), "change": _("调整响应级别"), "start": _("启动应急响应"),
        "proposal": _("提议"), "colon": _("："), "judgment": _("研判"), "advise": _("建议"),
        "no_judgment": _("尚未研判。"), "warning": _("预警"), "lifted": _("已解除"),
        "no_warning": _("未发布预警。"), "stable": _("连续平稳工作日"), "not_started": _("尚未启动应急响应。"),
        "timeline": _("最近处置记录"), "mine": _("这是您提出的提议，须由本机构其他成员审批。"),
        "confirm": _("确定批准？"), "comment": _("批示意见（可选）"), "approve_lift": _("批准解除"),
        "approve": _("批准"), "reject": _("驳回"),
    }.items()}
    labels["reason"] = mark_safe(_("批示意见（驳回理由）"))
    labels["system"] = _("系统")
    empty = []

    def empty_reason(context):
        if not empty:
            empty.append(field(context, FormState(_MARKER), "reason", labels["reason"], type="textarea", rows=2,
                               required=True))
        return empty[0]

    labels["empty_reason"] = empty_reason
    # Badges and labels the same for every card of the page: each worked out once (a lazy
    # translation costs a look-up of the active language every time it is printed).
    labels["badge"] = _Memo(lambda key: level_badge(*key))
    labels["state"] = _Memo(lambda state: state_badge(SimpleNamespace(state=state)))
    labels["verb"] = _Memo(lambda verb: escape(verb_label(verb)))
    labels["judged"] = _Memo(lambda key: escape(label(Judgment, *key)))
    tz = timezone.get_current_timezone()
    labels["time"] = lambda value: value.astimezone(tz).strftime("%m-%d %H:%M") if value else ""  # local(value, "m-d H:i")
    labels["urls"] = {"detail": row_urls("incident_detail"), **{action: row_urls("incident_action", action) for action in (
        "approve-lift", "reject-lift", "approve-response", "reject-response")}}
    return labels


_MARKER = "reject_2147483647"  # the key of the empty reject form printed once a page


class _Memo(dict):
    """``memo[key]``: ``make(key)``, made once."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, key):
        value = self[key] = self.make(key)
        return value


def _widthratio(value, max_value, max_width=100) -> str:
    """``{% widthratio value max_value max_width %}``."""
    try:
        return str(round(float(value) / float(max_value) * max_width))
    except ZeroDivisionError:
        return "0"
    except (ValueError, TypeError, OverflowError):
        return ""


def approval_html(user, item, values, judgment, events, page_number, csrf, context, labels) -> str:
    """One proposal of the approvals inbox (workplace/_approvals_list.html's card), printed
    here — the markup the template printed, with its badges, links, local times, the
    judgment's labels, the latest timeline entries and the two forms (the reject form's field
    and errors as ``{% field %}`` and ``{% form_errors %}`` print them) — from the plain values
    ``workplace.views._approval_items`` reads (``responses.selectors.approval_values``,
    ``incidents.selectors.latest_judgment_values`` and ``latest_event_values``). ``item``:
    the incident, ``lift``, ``visible`` (R54), ``mine`` and the reject ``form``."""
    L, v, e = labels, values, _escape
    badge, when, verbs = L["badge"], L["time"], L["verb"]
    incident, lift, visible, form = item["incident"], item["lift"], item["visible"], item["form"]
    pk = incident.pk
    if lift:
        head = f'\n          <span class="badge text-bg-success">{L["lift"]}</span> {badge[v["level"], "response"]}\n        '
        who = _name(v["lift_proposed_by_id"], v["lift_proposed_by__full_name"], v["lift_proposed_by__username"])
        reason = f'{L["colon"]}{e(v["lift_reason"])}' if visible and v["lift_reason"] else ""
        proposal = f'{e(who)}{reason}\n            \n'
    else:
        from_level = badge[v["proposal__from_level"], "response"] if v["proposal__from_level"] else ""
        head = (f'\n          <span class="badge text-bg-danger">{L["change"] if from_level else L["start"]}</span>\n'
                f'          {f"{from_level} →" if from_level else ""} {badge[v["proposal__level"], "response"]}\n        ')
        who = _name(v["proposal__proposed_by_id"], v["proposal__proposed_by__full_name"],
                    v["proposal__proposed_by__username"])
        reason = f'{L["colon"]}{e(v["proposal__reason"])}' if visible and v["proposal__reason"] else ""
        proposal = f'{e(who)} · {when(v["proposal__proposed_at"])}{reason}\n'
    if judgment:
        severity, veracity, judged_at, analysis, recommended = judgment
        recommended = badge[recommended, "response"]
        analysed = f'<br><span class="preserve-lines">{e(analysis)}</span>' if visible and analysis else ""
        advised = f'<br>{L["advise"]} {recommended}' if recommended else ""
        judged = (f'\n            <p class="small mb-2">{L["judged"]["severity", severity]} · '
                  f'{L["judged"]["veracity", veracity]} · {when(judged_at)}\n'
                  f'              {analysed}\n              {advised}</p>\n          ')
    else:
        judged = f'<p class="small text-secondary mb-2">{L["no_judgment"]}</p>'
    if v["incident__warning__current_id"]:
        warning = (badge[v["incident__warning__level"], "warning"] if v["incident__warning__state"] == "active"
                   else f'<span class="badge text-bg-secondary">{L["lifted"]}</span>')
        shown = (f'{e(v["incident__warning__current__subject"])} · {e(_truncated(v["incident__warning__current__matters"], 80))}'
                 if visible else "")
        warned = f'\n            <p class="small mb-2">{warning}\n              {shown}</p>\n          '
    else:
        warned = f'<p class="small text-secondary mb-2">{L["no_warning"]}</p>'
    level, days, needed = v["level"], v["stable_working_days"], v["needed_days"]
    if level:
        try:
            done = days >= needed
        except TypeError:
            done = False
        stable = (f'\n          <div class="stable-counter small mb-2">\n'
                  f'            <strong>{days} / {needed}</strong>\n'
                  f'            <div class="progress mt-1" role="progressbar" aria-valuemin="0" aria-valuemax="{needed}" aria-valuenow="{days}">\n'
                  f'              <div class="progress-bar{" bg-success" if done else ""}" style="width: {_widthratio(days, needed)}%"></div>\n'
                  f'            </div>\n          </div>\n          ')
    else:
        stable = f'<p class="small text-secondary mb-2">{L["not_started"]}</p>\n          '
    system = L["system"]
    timeline = "".join(f"<li>{when(at)} · {e(system if actor is None else actor)} · {verbs[verb]}</li>"
                       for at, actor, verb in events)
    if item["mine"]:
        footer = f'\n        <span class="small text-secondary">{L["mine"]}</span>\n      '
    else:
        urls = L["urls"]
        approve = urls["approve-lift" if lift else "approve-response"](pk)
        reject = urls["reject-lift" if lift else "reject-response"](pk)
        if form.bound or form.errors:
            reason_field = field(context, form, "reason", L["reason"], type="textarea", rows=2, required=True)
        else:  # a form nobody touched: the page's one empty field, with this form's key
            reason_field = L["empty_reason"](context).replace(_MARKER, form.key)
        errors = form_errors(form).rstrip("\n")
        footer = f"""
      <div class="d-flex flex-wrap gap-2 align-items-start">
        <form method="post" action="{approve}"
              hx-post="{approve}" hx-target="#approvals" hx-swap="outerHTML"
              hx-confirm="{L["confirm"]}" novalidate>{csrf}
          <input type="hidden" name="_from" value="approvals"><input type="hidden" name="page" value="{page_number}">
          <textarea class="form-control form-control-sm mb-1" name="comment" rows="1" aria-label="{L["comment"]}" placeholder="{L["comment"]}"></textarea>
          <button class="btn btn-success btn-sm" type="submit">{L["approve_lift"] if lift else L["approve"]}</button>
        </form>
        <details class="action flex-grow-1"{" open" if form.open else ""}>
          <summary class="btn btn-sm btn-outline-secondary">{L["reject"]}</summary>
          <form method="post" action="{reject}"
                hx-post="{reject}" hx-target="#approvals" hx-swap="outerHTML" class="action-form mt-2" novalidate>{csrf}
            <input type="hidden" name="_from" value="approvals"><input type="hidden" name="page" value="{page_number}">
            <input type="hidden" name="_form" value="reject_{pk}">
            {reason_field}
            {errors}
            <button class="btn btn-secondary btn-sm" type="submit">{L["reject"]}</button>
          </form>
        </details>
      </div>
      """
    return mark_safe(f"""
  <article class="card mb-3 approval" id="approval-{pk}">
    <div class="card-header d-flex flex-wrap justify-content-between align-items-center gap-2">
      <div>
        {head}
        <a class="ms-1 fw-semibold" href="{L["urls"]["detail"](pk)}">#{pk} {e(shown_title(user, incident, visible))}</a>
      </div>
      <span class="small text-secondary">{L["state"][incident.state]}</span>
    </div>
    <div class="card-body">
      <div class="row g-3">
        <div class="col-md-6">
          <h3 class="h6">{L["proposal"]}</h3>
          <p class="small mb-2">
            {proposal}          </p>
          <h3 class="h6">{L["judgment"]}</h3>
          {judged}
          <h3 class="h6">{L["warning"]}</h3>
          {warned}
          <h3 class="h6">{L["stable"]}</h3>
          {stable}
        </div>
        <div class="col-md-6">
          <h3 class="h6">{L["timeline"]}</h3>
          <ul class="list-unstyled small mb-0">
            {timeline}
          </ul>
        </div>
      </div>
    </div>
    <div class="card-footer">
      {footer}
    </div>
  </article>
  """)  # every value above escaped (``e``), a badge (escaped) or our own text


def _truncated(text, length: int) -> str:
    """``truncatechars:length``: a text no longer than that is only normalised (NFC), as the
    filter leaves it — without the filter's translated ellipsis looked up for each."""
    text = str(text)
    return unicodedata.normalize("NFC", text) if len(text) <= length else truncatechars(text, length)


def _escape(value) -> str:
    """``conditional_escape`` of a plain value (never a safe string here): the same text."""
    return html.escape(str(value))


def _name(pk, full_name, username) -> str:
    """``str(user)`` of a user read as values (its full name, else its username)."""
    return "None" if pk is None else (full_name or username)


def timeline_html(items, visible: bool) -> str:
    """The case page's timeline entries (workplace/_timeline_items.html), the items of
    ``workplace.detail.timeline_items``, as the template printed them one by one (its lookups,
    date filter and translation per entry were a tenth of the page's rendering)."""
    system = conditional_escape(_("系统"))
    pair = _("%(label)s：%(value)s")
    out = []
    for item in items:
        event = item["event"]
        actor = event.actor
        pairs = "".join(" · " + pair % {"label": conditional_escape(label), "value": conditional_escape(value)}
                        for label, value in item["pairs"])
        reason = (f'<div class="preserve-lines">{conditional_escape(event.reason)}</div>'
                  if visible and event.reason else "")
        out.append(
            f'\n      <li class="list-group-item" data-verb="{conditional_escape(event.verb)}">\n'
            f'        <div class="d-flex justify-content-between gap-2">\n'
            f'          <span class="fw-semibold">{conditional_escape(item["label"])}</span>\n'
            f'          <span class="text-secondary text-nowrap">{local(event.at, "m-d H:i")}</span>\n'
            f'        </div>\n'
            f'        <div class="text-secondary">{conditional_escape(str(actor)) if actor else system}{pairs}</div>\n'
            f'        {reason}\n'
            f'      </li>\n')
    return mark_safe("".join(out))  # every value above escaped
