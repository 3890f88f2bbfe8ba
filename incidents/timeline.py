"""Appending to the record (R53): every writer adds its events through ``record`` (one event
in the caller's transaction) or ``record_many`` (a batch built with ``event``, the sweep's).

The timeline of each incident is a hash chain: every event stores its sequence number (unique
per incident) and ``hash`` = SHA-256 of the previous event's hash followed by the event's own
content (``content``). Both are computed here, in the caller's transaction, under the incident's
row lock (the services lock the incident first; the sweep claims its deadlines together with
their incidents' rows), so two writers never take the same number. ``verify`` recomputes a
chain and names the first broken link; ``manage.py verify_timeline`` runs it."""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.db.models import Max, Q
from django.utils import timezone

from .models import TimelineEvent

GENESIS = "0" * 64


def event(incident_id: int, actor, verb: str, *, before: str = "", after: str = "", reason: str = "",
          **detail) -> TimelineEvent:
    """An unsaved event (``actor`` None for the system, e.g. the deadline sweep)."""
    return TimelineEvent(
        incident_id=incident_id, actor=actor if actor and actor.is_authenticated else None, verb=verb,
        before=before, after=after or before, reason=reason or "", detail=_jsonable(detail),
    )


def record(incident, actor, verb: str, *, before: str = "", after: str = "", reason: str = "",
           **detail) -> TimelineEvent:
    """Append one event; the caller holds the incident's row lock (``incidents.services.lock``)."""
    new = event(incident.pk, actor, verb, before=before, after=after, reason=reason, **detail)
    _chain([new], _heads([incident.pk]))
    new.save()
    return new


def record_many(events: list[TimelineEvent]) -> None:
    """Append a batch (the sweep's); the caller holds the row locks of the events' incidents."""
    if not events:
        return
    _chain(events, _heads({e.incident_id for e in events}))
    TimelineEvent.objects.bulk_create(events, batch_size=1000)


def content(e: TimelineEvent) -> str:
    """The canonical text an event's hash covers: everything it says, in a fixed form."""
    return json.dumps({
        "incident": e.incident_id, "seq": e.seq, "at": _utc(e.at), "actor": e.actor_id, "verb": e.verb,
        "before": e.before, "after": e.after, "reason": e.reason, "detail": e.detail,
    }, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def link(previous_hash: str, e: TimelineEvent) -> str:
    return hashlib.sha256((previous_hash + content(e)).encode()).hexdigest()


@dataclass(frozen=True)
class Break:
    incident_id: int
    seq: int
    event_id: int | None
    problem: str


def verify(incident_id: int) -> Break | None:
    """Recompute one incident's chain; the first broken link, or None when it holds."""
    previous, expected_seq = GENESIS, 1
    for e in TimelineEvent.objects.filter(incident_id=incident_id).order_by("seq").iterator(chunk_size=2000):
        if e.seq != expected_seq:
            return Break(incident_id, expected_seq, e.pk, "missing")
        if link(previous, e) != e.hash:
            return Break(incident_id, e.seq, e.pk, "altered")
        previous, expected_seq = e.hash, expected_seq + 1
    return None


def head(incident_id: int) -> tuple[int, str]:
    """(seq, hash) of the incident's last event; (0, GENESIS) before the first."""
    return _heads([incident_id]).get(incident_id, (0, GENESIS))


def _heads(incident_ids) -> dict[int, tuple[int, str]]:
    """The last link of each incident's chain: one indexed query for one incident, two for many."""
    ids = list(incident_ids)
    rows = TimelineEvent.objects.order_by("-seq").values_list("incident_id", "seq", "hash")
    if len(ids) == 1:
        last = rows.filter(incident_id=ids[0]).first()
        return {ids[0]: last[1:]} if last else {}
    tops = (TimelineEvent.objects.filter(incident_id__in=ids).values("incident_id")
            .annotate(top=Max("seq")).values_list("incident_id", "top"))
    wanted = Q(pk__in=[])
    for incident_id, top in tops:
        wanted |= Q(incident_id=incident_id, seq=top)
    return {incident_id: (seq, hash_) for incident_id, seq, hash_ in rows.filter(wanted)}


def _chain(events: list[TimelineEvent], heads: dict[int, tuple[int, str]]) -> None:
    for e in events:
        seq, previous = heads.get(e.incident_id, (0, GENESIS))
        e.at = e.at or timezone.now()
        e.seq = seq + 1
        e.hash = link(previous, e)
        heads[e.incident_id] = (e.seq, e.hash)


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
