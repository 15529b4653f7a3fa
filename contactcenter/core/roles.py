"""Roles are Django groups; superusers count as supervisors."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.db import router

from contactcenter.core.compiled import CompiledQuery

AGENTS_GROUP = "Agents"
SUPERVISORS_GROUP = "Supervisors"

# Asked by every signed-in page: compiled once, not per request.
_GROUP_NAMES = CompiledQuery(lambda user_id: Group.objects.filter(user__pk=user_id).values_list("name"), -1)


def user_roles(user: AbstractBaseUser | AnonymousUser) -> list[str]:
    """The user's roles, read once per user object (so once per request, however many
    permission checks and templates ask)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_contactcenter_roles", None)
    if cached is not None:
        return list(cached)
    names = {name for (name,) in _GROUP_NAMES.rows(user.pk, using=user._state.db or router.db_for_read(Group))}
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
