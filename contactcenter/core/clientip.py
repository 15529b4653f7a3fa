"""The client's address, for the sign-in lock-out (django-axes' AXES_CLIENT_IP_CALLABLE).

Behind nginx, REMOTE_ADDR is nginx's address, so every client would share one lock-out. Each
proxy appends the address it received the request from to X-Forwarded-For; with
TRUSTED_PROXY_COUNT = n, the n-th entry from the right was written by our outermost proxy and is
the client. Entries further left come from the client itself and are never believed (a client
could put anyone's address there to lock them out, or a fresh one per try to dodge the lock-out).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The address the outermost trusted proxy saw, or REMOTE_ADDR.

    REMOTE_ADDR when TRUSTED_PROXY_COUNT is 0, or when X-Forwarded-For has fewer entries than
    there are proxies (the request did not come through all of them), or its entry is not an
    address.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote
    forwarded = [entry for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if len(forwarded) < proxies:
        return remote
    return _valid(forwarded[-proxies]) or remote
