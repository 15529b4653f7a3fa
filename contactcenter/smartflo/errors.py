"""One error hierarchy for everything that can go wrong talking to Smartflo.

    SmartfloError
    ├── SmartfloInvalidRequest      bad input caught before any request was sent
    ├── SmartfloAuthError           401 / 403: the token is wrong, expired or lacks rights
    ├── SmartfloRejectedError       {"success": false} or another 4xx: Smartflo said no
    ├── SmartfloRateLimitedError    429 (retry_after in seconds when Smartflo says)
    ├── SmartfloServerError         5xx
    ├── SmartfloTimeoutError        no answer within the timeout
    ├── SmartfloConnectionError     could not connect / connection broken
    ├── SmartfloResponseError       a 2xx whose body is not what the documentation promises
    └── SmartfloUnknownOutcomeError a call-placing request that may or may not have reached
                                    Smartflo (timeout, reset, 5xx after sending): never retried

Every error carries the provider's `message` (when it sent one) and the HTTP `status` (when
there was a response). `transient` says whether trying again later may succeed.
"""

from __future__ import annotations


class SmartfloError(Exception):
    transient = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        operation: str = "",
        provider_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.operation = operation
        self.provider_message = provider_message

    def __str__(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{where}{self.message}{status}"


class SmartfloInvalidRequest(SmartfloError, ValueError):
    """Raised before any request: the input cannot be sent as it is."""

    def __init__(self, message: str, *, field: str | None = None, operation: str = "") -> None:
        super().__init__(message, operation=operation)
        self.field = field


class SmartfloAuthError(SmartfloError):
    pass


class SmartfloRejectedError(SmartfloError):
    pass


class SmartfloRateLimitedError(SmartfloError):
    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class SmartfloServerError(SmartfloError):
    transient = True


class SmartfloTimeoutError(SmartfloError):
    transient = True


class SmartfloConnectionError(SmartfloError):
    transient = True

    def __init__(self, message: str, *, never_sent: bool = False, **kwargs) -> None:
        super().__init__(message, **kwargs)
        #: True when the failure proves the request never left (connection refused).
        self.never_sent = never_sent


class SmartfloResponseError(SmartfloError):
    transient = True


class SmartfloUnknownOutcomeError(SmartfloError):
    """The request may have reached Smartflo and a phone may be ringing: check before retrying."""

    def __init__(self, message: str, *, cause: SmartfloError | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.cause = cause
