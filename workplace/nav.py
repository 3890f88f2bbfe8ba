"""What the navigation counts for a user, shared by the navigation tag and the pages.

Every badge of a request comes from ONE query: each count is a scalar subquery over the
queryset of its page (approvals, 我的待办, unread notices), served by the indexes of its
page, so a badge never costs more than the page it points to would cost to count. Each count
stops at ``BADGE_CAP`` + 1 rows (a ``LIMIT`` inside the count): a badge reads "99+" beyond it,
and its cost no longer grows with what a unit owes (50,000 deadlines or 50)."""

from django.core.exceptions import EmptyResultSet
from django.db import connection

from deadlines import selectors as deadline_reads
from early_warnings.selectors import unsigned_receipts
from incidents import permissions as perms
from organization.selectors import unit_ids
from responses.selectors import approvals

BADGE_CAP = 99


def has_duties(user) -> bool:
    """Members of a section or body have a 我的待办."""
    section_ids, body_ids = unit_ids(user)
    return bool(section_ids or body_ids)


def _counted(querysets: dict) -> dict[str, int]:
    """COUNT(*) of each queryset up to ``BADGE_CAP`` + 1, as one SELECT of scalar subqueries."""
    parts, params = [], []
    for name, qs in querysets.items():
        try:
            sql, sql_params = qs.order_by().values("pk")[: BADGE_CAP + 1].query.sql_with_params()
        except EmptyResultSet:  # .none(): nothing to count
            parts.append("0")
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) {connection.ops.quote_name('c_' + name)})")
        params.extend(sql_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return dict(zip(querysets, cursor.fetchone(), strict=True))


def badges(request, also: dict | None = None) -> dict[str, int]:
    """The user's waiting approvals (members of a body), 我的待办 (deadlines owed now plus
    notices to sign; members of a section or body) and unread notices: one query per
    request (call it only after the request's own writes). ``also``: a page's own counts
    (name → queryset), counted in that same query up to the same cap and returned by name."""
    also = also or {}
    querysets = {f"also_{name}": qs for name, qs in also.items()}
    if not hasattr(request, "_nav_badges"):
        user = request.user
        querysets["unread"] = deadline_reads.notifications_of(user, unread_only=True)
        if perms.body_levels(user):
            querysets["approvals"] = approvals(user)
        if has_duties(user):
            for i, part in enumerate(deadline_reads.owed_parts(user)):
                querysets[f"owed{i}"] = part
            querysets["to_sign"] = unsigned_receipts(user)
    counts = _counted(querysets) if querysets else {}
    if not hasattr(request, "_nav_badges"):
        request._nav_badges = {"unread": counts["unread"], "approvals": counts.get("approvals", 0),
                               "todo": sum(n for name, n in counts.items() if name.startswith(("owed", "to_sign")))}
    return {**request._nav_badges, **{name: counts[f"also_{name}"] for name in also}}


def shown(count: int | None) -> str | None:
    """A badge's text: the count, "99+" past the cap, nothing for none."""
    if not count:
        return None
    return f"{BADGE_CAP}+" if count > BADGE_CAP else str(count)


def unread(request) -> int:
    """The user's unread notices, shared by the navigation badge and the page."""
    return badges(request)["unread"]
