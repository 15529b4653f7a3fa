"""The API's page numbers: `page` and `page_size` that are not positive whole numbers are bad
input (400 `invalid`, naming the parameter), as every other filter is; DRF answers 404 to
`page=abc` and ignores `page_size=abc`. Empty ones are absent, as before; a page past the last is
still 404 `not_found`."""

from __future__ import annotations

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

MAX_PAGE = 10**9  # far past any last page, and within every database's integers


class PageNumberPagination(pagination.PageNumberPagination):
    def paginate_queryset(self, queryset, request, view=None):
        for name, last in ((self.page_query_param, self.last_page_strings), (self.page_size_query_param, ())):
            value = request.query_params.get(name) if name else None
            # empty is absent (page 1, the default size), as DRF reads it; `page=last` is DRF's too
            if value and value not in last and not _positive(value):
                raise ValidationError({name: [f"A whole number from 1 to {MAX_PAGE:,}."]})
        return super().paginate_queryset(queryset, request, view)


def _positive(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 10 and 1 <= int(value) <= MAX_PAGE
