"""The API's incident pages read as the visibility rule's OR would read them (issue 12): the
page's ids among the first of each branch of the rule (``lifecycle.selectors.page_keys``),
the rows in one statement compiled once (``incident_rows``, ``sentiment_ops.prepared.among``),
unfiltered pages, the detail and the representation's lists planned once per connection on
PostgreSQL (``incident_page``, ``incident_for``, ``prepared.by_ids(..., server=True)``)."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from benchmarks.pages_seed import seed
from incidents.models import Incident
from incidents.selectors import visible
from lifecycle import selectors
from lifecycle.selectors import (
    incident_for,
    incident_page,
    incident_parts,
    incident_rows,
    page_keys,
)
from sentiment_ops import prepared


def _page(user, queryset, start, stop):
    keys = page_keys(user, queryset, start, stop)
    read = [] if keys is None else [incident.pk for incident in incident_rows(keys)]
    assert [incident.pk for incident in incident_page(user, queryset, start, stop)] == read  # planned once
    return read


@pytest.mark.django_db
def test_every_page_is_the_rules_page_for_every_kind_of_user(demo):
    seed(60, big_events=5, seed=21)
    filters = [{}, {"state": "responding"}, {"classified": True}, {"reported_by": demo["petition"]},
               {"pk__in": []}]
    for name in ("command", "petition", "market", "leader", "infohead", "onsite", "duty", "auditor"):
        user = demo[name]
        for where in filters:
            queryset = Incident.objects.filter(**where)
            expected = list(visible(user, queryset).values_list("pk", flat=True))
            for start, stop in ((0, 20), (20, 40), (40, 60), (0, 200), (55, 75), (5, 6)):
                assert _page(user, queryset, start, stop) == expected[start:stop], (name, where, start)


@pytest.mark.django_db
def test_one_incident_as_the_rule_and_the_representation_read_it(demo):
    seed(20, big_events=5, seed=22)
    for name in ("command", "petition", "market", "leader", "auditor"):
        user = demo[name]
        seen = set(visible(user).values_list("pk", flat=True))
        for pk in [*Incident.objects.values_list("pk", flat=True), 0, -1, 10**30, "x", None]:
            found = incident_for(user, pk)
            assert (found is not None) == (pk in seen), (name, pk)
            if found is not None:
                expected = selectors.incident_queryset(user).get(pk=pk)
                assert found.__dict__.keys() == expected.__dict__.keys()
                assert (found.reported_by.username, getattr(found, "response", None)) == (
                    expected.reported_by.username, getattr(expected, "response", None))


@pytest.mark.django_db
def test_the_lists_planned_once_per_connection_are_the_lists_read_plainly(demo):
    """The same rows for every number of ids (the padded lengths and beyond), again after a
    transaction that failed after the statement was prepared."""
    seed(30, big_events=5, seed=23)
    ids = list(Incident.objects.values_list("pk", flat=True))
    builds = (selectors._embedded_rows, selectors._latest_events, selectors._parts_union)
    for n in (1, 2, 3, 7, 20, 30):
        for build in builds:
            plain = prepared.by_ids(selectors.EMBEDDED, build, ids[:n])
            assert sorted(map(repr, prepared.by_ids(selectors.EMBEDDED, build, ids[:n], server=True))) == sorted(
                map(repr, plain)), (build.__name__, n)
    prepared.clear()
    four = list(Incident.objects.filter(pk__in=ids[:4]))
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        first = incident_parts(four)  # prepared here, then the transaction fails
        raise ZeroDivisionError
    assert incident_parts(four) == first
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'prepared_%%'")
            assert cursor.fetchone()[0] >= 3


@pytest.mark.django_db
def test_behind_a_transaction_pooler_nothing_is_prepared_on_the_server(demo, settings):
    """``SERVER_PREPARED=0`` (pgbouncer's transaction mode): the same incidents, no statement
    kept by the server session."""
    seed(5, big_events=3, seed=29)
    four = list(Incident.objects.order_by("pk")[:4])
    expected = incident_parts(four)
    settings.SERVER_PREPARED = False
    prepared.clear()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
    with CaptureQueriesContext(connection) as queries:
        assert incident_parts(four) == expected
    assert not any("PREPARE" in q["sql"] or "EXECUTE" in q["sql"] for q in queries.captured_queries)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            assert cursor.fetchone()[0] == 0
