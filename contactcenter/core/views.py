"""Core pages: the landing page and the health check."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


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


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: who you are, where Smartflo is, and where to go next."""
    base_url = settings.SMARTFLO_BASE_URL
    context = {
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


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: JSON under /api/, otherwise a page that says why and offers the way back."""
    reason = str(exception) if exception and str(exception) else "You do not have access to this page."
    if _wants_json(request):
        return JsonResponse({"code": "permission_denied", "message": reason, "extra": {}}, status=403)
    return render(request, "403.html", {"reason": reason}, status=403)
