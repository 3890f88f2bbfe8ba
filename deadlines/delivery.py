"""Sending the outbox: email through Django's backend, group robots (WeCom / DingTalk style
``{"msgtype": "text", "text": {"content": …}}``) by HTTP POST.

Each row is claimed under a lease: one short transaction takes it with SKIP LOCKED, counts the
attempt and moves ``next_attempt_at`` a lease ahead, and commits; the message is sent with no
transaction or row lock held (a webhook may take its full timeout); a second short transaction
records the outcome. A worker that dies mid-send leaves the row to be taken again when the lease
ends: at-least-once to the wire, never a row lock held across the network."""

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import urllib.parse
import urllib.request

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from organization.selectors import robot_secret

from .models import Delivery

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
WEBHOOK_TIMEOUT = 10  # seconds
LEASE = dt.timedelta(seconds=60)  # longer than any one send (the webhook's timeout)


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 … minutes, at most an hour."""
    return dt.timedelta(minutes=min(2 ** (attempts - 1), 60))


def signed(url: str, secret: str, now_ms: int | None = None) -> str:
    """DingTalk's 加签: ``timestamp`` (ms) and ``sign`` = Base64(HMAC-SHA256(secret,
    "timestamp\\nsecret")), URL-encoded, appended to the robot's URL. No secret: the URL."""
    if not secret:
        return url
    timestamp = str(now_ms if now_ms is not None else round(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


def _send(delivery: Delivery) -> None:
    if delivery.channel == Delivery.Channel.EMAIL:
        send_mail(delivery.subject, delivery.text, None, [delivery.target], fail_silently=False)
        return
    payload = json.dumps({"msgtype": "text", "text": {"content": delivery.text}}, ensure_ascii=False).encode()
    # The message id (the outbox row's dedupe key) lets a receiver drop a resend: delivery is
    # at least once to the wire (a worker killed between sending and recording sends again).
    request = urllib.request.Request(signed(delivery.target, robot_secret(delivery.target)), data=payload, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8",
                                              "X-Message-Id": delivery.key})
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:  # noqa: S310 (admin-set URL)
        body = response.read(2000).decode("utf-8", "replace")
        if response.status >= 300:
            raise RuntimeError(f"HTTP {response.status}: {body}")
        try:  # WeCom and DingTalk answer 200 with an error code in the body
            code = json.loads(body).get("errcode", 0)
        except ValueError:
            code = 0
        if code:
            raise RuntimeError(f"robot errcode {code}: {body}")


def outbox_due() -> bool:
    """Is a pending outbox row due (the partial index ``delivery_pending``)?"""
    return Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=timezone.now()).exists()


@transaction.atomic
def _claim() -> Delivery | None:
    """Take the next due row under a lease (committed when this returns)."""
    now = timezone.now()
    delivery = (Delivery.objects.select_for_update(skip_locked=True)
                .filter(state=Delivery.State.PENDING, next_attempt_at__lte=now)
                .order_by("next_attempt_at", "id").first())
    if delivery is None:
        return None
    delivery.attempts += 1
    delivery.next_attempt_at = now + LEASE
    delivery.save(update_fields=["attempts", "next_attempt_at"])
    return delivery


@transaction.atomic
def _settle(delivery: Delivery, error: Exception | None) -> None:
    """Record the outcome of one attempt."""
    now = timezone.now()
    if error is None:
        delivery.state, delivery.sent_at, delivery.next_attempt_at = Delivery.State.SENT, now, None
    else:
        delivery.last_error = f"{error.__class__.__name__}: {error}"[:2000]
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.state, delivery.next_attempt_at = Delivery.State.FAILED, None
            log.error("delivery %s gave up after %s attempts: %s", delivery.pk, delivery.attempts, error)
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
    delivery.save(update_fields=["state", "sent_at", "next_attempt_at", "last_error"])


def deliver_outbox(limit: int = 200) -> dict:
    sent = failed = 0
    for _ in range(limit):
        delivery = _claim()
        if delivery is None:
            break
        try:
            _send(delivery)
        except Exception as exc:  # every failure is recorded and retried
            _settle(delivery, exc)
            failed += 1
        else:
            _settle(delivery, None)
            sent += 1
    return {"sent": sent, "failed": failed}
