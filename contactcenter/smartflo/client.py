"""The Smartflo API client: the only code in the project that talks HTTP to Smartflo.

Requests follow the provider documentation field by field (see shared/reference). Two rules
shape the transport:

* Reads and idempotent writes retry transient failures (timeouts, connection errors, 429, 5xx,
  garbled bodies) with exponential backoff, full jitter and `Retry-After`.
* A request that places a call (click to call, click-to-call support, transfer and the other
  call options, adding an agent) is sent at most once once it may have reached Smartflo: a
  timeout, a reset or a 5xx after sending raises SmartfloUnknownOutcomeError, because a phone
  may already be ringing. Only failures that prove nothing was sent (connection refused, connect
  timeout) are retried.
"""

from __future__ import annotations

import enum
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self
from urllib.parse import quote

import httpx

from contactcenter.phones import InvalidPhoneNumber, to_national
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
from contactcenter.smartflo.timefmt import format_ist
from contactcenter.smartflo.types import (
    ActionResult,
    AddAgentResult,
    Agent,
    CallRecord,
    CallRecordsPage,
    ClickToCallResult,
    LiveCall,
)

logger = logging.getLogger("contactcenter.smartflo")

USER_AGENT = "contactcenter-smartflo/1.0"
MONITOR, WHISPER, BARGE, TRANSFER = 1, 2, 3, 4
CALL_OPTION_NAMES = {MONITOR: "monitor", WHISPER: "whisper", BARGE: "barge", TRANSFER: "transfer"}
DURATION_OPERATORS = (">", "<", ">=", "<=", "!=")
RECORD_FILTERS = (
    "call_id",
    "agents",
    "department",
    "ivr",
    "call_type",
    "callerid",
    "destination",
    "direction",
    "duration",
    "operator",
    "services",
)
MAX_RECORDS_LIMIT = 1000


class Retry(enum.Enum):
    """How a request may be repeated after a failure."""

    SAFE = "safe"  # reads and idempotent writes: retry any transient failure
    ONCE = "once"  # places a call: retry only if the request certainly never left


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt, handed to `on_attempt` hooks (for audit rows and metrics)."""

    operation: str
    method: str
    path: str
    attempt: int
    status: int | None
    duration_ms: float
    error: SmartfloError | None


def _require(value: Any, field: str, operation: str) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise SmartfloInvalidRequest(f"{field} is required", field=field, operation=operation)
    return text


def _phone(value: Any, field: str, operation: str, *, ten_digit: bool = False) -> str:
    _require(value, field, operation)
    try:
        national = to_national(value)
    except InvalidPhoneNumber as exc:
        raise SmartfloInvalidRequest(f"{field}: {exc}", field=field, operation=operation) from None
    if ten_digit and len(national) != 10:
        raise SmartfloInvalidRequest(f"{field} must be a 10-digit Indian number", field=field, operation=operation)
    return national


def _positive_int(value: Any, field: str, operation: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0 or isinstance(value, bool):
        raise SmartfloInvalidRequest(f"{field} must be a positive whole number", field=field, operation=operation)
    return number


def _unwrap_list(data: Any) -> list | None:
    """The documented bare JSON array, or the same list inside a `data`/`results` envelope."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in ("data", "results"):
            if isinstance(data.get(key), list):
                return data[key]
    return None


def _intercom(value: Any, operation: str) -> str:
    text = _require(value, "intercom", operation)
    if not re.fullmatch(r"[1-9]\d{3}", text):
        raise SmartfloInvalidRequest(
            "intercom must be a 4-digit number not starting with 0", field="intercom", operation=operation
        )
    return text


