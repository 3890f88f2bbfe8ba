"""Appending to the record (R53): every writer adds its events through ``record`` (one event
in the caller's transaction) or ``record_many`` (a batch built with ``event``, the sweep's)."""

import datetime as dt

from .models import TimelineEvent


def event(incident_id: int, actor, verb: str, *, before: str = "", after: str = "", reason: str = "",
          **detail) -> TimelineEvent:
    """An unsaved event (``actor`` None for the system, e.g. the deadline sweep)."""
    return TimelineEvent(
        incident_id=incident_id, actor=actor if actor and actor.is_authenticated else None, verb=verb,
        before=before, after=after or before, reason=reason or "", detail=_jsonable(detail),
    )


def record(incident, actor, verb: str, *, before: str = "", after: str = "", reason: str = "",
           **detail) -> TimelineEvent:
    new = event(incident.pk, actor, verb, before=before, after=after, reason=reason, **detail)
    new.save()
    return new


def record_many(events: list[TimelineEvent]) -> None:
    TimelineEvent.objects.bulk_create(events, batch_size=1000)


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
