"""Errors a service raises, and the one map from an error to API.md's status and body, used by
the JSON API's exception handler (api/errors.py) and by the pages' forms (workplace/forms.py).

- ``django.core.exceptions.ValidationError`` → 400 ``{field: [message]}``
- ``Forbidden`` → 403 ``{detail}``: this role may not act
- ``Conflict`` → 409 ``{detail}``: the current state does not allow the action
- ``Http404`` → 404: the object is not visible to the user (never reveal that it exists)
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

NON_FIELD_ERRORS = "non_field_errors"


class ServiceError(Exception):
    status = 400

    def __init__(self, detail):
        self.detail = detail
        super().__init__(str(detail))


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


def field_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}
    return {NON_FIELD_ERRORS: [str(m) for m in exc.messages]}


def describe(exc: Exception) -> tuple[int, dict] | None:
    """(status, body) in API.md's shapes for an error the system expects, in the active
    language; None for anything else (a bug: it propagates and is logged as a 500)."""
    if isinstance(exc, ServiceError):
        return exc.status, {"detail": str(exc.detail)}
    if isinstance(exc, DjangoValidationError):
        return 400, field_errors(exc)
    if isinstance(exc, TransitionNotAllowed | ConcurrentTransition):
        return 409, {"detail": _("事件状态已变化，此操作无法执行；请刷新后重试。")}
    if isinstance(exc, IntegrityError):
        return 409, {"detail": _("与已有记录冲突，请刷新后重试。")}
    if isinstance(exc, Http404):
        return 404, {"detail": _("未找到。")}
    if isinstance(exc, DjangoPermissionDenied):
        return 403, {"detail": _("您无权执行此操作。")}
    if isinstance(exc, DatabaseError) and "lock" in str(exc).lower():
        return 409, {"detail": _("该事件正被他人处理，请稍后重试。")}
    return None