class SmartfloClient:
    """A client for the Smartflo (Tata Tele Business) REST API.

    `token` is sent verbatim as the `Authorization` header: pass `"Bearer <jwt>"` for Smartflo
    or the bare key for the CPaaS gateway. `transport` is for tests (`httpx.MockTransport`);
    `sleep` and `random` are injectable so retry tests never wait.
    """

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        random_fn: Callable[[], float] = random.random,
        on_attempt: Callable[[Attempt], None] | None = None,
    ) -> None:
        if not base_url:
            raise SmartfloInvalidRequest("base_url is required", field="base_url")
        if not token:
            raise SmartfloInvalidRequest("token is required", field="token")
        if timeout <= 0:
            raise SmartfloInvalidRequest("timeout must be positive", field="timeout")
        self.base_url = base_url.rstrip("/")
        self.max_retries = max(0, max_retries)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep = sleep
        self._random = random_fn
        self._on_attempt = on_attempt
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers={
                "Authorization": token,
                "accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=httpx.Timeout(timeout, connect=min(connect_timeout, timeout)),
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:  # never show the token
        return f"SmartfloClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- Operations ------------------------------------------------------------------------

    def click_to_call(
        self,
        *,
        agent_number: str,
        destination_number: str,
        caller_id: str | int | None = None,
        call_timeout: int | None = None,
        custom_identifier: str | None = None,
        get_call_id: bool = True,
    ) -> ClickToCallResult:
        """`POST /click_to_call`: ring the agent, then the customer. Always asynchronous."""
        op = "click_to_call"
        body: dict[str, Any] = {
            "agent_number": _require(agent_number, "agent_number", op),
            "destination_number": _phone(destination_number, "destination_number", op),
            "async": 1,
        }
        if get_call_id:
            body["get_call_id"] = 1
        if caller_id not in (None, ""):
            body["caller_id"] = int(_phone(caller_id, "caller_id", op))
        if call_timeout is not None:
            body["call_timeout"] = _positive_int(call_timeout, "call_timeout", op)
        if custom_identifier not in (None, ""):
            body["custom_identifier"] = str(custom_identifier)
        data = self._request("POST", "click_to_call", op, json=body, retry=Retry.ONCE)
        return ClickToCallResult.from_api(self._placed(data, op))

    def broadcast_lead(self, *, lead_id: str | int, phone: str, otp: str) -> ActionResult:
        """`POST /broadcast/lead/<lead_id>`: add (or overwrite) the lead that the OTP call speaks."""
        op = "broadcast_lead"
        lead = _require(lead_id, "lead_id", op)
        code = _require(otp, "otp", op)
        if not re.fullmatch(r"\d{4,8}", code):
            raise SmartfloInvalidRequest("otp must be 4 to 8 digits", field="otp", operation=op)
        body = {
            "field_0": _phone(phone, "phone", op, ten_digit=True),
            "field_5": code,
            "duplicate_option": "overwrite",
        }
        # Overwriting the same lead twice is harmless, so this write may be retried.
        data = self._request("POST", f"broadcast/lead/{quote(lead, safe='')}", op, json=body, retry=Retry.SAFE)
        return ActionResult.from_api(self._expect_dict(data, op))

    def support_call(self, *, customer_number: str, api_key: str) -> ActionResult:
        """`POST /c2c_api`: the click-to-call-support call that announces the lead's message."""
        op = "support_call"
        body = {
            "customer_number": _phone(customer_number, "customer_number", op, ten_digit=True),
            "api_key": _require(api_key, "api_key", op),
        }
        data = self._request("POST", "c2c_api", op, json=body, retry=Retry.ONCE)
        return ActionResult.from_api(self._placed(data, op))

    def call_records(
        self,
        *,
        from_date: datetime | str,
        to_date: datetime | str,
        page: int = 1,
        limit: int = 100,
        **filters: Any,
    ) -> CallRecordsPage:
        """`GET /call/records`: one page of call detail records between two instants."""
        op = "call_records"
        params = self._record_params(op, from_date=from_date, to_date=to_date, page=page, limit=limit, filters=filters)
        data = self._request("GET", "call/records", op, params=params, retry=Retry.SAFE)
        data = self._expect_dict(data, op)
        results = data.get("results")
        if not isinstance(results, list):
            raise SmartfloResponseError("call records answer has no 'results' list", operation=op)
        try:
            records = tuple(CallRecord.from_api(item) for item in results)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SmartfloResponseError(f"unreadable call record: {exc!r}", operation=op) from exc
        return CallRecordsPage(
            count=int(data.get("count") or 0),
            limit=int(data.get("limit") or params["limit"]),
            size=int(data.get("size") if data.get("size") is not None else len(records)),
            page=int(data.get("page") or params["page"]),
            results=records,
        )

    def iter_call_record_pages(
        self, *, from_date: datetime | str, to_date: datetime | str, limit: int = 100, **filters: Any
    ) -> Iterator[CallRecordsPage]:
        """Every page of the window, in order. Stops on an empty page or past the last page."""
        page_number = 1
        last_page = None
        while True:
            page = self.call_records(from_date=from_date, to_date=to_date, page=page_number, limit=limit, **filters)
            if last_page is None:
                last_page = page.last_page
            yield page
            if page.size == 0 or not page.results or page_number >= last_page:
                return
            page_number += 1

    def iter_call_records(
        self, *, from_date: datetime | str, to_date: datetime | str, limit: int = 100, **filters: Any
    ) -> Iterator[CallRecord]:
        """Every record of the window across all pages (a record repeated by the provider on two
        pages is yielded once)."""
        seen: set[str] = set()
        for page in self.iter_call_record_pages(from_date=from_date, to_date=to_date, limit=limit, **filters):
            for record in page.results:
                if record.call_id not in seen:
                    seen.add(record.call_id)
                    yield record

    def hangup(self, *, call_id: str) -> ActionResult:
        """`POST /call/hangup`. Hanging up twice is harmless, so it may be retried."""
        op = "hangup"
        body = {"call_id": _require(call_id, "call_id", op)}
        data = self._request("POST", "call/hangup", op, json=body, retry=Retry.SAFE)
        return ActionResult.from_api(self._expect_dict(data, op))

    def add_agent(self, *, name: str, follow_me_number: str | int, intercom: str | int | None = None) -> AddAgentResult:
        """`POST /agent`: create an agent; returns Smartflo's `agent_id`."""
        op = "add_agent"
        body: dict[str, Any] = {
            "name": _require(name, "name", op),
            "follow_me_number": int(_phone(follow_me_number, "follow_me_number", op, ten_digit=True)),
        }
        if intercom not in (None, ""):
            body["intercom"] = int(_intercom(intercom, op))
        # Not idempotent: a retry after a lost answer could create the agent twice.
        data = self._placed(self._request("POST", "agent", op, json=body, retry=Retry.ONCE), op)
        agent_id = data.get("agent_id")
        if agent_id in (None, ""):
            raise SmartfloUnknownOutcomeError(
                "Smartflo accepted the agent but returned no agent_id", operation=op, status=200
            )
        return AddAgentResult(agent_id=str(agent_id), message=str(data.get("message") or ""))

    def list_agents(self) -> list[Agent]:
        """`GET /agents`."""
        op = "list_agents"
        data = self._request("GET", "agents", op, retry=Retry.SAFE)
        items = _unwrap_list(data)
        if items is None:
            raise SmartfloResponseError("agents answer is not a list", operation=op)
        try:
            return [Agent.from_api(item) for item in items]
        except (TypeError, AttributeError) as exc:
            raise SmartfloResponseError(f"unreadable agent: {exc!r}", operation=op) from exc

    def transfer(self, *, call_id: str, intercom: str | int, agent_id: str | int | None = None) -> ActionResult:
        """`POST /call/options` type 4: move a live call to an intercom, extension or mobile."""
        return self.call_option(call_id=call_id, option=TRANSFER, intercom=intercom, agent_id=agent_id)

    def monitor(self, *, call_id: str, agent_id: str | int) -> ActionResult:
        """Type 1: listen to a live call without being heard."""
        return self.call_option(call_id=call_id, option=MONITOR, agent_id=agent_id)

    def whisper(self, *, call_id: str, agent_id: str | int) -> ActionResult:
        """Type 2: speak to the agent only."""
        return self.call_option(call_id=call_id, option=WHISPER, agent_id=agent_id)

    def barge(self, *, call_id: str, agent_id: str | int) -> ActionResult:
        """Type 3: join the call, heard by both parties."""
        return self.call_option(call_id=call_id, option=BARGE, agent_id=agent_id)

    def call_option(
        self,
        *,
        call_id: str,
        option: int,
        agent_id: str | int | None = None,
        intercom: str | int | None = None,
    ) -> ActionResult:
        """`POST /call/options` with `type` 1 monitor, 2 whisper, 3 barge or 4 transfer."""
        op = CALL_OPTION_NAMES.get(option, "call_option")
        if option not in CALL_OPTION_NAMES:
            raise SmartfloInvalidRequest("type must be 1, 2, 3 or 4", field="type", operation=op)
        body: dict[str, Any] = {"type": option, "call_id": _require(call_id, "call_id", op)}
        if option == TRANSFER:
            target = _require(intercom, "intercom", op)
            digits = re.sub(r"[\s\-]", "", target)
            if not digits.lstrip("+").isdigit():
                raise SmartfloInvalidRequest("intercom must be digits", field="intercom", operation=op)
            # A mobile number goes out in its 10-digit form; an extension or intercom as is.
            body["intercom"] = _phone(target, "intercom", op) if len(digits.lstrip("+")) >= 10 else digits
            if agent_id not in (None, ""):
                body["agent_id"] = str(agent_id)
        else:
            body["agent_id"] = _require(agent_id, "agent_id", op)
        data = self._request("POST", "call/options", op, json=body, retry=Retry.ONCE)
        return ActionResult.from_api(self._placed(data, op))

    def live_calls(self, **filters: Any) -> list[LiveCall]:
        """`GET /live_calls`: the calls in progress now."""
        op = "live_calls"
        params = {key: str(value) for key, value in filters.items() if value not in (None, "")}
        data = self._request("GET", "live_calls", op, params=params or None, retry=Retry.SAFE)
        items = _unwrap_list(data)
        if items is None:
            raise SmartfloResponseError("live calls answer is not a list", operation=op)
        try:
            return [LiveCall.from_api(item) for item in items if isinstance(item, dict)]
        except (TypeError, ValueError, AttributeError) as exc:
            raise SmartfloResponseError(f"unreadable live call: {exc!r}", operation=op) from exc

    # --- Transport -------------------------------------------------------------------------

    def _record_params(
        self,
        op: str,
        *,
        from_date: datetime | str,
        to_date: datetime | str,
        page: int,
        limit: int,
        filters: dict[str, Any],
    ) -> dict[str, Any]:
        unknown = sorted(set(filters) - set(RECORD_FILTERS))
        if unknown:
            raise SmartfloInvalidRequest(f"unknown call record filter(s): {', '.join(unknown)}", operation=op)
        try:
            params: dict[str, Any] = {"from_date": format_ist(from_date), "to_date": format_ist(to_date)}
        except (TypeError, ValueError) as exc:
            raise SmartfloInvalidRequest(f"from_date/to_date: {exc}", field="from_date", operation=op) from None
        if params["from_date"] > params["to_date"]:
            raise SmartfloInvalidRequest("from_date is after to_date", field="from_date", operation=op)
        params["page"] = _positive_int(page, "page", op)
        params["limit"] = min(_positive_int(limit, "limit", op), MAX_RECORDS_LIMIT)
        for key in RECORD_FILTERS:
            value = filters.get(key)
            if value in (None, "", [], ()):
                continue
            if key in ("department", "ivr") and isinstance(value, (list, tuple)):
                params[key] = [str(item) for item in value]
            elif key == "call_type":
                value = {"answered": "c", "missed": "m"}.get(str(value).lower(), str(value).lower())
                if value not in ("c", "m"):
                    raise SmartfloInvalidRequest(
                        "call_type must be 'c' (answered) or 'm' (missed)", field=key, operation=op
                    )
                params[key] = value
            elif key == "operator":
                if value not in DURATION_OPERATORS:
                    raise SmartfloInvalidRequest(
                        f"operator must be one of {' '.join(DURATION_OPERATORS)}", field=key, operation=op
                    )
                params[key] = value
            elif key == "duration":
                if not str(value).isdigit():
                    raise SmartfloInvalidRequest("duration must be a whole number of seconds", field=key, operation=op)
                params[key] = str(int(value))
            elif key == "direction":
                direction = str(value).strip().capitalize()  # the documented values: Inbound, Outbound
                if direction not in ("Inbound", "Outbound"):
                    raise SmartfloInvalidRequest("direction must be Inbound or Outbound", field=key, operation=op)
                params[key] = direction
            else:
                params[key] = str(value)
        return params

    @staticmethod
    def _expect_dict(data: Any, op: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise SmartfloResponseError("expected a JSON object", operation=op)
        return data

    @staticmethod
    def _placed(data: Any, op: str) -> dict[str, Any]:
        """The body of a 2xx answer to a call-placing request: Smartflo accepted it, so a body we
        cannot read means the outcome is unknown, not that nothing happened."""
        if not isinstance(data, dict):
            raise SmartfloUnknownOutcomeError(
                "Smartflo accepted the request but its answer is unreadable; check before trying again",
                operation=op,
                status=200,
            )
        return data

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.backoff_max)
        ceiling = min(self.backoff_max, self.backoff_base * (2**attempt))
        return ceiling * self._random()  # full jitter

    def _request(
        self,
        method: str,
        path: str,
        op: str,
        *,
        retry: Retry,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> Any:
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            status: int | None = None
            try:
                response = self._send(method, path, op, params=params, json=json)
                status = response.status_code
                data = self._interpret(response, op)
            except SmartfloError as exc:
                elapsed = (time.monotonic() - started) * 1000
                self._record(op, method, path, attempt, status, elapsed, exc)
                decision = self._after_failure(exc, retry, op, attempt)
                if decision is None:
                    raise
                if isinstance(decision, SmartfloUnknownOutcomeError):
                    raise decision from exc
                logger.warning(
                    "smartflo %s failed (%s), retry %d/%d in %.2fs",
                    op,
                    exc.__class__.__name__,
                    attempt,
                    self.max_retries,
                    decision,
                )
                self._sleep(decision)
                continue
            elapsed = (time.monotonic() - started) * 1000
            self._record(op, method, path, attempt, status, elapsed, None)
            return data

    def _after_failure(
        self, exc: SmartfloError, retry: Retry, op: str, attempt: int
    ) -> float | SmartfloUnknownOutcomeError | None:
        """What to do after a failed attempt: seconds to wait, an unknown-outcome error to
        raise instead, or None to raise the error as it is."""
        if not exc.transient:
            return None
        never_sent = isinstance(exc, SmartfloConnectionError) and exc.never_sent
        if retry is Retry.ONCE and not never_sent and not isinstance(exc, SmartfloRateLimitedError):
            return SmartfloUnknownOutcomeError(
                f"the request may have reached Smartflo ({exc.message}); check before trying again",
                cause=exc,
                status=exc.status,
                operation=op,
                provider_message=exc.provider_message,
            )
        if retry is Retry.ONCE and isinstance(exc, SmartfloRateLimitedError):
            return None  # refused, nothing placed: the caller decides when to try again
        if attempt > self.max_retries:
            return None
        return self._backoff(attempt - 1, getattr(exc, "retry_after", None))

    def _send(
        self, method: str, path: str, op: str, *, params: dict[str, Any] | None, json: dict[str, Any] | None
    ) -> httpx.Response:
        try:
            return self._http.request(method, path, params=params, json=json)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing left this process: safe to retry even a call-placing request.
            raise SmartfloConnectionError(
                f"could not connect to Smartflo: {exc.__class__.__name__}", operation=op, never_sent=True
            ) from None
        except httpx.TimeoutException as exc:
            raise SmartfloTimeoutError(
                f"no answer from Smartflo within the timeout ({exc.__class__.__name__})", operation=op
            ) from None
        except httpx.TransportError as exc:
            raise SmartfloConnectionError(
                f"connection to Smartflo failed: {exc.__class__.__name__}", operation=op
            ) from None

    @staticmethod
    def _interpret(response: httpx.Response, op: str) -> Any:
        status = response.status_code
        try:
            data = response.json()
        except ValueError:
            data = None
        provider_message = str(data.get("message") or "") if isinstance(data, dict) else None
        message = provider_message or (response.reason_phrase or "error")
        if status in (401, 403):
            raise SmartfloAuthError(
                message or "Smartflo refused the token", status=status, operation=op, provider_message=provider_message
            )
        if status == 429:
            retry_after = None
            header = response.headers.get("Retry-After")
            if header:
                try:
                    retry_after = float(header)
                except ValueError:
                    retry_after = None
            raise SmartfloRateLimitedError(
                message or "rate limited",
                status=status,
                operation=op,
                provider_message=provider_message,
                retry_after=retry_after,
            )
        if status >= 500:
            raise SmartfloServerError(
                message or "Smartflo server error", status=status, operation=op, provider_message=provider_message
            )
        if status >= 400 or (isinstance(data, dict) and data.get("success") in (False, "false", 0, "0")):
            raise SmartfloRejectedError(
                message or "Smartflo rejected the request",
                status=status,
                operation=op,
                provider_message=provider_message,
            )
        if data is None and status != 204:
            raise SmartfloResponseError("Smartflo answered with a body that is not JSON", status=status, operation=op)
        return data

    def _record(
        self,
        op: str,
        method: str,
        path: str,
        attempt: int,
        status: int | None,
        elapsed_ms: float,
        error: SmartfloError | None,
    ) -> None:
        outcome = error.__class__.__name__ if error else "ok"
        logger.info(
            "smartflo %s %s /%s -> %s %s in %.0f ms (attempt %d)",
            op,
            method,
            path,
            status if status is not None else "-",
            outcome,
            elapsed_ms,
            attempt,
        )
        if self._on_attempt is not None:
            try:
                self._on_attempt(Attempt(op, method, "/" + path, attempt, status, round(elapsed_ms, 1), error))
            except Exception:  # an audit hook must never break a call
                logger.exception("smartflo on_attempt hook failed")


__all__ = ["Attempt", "Retry", "SmartfloClient"]
