"""Error pages in the user's language; JSON under /api/ (API.md, "Errors")."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": _("未找到。")}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _wants_json(request):
        return JsonResponse({"detail": _("服务器内部错误，已记录，请稍后重试。")}, status=500)
    return render(request, "500.html", status=500)
