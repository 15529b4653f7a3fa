"""Role checks for pages and APIs. Roles are groups; superusers count as supervisors."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
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
