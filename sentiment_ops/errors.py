"""Error pages in the user's language; JSON under /api/ (API.md, "Errors")."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def error_response(request, status: int, message: str):
    if _wants_json(request):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def too_big_message() -> str:
    return _("请求体超过大小上限（%(mb)s MB）。") % {"mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)}


def bad_request(request, exception=None):
    """A request Django refuses before any view: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``,
    too many fields, a malformed header."""
    too_big = isinstance(exception, RequestDataTooBig)
    return error_response(request, 400, too_big_message() if too_big else _("请求无效。"))


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form posted without (or with a stale) CSRF token."""
    return error_response(request, 403, _("CSRF 校验失败：请刷新页面后重试。"))


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": _("未找到。")}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _wants_json(request):
        return JsonResponse({"detail": _("服务器内部错误，已记录，请稍后重试。")}, status=500)
    return render(request, "500.html", status=500)
