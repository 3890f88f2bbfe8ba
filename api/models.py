from django.conf import settings
from django.db import models


class IdempotentRequest(models.Model):
    """The first answer to a POST sent with an ``Idempotency-Key`` (api/idempotency.py), kept
    24 hours: a repeat with the same key gets it again and does nothing twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and payload")
    status = models.PositiveSmallIntegerField()
    body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="uniq_idempotency_key")]
