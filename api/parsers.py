"""The API's JSON parser: a body that is not a JSON object (malformed, ``null``, a list,
nested beyond Python's recursion limit) is refused with 400 ``{detail}`` in the request's
language — never DRF's English parse message, never a 500."""

import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from sentiment_ops.errors import too_big_message


class ObjectJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise ParseError(too_big_message())
        try:
            data = json.loads(raw.decode(encoding), parse_constant=_no_constant)
        except (ValueError, RecursionError):
            raise ParseError(_("请求体不是有效的 JSON。")) from None
        if not isinstance(data, dict):
            raise ParseError(_("请求体须是一个 JSON 对象（{…}）。"))
        return data


def _no_constant(name):
    raise ValueError(name)  # NaN, Infinity: not JSON
