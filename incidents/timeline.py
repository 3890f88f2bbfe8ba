"""Appending to the record (R53): every service writes its events through ``record``."""

from .models import TimelineEvent


def record(incident, actor, verb: str, *, before: str = "", after: str = "", reason: str = "",
           **detail) -> TimelineEvent:
    return TimelineEvent.objects.create(
        incident=incident, actor=actor if actor and actor.is_authenticated else None, verb=verb,
        before=before, after=after or before, reason=reason or "", detail=_jsonable(detail),
    )


def _jsonable(value):
    import datetime as dt

    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
