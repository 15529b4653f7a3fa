"""Roles are Django groups; superusers count as supervisors."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

AGENTS_GROUP = "Agents"
SUPERVISORS_GROUP = "Supervisors"


def user_roles(user: AbstractBaseUser | AnonymousUser) -> list[str]:
    """The user's roles, read once per user object (so once per request, however many
    permission checks and templates ask)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_contactcenter_roles", None)
    if cached is not None:
        return list(cached)
    names = set(user.groups.values_list("name", flat=True))
    roles = []
    if user.is_superuser or SUPERVISORS_GROUP in names:
        roles.append("supervisor")
    if AGENTS_GROUP in names:
        roles.append("agent")
    if user.is_staff:
        roles.append("staff")
    user._contactcenter_roles = tuple(roles)
    return roles


def is_supervisor(user: AbstractBaseUser | AnonymousUser) -> bool:
    return "supervisor" in user_roles(user)
