"""The API's authentication (settings ``DEFAULT_AUTHENTICATION_CLASSES``): knox tokens that
expire, and the browser session whose CSRF refusal speaks the request's language in API.md's
``{detail}`` (DRF's own says "CSRF Failed: …" in English). No view imports here: DRF loads
this module while it builds its views."""

from django.utils import timezone
from django.utils.translation import gettext as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import authentication, exceptions


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's, checking only the presented token's expiry (knox's own reads every other token
    of the user on each request to delete the expired ones: one more query per request)."""

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class SessionAuthentication(authentication.SessionAuthentication):
    def enforce_csrf(self, request):
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied:
            raise exceptions.PermissionDenied(_("CSRF 校验失败：请刷新页面后重试。")) from None
