"""The API Dialplan wire format: who may ask, what Smartflo sends, and what it wants back.

Smartflo sends `{uuid, call_id, call_to_number, caller_id_number, start_stamp}` (a JSON body;
we also take a form body or GET query) and transfers the call to
`[{"transfer": {"type": "number", "data": ["<10 digits>"]}}]`; any other answer makes it run the
DID's failover destination.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError

from contactcenter.core.tokens import authenticate_shared_secret
from contactcenter.phones import InvalidPhoneNumber, to_e164
from masking.selectors import Resolution

logger = logging.getLogger(__name__)

#: What a telephone network may put in place of a caller id it will not reveal.
WITHHELD_CALLER_IDS = frozenset(
    {"", "anonymous", "private", "unknown", "withheld", "restricted", "unavailable", "null", "none"}
)
MAX_NUMBER_TEXT = 64
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class BadDialplanRequest(Exception):
    """The request is not an API Dialplan request (400); `fields` names what is wrong."""

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


@dataclass(frozen=True)
class DialplanCall:
    """A parsed request: numbers in E.164 (`caller` None when the caller id is withheld)."""

    masking_number: str
    caller: str | None
    caller_raw: str
    call_id: str = ""
    uuid: str = ""


# --- Authentication --------------------------------------------------------------------------


def presented_tokens(meta: Mapping[str, Any], query_token: str = "") -> list[str]:
    """The credentials a request offers: `Authorization: Bearer`, `X-API-Key`, `?token=`.

    `meta` is a WSGI environ (or request.META); `query_token` the query string's `token`.
    """
    tokens = []
    scheme, _, credentials = str(meta.get("HTTP_AUTHORIZATION", "")).strip().partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        tokens.append(credentials.strip())
    api_key = str(meta.get("HTTP_X_API_KEY", "")).strip()
    if api_key:
        tokens.append(api_key)
    if query_token:
        tokens.append(query_token)
    return tokens


_warned_unconfigured = False


def tokens_authorised(tokens: list[str]) -> bool:
    """True when one of `tokens` is MASKING_API_TOKEN, or, during a rotation,
    MASKING_API_TOKEN_PREVIOUS (which logs a warning once per process).

    Constant-time comparisons; with no token configured every request is refused.
    """
    global _warned_unconfigured
    expected = str(getattr(settings, "MASKING_API_TOKEN", "") or "")
    if not expected:
        if not _warned_unconfigured:
            logger.warning("MASKING_API_TOKEN is not set: the masking resolve endpoint refuses every request")
            _warned_unconfigured = True
        return False
    return authenticate_shared_secret(
        tokens,
        setting="MASKING_API_TOKEN",
        current=expected,
        previous=str(getattr(settings, "MASKING_API_TOKEN_PREVIOUS", "") or ""),
    )


def is_authorised(request: HttpRequest) -> bool:
    """True when the request carries the masking token (Bearer, X-API-Key or ?token=)."""
    # request.GET builds a QueryDict: only when there is a query string (Smartflo sends none).
    query_token = request.GET.get("token", "") if request.META.get("QUERY_STRING") else ""
    return tokens_authorised(presented_tokens(request.META, query_token))


# --- Parsing ---------------------------------------------------------------------------------


def read_variables(request: HttpRequest) -> Mapping[str, Any]:
    """The five variables as sent: a JSON object or form body, or the query string."""
    if request.method == "GET":
        return request.GET
    try:
        body = request.body
        if not body.strip():
            return request.GET
        if request.content_type in _FORM_TYPES:
            return request.POST
    except RequestDataTooBig:
        raise BadDialplanRequest("The body is too large.") from None
    except (SuspiciousOperation, MultiPartParserError):
        raise BadDialplanRequest("The body is not a JSON object (nor a form).") from None
    return json_variables(body)


def json_variables(body: bytes) -> dict[str, Any]:
    """A JSON body (UTF-8, -16 or -32, as json.loads detects) that must be an object."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        # ValueError covers bad JSON and undecodable bytes (UnicodeDecodeError).
        raise BadDialplanRequest("The body is not a JSON object (nor a form).") from None
    if not isinstance(data, dict):
        raise BadDialplanRequest("The body must be a JSON object holding the API Dialplan variables.")
    return data


