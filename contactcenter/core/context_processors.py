from django.urls import get_script_prefix, reverse

from contactcenter.core.roles import user_roles

# The links of every page's header (templates/base.html), by the name base.html uses.
NAVIGATION = {
    "workspace": "calls:workspace",
    "records": "calls:records",
    "live": "calls:live",
    "agents": "agents:list",
    "otp": "otp:list",
    "logout": "logout",
    "alerts": "calls:alerts",
}
_reversed: dict[str, dict[str, str]] = {}


def roles(request):
    """The signed-in user's roles, for navigation and role-specific parts of pages."""
    user = getattr(request, "user", None)
    names = user_roles(user) if user is not None else []
    return {"user_roles": names, "user_is_supervisor": "supervisor" in names, "user_is_agent": "agent" in names}


def navigation(request):
    """`nav.<name>`: the header's URLs, reversed once per script prefix instead of on every page."""
    prefix = get_script_prefix()
    urls = _reversed.get(prefix)
    if urls is None:
        if len(_reversed) >= 8:  # SCRIPT_NAME comes from the proxy: keep a handful, never grow
            _reversed.clear()
        urls = _reversed[prefix] = {name: reverse(view) for name, view in NAVIGATION.items()}
    return {"nav": urls}
