"""Sending the outbox: email through Django's backend, group robots (WeCom / DingTalk style
``{"msgtype": "text", "text": {"content": …}}``) by HTTP POST. Each row is claimed with
SKIP LOCKED and marked in its own transaction: a crash re-sends at most what was in flight."""

import datetime as dt
import json
import logging
import urllib.request

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from .models import Delivery

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 … minutes, at most an hour."""
    return dt.timedelta(minutes=min(2 ** (attempts - 1), 60))


def _send(delivery: Delivery) -> None:
    if delivery.channel == Delivery.Channel.EMAIL:
        send_mail(delivery.subject, delivery.text, None, [delivery.target], fail_silently=False)
        return
    payload = json.dumps({"msgtype": "text", "text": {"content": delivery.text}}, ensure_ascii=False).encode()
    request = urllib.request.Request(delivery.target, data=payload, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (admin-set URL)
        body = response.read(2000).decode("utf-8", "replace")
        if response.status >= 300:
            raise RuntimeError(f"HTTP {response.status}: {body}")
        try:  # WeCom and DingTalk answer 200 with an error code in the body
            code = json.loads(body).get("errcode", 0)
        except ValueError:
            code = 0
        if code:
            raise RuntimeError(f"robot errcode {code}: {body}")


def deliver_outbox(limit: int = 200) -> dict:
    sent = failed = 0
    for _ in range(limit):
        with transaction.atomic():
            delivery = (Delivery.objects.select_for_update(skip_locked=True)
                        .filter(state=Delivery.State.PENDING, next_attempt_at__lte=timezone.now())
                        .order_by("next_attempt_at", "id").first())
            if delivery is None:
                break
            delivery.attempts += 1
            try:
                _send(delivery)
            except Exception as exc:  # every failure is recorded and retried
                delivery.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
                if delivery.attempts >= MAX_ATTEMPTS:
                    delivery.state, delivery.next_attempt_at = Delivery.State.FAILED, None
                    log.error("delivery %s gave up after %s attempts: %s", delivery.pk, delivery.attempts, exc)
                else:
                    delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
                failed += 1
            else:
                delivery.state, delivery.sent_at, delivery.next_attempt_at = Delivery.State.SENT, timezone.now(), None
                sent += 1
            delivery.save(update_fields=["attempts", "state", "sent_at", "next_attempt_at", "last_error"])
    return {"sent": sent, "failed": failed}
