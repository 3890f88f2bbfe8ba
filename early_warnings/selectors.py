"""Reads of warnings for the pages and the API."""


from incidents import permissions as perms
from incidents.selectors import content_flag, visible_rows
from organization.selectors import unit_ids

from .models import NoticeReceipt


def unsigned_receipts(user):
    """Warning notices sent to the user's sections and not yet signed for (签收), on incidents
    not closed (the receipt's own ``incident_closed``: no join of the incidents)."""
    section_ids, _bodies = unit_ids(user)
    if not section_ids:
        return NoticeReceipt.objects.none()
    return _shown(user, _unsigned(section_ids).filter(visible_rows(user, "incident", probe=True))
                  .order_by("issued_at", "id"))


def _unsigned(section_ids):
    return NoticeReceipt.objects.filter(section__in=section_ids, signed_at__isnull=True, incident_closed=False)


def _shown(user, receipts):
    """Receipts with their notice, incident and section, and ``content_ok`` (R54) for the title."""
    return (receipts.select_related("notice", "notice__incident", "section")
            .annotate(content_ok=content_flag(user, "incident_id")))


# 我的待办's page (issue 12): what each receipt prints, as values (``workplace/todo.py``).
RECEIPT_COLUMNS = ("pk", "notice_id", "section_id", "notice__level", "notice__kind", "notice__incident_id",
                   "notice__issued_at", "notice__incident__title", "content_ok")


def unsigned_keys(user):
    """The keys of ``unsigned_receipts(user)``, in its order. For those who see every incident,
    read from the unsigned receipts' index in that order (``receipt_to_sign``: each receipt
    carries its notice's issue time). The others' are the same rows, each probed for
    visibility at the incident it carries."""
    section_ids, _bodies = unit_ids(user)
    if not section_ids:
        return NoticeReceipt.objects.none().values_list("pk", flat=True)
    if not perms.sees_everything(user):
        return unsigned_receipts(user).values_list("pk", flat=True)
    return _unsigned(section_ids).order_by("issued_at", "id").values_list("pk", flat=True)


def receipt_values(user, keys):
    """The values of ``RECEIPT_COLUMNS`` of the receipts of ``keys``."""
    return (NoticeReceipt.objects.filter(pk__in=keys).annotate(content_ok=content_flag(user, "incident_id"))
            .values_list(*RECEIPT_COLUMNS))
