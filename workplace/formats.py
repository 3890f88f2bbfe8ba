"""Values as the templates print them, for the rows and tags worked out in Python (issue 12):
the same text as the template filter, at a fraction of its cost."""

import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import dateformat, timezone
from django.utils.encoding import force_str
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _

# The formats the lists print, as strftime's (the same text, a fraction of the cost).
STRFTIME = {"m-d H:i": "%m-%d %H:%M", "Y-m-d H:i": "%Y-%m-%d %H:%M"}


@functools.cache
def _choices(model, field: str) -> dict:
    return dict(model._meta.get_field(field).flatchoices)


def escaped_labels(model, field: str) -> dict:
    """The field's choices' labels, escaped, in the active language: {value: label}."""
    return _escaped_labels(model, field, get_language())


@functools.cache
def _escaped_labels(model, field: str, _language) -> dict:
    return {value: escape(str(label)) for value, label in _choices(model, field).items()}


def display(row, field: str) -> str:
    """``row.get_<field>_display()`` from a table made once per field (Django's builds it on
    every call: 30 µs, a list's biggest cost per row)."""
    return label(type(row), field, getattr(row, field))


def label(model, field: str, value) -> str:
    """``display`` of ``value``, a value of ``model``'s ``field`` (read without its row: a list of plain values)."""
    return force_str(_choices(model, field).get(value, value), strings_only=True)


def local(value, fmt: str) -> str:
    """``{{ value|date:fmt }}`` of an aware datetime (empty for none)."""
    if not value:
        return ""
    value = timezone.localtime(value)
    if fmt == "c":
        return value.isoformat()
    return value.strftime(STRFTIME[fmt]) if fmt in STRFTIME else dateformat.format(value, fmt)


def provisional_mark() -> str:
    """The mark of a deadline counted on the provisional calendar, as
    workplace/_provisional.html prints it (for a row printed in Python)."""
    title, text = escape(_("按暂定工作日历（法定节假日规则推算）计算，官方放假安排确认后将重新计算")), escape(_("暂定"))
    return f' <span class="badge text-bg-warning provisional-mark" title="{title}">{text}</span>'


def csrf_input(token) -> str:
    """What ``{% csrf_token %}`` prints, for a form printed in Python (nothing without a token)."""
    if not token or token == "NOTPROVIDED":
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">'


_reversed: dict = {}


def row_urls(name: str, *after):
    """``reverse(name, args=[pk, *after])`` for the rows of a list, as a function of the pk:
    reversed once per process (and URL configuration), with a marker where the pk goes (an
    ``int`` converter prints the pk as it is)."""
    key = (name, after, settings.ROOT_URLCONF, get_urlconf(), get_script_prefix())
    parts = _reversed.get(key)
    if parts is None:
        marker = "2147483647"
        parts = _reversed[key] = tuple(reverse(name, args=[int(marker), *after]).split(marker))
    head, tail = parts
    return lambda pk: f"{head}{int(pk)}{tail}"
