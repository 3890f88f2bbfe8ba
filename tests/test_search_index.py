"""Keyword search from the token index (incidents/search.py): the same incidents as a
substring search for hundreds of random terms of one to four characters, kept in step by the
services that write text, and answered from the index on PostgreSQL and SQLite alike."""

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from rest_framework.test import APIClient

from benchmarks.pages_seed import seed
from incidents.models import Incident, SearchToken
from incidents.search import (
    frequencies,
    incident_tokens,
    index_incident,
    indexed_match,
    substring_match,
    tokens,
)
from incidents.selectors import search

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _ids(q):
    return set(Incident.objects.filter(q).values_list("pk", flat=True))


def test_tokens_are_unigrams_and_bigrams_within_runs():
    assert tokens("拆迁 AB") == {"拆", "迁", "拆迁", "a", "b", "ab"}
    assert tokens("") == set()


@pytest.mark.django_db
def test_the_index_finds_what_a_substring_search_finds(demo):
    seed(300, big_events=20, seed=7)
    rng = random.Random(12)
    texts = [t for row in Incident.objects.values_list("title", "summary", "keywords") for t in row if t]
    texts += list(Incident.objects.values_list("sources__url", flat=True))
    terms = set()
    while len(terms) < 300:  # substrings of the corpus, 1–4 characters, some upper-cased
        text = rng.choice(texts)
        size = rng.randint(1, 4)
        start = rng.randrange(max(1, len(text) - size + 1))
        term = text[start:start + size].strip()
        if term:
            terms.add(term.upper() if rng.random() < 0.1 else term)
    terms |= {"拆迁", "物业", "延期", "业主质疑", "问题", "迁拆", "业物", "延期拆迁", "无此词", "https", "EXAMPLE", "t/1"}
    found_some = 0
    for term in sorted(terms):
        expected = _ids(substring_match(term))
        assert _ids(indexed_match(term)) == expected, term
        if len(term) > 2:  # read from its rarest bigram, checked by the substring: the same incidents
            assert _ids(indexed_match(term, frequencies([term]))) == expected, term
        found_some += bool(expected)
    assert found_some > 250  # the comparison is not vacuous


@pytest.mark.django_db
def test_the_services_keep_the_index(demo):
    api = APIClient()
    api.force_authenticate(demo["duty"])
    created = api.post("/api/v1/incidents/", {
        "title": "滨江小区拆迁补偿纠纷", "summary": "业主在论坛发帖。", "channel": "monitoring",
        "discovered_at": dt.datetime.now(SHANGHAI).isoformat(), "sections": ["petition"],
        "sources": [{"url": "https://bbs.example.com/t/9", "platform": "forum", "title": "延期交房"}],
    }, format="json")
    assert created.status_code == 201, created.content
    incident = Incident.objects.get(pk=created.json()["id"])
    api.force_authenticate(demo["petition"])
    drafted = api.post(f"/api/v1/incidents/{incident.pk}/draft-statement/", {
        "section": "petition", "kind": "statement", "title": "情况通报", "body": "物业已整改"}, format="json")
    assert drafted.status_code == 200, drafted.content
    stored = set(SearchToken.objects.filter(incident=incident).values_list("token", flat=True))
    assert stored == incident_tokens(incident)  # what a rebuild would give: nothing missing, nothing extra
    for term in ("拆迁", "延期", "物业", "整改", "bbs", "通报"):
        assert search(Incident.objects.all(), demo["command"], term).filter(pk=incident.pk).exists(), term
    SearchToken.objects.filter(incident=incident).delete()
    index_incident(incident)  # the rebuild
    assert set(SearchToken.objects.filter(incident=incident).values_list("token", flat=True)) == stored


@pytest.mark.django_db
def test_the_plan_uses_the_token_index(demo):
    seed(50, big_events=10)
    qs = search(Incident.objects.all(), demo["command"], "物业").order_by("-reported_at")[:20]
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a 50-row table would be scanned anyway
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "incidents_searchtoken_pkey" in plan, plan
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            assert "incidents_searchtoken USING PRIMARY KEY" in plan or "USING COVERING INDEX" in plan, plan
