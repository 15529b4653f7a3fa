"""The project's middleware: a fast lane for machine endpoints, and sign-in for HTMX parts.

`FastLaneMiddleware`: Smartflo's API Dialplan call (`/api/v1/masking/resolve/`) sits in the path of every masked call
while the caller waits. It authenticates by its own token and uses no session, CSRF token,
user, messages or lockout, so running the whole stack for it only adds latency. This
middleware, first in the list, hands such paths straight to their view.

`HtmxSignInMiddleware` and `SignedInNoStoreMiddleware`: see their docstrings.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
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


class HtmxSignInMiddleware:
    """A signed-out HTMX request is sent to sign in as a whole page, not swapped into one.

    A page's HTMX parts (the agent's incoming-call poll, the records sync line, a panel) keep
    asking after the session has ended (signed out in another tab, expired). `login_required`
    answers with a redirect, which the browser follows inside the request: the sign-in page
    would land in the part's place. For HTMX requests that redirect becomes a 401 with
    `HX-Redirect`, which HTMX follows as a page load; back from sign-in, the user is on the
    page they were on (`HX-Current-URL`), not on the fragment's URL.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 302
            and request.headers.get("HX-Request") == "true"
            and response.get("Location", "").startswith(resolve_url(settings.LOGIN_URL) + "?")
        ):
            current = urlsplit(request.headers.get("HX-Current-URL", ""))
            same_site = url_has_allowed_host_and_scheme(
                current.geturl(), allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
            page = (current.path or "/") + (f"?{current.query}" if current.query else "") if same_site else "/"
            answer = HttpResponse("Sign in again.", status=401, content_type="text/plain; charset=utf-8")
            answer["HX-Redirect"] = redirect_to_login(page)["Location"]
            return answer
        return response


class SignedInNoStoreMiddleware:
    """What a signed-in user is shown is never stored by the browser (`Cache-Control: no-store`).

    Pages show live state (the call an agent is on) and personal data (customers' numbers). A
    stored copy would come back on Back: an agent returning to the workspace would be shown it
    as it was when first loaded ("No call in progress" while a call is live), and after sign-out,
    Back would show the previous user's pages. Responses that say how they may be cached (the
    static icon, a recording's own caching) keep their header.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control") and request.user.is_authenticated:
            add_never_cache_headers(response)
        return response
