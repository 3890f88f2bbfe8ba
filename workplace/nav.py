"""What the navigation counts for a user, shared by the navigation tag and the pages."""

from deadlines import selectors as deadline_reads
from early_warnings.selectors import unsigned_receipts
from organization.selectors import unit_ids
from responses.selectors import approvals


def has_duties(user) -> bool:
    """Members of a section or body have a 我的待办."""
    section_ids, body_ids = unit_ids(user)
    return bool(section_ids or body_ids)


def waiting_approvals(user) -> int:
    return approvals(user).count()


def todo_count(user) -> int:
    return deadline_reads.owed_by(user).count() + unsigned_receipts(user).count()


def unread(request) -> int:
    """The user's unread notices: one COUNT per request, shared by the navigation badge and
    the page (call it only after the request's own writes)."""
    if not hasattr(request, "_unread_notifications"):
        request._unread_notifications = deadline_reads.unread_count(request.user)
    return request._unread_notifications
