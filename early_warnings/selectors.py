"""Reads of warnings for the pages and the API."""

from incidents.models import State
from incidents.selectors import visible_pks
from organization.selectors import unit_ids

from .models import NoticeReceipt


def unsigned_receipts(user):
    """Warning notices sent to the user's sections and not yet signed for (签收)."""
    section_ids, _bodies = unit_ids(user)
    if not section_ids:
        return NoticeReceipt.objects.none()
    return (NoticeReceipt.objects.filter(section__in=section_ids, signed_at__isnull=True,
                                         notice__incident__in=visible_pks(user))
            .exclude(notice__incident__state=State.CLOSED)
            .select_related("notice", "notice__incident", "section")
            .prefetch_related("notice__incident__sections")
            .order_by("notice__issued_at", "id"))
