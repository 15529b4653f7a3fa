"""A fast lane for machine endpoints that need none of the browser middleware.

Smartflo's API Dialplan call (`/api/v1/masking/resolve/`) sits in the path of every masked call
while the caller waits. It authenticates by its own token and uses no session, CSRF token,
user, messages or lockout, so running the whole stack for it only adds latency. This
middleware, first in the list, hands such paths straight to their view.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

#: path -> dotted path of the view. Only views that need no middleware at all belong here.
FAST_LANE = {
    "/api/v1/masking/resolve/": "masking.apis.masking_resolve_api",
    "/api/v1/masking/resolve": "masking.apis.masking_resolve_api",
}


class FastLaneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.views = {path: import_string(view) for path, view in FAST_LANE.items()}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = self.views.get(request.path_info)
        if view is not None:
            return view(request)
        return self.get_response(request)
