"""The resolve endpoint's WSGI lane: Smartflo's usual request answered beside Django's handler.

Every masked call waits on `/api/v1/masking/resolve/`, so its cost per request is what a
deployment's web tier is sized by (bench/masking_resolve.py). Django's request handling (the
request object, its signals' dispatch, URL and middleware machinery) cost about as much CPU as
answering. This lane, wrapped around the project's WSGI application (contactcenter/wsgi.py),
takes the request Smartflo actually sends, and only that:

    POST to the resolve path, no query string, `Content-Type: application/json`, a
    Content-Length of 1 to 4096 bytes, and a Bearer or X-API-Key token that authenticates.

It answers through the very function the Django view uses (`masking_resolve_answer`: the same
parsing, lookup, answers and resolution log row), and runs the same connection housekeeping as
Django's handler before and after. Anything else (GET, forms, a query token, a wrong or missing
token, a body too large) goes to Django untouched (the body put back), which answers as the
view always has. tests/masking/test_wsgi_lane.py holds the lane to the view's answers.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.core import signals

from contactcenter.core.middleware import FAST_LANE
from masking.apis import masking_resolve_answer
from masking.dialplan import json_variables, presented_tokens, tokens_authorised

PATHS = frozenset(path for path, view in FAST_LANE.items() if view == "masking.apis.masking_resolve_api")
MAX_BODY = 4096

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ResolveLane:
    """WSGI middleware: answers canonical resolve requests itself, passes the rest to `app`."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.taken = 0  # requests this lane answered (for tests and curiosity)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if (
            environ.get("PATH_INFO") not in PATHS
            or environ.get("REQUEST_METHOD") != "POST"
            or environ.get("QUERY_STRING")
            or str(environ.get("CONTENT_TYPE", "")).partition(";")[0].strip().lower() != "application/json"
        ):
            return self.app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return self.app(environ, start_response)
        if not 0 < length <= MAX_BODY:
            return self.app(environ, start_response)
        started = time.perf_counter()
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # Django reads it again if the lane passes
        if len(body) != length or not body.strip():
            return self.app(environ, start_response)

        try:
            authorised = tokens_authorised(presented_tokens(environ))
        except Exception:
            authorised = False
        if not authorised:
            return self.app(environ, start_response)  # the view answers 401 (and logs why)

        self.taken += 1
        # Django's handler sends these around every request: they reset the query log and
        # close a connection that is broken or past CONN_MAX_AGE (and mark it for a health check).
        signals.request_started.send(sender=self.__class__, environ=environ)
        response = masking_resolve_answer(lambda: json_variables(body), method="POST", started=started)
        # The response's close() (called by the server once it is sent) writes the log row and
        # sends request_finished, as for any Django response.
        response._handler_class = self.__class__
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return response
