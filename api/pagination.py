"""The API's page size: 50 by default, ``page_size`` up to 200; a page number that is not a
page answers 400 ``{"page": [message]}`` in the request's language (API.md "Errors")."""

from django.utils.translation import gettext as _
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
