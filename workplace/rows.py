"""The rows of the paged lists, ready to print (issue 12): what a template would work out per
row — links, badges, labels, local times, the classified-title rule — is worked out here once
per row in Python, where it costs a fraction of the template's lookups, filters and tags. The
templates keep the markup; each value is what the filter or tag it replaces would print."""

from django.template.defaultfilters import truncatechars
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from .formats import display, local
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


def incident_rows(user, incidents, sections) -> list[dict]:
    """The incident list's rows (workplace/_incident_table.html): each incident with its
    warning (when active), its response, its sections (``sections``: (code, name) by incident,
    incidents.selectors.assigned_sections) and the highest levels it reached."""
    reached = _("曾达%(level)s级")
    comma = _("、")
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
            "url": reverse("incident_detail", args=[incident.pk]),
            "title": shown_title(user, incident, codes={code for code, _name in assigned}),
            "classified": incident.classified,
            "state": state_badge(incident),
            "severity": display(incident, "severity") or "—",
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
