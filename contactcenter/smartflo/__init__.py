"""The Smartflo service module: the only code that talks HTTP to Smartflo.

from contactcenter.smartflo import SmartfloClient, SmartfloError
"""

from contactcenter.smartflo.client import BARGE, MONITOR, TRANSFER, WHISPER, Attempt, SmartfloClient
from contactcenter.smartflo.errors import (
    SmartfloAuthError,
    SmartfloConnectionError,
    SmartfloError,
    SmartfloInvalidRequest,
    SmartfloRateLimitedError,
    SmartfloRejectedError,
    SmartfloResponseError,
    SmartfloServerError,
    SmartfloTimeoutError,
    SmartfloUnknownOutcomeError,
)
from contactcenter.smartflo.timefmt import IST, format_ist, parse_ist
from contactcenter.smartflo.types import (
    ActionResult,
    AddAgentResult,
    Agent,
    CallRecord,
    CallRecordsPage,
    ClickToCallResult,
    LiveCall,
    MissedAgent,
)


def client_from_settings(**overrides) -> SmartfloClient:
    """A client configured from Django settings (SMARTFLO_BASE_URL, _API_TOKEN, _TIMEOUT)."""
    from django.conf import settings

    options = {
        "base_url": settings.SMARTFLO_BASE_URL,
        "token": settings.SMARTFLO_API_TOKEN,
        "timeout": settings.SMARTFLO_TIMEOUT,
        "max_retries": settings.SMARTFLO_MAX_RETRIES,
        "backoff_base": settings.SMARTFLO_BACKOFF_SECONDS,
    }
    options.update(overrides)
    return SmartfloClient(**options)


__all__ = [
    "BARGE",
    "IST",
    "MONITOR",
    "TRANSFER",
    "WHISPER",
    "ActionResult",
    "AddAgentResult",
    "Agent",
    "Attempt",
    "CallRecord",
    "CallRecordsPage",
    "ClickToCallResult",
    "LiveCall",
    "MissedAgent",
    "SmartfloAuthError",
    "SmartfloClient",
    "SmartfloConnectionError",
    "SmartfloError",
    "SmartfloInvalidRequest",
    "SmartfloRateLimitedError",
    "SmartfloRejectedError",
    "SmartfloResponseError",
    "SmartfloServerError",
    "SmartfloTimeoutError",
    "SmartfloUnknownOutcomeError",
    "client_from_settings",
    "format_ist",
    "parse_ist",
]
