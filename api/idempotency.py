"""``Idempotency-Key`` on the API's POSTs (incident creation, every action, attachments): the
first answer to a key is kept for 24 hours, and a repeat of the same request with the same key
returns it again (header ``Idempotent-Replayed: true``) without doing anything twice. Monitoring
software that retries after a timeout files one incident, not two.

How: the record and the work share one transaction. The record is inserted first; a concurrent
repeat blocks on the unique (user, key) index until the first commits, then finds the record and
replays it. A request that fails (4xx raised, 5xx) rolls back with its record: a retry runs again,
as nothing was done. The same key on a different request (method, path or payload) is a 422."""

import datetime as dt
import functools
import hashlib
import json

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .models import IdempotentRequest

HEADER = "Idempotency-Key"
LIFETIME = dt.timedelta(hours=24)
MAX_KEY_LENGTH = 255

PARAMETER = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, required=False,
    description="A unique key per logical request (e.g. a UUID). A repeat with the same key within 24 hours "
                "returns the first answer (header `Idempotent-Replayed: true`) and does nothing twice; the same "
                "key on a different request is 422.")


def _fingerprint(request) -> str:
    """sha256 of the method, the path and the payload (an uploaded file by its name, size and
    content digest)."""
    data = request.data
    if hasattr(data, "lists"):  # form or multipart
        data = {k: [v for v in values if not isinstance(v, UploadedFile)] for k, values in data.lists()}
    files = []
    for name, upload in sorted(request.FILES.items()):
        content = hashlib.sha256()
        for chunk in upload.chunks():
            content.update(chunk)
        upload.seek(0)
        files.append([name, upload.name, upload.size, content.hexdigest()])
    canonical = json.dumps([request.method, request.path, data, files], sort_keys=True, default=str,
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record: IdempotentRequest) -> Response:
    response = Response(record.body, status=record.status)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(view):
    """Wraps a POST view method of a DRF view(set)."""

    @functools.wraps(view)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(self, request, *args, **kwargs)
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise ValidationError({HEADER: [_("Idempotency-Key 须为 1 至 %(n)s 个字符。") % {"n": MAX_KEY_LENGTH}]})
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            IdempotentRequest.objects.filter(created_at__lt=timezone.now() - LIFETIME).delete()
            try:
                with transaction.atomic():
                    record = IdempotentRequest.objects.create(user=request.user, key=key, fingerprint=fingerprint,
                                                              status=0, body=None)
            except IntegrityError:  # the key was used: replay (after the first has committed)
                record = IdempotentRequest.objects.get(user=request.user, key=key)
                if record.fingerprint != fingerprint:
                    return Response({"detail": _("此 Idempotency-Key 已用于另一个请求；请为新请求使用新的键。")},
                                    status=status.HTTP_422_UNPROCESSABLE_ENTITY)
                return _replay(record)
            response = view(self, request, *args, **kwargs)
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            record.status = response.status_code
            record.body = json.loads(JSONRenderer().render(response.data)) if response.data is not None else None
            record.save(update_fields=["status", "body"])
            return response

    return wrapper
