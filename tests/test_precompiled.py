"""Annotations compiled once per process (sentiment_ops.prepared.Precompiled): the case page's counts
read from the cached SQL are the counts of the rows themselves, on every incident, and stay
right after the rows change (the text is compiled once; the values are read each time)."""

import pytest

from benchmarks.pages_seed import seed
from incidents.models import Incident
from lifecycle.selectors import CASE_ANNOTATIONS, CASE_LISTS


def _expected(incident) -> dict:
    counts = {f"{name}_count": model.objects.filter(incident=incident, **filters).count()
              for name, (model, filters, _related, _order) in CASE_LISTS.items()}
    return {**counts, "timeline_count": incident.timeline.count(), "deadline_count": incident.deadlines.count()}


@pytest.mark.django_db
def test_the_case_pages_precompiled_counts_are_the_rows_counts(demo):
    seed(12, big_events=30, seed=5)
    names = [name for name in CASE_ANNOTATIONS if name.endswith("_count")]
    rows = {r["pk"]: r for r in Incident.objects.annotate(**CASE_ANNOTATIONS).values("pk", "command_body_name", *names)}
    assert len(rows) >= 12
    for incident in Incident.objects.all():
        assert {name: rows[incident.pk][name] for name in names} == _expected(incident)
        assert rows[incident.pk]["command_body_name"] == "舆情信息指挥小组"
    big = Incident.objects.order_by("pk").first()
    deadline = big.deadlines.first()
    deadline.delete()
    again = Incident.objects.annotate(**CASE_ANNOTATIONS).values("deadline_count", "deadlines_count").get(pk=big.pk)
    assert again == {"deadline_count": rows[big.pk]["deadline_count"] - 1,
                     "deadlines_count": rows[big.pk]["deadlines_count"] - 1}
