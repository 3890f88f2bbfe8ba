"""Signals of the organisation layer: lower layers tell higher ones without importing them.

- ``calendar_confirmed(year=...)``: a year of the working-day calendar became official (an
  administrator confirmed it, or chinesecalendar brought it). Sent inside the confirming
  transaction; deadlines/receivers.py recomputes the open deadlines counted on provisional
  days.
- ``calendar_reminder(year=..., subject=..., text=..., key=...)``: next year is still
  provisional (from November 1, once a week, by the nightly task). deadlines/receivers.py puts
  the notice in the outbox, once per ``key``.
"""

from django.dispatch import Signal

calendar_confirmed = Signal()
calendar_reminder = Signal()
