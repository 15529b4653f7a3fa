"""One application error type and one DRF exception handler.

Every API error leaves as `{"code": "<stable code>", "message": "<human text>", "extra": {...}}`.
Tests and clients branch on `code`, never on the wording of `message`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from contactcenter.smartflo import SmartfloError


class ApplicationError(Exception):
    """A failure the caller can understand and act on.

    `status_code` is the HTTP status an API answers with; `code` is stable and machine-readable.
    """

    status_code = status.HTTP_400_BAD_REQUEST
    code = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        """The API's error shape: `{"code", "message", "extra"}`."""
        return {"code": self.code, "message": self.message, "extra": self.extra}


#: Errors that say the database could not be reached or dropped the connection (a restart, a
#: failover, a network cut; on PostgreSQL also a deadlock or a cancelled statement): the request
#: may well work again in a moment, so they answer 503 `database_unavailable`, not 500. They are
#: still logged with their traceback (SQLite also raises OperationalError for a missing table).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
DATABASE_RETRY_AFTER_SECONDS = 5


def database_unavailable() -> ApplicationError:
    return ApplicationError(
        "The database is temporarily unavailable. Try again in a few seconds.",
        code="database_unavailable",
        status_code=503,
        extra={"retry_after": DATABASE_RETRY_AFTER_SECONDS},
    )


def unknown_outcome_reason(exc) -> str:
    """What went wrong after a request that may have reached Smartflo (a SmartfloUnknownOutcomeError),
    as a clause: "Smartflo did not answer in time", "... answered with a server error (HTTP 503)"."""
    from contactcenter.smartflo import SmartfloTimeoutError

    if isinstance(exc.cause, SmartfloTimeoutError):
        return "Smartflo did not answer in time"
    if exc.status and exc.status >= 500:
        return f"Smartflo answered with a server error (HTTP {exc.status})"
    if exc.status:
        return "Smartflo's answer could not be read"
    return "the connection to Smartflo broke before its answer"


def provider_error(exc: SmartfloError) -> ApplicationError:
    """The API-facing form of a Smartflo failure: 502 with Smartflo's own message when it refused,
    504 when the outcome is unknown, 502/503 for the rest."""
    from contactcenter.smartflo import (
        SmartfloAuthError,
        SmartfloInvalidRequest,
        SmartfloRejectedError,
        SmartfloUnknownOutcomeError,
    )

    if isinstance(exc, SmartfloUnknownOutcomeError):
        return ApplicationError(
            f"{unknown_outcome_reason(exc)}, so the outcome is unknown: check Smartflo before trying again.",
            code="provider_unknown_outcome",
            status_code=504,
        )
    if isinstance(exc, SmartfloRejectedError):
        return ApplicationError(
            f"Smartflo refused: {exc.provider_message or exc.message}",
            code="provider_rejected",
            status_code=502,
            extra={"provider_message": exc.provider_message or exc.message},
        )
    if isinstance(exc, SmartfloAuthError):
        return ApplicationError(
            "Smartflo refused our credentials: an administrator must check SMARTFLO_API_TOKEN.",
            code="provider_auth_failed",
            status_code=502,
        )
    if isinstance(exc, SmartfloInvalidRequest):
        return ApplicationError(
            exc.message, code="invalid", extra={"fields": {exc.field or "non_field_errors": [exc.message]}}
        )
    return ApplicationError(
        f"Smartflo is unavailable ({exc.message}). Try again shortly.",
        code="provider_unavailable",
        status_code=503 if exc.transient else 502,
    )


_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "parse_error",
    exceptions.ValidationError: "invalid",
}


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            text = _first_message(value)
            return text if key in ("detail", "non_field_errors") else f"{key}: {text}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def request_limit_error(exc: Exception) -> tuple[int, dict[str, Any]]:
    """`(status, body)` for a request over one of Django's upload limits (a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE, more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS): bad input,
    never a 500."""
    if isinstance(exc, RequestDataTooBig):
        limit = {"max_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
        return 413, {"code": "too_large", "message": "The request is too large.", "extra": limit}
    if isinstance(exc, TooManyFilesSent):
        limit = {"max_files": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
        return 400, {"code": "too_many_files", "message": "The request has too many files.", "extra": limit}
    limit = {"max_fields": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}
    return 400, {"code": "too_many_fields", "message": "The request has too many fields.", "extra": limit}


REQUEST_LIMITS = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every error as {"code", "message", "extra"}."""
    if isinstance(exc, DATABASE_UNAVAILABLE):
        request = context.get("request")
        logger.error("database unavailable on %s", getattr(request, "path", "?"), exc_info=exc)
        error = database_unavailable()
        response = Response(error.body(), status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, ApplicationError):
        return Response(exc.body(), status=exc.status_code)
    if isinstance(exc, REQUEST_LIMITS):  # Django's upload limits: a 413 or a 400
        status_code, body = request_limit_error(exc)
        return Response(body, status=status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        # A bug, not bad input: log it with its traceback, answer in the API's shape.
        request = context.get("request")
        logger.exception("unhandled API error on %s", getattr(request, "path", "?"))
        return Response(
            {"code": "internal_error", "message": "Something went wrong on our side; it has been logged.", "extra": {}},
            status=500,
        )

    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        extra["fields"] = detail
        message = _first_message(detail)
    else:
        message = _first_message(getattr(exc, "detail", str(exc)))
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        extra["retry_after"] = int(exc.wait)
    response.data = {"code": code, "message": message, "extra": extra}
    return response
