"""Role checks for pages and APIs. Roles are groups; superusers count as supervisors."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from contactcenter.core.roles import is_supervisor


class IsSupervisor(BasePermission):
    message = "Only supervisors can do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and is_supervisor(request.user))


def supervisor_required(view):
    """Page decorator: anonymous users go to sign-in, signed-in non-supervisors get a 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_supervisor(request.user):
            raise PermissionDenied("Only supervisors can open this page.")
        return view(request, *args, **kwargs)

    return wrapper


def signed_in_or_token(view):
    """Page decorator for what API clients are handed links to (a record's `recording`): a
    request with `Authorization: Token <key>` is that token's user (401 in the API's shape if the
    token is wrong; the view answers such a request's errors in JSON too: `request.api_token`); any
    other is a page's, sent to sign-in when signed out."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.headers.get("Authorization", "").lower().split(None, 1)[:1] == ["token"]:  # as DRF reads it
            try:
                found = TokenAuthentication().authenticate(request)
            except AuthenticationFailed as exc:
                body = {"code": "authentication_failed", "message": str(exc.detail), "extra": {}}
                return JsonResponse(body, status=401, headers={"WWW-Authenticate": "Token"})
            if found is not None:
                request.user = found[0]
                request.api_token = True  # its errors are the API's JSON too
                return view(request, *args, **kwargs)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper
