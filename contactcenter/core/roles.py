"""Roles are Django groups; superusers count as supervisors."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

AGENTS_GROUP = "Agents"
SUPERVISORS_GROUP = "Supervisors"


def user_roles(user: AbstractBaseUser | AnonymousUser) -> list[str]:
    if not user.is_authenticated:
        return []
    names = set(user.groups.values_list("name", flat=True))
    roles = []
    if user.is_superuser or SUPERVISORS_GROUP in names:
        roles.append("supervisor")
    if AGENTS_GROUP in names:
        roles.append("agent")
    if user.is_staff:
        roles.append("staff")
    return roles


def is_supervisor(user: AbstractBaseUser | AnonymousUser) -> bool:
    return "supervisor" in user_roles(user)
