"""Core pages: the landing page, the health check, sign-out and the favicon."""

from __future__ import annotations

import sys
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from agents.models import Agent
from contactcenter.core.exceptions import (
    DATABASE_RETRY_AFTER_SECONDS,
    DATABASE_UNAVAILABLE,
    REQUEST_LIMITS,
    database_unavailable,
    request_limit_error,
)


def _check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # report, never raise: this is a health endpoint
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def _check_broker() -> dict:
    from contactcenter.celery import app

    started = time.monotonic()
    transport = app.conf.broker_url.split("://", 1)[0]
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "transport": "eager"}
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return {"ok": False, "transport": transport, "error": exc.__class__.__name__}
    return {"ok": True, "transport": transport, "ms": round((time.monotonic() - started) * 1000, 1)}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers; the broker's state is reported but does not fail the check,
    since pages and the masking endpoint keep working without it."""
    database = _check_database()
    broker = _check_broker()
    healthy = database["ok"]
    body = {
        "status": "ok" if healthy and broker["ok"] else ("degraded" if healthy else "down"),
        "database": database,
        "broker": broker,
    }
    return JsonResponse(body, status=200 if healthy else 503)


class SignInView(auth_views.LoginView):
    """Django's sign-in page. Someone already signed in goes on where they were headed (`next`,
    else the landing page), told who they are signed in as, instead of a form that would sign
    them in again over their own session."""

    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        """`next`, unless it is this page itself (Django would refuse the loop with a 500)."""
        url = super().get_redirect_url()
        return "" if url and urlsplit(url).path == self.request.path else url

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method in ("GET", "POST") and request.user.is_authenticated:
            messages.info(
                request, f"You are signed in as {request.user.get_username()}. Sign out first to use another account."
            )
        return super().dispatch(request, *args, **kwargs)


class SignOutView(auth_views.LogoutView):
    """Signing out stays a POST (a link or an image on another site must not sign anyone out);
    a GET, a typed or bookmarked /accounts/logout/, gets a page with the button instead of
    Django's bare 405."""

    http_method_names = ["get", "head", "post", "options"]
    template_name = "registration/logout_confirm.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return render(request, self.template_name)

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if signed_in:  # the sign-in page says so (the message travels in a cookie: the session is gone)
            messages.info(request, "You have signed out.")
        return response


@require_safe
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """/favicon.ico, which browsers ask for on pages that name no icon (JSON, the API docs):
    the static icon, wherever the static storage puts it."""
    response = HttpResponseRedirect(static("favicon.svg"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _display_name(user) -> str:
    """What to call the person: their full name, else the name of the agent their sign-in is
    linked to, else their username."""
    name = user.get_full_name().strip()
    if not name:
        name = (Agent.objects.filter(user=user).values_list("name", flat=True).first() or "").strip()
    return name or user.get_username()


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: who you are, where Smartflo is, and where to go next."""
    base_url = settings.SMARTFLO_BASE_URL
    context = {
        "display_name": _display_name(request.user),
        "smartflo_host": urlsplit(base_url).netloc,
        "is_sandbox": urlsplit(base_url).hostname in ("127.0.0.1", "localhost"),
    }
    return render(request, "home.html", context)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: JSON in the API's error shape under /api/, a page elsewhere."""
    if _wants_json(request):
        return JsonResponse({"code": "not_found", "message": "No such API endpoint.", "extra": {}}, status=404)
    return render(request, "404.html", status=404)


def _an_endpoint(path: str, urlconf) -> bool:
    try:
        return resolve(path, urlconf).func is not api_not_found  # not this catch-all itself
    except Resolver404:
        return False


def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any /api/ address no endpoint has, with DEBUG on (contactcenter/urls.py): the API's JSON
    404, as with DEBUG off, instead of Django's debug page. An address that lacks only its final
    slash is redirected for GET and HEAD, as APPEND_SLASH does, and named for other methods (whose
    body a redirect would lose)."""
    with_slash = request.path_info + "/"
    if not with_slash.endswith("//") and _an_endpoint(with_slash, getattr(request, "urlconf", None)):
        if request.method in ("GET", "HEAD"):
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(request.path + "/" + (f"?{query}" if query else ""))
        path = request.path + "/"
        message = f"No such API endpoint: {path} (with the final slash) is one."
        return JsonResponse({"code": "not_found", "message": message, "extra": {"path": path}}, status=404)
    return not_found(request)  # what DEBUG off answers


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400 (a request Django could not read: too large, too many fields, a bad host...): JSON
    under /api/ (a body over the upload limit is a 413 there), Django's page elsewhere."""
    if _wants_json(request):
        if isinstance(exception, REQUEST_LIMITS):
            status, body = request_limit_error(exception)
            return JsonResponse(body, status=status)
        body = {"code": "bad_request", "message": "The request could not be read.", "extra": {}}
        return JsonResponse(body, status=400)
    return defaults.bad_request(request, exception)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: JSON under /api/, otherwise a page that says why and offers the way back."""
    reason = str(exception) if exception and str(exception) else "You do not have access to this page."
    if _wants_json(request):
        return JsonResponse({"code": "permission_denied", "message": reason, "extra": {}}, status=403)
    return render(request, "403.html", {"reason": reason}, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 when the database could not be reached (a restart, a failover): JSON in the
    API's error shape under /api/, a page elsewhere. Rendered without the request's context, so
    nothing here needs the database (or the session) that may be what failed."""
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        error = database_unavailable()
        if _wants_json(request):
            response = JsonResponse(error.body(), status=503)
        else:
            page = loader.get_template("503.html").render({"retry_after": DATABASE_RETRY_AFTER_SECONDS})
            response = HttpResponse(page, status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    if _wants_json(request):
        message = "Something went wrong on our side; it has been logged."
        return JsonResponse({"code": "internal_error", "message": message, "extra": {}}, status=500)
    return defaults.server_error(request)
