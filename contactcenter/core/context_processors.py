from contactcenter.core.roles import user_roles


def roles(request):
    """The signed-in user's roles, for navigation and role-specific parts of pages."""
    user = getattr(request, "user", None)
    names = user_roles(user) if user is not None else []
    return {"user_roles": names, "user_is_supervisor": "supervisor" in names, "user_is_agent": "agent" in names}
