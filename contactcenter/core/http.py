"""Django's method decorators for pages, answering a wrong method with a page that says what
the address is for (Django's answer is an empty 405, which a browser shows as its own error
page: someone who typed, bookmarked or reloaded the address of a button gets nowhere)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.log import log_response


def require_http_methods(methods: Iterable[str]) -> Callable:
    allowed = list(methods)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def inner(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in allowed:
                response = render(request, "405.html", {"opens": "GET" in allowed}, status=405)
                response["Allow"] = ", ".join(allowed)
                # as Django's decorator: the path escaped (no forged log lines), logged once
                log_response(
                    "Method Not Allowed (%s): %s", request.method, request.path, response=response, request=request
                )
                return response
            return view(request, *args, **kwargs)

        return inner

    return decorator


require_GET = require_http_methods(["GET"])
require_POST = require_http_methods(["POST"])
