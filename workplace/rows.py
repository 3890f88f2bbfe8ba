"""The rows of the paged lists, ready to print (issue 12): what a template would work out per
row — links, badges, labels, local times, the classified-title rule — is worked out here once
per row in Python, where it costs a fraction of the template's lookups, filters and tags. The
templates keep the markup; each value is what the filter or tag it replaces would print."""

from django.template.defaultfilters import truncatechars
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from incidents.models import Incident
from sentiment_ops import prepared

from .formats import display, label, local
from .labels import verb_label
from .templatetags.workplace import (
    countdown,
    level_badge,
    owner_name,
    roman,
    shown_title,
    state_badge,
    urgency,
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
    return rows


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


def deadline_rows(user, deadlines, now, mine) -> list[dict]:
    """我的待办's deadlines (workplace/_todo_list.html), each with its urgency, owner, due and
    latest times, its incident's link and shown title, and whether a zero report may answer it
    (a status report owed by one of the user's sections, ``mine``: their ids)."""
    rows = []
    for d in deadlines:
        panel = reverse("incident_detail", args=[d.incident_id]) + "#panel-reports"
        zero_ok = d.kind == "status" and d.owner_section_id in mine
        rows.append({
            "d": d,  # for the shared provisional mark
            "urgency": urgency(d.due_at, now),
            "countdown": countdown(d.due_at, now),
            "kind": d.kind,
            "kind_label": display(d, "kind"),
            "missed": display(d, "state") if d.state == "missed" else "",
            "owner_code": d.owner_code,
            "owner_name": owner_name(d),
            "incident_id": d.incident_id,
            "url": panel,
            "title": shown_title(user, d.incident, d.content_ok),
            "due": local(d.due_at, "m-d H:i"),
            "hard_due": local(d.hard_due_at, "m-d H:i"),
            "zero_ok": zero_ok,
            "report_url": reverse("incident_action", args=[d.incident_id, "report"]) if zero_ok else "",
            "section_code": d.owner_section.code if zero_ok else "",
        })
    return rows


def receipt_rows(user, receipts) -> list[dict]:
    """我的待办's notices to sign (workplace/_todo_list.html)."""
    rows = []
    for r in receipts:
        notice = r.notice
        rows.append({
            "level": level_badge(notice.level),
            "kind_label": display(notice, "kind"),
            "url": reverse("incident_detail", args=[notice.incident_id]) + "#panel-warning",
            "incident_id": notice.incident_id,
            "title": shown_title(user, notice.incident, r.content_ok),
            "section_name": r.section.name,
            "section_code": r.section.code,
            "issued": local(notice.issued_at, "m-d H:i"),
            "sign_url": reverse("incident_action", args=[notice.incident_id, "sign"]),
            "notice_id": r.notice_id,
        })
    return rows


def notification_rows(notifications) -> list[dict]:
    """通知中心's notices (workplace/_notification_list.html), with their links."""
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
    return rows


def approval_row(user, item) -> dict:
    """What one proposal of the approvals inbox prints (workplace/_approvals_list.html), from
    the item ``workplace.views._approval_items`` reads: badges, links, local times, the
    judgment's labels and the latest timeline entries as lines."""
    incident, response, proposal, judgment = item["incident"], item["response"], item["proposal"], item["judgment"]
    lift = item["lift"]
    actions = ("approve-lift", "reject-lift") if lift else ("approve-response", "reject-response")
    system = _("系统")
    return {
        "level": level_badge(response.level, "response") if lift else level_badge(proposal.level, "response"),
        "from_level": "" if lift or not proposal.from_level else level_badge(proposal.from_level, "response"),
        "url": reverse("incident_detail", args=[incident.pk]),
        "title": shown_title(user, incident, item["visible"]),
        "state": state_badge(incident),
        "proposed_by": str(response.lift_proposed_by if lift else proposal.proposed_by),
        "proposed_at": "" if lift else local(proposal.proposed_at, "m-d H:i"),
        "judgment": judgment and {
            "severity": display(judgment, "severity"), "veracity": display(judgment, "veracity"),
            "at": local(judgment.judged_at, "m-d H:i"), "analysis": judgment.analysis,
            "recommended": level_badge(judgment.recommended_response_level, "response")},
        "warning_active": bool(item["notice"]) and item["warning"].state == "active",
        "warning_level": level_badge(item["warning"].level) if item["notice"] else "",
        "matters": truncatechars(item["notice"].matters, 80) if item["notice"] else "",
        "timeline": [(local(e.at, "m-d H:i"), str(e.actor) if e.actor else system, verb_label(e.verb))
                     for e in item["timeline"]],
        "approve_url": reverse("incident_action", args=[incident.pk, actions[0]]),
        "reject_url": reverse("incident_action", args=[incident.pk, actions[1]]),
    }
