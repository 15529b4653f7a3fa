"""The errors OTP services raise. Clients branch on `code`; messages never contain a code."""

from __future__ import annotations

import math
from typing import Any

from contactcenter.core.exceptions import ApplicationError


class OtpThrottled(ApplicationError):
    """Too many sends: 429, with the wait in `retry_after` (also sent as `Retry-After`)."""

    status_code = 429
    code = "throttled"

    def __init__(self, message: str, *, retry_after: float, scope: str) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(message, extra={"retry_after": self.retry_after, "scope": scope})


class OtpNotConfigured(ApplicationError):
    """OTP_LEAD_ID and OTP_C2C_API_KEY are not set (OTP is off): 503, nothing is sent."""

    status_code = 503
    code = "otp_not_configured"

    def __init__(self) -> None:
        super().__init__("Voice OTP is not configured on this server (OTP_LEAD_ID, OTP_C2C_API_KEY).")


class OtpVerificationFailed(ApplicationError):
    """The code was not accepted: 400 with one of the codes below."""

    status_code = 400

    NOT_FOUND = "otp_not_found"
    INVALID = "otp_invalid"
    LOCKED = "otp_locked"
    EXPIRED = "otp_expired"
    SUPERSEDED = "otp_superseded"
    ALREADY_USED = "otp_already_used"
    NOT_DELIVERED = "otp_not_delivered"

    MESSAGES = {
        NOT_FOUND: "No code was sent to this number by this client: request one first.",
        INVALID: "The code is not correct.",
        LOCKED: "Too many wrong codes were entered: this code is locked. Request a new one.",
        EXPIRED: "The code has expired. Request a new one.",
        SUPERSEDED: "A newer code was sent to this number: only the latest code counts.",
        ALREADY_USED: "This code has already been used.",
        NOT_DELIVERED: "The call carrying this code could not be placed. Request a new one.",
    }

    def __init__(self, code: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(self.MESSAGES[code], code=code, extra=extra)
