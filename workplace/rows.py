"""The rows of the paged lists, ready to print (issue 12): what a template would work out per
row — links, badges, labels, local times, the classified-title rule — is worked out here once
per row in Python, where it costs a fraction of the template's lookups, filters and tags. The
templates keep the markup; each value is what the filter or tag it replaces would print."""

from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from .templatetags.workplace import level_badge, roman, shown_title, state_badge


def local(value, fmt: str) -> str:
    """``{{ value|date:fmt }}`` of an aware datetime (empty for none)."""
    return dateformat.format(timezone.localtime(value), fmt) if value else ""


def incident_rows(user, incidents) -> list[dict]:
    """The incident list's rows (workplace/_incident_table.html): each incident with its
    warning (when active), its response, its sections and the highest levels it reached."""
    reached = _("曾达%(level)s级")
    comma = _("、")
    rows = []
    for incident in incidents:
        # A missing one-to-one raises on every lookup: read each once.
        warning = getattr(incident, "warning", None)
        if warning is not None and warning.state != "active":
            warning = None
        response = getattr(incident, "response", None)
        sections = incident.sections.all()
        highest_warning, highest_response = incident.highest_warning_level, incident.highest_response_level
        warning_level = warning.level if warning is not None else None
        response_level = response.level if response is not None else None
        response_state = response.state if response is not None else None
        running = bool(response_level) and response_state != "lifted"
        rows.append({
            "pk": incident.pk,
            "url": reverse("incident_detail", args=[incident.pk]),
            "title": shown_title(user, incident, codes={s.code for s in sections}),
            "classified": incident.classified,
            "state": state_badge(incident),
            "severity": incident.get_severity_display() or "—",
            "warning": level_badge(warning_level) if warning is not None else "—",
            "warning_reached": (reached % {"level": roman(highest_warning)}
                                if highest_warning and highest_warning != warning_level else ""),
            "response": level_badge(response_level, "response") if running else "",
            "response_pending": not running and response_state == "proposed",
            "response_reached": (reached % {"level": roman(highest_response)}
                                 if highest_response and (highest_response != response_level
                                                          or response_state == "lifted") else ""),
            "sections": comma.join(s.name for s in sections) or "—",
            "discovered": local(incident.discovered_at, "Y-m-d H:i"),
        })
    return rows
