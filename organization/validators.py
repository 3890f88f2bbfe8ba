"""The span of dates the system accepts from anyone (API, pages, admin filters): an incident,
a report or a period outside it is a typing error, and dates far outside it overflow in time-zone
arithmetic (year 1 in Asia/Shanghai is before UTC's year 1). One home for the bounds."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2099, 12, 31)


def out_of_range_message() -> str:
    return _("日期须在 %(earliest)s 至 %(latest)s 之间。") % {
        "earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()}


def in_range(value: dt.date | dt.datetime) -> bool:
    """``value`` (a date, or an aware datetime read on its own calendar day) is within the span."""
    day = value.date() if isinstance(value, dt.datetime) else value
    return EARLIEST_DATE <= day <= LATEST_DATE


def validate_date_in_range(value: dt.date | dt.datetime) -> None:
    if value is not None and not in_range(value):
        raise ValidationError(out_of_range_message(), code="date_range")
