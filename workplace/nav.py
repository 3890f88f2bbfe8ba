"""What the navigation counts for a user, shared by the navigation tag and the pages.

Every badge of a request comes from ONE query: each count is a scalar subquery over the
queryset of its page (approvals, 我的待办, unread notices), served by the indexes of its
page, so a badge never costs more than the page it points to would cost to count. Each count
stops at ``BADGE_CAP`` + 1 rows (a ``LIMIT`` inside the count): a badge reads "99+" beyond it,
and its cost no longer grows with what a unit owes (50,000 deadlines or 50)."""

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.utils import timezone

from deadlines import selectors as deadline_reads
from early_warnings.selectors import unsigned_receipts
from incidents import permissions as perms
from organization.selectors import identity_key, unit_ids
from responses.selectors import approvals
from sentiment_ops import prepared

BADGE_CAP = 99


def has_duties(user) -> bool:
    """Members of a section or body have a 我的待办."""
    section_ids, body_ids = unit_ids(user)
    return bool(section_ids or body_ids)


def _counting(querysets: dict) -> tuple[str, list]:
    """COUNT(*) of each queryset up to ``BADGE_CAP`` + 1, as one SELECT of scalar subqueries,
    each column named after its queryset."""
    parts, params = [], []
    for name, qs in querysets.items():
        column = connection.ops.quote_name(name)
        try:
            sql, sql_params = qs.order_by().values("pk")[: BADGE_CAP + 1].query.sql_with_params()
        except EmptyResultSet:  # .none(): nothing to count
            parts.append(f"0 AS {column}")
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) {connection.ops.quote_name('c_' + name)}) AS {column}")
        params.extend(sql_params)
    return "SELECT " + ", ".join(parts), params


def _badge_querysets(user) -> dict:
    querysets = {"unread": deadline_reads.notifications_of(user, unread_only=True)}
    if perms.body_levels(user):
        querysets["approvals"] = approvals(user)
    if has_duties(user):
        for i, part in enumerate(deadline_reads.owed_parts(user)):
            querysets[f"owed{i}"] = part
        querysets["to_sign"] = unsigned_receipts(user)
    return querysets


def badges(request, also: tuple | None = None, now=None) -> dict[str, int]:
    """The user's waiting approvals (members of a body), 我的待办 (deadlines owed now plus
    notices to sign; members of a section or body) and unread notices: one query per
    request (call it only after the request's own writes). ``also``: a page's own counts as
    ``(key, build)`` — ``build(now)`` returns {name: queryset}, of a shape decided by ``key``
    and the user's identity alone — counted in that same query up to the same cap and
    returned by name.

    The statement's SQL is built once per process for each user identity (``identity_key``:
    the id, roles and units every queryset here is built from) and ``also``'s key
    (sentiment_ops.prepared); each call only runs it."""
    user = request.user
    first = not hasattr(request, "_nav_badges")
    if not first and also is None:
        return dict(request._nav_badges)
    also_key, build_also = also or (None, None)

    def build(when):
        querysets = {f"also_{name}": qs for name, qs in build_also(when).items()} if build_also else {}
        if first:
            querysets.update(_badge_querysets(user))
        return _counting(querysets)

    [counts] = prepared.fetch(("workplace.nav.badges", BADGE_CAP, identity_key(user), first, also_key), build,
                              now or timezone.now(), named=True)
    if first:
        request._nav_badges = {"unread": counts["unread"], "approvals": counts.get("approvals", 0),
                               "todo": sum(n for name, n in counts.items() if name.startswith(("owed", "to_sign")))}
    return {**request._nav_badges,
            **{name.removeprefix("also_"): n for name, n in counts.items() if name.startswith("also_")}}


def shown(count: int | None) -> str | None:
    """A badge's text: the count, "99+" past the cap, nothing for none."""
    if not count:
        return None
    return f"{BADGE_CAP}+" if count > BADGE_CAP else str(count)


def unread(request) -> int:
    """The user's unread notices, shared by the navigation badge and the page."""
    return badges(request)["unread"]