def scalar_text(value: Any, limit: int = 64) -> str:
    """A variable as text for the log: strings and numbers only, clipped."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value)[:limit]


def _number_text(data: Mapping[str, Any], name: str) -> str | None:
    """The variable as text; None when absent or null. Refuses other types."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise BadDialplanRequest(f"{name} must be a string.", {name: ["Must be a phone number as a string."]})
    if len(value) > MAX_NUMBER_TEXT:
        raise BadDialplanRequest(f"{name} is too long.", {name: ["Too long for a phone number."]})
    return value


_SEPARATORS = re.compile(r"[\s\-().]")
_INDIAN_E164 = re.compile(r"\+91[1-9][0-9]{9}")


def fast_e164(raw: str) -> str:
    """`to_e164(strict=False)` (a caller id is what the network sent), minus the `phonenumbers`
    parse for the forms Smartflo sends (`+91-XXXXXXXXXX`, `+91XXXXXXXXXX`), which are E.164 once
    the separators are gone. Same result, same errors."""
    text = _SEPARATORS.sub("", raw.strip())
    if _INDIAN_E164.fullmatch(text):
        return text
    return to_e164(raw, strict=False)


def interpret(data: Mapping[str, Any]) -> DialplanCall:
    """Validate the variables: `call_to_number` must be a phone number; `caller_id_number` must
    be present and be a phone number or a withheld-caller marker (which matches no rule)."""
    dialled = _number_text(data, "call_to_number")
    if dialled is None or not dialled.strip():
        raise BadDialplanRequest("call_to_number is required.", {"call_to_number": ["This variable is required."]})
    try:
        masking_number = fast_e164(dialled)
    except InvalidPhoneNumber as exc:
        raise BadDialplanRequest(f"call_to_number: {exc}", {"call_to_number": [str(exc)]}) from None

    if "caller_id_number" not in data:
        raise BadDialplanRequest("caller_id_number is required.", {"caller_id_number": ["This variable is required."]})
    raw_caller = _number_text(data, "caller_id_number")
    caller: str | None = None
    if raw_caller is not None and raw_caller.strip().lower() not in WITHHELD_CALLER_IDS:
        try:
            caller = fast_e164(raw_caller)
        except InvalidPhoneNumber as exc:
            raise BadDialplanRequest(f"caller_id_number: {exc}", {"caller_id_number": [str(exc)]}) from None
    return DialplanCall(
        masking_number=masking_number,
        caller=caller,
        caller_raw=scalar_text(raw_caller, 32),
        call_id=scalar_text(data.get("call_id")),
        uuid=scalar_text(data.get("uuid")),
    )


# --- Answers ---------------------------------------------------------------------------------


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> DialplanResponse:
    response = DialplanResponse(body, status=status, safe=False, headers=headers)
    response["Cache-Control"] = "no-store"
    return response


def error_answer(
    status: int,
    code: str,
    message: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> DialplanResponse:
    return _json(status, {"code": code, "message": message, "extra": extra or {}}, headers)


class DialplanResponse(JsonResponse):
    """A JSON answer that runs `after_close` when the server has sent it.

    `close()` is what WSGI servers call once the response is written, so work hung there (the
    resolution log row) costs Smartflo no waiting. It must not raise.
    """

    after_close: Callable[[], object] | None = None

    def close(self) -> None:
        try:
            if self.after_close is not None:
                self.after_close()
        finally:
            super().close()


def transfer_answer(resolution: Resolution) -> DialplanResponse:
    """The transfer Smartflo wants, or 404 (Smartflo then runs the DID's failover destination)."""
    number = resolution.answer
    if number is None:
        return error_answer(
            404,
            "no_route",
            "No masking rule routes this call; Smartflo will use the failover destination.",
            {"outcome": resolution.outcome},
        )
    return _json(200, [{"transfer": {"type": "number", "data": [number]}}])


def unauthorised_answer() -> DialplanResponse:
    return error_answer(
        401,
        "not_authenticated",
        "Present the masking API token (Authorization: Bearer, X-API-Key or ?token=).",
        headers={"WWW-Authenticate": 'Bearer realm="masking"'},
    )
