"""The client's address behind the reverse proxy, and the answer to a locked-out login
(django-axes hooks: AXES_CLIENT_IP_CALLABLE, AXES_LOCKOUT_CALLABLE)."""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or behind the proxy (BEHIND_PROXY=1) the address the outermost trusted
    proxy saw: the PROXY_COUNT-th X-Forwarded-For entry from the right."""
    if settings.BEHIND_PROXY:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= settings.PROXY_COUNT:
            return forwarded[-settings.PROXY_COUNT]
    return request.META.get("REMOTE_ADDR")


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _("登录失败次数过多，该账号已被临时锁定；请 %(minutes)s 分钟后再试，或请管理员解锁。") % {"minutes": minutes}


def locked_out(request, credentials=None, *args, **kwargs):
    """429 with the message: JSON ``{detail}`` under /api/, else the login page with it."""
    message = lockout_message()
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    form = AuthenticationForm(request)
    return render(request, "registration/login.html", {"form": form, "lockout": message}, status=429)
