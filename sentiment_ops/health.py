"""GET /healthz: is the database reachable, is the broker reachable, is the sweep running."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from deadlines.models import Heartbeat
from deadlines.policy import sweep_stale

from .celery import app


def _check_db() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # any failure is the answer, never a 500
        return f"error: {exc.__class__.__name__}"


def _check_broker() -> str:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


def _last_sweep():
    try:
        return Heartbeat.last("sweep")
    except Exception:
        return None


@never_cache
@require_GET
def healthz(request):
    db = _check_db()
    broker = _check_broker()
    last = _last_sweep() if db == "ok" else None
    healthy = db == "ok" and broker == "ok"
    if sweep_stale(last, timezone.now()):
        healthy = False  # the scheduler has never swept, or has stopped
    body = {
        "db": db,
        "broker": broker,
        "last_sweep": last.astimezone(timezone.get_current_timezone()).isoformat() if last else "never",
        "broker_transport": "redis" if settings.REDIS_URL else "filesystem",
    }
    return JsonResponse(body, status=200 if healthy else 503)
