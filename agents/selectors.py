from __future__ import annotations

from django.db.models import QuerySet

from agents.models import Agent


def agent_list(*, include_inactive: bool = True, search: str = "") -> QuerySet[Agent]:
    agents = Agent.objects.select_related("user")
    if not include_inactive:
        agents = agents.filter(is_active=True)
    if search:
        from django.db.models import Q

        agents = agents.filter(Q(name__icontains=search) | Q(follow_me_number__contains=search) | Q(intercom=search))
    return agents
