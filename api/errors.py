"""API.md's error shapes for the JSON API, in the request's language: the project's one map
(``sentiment_ops.exceptions.describe``) first, then DRF's own (serializer errors, 401 …)."""

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from sentiment_ops.exceptions import describe


def exception_handler(exc, context):
    described = describe(exc)
    if described is not None:
        status, body = described
        return Response(body, status=status)
    return drf_exception_handler(exc, context)
