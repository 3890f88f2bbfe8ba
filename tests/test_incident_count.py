"""The incidents' count kept by the database (issue 12, incidents/counted.py) is the API list's
exact ``count`` for whoever sees every incident: after incidents logged through the service,
bulk inserts, the seed's COPY and deletes; before and after compaction (the beat's task
included); after a TRUNCATE and a flush; beside concurrent writers and compactions; and it
reads no incident to answer.

The triggers are PostgreSQL's; on SQLite (the embedded default) the count is ``COUNT(*)`` and
the first test checks that alone.
"""

import functools
import re

import pytest
from django.core.management.color import no_style
from django.core.management.sql import sql_flush
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benchmarks.pages_seed import seed
from deadlines.tasks import compact_tallies
from incidents import counted
from incidents.models import Incident, IncidentCount, IncidentCountDelta
from incidents.selectors import count_visible
from sentiment_ops import prepared

from .api import Direct
from .helpers import beside_compactions, uncommitted

postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the count's triggers: PostgreSQL")


def _api_count(client) -> int:
    response = client.get("/api/v1/incidents/")
    assert response.status_code == 200
    return response.json()["count"]


def _kept() -> int:
    """The count as the database keeps it (the folded row and the log)."""
    with connection.cursor() as cursor:
        cursor.execute(counted.STATEMENT)
        return cursor.fetchone()[0]


def _bare(user, n) -> list[int]:
    """Incidents without a timeline, which may be deleted (a logged incident's events cannot
    be, R53), bulk-inserted in one statement."""
    return [i.pk for i in Incident.objects.bulk_create(
        [Incident(title=f"无记录 {k}", summary="", channel="monitoring", discovered_at=timezone.now(),
                  reported_by=user) for k in range(n)])]


@pytest.mark.django_db
def test_the_api_count_follows_every_writer_before_and_after_compaction(demo):
    client = Client()
    client.force_login(demo["command"])
    assert _api_count(client) == 0
    seed(12, big_events=5, seed=11)  # COPY on PostgreSQL
    assert _api_count(client) == Incident.objects.count() == 12
    direct = Direct(demo)
    for _ in range(3):
        direct.log()
    assert _api_count(client) == Incident.objects.count() == 15
    assert counted.compact() > 0 or connection.vendor != "postgresql"
    assert _api_count(client) == 15
    bare = _bare(demo["duty"], 5)
    direct.log()
    assert _api_count(client) == Incident.objects.count() == 21
    Incident.objects.filter(pk__in=bare[:3]).delete()
    assert _api_count(client) == Incident.objects.count() == 18
    compact_tallies()  # the beat's task folds the count too
    assert _api_count(client) == 18
    Incident.objects.filter(pk__in=bare[3:]).delete()
    assert _api_count(client) == Incident.objects.count() == 16
    # Whoever does not see every incident keeps the counts of the visibility rule's branches.
    section = Client()
    section.force_login(demo["petition"])
    assert _api_count(section) == count_visible(demo["petition"], Incident.objects.filter(pk__gt=0)) < 16
    if connection.vendor == "postgresql":
        assert counted.compact() == 1  # the last delete's log row
        assert not IncidentCountDelta.objects.exists()
        assert list(IncidentCount.objects.values_list("pk", "n")) == [(1, 16)]
        assert _kept() == 16
    assert counted.compact() == 0


@pytest.mark.django_db
@postgresql
def test_the_count_statement_reads_no_incident(demo):
    seed(12, big_events=5, seed=12)
    client = Client()
    client.force_login(demo["command"])
    with CaptureQueriesContext(connection) as queries:
        assert _api_count(client) == 12
    sent = [prepared.sent_text(q["sql"]) for q in queries.captured_queries]  # planned once per connection
    statements = [sql for sql in sent if "incidents_incidentcountdelta" in sql]
    assert len(statements) == 1 and "COUNT(*)" not in statements[0]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + statements[0].split("SET LOCAL jit = off; ")[-1])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "incidents_incidentcount" in plan and "incidents_incidentcountdelta" in plan
    assert not re.search(r"\bincidents_incident\b", plan), plan


@pytest.mark.django_db
@postgresql
def test_truncate_and_flush_leave_the_count_exact(demo):
    client = Client()
    client.force_login(demo["command"])
    seed(6, big_events=5, seed=13)
    counted.compact()
    Direct(demo).log()  # a log row not yet folded
    assert _api_count(client) == 7
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending FK checks
        cursor.execute("TRUNCATE incidents_incident CASCADE")
    assert _api_count(client) == Incident.objects.count() == 0
    _bare(demo["duty"], 2)
    assert _api_count(client) == 2
    counted.compact()
    assert _api_count(client) == Incident.objects.count() == 2
    # flush (manage.py flush, transactional tests): every table truncated in one statement.
    _bare(demo["duty"], 1)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    connection.ops.execute_sql_flush(sql_flush(no_style(), connection))
    assert _kept() == Incident.objects.count() == 0
    assert counted.compact() == 0 and _kept() == 0


@pytest.mark.django_db(transaction=True)
@postgresql
def test_the_count_beside_concurrent_writers_and_compactions(demo):
    """A writer not yet committed when the compaction runs is neither waited for nor lost;
    writers and compactions side by side neither deadlock nor miscount."""
    direct = Direct(demo)

    def slow_writer():
        direct.log()
        _bare(demo["duty"], 2)

    direct.log()
    with uncommitted(slow_writer):
        assert counted.compact() == 1  # the committed row only; the open transaction's are not seen
        assert _kept() == Incident.objects.count() == 1
    assert _kept() == Incident.objects.count() == 4 and IncidentCountDelta.objects.count() == 2

    def writer(k):
        for _ in range(6):
            direct.log()
            with transaction.atomic():
                bare = _bare(demo["duty"], 3)
                Incident.objects.filter(pk__in=bare[k % 3:]).delete()

    errors = beside_compactions([functools.partial(writer, k) for k in range(3)], counted.compact)
    assert not errors, errors
    # 4 before; each writer 6 logged and 6 × (k % 3) bare ones kept: 0, 6 and 12.
    assert _kept() == Incident.objects.count() == 4 + 18 + 18
    counted.compact()
    assert not IncidentCountDelta.objects.exists() and _kept() == 40
    client = Client()
    client.force_login(demo["command"])
    assert _api_count(client) == 40
