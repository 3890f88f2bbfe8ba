"""Keyword search from an index, for Chinese as for Latin text.

Users search two-character words (拆迁, 物业, 延期): trigram indexes (pg_trgm, SQLite's FTS5
trigram tokenizer) answer nothing under three characters. So every text an incident carries —
its own fields, its sources, reports and statements — is cut into character unigrams and
bigrams (lower-cased, per whitespace-separated run: a search term never spans whitespace),
and ``SearchToken`` holds one row per (token, incident), primary key (token, incident).

A term of one or two characters is one token: an index lookup answers it exactly. A longer
term needs all its bigrams (index lookups), and the candidates are then checked with the
substring match itself (``substring_match``), so the results are those of a substring search
over the same texts, found from the index. The writing services call ``index_incident``
with the text they add (logging, sources, reports, statements), inside their transaction.
"""

import functools

from django.db import connection
from django.db.models import Exists, OuterRef, Q

from .models import Incident, SearchToken

# A bigram held by fewer incidents than this drives a longer term's lookup (``frequencies``).
RARE = 2000

# The texts searched: the incident's own fields, and those of the rows related to it (by the
# reverse accessor's name, so this module needs no model of the layers above).
FIELDS = ("title", "summary", "keywords", "related_groups", "background", "key_contradiction",
          "netizen_concerns")
RELATED = {
    "sources": ("url", "title"),
    "reports": ("body", "characteristics", "measures_effect", "experience", "problems", "recommendations"),
    "statements": ("title", "body"),
}


def tokens(text: str) -> set[str]:
    """The unigrams and bigrams of ``text`` (lower-cased, within whitespace-separated runs)."""
    found = set()
    for run in (text or "").lower().split():
        found.update(run)
        found.update(run[i:i + 2] for i in range(len(run) - 1))
    return found


def incident_tokens(incident) -> set[str]:
    """Every token of the incident's texts (its fields and its related rows: one query each)."""
    found = set()
    for name in FIELDS:
        found |= tokens(getattr(incident, name))
    for relation, fields in RELATED.items():
        for row in getattr(incident, relation).values_list(*fields):
            for text in row:
                found |= tokens(text)
    return found


def own_texts(incident) -> list[str]:
    """The incident's own searched fields."""
    return [getattr(incident, name) for name in FIELDS]


def index_incident(incident, *texts: str) -> None:
    """Index text just written: with ``texts`` (a new incident's fields, a source, a report, a
    statement — text is only ever added) their tokens are inserted, one query; without, the
    incident's tokens are rebuilt from all its texts (rows added and removed)."""
    if texts:
        found = set().union(*(tokens(t) for t in texts))
        SearchToken.objects.bulk_create([SearchToken(token=t, incident=incident) for t in found],
                                        batch_size=1000, ignore_conflicts=True)
        return
    wanted = incident_tokens(incident)
    have = set(SearchToken.objects.filter(incident=incident).values_list("token", flat=True))
    if have - wanted:
        SearchToken.objects.filter(incident=incident, token__in=list(have - wanted)).delete()
    SearchToken.objects.bulk_create([SearchToken(token=t, incident=incident) for t in wanted - have],
                                    batch_size=1000, ignore_conflicts=True)


def term_tokens(term: str) -> list[str]:
    """The tokens an incident must hold to contain ``term``: itself when one or two
    characters long, else its bigrams."""
    term = term.lower()
    if len(term) <= 2:
        return [term]
    return list(dict.fromkeys(term[i:i + 2] for i in range(len(term) - 1)))


def substring_match(term: str) -> Q:
    """``term`` as a substring of any searched text (case-insensitive): the reference the
    index must agree with, and the check of a longer term's candidates."""
    q = Q()
    for name in FIELDS:
        q |= Q(**{f"{name}__icontains": term})
    for relation, fields in RELATED.items():
        # A correlated EXISTS per candidate (the related table's incident index), never a
        # scan of the whole related table.
        rows = Incident._meta.get_field(relation).related_model.objects.filter(incident=OuterRef("pk"))
        related = Q()
        for name in fields:
            related |= Q(**{f"{name}__icontains": term})
        q |= Q(Exists(rows.filter(related)))
    return q


def frequencies(terms) -> dict[str, int]:
    """How many incidents hold each bigram of the longer ``terms``, counted to ``RARE`` at
    most: one statement of index-only scans (``indexed_match``'s ``counts``)."""
    wanted = sorted({token for term in terms if len(term) > 2 for token in term_tokens(term)})
    if not wanted:
        return {}
    quote = connection.ops.quote_name
    table, column = quote(SearchToken._meta.db_table), quote("token")
    parts = [f"(SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE {column} = %s LIMIT {RARE}) AS f{i})"
             for i in range(len(wanted))]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), wanted)
        return dict(zip(wanted, cursor.fetchone(), strict=True))


def indexed_match(term: str, counts: dict[str, int] | None = None) -> Q:
    """``term`` found from the token index (exact for one or two characters; for longer
    terms the candidates holding every bigram, checked with ``substring_match``).
    ``counts`` (``frequencies``): a longer term's rarest bigram, when rare (held by fewer than
    ``RARE`` incidents), is the one the candidates are read from, each then checked by the
    substring alone, which implies the other bigrams; PostgreSQL would otherwise merge the
    index ranges of all of them (拆迁补偿 at 100,000 incidents: 30,000 rows each of 拆迁 and
    补偿 read to find the 434 incidents that hold 迁补). Probing the other bigrams at each
    candidate first cost more than it saved: a rare bigram of a real term is nearly always
    inside the term (拆迁补偿: 7 → 3 ms), and the candidates are fewer than ``RARE`` anyway."""
    found = term_tokens(term)
    driver = None
    if counts and len(found) > 1:
        rarest = min(found, key=lambda token: counts.get(token, RARE))
        driver = rarest if counts.get(rarest, RARE) < RARE else None
    return _match(term, driver)


@functools.lru_cache(maxsize=256)
def _match(term: str, driver: str | None) -> Q:
    """``indexed_match``'s filter, built once per process for each term and driver: a longer
    term's is some thirty lookups and four querysets, ~2 ms to build (the ORM copies what it
    filters with, so one filter serves every query)."""
    q = Q()
    for token in [driver] if driver else term_tokens(term):
        q &= Q(Exists(SearchToken.objects.filter(token=token, incident=OuterRef("pk"))))
    return q if len(term) <= 2 else q & substring_match(term)
