"""A user with a one-time password (``User.must_change_password``: imported from the workbook,
or reset by an administrator) may do nothing but change it (issue 16): every page redirects to
the password change, every API call with the session answers 403. Token clients cannot get a
token until then (api/auth.py)."""

from urllib.parse import quote

from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

OPEN = ("/accounts/", "/i18n/", "/static/", "/healthz")


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and getattr(user, "must_change_password", False)
                and not request.path.startswith(OPEN)):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": _("请先在网页上修改一次性密码。")}, status=403)
            return HttpResponseRedirect(f"{reverse('password_change')}?next={quote(request.get_full_path())}")
        return self.get_response(request)
