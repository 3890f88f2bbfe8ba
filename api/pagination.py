"""The API's page size: 50 by default, 20 for incidents (``IncidentPagination``),
``page_size`` up to 200; a page number that is not a page answers 400 ``{"page": [message]}``
in the request's language (API.md "Errors")."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            raise ValidationError({self.page_query_param: [_("页码无效。")]}) from None


class IncidentPagination(Pagination):
    """Incidents 20 a page by default, as the browser's list: each embeds its latest 100
    events, its deadlines and its other lists (API.md v1.1), so a page's cost and size grow
    with its length; ``page_size`` still asks for up to 200."""

    page_size = 20
    page_size_query_description = _l("每页返回的事件数：默认 20，最多 200。")


class Counted:
    """A list to page whose total comes from ``count`` (a function) and whose pages from
    ``page(start, stop)``: Django's paginator asks the list for ``count()`` and slices it for
    the page."""

    ordered = True

    def __init__(self, page, count):
        self.page, self.count = page, count

    def __getitem__(self, key):
        return self.page(key.start or 0, key.stop)

    def __len__(self):
        return self.count()
