"""Pages whose totals cost what they show: a list's count reads at most ``LOOKAHEAD`` rows past
the page asked for (``COUNT(*)`` over a ``LIMIT``), so paging 50,000 rows owed costs what paging
50 does. Past that, the total reads "n+" and the next page is still offered; the deeper a user
pages, the further the count looks (the OFFSET of that page reads those rows anyway)."""

from django.core.paginator import InvalidPage, Paginator
from django.db.models import IntegerField
from django.db.models.expressions import RawSQL
from django.utils.functional import cached_property

from sentiment_ops import prepared

PAGE_SIZE = 20
LOOKAHEAD = 1000


def _number(value) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def _limit(number, per_page) -> int:
    """How far a list's count reads for page ``number``: to ``LOOKAHEAD`` rows past its end."""
    return _number(number) * per_page + LOOKAHEAD


class CappedPaginator(Paginator):
    """A Paginator whose ``count`` stops at ``LOOKAHEAD`` rows beyond the end of the requested page;
    ``more`` says there are more, ``total`` is the count as shown ("1020+" or "37").
    ``counter``: counts the list to at most the rows it is given, read otherwise than from the
    list itself (``incidents.selectors.count_visible``)."""

    def __init__(self, object_list, per_page=PAGE_SIZE, *, wanted=None, ordered=False, counter=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.limit = _limit(wanted, per_page)
        self.ordered = ordered
        self.counter = counter
        self.more = False

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if self.counter is not None:
            n = self.counter(self.limit + 1)
        elif isinstance(rows, list):  # the keys read at once (``page_of_rows(at_once=True)``)
            n = len(rows)
        else:
            rows = rows if self.ordered else rows.order_by()
            n = rows.values("pk")[: self.limit + 1].count()
        self.more = n > self.limit
        return min(n, self.limit)

    @property
    def total(self) -> str:
        count = self.count  # first: counting sets ``more``
        return f"{count}+" if self.more else str(count)

    @property
    def pages_label(self) -> str:
        pages = self.num_pages  # first: counting sets ``more``
        return f"{pages}+" if self.more else str(pages)


def page_of(queryset, number, per_page=PAGE_SIZE, *, ordered=False, counter=None):
    """The ``number``-th page (1 when missing or invalid; the last when beyond it). ``ordered``:
    count in the list's order, when that order's index is what serves a filter no index
    matches (a section's incidents: the newest-first index, probing each row's visibility,
    instead of a sequential scan). ``counter``: see ``CappedPaginator``."""
    paginator = CappedPaginator(queryset, per_page, wanted=number, ordered=ordered, counter=counter)
    try:
        return paginator.page(_number(number))
    except InvalidPage:
        return paginator.page(paginator.num_pages)


def page_of_rows(queryset, number, rows, per_page=PAGE_SIZE, *, ordered=False, at_once=False, counter=None):
    """``page_of`` the keys of ``queryset`` (its filter and its order alone), then the page's
    rows read by ``rows(keys)`` (with their joins), in the list's order. A query whose joins
    PostgreSQL runs for every row matched before the sort (a search's hundreds of matches)
    then runs them for a page, and is planned without the filter's conditions.
    ``at_once``: read the keys up to the count's cap in one statement, then count and page
    them here — for a list no index orders, whose page query reads and sorts every row
    matched anyway (a search for a longer term: its bigrams' candidates checked and sorted),
    so that the count does not read them all a second time. ``counter``: see ``CappedPaginator``."""
    keys = queryset.values_list("pk", flat=True)
    if at_once:
        keys = list(keys[: _limit(number, per_page) + 1])
    page = page_of(keys, number, per_page, ordered=ordered, counter=None if at_once else counter)
    keys = list(page.object_list)
    found = {row.pk: row for row in rows(keys)}
    page.object_list = [found[key] for key in keys if key in found]
    return page


def _capped_sum(parts, limit) -> tuple[str, list]:
    """The sum of each queryset's ``COUNT(*)`` up to ``limit`` + 1 rows, as one SQL expression."""
    return prepared.sum_of_counts([part.order_by().values("pk")[: limit + 1] for part in parts],
                                  capped=True) or ("0", [])


def _counted(rows, number, total, per_page, wanted=None):
    """The page ``number`` of a list whose rows are ``rows`` and whose count up to the cap of page
    ``wanted`` (default: this one) is ``total`` — as ``page_of`` pages it."""
    paginator = CappedPaginator([], per_page, wanted=wanted or number, counter=lambda _cap: total)
    return paginator._get_page(rows, number, paginator)


def page_counted(key, listed, parts, number, per_page=PAGE_SIZE):
    """``page_of(listed(), number)`` in ONE statement compiled once per process for ``key`` (what
    the querysets are built from) and the page: ``listed()`` an ordered ``values_list``, its
    rows counted up to the cap by ``parts()`` — disjoint querysets whose rows together are
    ``listed()``'s, each an index range scan that stops at its LIMIT — their capped counts summed
    in an uncorrelated subquery (run once) that rides each row of the page as its last value.
    Past the end (no row), the count alone, then the last page."""
    number = _number(number)
    limit = _limit(number, per_page)

    def statement(at):
        def build(_now):
            total, params = _capped_sum(parts(), limit)
            start = (at - 1) * per_page
            return listed().annotate(page_total=RawSQL(total, params, output_field=IntegerField()))[start:start + per_page]
        return prepared.rows((*key, "page_counted", per_page, limit, at), build)

    rows = statement(number)
    if rows:
        return _counted([row[:-1] for row in rows], number, rows[0][-1], per_page)
    if number == 1:
        return _counted([], 1, 0, per_page)

    def count(_now):
        total, params = _capped_sum(parts(), limit)
        return "SELECT " + total, params

    [(total,)] = prepared.fetch((*key, "page_counted", "count", limit), count)
    last = min(number, max(1, -(-min(total, limit) // per_page)))
    rows = statement(last) if last < number else []
    return _counted([row[:-1] for row in rows], last, total, per_page, wanted=number)


def page_read(read, number, per_page=PAGE_SIZE):
    """``page_of`` a list whose page and total one statement reads: ``read(offset, limit)``
    answers the ``limit`` rows from ``offset`` and how many there are in all (a window count
    beside them, for a list whose page sorts every row matched anyway: the proposals waiting
    for a body), None when no row is at ``offset``. The total is shown as ``page_of`` shows it
    (at most ``LOOKAHEAD`` past the page asked for, "1020+" beyond); a page past the end is the
    last one, as there."""
    wanted = _number(number)
    rows, total = read((wanted - 1) * per_page, per_page)
    if total is None and wanted > 1:  # past the end: count, then the last page
        total = read(0, 1)[1]
    total = total or 0
    last = max(1, -(-min(total, _limit(wanted, per_page)) // per_page))
    if last < wanted:
        rows = read((last - 1) * per_page, per_page)[0]
    return _counted(rows, min(wanted, last), total, per_page, wanted=wanted)
