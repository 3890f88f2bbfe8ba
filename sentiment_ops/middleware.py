"""Request-wide guards, below every app (the kernel contract in .importlinter):

- ``RequestBudgetMiddleware``: every web and API request runs in one transaction with
  PostgreSQL's ``statement_timeout`` (``STATEMENT_TIMEOUT_MS``) and ``jit = off`` set LOCAL to
  it, so no request can pin the database; Celery tasks, migrations, index builds and seeding
  run outside requests and keep the server's defaults. A cancelled statement answers 503.
- ``NoStoreMiddleware``: ``Cache-Control: no-store`` on every answer to a logged-in user.
"""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext as _

from .errors import error_response

QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cut off by statement_timeout


def _bounded(request) -> bool:
    connection = connections[DEFAULT_DB_ALIAS]
    return (connection.vendor == "postgresql" and settings.STATEMENT_TIMEOUT_MS > 0
            and request.path not in settings.STATEMENT_TIMEOUT_EXEMPT_PATHS)


class _SetLocalFirst:
    """Prefixes the request's first statement with the SET LOCALs: one round trip, no statement
    of its own (a request that never queries sets nothing)."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.pending = True

    def __call__(self, execute, sql, params, many, context):
        if self.pending and not many:
            self.pending = False
            if getattr(context["cursor"].cursor, "name", None):
                # A server-side cursor (a streamed ledger) wraps its SQL in DECLARE … FOR, which
                # takes a single query: the SET LOCALs go first, as a statement of their own.
                with context["connection"].connection.cursor() as plain:
                    plain.execute(self.prefix)
            else:
                sql = self.prefix + sql
        return execute(sql, params, many, context)


class RequestBudgetMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _bounded(request):
            return self.get_response(request)
        connection = connections[DEFAULT_DB_ALIAS]
        # int(): the value is interpolated (SET takes no bind parameters).
        prefix = f"SET LOCAL statement_timeout = {int(settings.STATEMENT_TIMEOUT_MS)}; SET LOCAL jit = off; "
        with connection.execute_wrapper(_SetLocalFirst(prefix)):
            if connection.in_atomic_block:  # already in a transaction (a test's): SET LOCAL holds there
                return self.get_response(request)
            with transaction.atomic():
                response = self.get_response(request)
                if response.status_code >= 500:  # whatever the failed view wrote is undone
                    transaction.set_rollback(True)
                return response

    def process_exception(self, request, exception):
        if not (isinstance(exception, OperationalError)
                and getattr(exception.__cause__, "pgcode", None) == QUERY_CANCELED):
            return None
        if transaction.get_connection().in_atomic_block:
            transaction.set_rollback(True)
        return error_response(request, 503, _("请求处理超时，已中止；请缩小查询范围后重试。"))


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        return response
