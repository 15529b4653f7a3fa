"""Demo only: ask the local Smartflo sandbox to place a simulated call to a masking number.

The sandbox then calls our resolve endpoint exactly as Smartflo would (its `dialplan_url`,
which `make dev` points at this app) and reports whom the call reached. Offered only when
SMARTFLO_BASE_URL is on loopback, i.e. the sandbox, never against the real Smartflo.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from contactcenter.core.exceptions import ApplicationError
from contactcenter.phones import mask

logger = logging.getLogger(__name__)


def sandbox_control_url() -> str | None:
    """`http://127.0.0.1:8900/_control` for a loopback SMARTFLO_BASE_URL ending in /v1, else None."""
    base = str(getattr(settings, "SMARTFLO_BASE_URL", "") or "").rstrip("/")
    if not base.endswith("/v1"):
        return None
    host = urlsplit(base).hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    return base[: -len("/v1")] + "/_control" if loopback else None


@dataclass(frozen=True)
class SimulatedCall:
    outcome: str  # "connected" or "failover"
    connected_to: str | None
    reason: str
    call_id: str
    request: dict[str, Any]


def masking_simulated_call_place(*, caller: str, masking_number: str, timeout: float = 15.0) -> SimulatedCall:
    """POST {control}/inbound_call and return what the sandbox reports.

    Raises ApplicationError when the sandbox is not in use, not running, or refuses the numbers.
    """
    control = sandbox_control_url()
    if control is None:
        raise ApplicationError(
            "Simulated calls need the local Smartflo sandbox (SMARTFLO_BASE_URL on 127.0.0.1).",
            code="sandbox_only",
        )
    try:
        response = httpx.post(
            f"{control}/inbound_call",
            json={"caller_id_number": caller, "call_to_number": masking_number},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise ApplicationError(
            f"The sandbox at {control} did not answer ({type(exc).__name__}): is `python -m sandbox` running?",
            code="sandbox_unavailable",
            status_code=503,
        ) from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict):
        message = body.get("message") if isinstance(body, dict) else None
        raise ApplicationError(
            f"The sandbox refused the call: {message or f'HTTP {response.status_code}'}",
            code="sandbox_refused",
        )
    logger.info("simulated masked call from %s: %s", mask(caller), body.get("outcome"))
    return SimulatedCall(
        outcome=str(body.get("outcome", "")),
        connected_to=body.get("connected_to"),
        reason=str(body.get("reason", "")),
        call_id=str(body.get("call_id", "")),
        request=body.get("request") or {},
    )
