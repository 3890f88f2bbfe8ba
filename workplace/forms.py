"""Form handling for the pages without a second set of rules: the payload serializers of
lifecycle/payloads.py validate, the services decide, and what they raise reaches the page
through the project's one error map (``sentiment_ops.exceptions.describe``).

``FormState`` carries what the user typed and the errors to show beside each input, so a
rejected form comes back exactly as it was sent. ``execute`` is the one path from a browser
form to an action: ``lifecycle.actions.run`` (role → payload → service), as the API's.
"""

import datetime as dt
import re

from django.contrib import messages
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from lifecycle.actions import run
from lifecycle.payloads import naive
from sentiment_ops.exceptions import NON_FIELD_ERRORS, describe

from .labels import success_message

NON_FIELD = "__all__"


class FormState:
    """One form on a page: its key, the submitted data (or initial values) and its errors."""

    def __init__(self, key: str, data=None, errors=None, initial=None):
        self.key = key
        self.data = data  # a QueryDict once submitted
        self.errors: dict[str, list[str]] = errors or {}
        self.initial = initial or {}
        self.ok = False
        self.failed = False  # a Forbidden/Conflict: told by a message, input kept
        self.rendered: set[str] = set()  # fields shown with their own inputs (and errors)

    @property
    def bound(self) -> bool:
        return self.data is not None

    @property
    def open(self) -> bool:
        """A form the user was working on stays open after the page comes back."""
        return self.bound and not self.ok

    def value(self, name, default=""):
        if self.bound:
            return self.data.get(name, "")
        value = self.initial.get(name, default)
        return "" if value is None else value

    def values(self, name) -> list[str]:
        if self.bound:
            return self.data.getlist(name)
        value = self.initial.get(name, [])
        return [str(v) for v in (value if isinstance(value, list | tuple | set) else [value])]

    def checked(self, name) -> bool:
        if self.bound:
            return self.data.get(name, "").lower() in ("on", "true", "1", "yes")
        return bool(self.initial.get(name))

    def errors_for(self, name) -> list[str]:
        return self.errors.get(name, [])

    @property
    def other_errors(self) -> list[str]:
        """Errors of fields that have no input of their own on the form (hidden fields,
        non-field errors): shown together next to the submit button."""
        return [m for field, msgs in self.errors.items() if field not in self.rendered for m in msgs]


class Forms(dict):
    """The forms of a page by key; a form nobody touched is an empty FormState."""

    def __missing__(self, key):
        state = FormState(key)
        self[key] = state
        return state


def form_key(raw: str | None, default: str) -> str:
    key = (raw or "").strip()
    return key if re.fullmatch(r"[a-z0-9_]{1,60}", key) else default.replace("-", "_")


# --- payloads ------------------------------------------------------------------------

def payload_from_post(serializer_class, post, files=None) -> dict:
    """A browser form as the JSON the API would receive: empty inputs are left out (so a
    required field says it is required and an optional one takes its default), an
    unchecked checkbox is false, repeated names are lists."""
    data = {}
    for name, field in serializer_class().fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.ListField):
            values = [v for v in post.getlist(name) if v.strip()]
            if values:
                data[name] = values
        elif isinstance(field, serializers.FileField):
            if files is not None and name in files:
                data[name] = files[name]
        elif isinstance(field, serializers.BooleanField):
            if name in post:
                data[name] = post.get(name)
            elif not field.required:
                data[name] = False
        elif isinstance(field, serializers.ListSerializer) and name != "sources":
            rows = nested_rows(field.child, name, post)
            if rows:
                data[name] = rows
        elif isinstance(field, serializers.BaseSerializer):
            continue  # nested rows (sources) are read by their page
        elif isinstance(field, serializers.DateTimeField):
            value = post.get(name)
            if value is not None and value.strip() != "":
                data[name] = local_datetime(value)
        else:
            value = post.get(name)
            if value is not None and value.strip() != "":
                data[name] = value
    return data


def nested_rows(child, name, post) -> list[dict]:
    """Rows of a nested list (``decisions-<i>-<field>`` inputs) as the API's list of objects,
    up to the last row with anything typed (so row ``i`` of the form is row ``i`` of the
    payload, and its errors come back beside its inputs)."""
    indices = sorted({int(key.split("-")[1]) for key in post
                      if key.startswith(f"{name}-") and key.count("-") == 2 and key.split("-")[1].isdigit()})
    rows = [payload_from_post(type(child), _Prefixed(post, f"{name}-{i}-")) for i in indices]
    while rows and not rows[-1]:
        rows.pop()
    return rows


class _Prefixed:
    """The inputs of one nested row, read without their ``<list>-<i>-`` prefix."""

    def __init__(self, post, prefix):
        self.post, self.prefix = post, prefix

    def get(self, name, default=None):
        return self.post.get(self.prefix + name, default)

    def getlist(self, name):
        return self.post.getlist(self.prefix + name)

    def __contains__(self, name):
        return self.prefix + name in self.post


def local_datetime(value: str) -> str:
    """A ``datetime-local`` input carries no offset: it is read as Asia/Shanghai (the time
    zone), so the API's rule that every datetime has an offset holds for the pages too."""
    if not naive(value):
        return value
    try:
        return timezone.make_aware(dt.datetime.fromisoformat(value.strip())).isoformat()
    except (ValueError, OverflowError):
        return value


def serializer_errors(errors) -> dict[str, list[str]]:
    """DRF's error shape → {field: [message]}; nested rows as ``sources-<i>-<field>``."""
    out: dict[str, list[str]] = {}
    for field, value in errors.items():
        name = NON_FIELD if field in (NON_FIELD_ERRORS, "detail") else field
        if isinstance(value, dict):
            for index, sub in value.items():
                for subfield, msgs in (sub.items() if isinstance(sub, dict) else [(NON_FIELD, sub)]):
                    out.setdefault(f"{field}-{index}-{subfield}", []).extend(_messages(msgs))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for index, sub in enumerate(value):
                for subfield, msgs in sub.items():
                    out.setdefault(f"{field}-{index}-{subfield}", []).extend(_messages(msgs))
        else:
            out.setdefault(name, []).extend(_messages(value))
    return out


def _messages(value) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def service_call(request, state: FormState, call, *, success: str | None = None):
    """Run ``call()`` and put what it raises on the page (the API's statuses, one map): a
    payload's or a service's field errors beside the inputs, any other refusal (403/409, a
    lost race) as an error message; the typed input stays in ``state`` either way. A 404 and
    anything unexpected propagate."""
    try:
        result = call()
    except serializers.ValidationError as exc:  # a payload serializer's (DRF's shape)
        state.errors = serializer_errors(exc.detail)
        messages.error(request, _("提交未成功，请按提示修改。"))
    except Exception as exc:
        described = describe(exc)
        if described is None or described[0] == 404:
            raise
        status, body = described
        if status == 400:
            state.errors = {NON_FIELD if k == NON_FIELD_ERRORS else k: v for k, v in body.items()}
            messages.error(request, _("提交未成功，请按提示修改。"))
        else:
            state.failed = True
            messages.error(request, body["detail"])
    else:
        state.ok = True
        if success:
            messages.success(request, success)
        return result
    return None


def execute(request, action, incident, key: str) -> FormState:
    """A browser form → ``lifecycle.actions.run``: the API's path, with the form's inputs as
    the JSON the API would receive."""
    state = FormState(key, request.POST)
    data = payload_from_post(action.payload, request.POST, request.FILES)
    service_call(request, state, lambda: run(action, incident, request.user, data),
                 success=success_message(action.name, request.POST))
    return state
