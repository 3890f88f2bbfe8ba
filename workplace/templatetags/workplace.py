"""Small template helpers for the workplace: one tag renders a labelled input with its value
and its errors, badges for levels and states, the classified-title rule, urgency colours,
and the navigation bar by role."""

import datetime as dt

from django import template
from django.template.base import render_value_in_context
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from rest_framework import serializers

from deadlines.policy import DUE_SOON
from incidents import permissions as perms
from incidents.models import State

from .. import layout, nav
from ..fields import render_field
from ..formats import display, local, row_urls
from ..labels import ROMAN

register = template.Library()


@register.simple_tag(takes_context=True)
def field(context, state, name, label, type="text", choices=None, required=False, help="", rows=3, blank=None,
          attrs="", placeholder="", default=None, inline=False, small=False):
    """``{% field fs "title" _("标题") required=True %}``: label, input with what the user
    typed (or the initial value), and the field's errors beside it (workplace/fields.py)."""
    state.rendered.add(name)
    value = state.value(name, "" if default is None else default)
    selected = set(state.values(name)) if type == "checkboxes" else {str(value)}
    options = [(str(v), str(lbl), str(v) in selected) for v, lbl in (choices or [])]
    return render_field({
        "id": f"id_{state.key}_{name}",
        "name": name,
        "label": label,
        "type": type,
        "value": value,
        "checked": state.checked(name) if state.bound else bool(state.initial.get(name, default)),
        "options": options,
        "blank": blank,
        "required": required,
        "help": help,
        "rows": rows,
        "attrs": mark_safe(attrs),  # literal attributes written in our own templates
        "placeholder": placeholder,
        "errors": state.errors_for(name),
        "inline": inline,
        "small": small,
    }, context)


@register.simple_tag(takes_context=True)
def act(context, action):
    """``{% url 'incident_action' incident.pk action %}`` of the page's ``incident``, reversed
    once per process (the case page has some sixty of them: a reverse each was a tenth of its
    rendering)."""
    return row_urls("incident_action", action)(context["incident"].pk)


@register.simple_tag(takes_context=True)
def more(context, panel, n, label):
    """A closed panel's line for one of its lists, ``label（n）``, that loads the panel when
    opened (nothing when the list is empty)."""
    if not n:
        return "\n"
    url = row_urls("incident_panel", panel)(context["incident"].pk)
    text = _("%(label)s（%(n)s）") % {"label": render_value_in_context(label, context),
                                       "n": render_value_in_context(n, context)}
    loading = _("正在载入…")
    return mark_safe(  # the values escaped above; the panel a name of our own templates
        f'<details class="case-more small mt-1" hx-get="{url}" hx-trigger="toggle once" '
        f'hx-target="#panel-{panel}" hx-swap="outerHTML"><summary>{text}</summary>'
        f'<span class="text-secondary">{loading}</span></details>\n')


@register.simple_tag
def form_errors(state):
    """Errors without an input of their own (hidden fields, non-field errors), printed here (the
    case page has three dozen forms: an included template for each was a twentieth of its
    rendering)."""
    errors = state.other_errors
    if not errors:
        return "\n"
    return format_html('<div class="alert alert-danger py-2 small mb-2" role="alert">{}</div>\n',
                       format_html_join("", "<div>{}</div>", ((e,) for e in errors)))


COLOURS = {1: gettext_noop("红色"), 2: gettext_noop("橙色"), 3: gettext_noop("黄色"), 4: gettext_noop("蓝色")}


@register.filter
def level_badge(level, kind="warning"):
    if not level:
        return ""
    text = (_("%(level)s级预警") if kind == "warning" else _("%(level)s级响应")) % {"level": ROMAN.get(level, level)}
    title = _(COLOURS[level]) if kind == "warning" and level in COLOURS else ""  # only the one shown
    return format_html('<span class="badge level-{}" title="{}">{}</span>', level, title, text)


@register.filter
def roman(level):
    return ROMAN.get(level, level or "")


# An incident's states by value: its get_state_display() builds this table on every call.
STATE_LABELS = dict(State.choices)


@register.filter
def state_badge(incident):
    return format_html('<span class="badge state-badge state-{}">{}</span>', incident.state,
                       STATE_LABELS.get(incident.state, incident.state))


@register.simple_tag(takes_context=True)
def title_for(context, incident, readable=None):
    """``{% title_for incident %}``: ``shown_title`` for the user of the page."""
    return shown_title(getattr(context.get("request"), "user", None), incident, readable)


def shown_title(user, incident, readable=None, codes=None) -> str:
    """R54: a classified incident's title only for those who may read its content.
    ``readable``: the list's ``content_ok`` annotation (incidents.selectors.content_flag), so
    that no row costs a query; else the incident's own annotation, else the rule itself
    (``codes``: its sections' codes when already at hand)."""
    if readable is None:
        readable = getattr(incident, "content_ok", None)
    if readable is None:
        if codes is None:
            codes = {s.code for s in incident.sections.all()}
        readable = perms.can_see_content(user, incident, codes)
    return perms.shown_title(incident.title, readable, incident.pk)


@register.filter
def urgency(due_at, now=None):
    """overdue → red, < 1 h → orange, < 3 h → yellow (the same rule the countdown script uses)."""
    if due_at is None:
        return ""
    left = due_at - (now or timezone.now())
    if left < dt.timedelta(0):
        return "urgency-overdue"
    if left < dt.timedelta(hours=1):
        return "urgency-1h"
    if left < DUE_SOON:
        return "urgency-3h"
    return "urgency-later"


