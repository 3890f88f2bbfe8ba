"""``/api/v1/auth/token/`` (API.md): ``POST {username, password}`` → ``{"token": …}`` (its
expiry in the ``X-Token-Expires`` header); then ``Authorization: Token …``. ``DELETE`` revokes
the token presented (with the browser session: every token of the user). Wrong passwords count
towards the per-username lockout (django-axes) exactly as on the login page."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from organization.tokens import token_issue, tokens_revoke

from .authentication import SessionAuthentication, TokenAuthentication


class TokenView(APIView):
    def _obtaining(self) -> bool:
        return getattr(self.request, "method", None) == "POST"

    def get_authenticators(self):
        if self._obtaining():  # the credentials are the body: no session, no CSRF
            return []
        return [TokenAuthentication(), SessionAuthentication()]

    def get_permissions(self):
        return [AllowAny()] if self._obtaining() else [IsAuthenticated()]

    @extend_schema(operation_id="auth_token_obtain", request=AuthTokenSerializer, auth=[],
                   responses={200: inline_serializer("TokenOut", {"token": serializers.CharField()})},
                   description="An API token for ``Authorization: Token …``; it expires after API_TOKEN_TTL_HOURS "
                               "(the ``X-Token-Expires`` response header). Long-lived tokens are issued only to "
                               "service accounts, in the admin.")
    def post(self, request):
        # The Django request, so that django-axes counts a failure and marks a lockout on it.
        payload = AuthTokenSerializer(data=request.data, context={"request": request._request})
        payload.is_valid(raise_exception=True)
        token, row = token_issue(user=payload.validated_data["user"])
        response = Response({"token": token})
        response["X-Token-Expires"] = row.expiry.isoformat()
        return response

    @extend_schema(operation_id="auth_token_revoke", request=None,
                   responses={204: OpenApiResponse(description="revoked")})
    def delete(self, request):
        presented = request.auth if isinstance(request.auth, AuthToken) else None
        tokens_revoke(user=request.user, token=presented)
        return Response(status=status.HTTP_204_NO_CONTENT)