@register.simple_tag
def countdown(due, now=None):
    """A due time counting down (static/workplace's script reads ``data-due``), coloured by
    its urgency: ``{% countdown d.due_at now %}`` (workplace/_countdown.html)."""
    return format_html('<span class="countdown {}" data-due="{}">{}</span>', urgency(due, now),
                       local(due, "c"), local(due, "m-d H:i"))


@register.filter(name="display")
def display_filter(row, field):
    """``row.get_<field>_display`` from a table made once per field (workplace.formats.display:
    Django's builds it on every call)."""
    if not hasattr(row, "_meta"):  # no row: None, or an unset variable's ""
        return ""
    return display(row, field)


@register.filter(name="local")
def local_filter(value, fmt):
    """``|date:fmt`` of an aware datetime for the formats lists print (``"m-d H:i"``,
    ``"Y-m-d H:i"``): the same text by strftime, a fraction of the date filter's cost (the case
    page prints some thirty)."""
    return local(value, fmt)


@register.filter
def owner_name(deadline):
    if deadline.owner_section_id:
        return deadline.owner_section.name
    return deadline.owner_body.name if deadline.owner_body_id else ""


@register.filter
def filesize(value):
    value = int(value or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return value


@register.filter
def percent(value):
    """A percentage already multiplied by 100 (one decimal), or a dash when there is none."""
    if value is None:
        return "—"
    return f"{value:.1f}".rstrip("0").rstrip(".") + "%"


# What each figure's cell adds to its class when the figure is not 0.
FIGURE_CELLS = (("owed", ""), ("met", ""), ("late", " text-warning-emphasis"), ("missed", " figure-bad"),
                ("open", ""), ("overdue", " figure-bad"), ("waived", None))


@register.simple_tag
def figure_cells(row, rate):
    """The accountability figures of a unit's or a person's row (``row``: their Figures), and
    its on-time ``rate`` (a percentage or None): eight cells, written at once — the page shows
    up to ~20 rows of them, and a cell through the template language costs 20× more."""
    cells = []
    for name, marked in FIGURE_CELLS:
        value = getattr(row, name)
        css = " waived" if marked is None else (marked if value else "")
        cells.append(f'<td class="num{css}">{int(value)}</td>')
    cells.append(f'<td class="num rate">{escape(percent(rate))}</td>')
    return mark_safe("".join(cells))  # ints, fixed classes and an escaped percentage


@register.filter
def get(mapping, key):
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        return getattr(mapping, str(key), None)


@register.simple_tag(takes_context=True)
def workplace_nav(context, oob=False):
    """The pages relevant to the user's roles, with what is waiting for them (workplace/layout.py).
    ``oob``: the same list swapped in by an htmx response, so the counts follow the user's
    actions."""
    return layout.pages(context.get("request"), oob)


@register.simple_tag
def page_assets():
    """The stylesheets and scripts of every page (base.html)."""
    return layout.assets()


@register.simple_tag(takes_context=True)
def page_navbar(context):
    """The navigation bar of every page (base.html), printed in one pass."""
    return layout.navbar(context)


@register.simple_tag
def page_i18n():
    """The countdown script's words in the active language (base.html)."""
    return layout.i18n()


def _input_of(field) -> dict | None:
    """How one payload serializer field is asked for on a page (None: not from a form)."""
    if field.read_only or isinstance(field, serializers.BaseSerializer | serializers.FileField):
        return None
    spec = {"label": str(field.label or field.field_name), "required": field.required, "choices": None,
            "help": str(field.help_text or "")}
    if isinstance(field, serializers.MultipleChoiceField) or (
            isinstance(field, serializers.ListField) and isinstance(field.child, serializers.ChoiceField)):
        choices = field.choices if isinstance(field, serializers.ChoiceField) else field.child.choices
        return {**spec, "type": "checkboxes", "choices": list(choices.items())}
    if isinstance(field, serializers.ChoiceField):
        return {**spec, "type": "select", "choices": list(field.choices.items())}
    if isinstance(field, serializers.BooleanField):
        return {**spec, "type": "checkbox"}
    if isinstance(field, serializers.IntegerField):
        return {**spec, "type": "number"}
    if isinstance(field, serializers.DateTimeField):
        return {**spec, "type": "datetime-local"}
    if isinstance(field, serializers.DateField):
        return {**spec, "type": "date"}
    if isinstance(field, serializers.CharField) and not field.max_length:
        return {**spec, "type": "textarea"}
    return {**spec, "type": "text"}


@register.inclusion_tag("workplace/_action_form.html", takes_context=True)
def action_form(context, action):
    """A form for any action of the registry, from its payload serializer: how an action that
    no panel has a form for (one added to lifecycle/actions.py later) reaches the page."""
    key = action.name.replace("-", "_")
    inputs = [(name, spec) for name, field in action.payload().fields.items()
              if (spec := _input_of(field)) is not None]
    return {"action": action, "state": context["forms"][key], "key": key, "inputs": inputs,
            "incident": context["incident"], "csrf_token": context.get("csrf_token")}


@register.filter
def paren(value):
    """``（value）`` on Chinese pages, `` (value)`` on English ones."""
    return _("（%(x)s）") % {"x": value}


@register.filter
def colon(label):
    """``label：`` on Chinese pages, ``label: `` on English ones."""
    return _("%(label)s：") % {"label": label}


@register.filter
def capped(count):
    """A count that stopped at the navigation's cap: "99+" past it (``nav.shown``), 0 as 0."""
    return nav.shown(count) or 0
