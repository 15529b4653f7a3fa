"""Typed results of the Smartflo client. Raw dicts never leave the client.

Parsing is lenient about representation (numbers as strings, `null` for empty, upper or lower
case) and strict about meaning: a record without a `call_id` is a protocol error, raised by the
client as SmartfloResponseError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contactcenter.smartflo.timefmt import combine_ist, parse_ist


def _str(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _int(value: Any) -> int:
    if value in (None, "", "null"):
        return 0
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def _opt_int(value: Any) -> int | None:
    if value in (None, "", "null"):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _str_list(value: Any) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, (list, tuple)):
        items = []
        for item in value:
            if isinstance(item, dict):
                item = item.get("name") or item.get("id") or ""
            if _str(item):
                items.append(_str(item))
        return tuple(items)
    return tuple(part.strip() for part in str(value).split(",") if part.strip())


def _lenient_time(value: Any) -> datetime | None:
    """A display-only timestamp: an unreadable one becomes None instead of failing the list."""
    try:
        return parse_ist(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class ActionResult:
    """The documented `{success, message}` answer of a POST."""

    success: bool
    message: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ActionResult:
        return cls(success=_bool(data.get("success", True)), message=_str(data.get("message")))


@dataclass(frozen=True)
class ClickToCallResult:
    success: bool
    message: str
    call_id: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ClickToCallResult:
        call_id = _str(data.get("call_id")) or None
        return cls(success=_bool(data.get("success", True)), message=_str(data.get("message")), call_id=call_id)


@dataclass(frozen=True)
class AddAgentResult:
    agent_id: str
    message: str

    def __str__(self) -> str:
        return self.agent_id


@dataclass(frozen=True)
class CallerId:
    id: str
    number: str


@dataclass(frozen=True)
class Agent:
    """One entry of `GET /agents`."""

    id: str
    name: str
    follow_me_number: str
    eid: str
    intercom: str
    calls_answered: int
    calls_missed: int
    blocked: bool
    is_verified: bool
    product_clicktocall: bool
    team_id: int | None
    team_name: str
    departments: tuple[str, ...]
    allowed_caller_ids: tuple[CallerId, ...]
    raw: dict[str, Any] = field(repr=False, compare=False, hash=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Agent:
        caller_ids = tuple(
            CallerId(id=_str(item.get("id")), number=_str(item.get("number")))
            for item in (data.get("allowed_caller_ids") or [])
            if isinstance(item, dict)
        )
        return cls(
            id=_str(data.get("id")),
            name=_str(data.get("name")),
            follow_me_number=_str(data.get("follow_me_number")),
            eid=_str(data.get("eid")),
            intercom=_str(data.get("intercom")),
            calls_answered=_int(data.get("calls_answered")),
            calls_missed=_int(data.get("calls_missed")),
            blocked=_int(data.get("custom_status")) == 1,
            is_verified=_bool(data.get("is_verified")),
            product_clicktocall=_bool(data.get("product_clicktocall")),
            team_id=_opt_int(data.get("team_id")),
            team_name=_str(data.get("team_name")),
            departments=_str_list(data.get("departments")),
            allowed_caller_ids=caller_ids,
            raw=data,
        )


@dataclass(frozen=True)
class MissedAgent:
    name: str
    number: str


@dataclass(frozen=True)
class CallRecord:
    """One call detail record from `GET /call/records`.

    `started_at` joins the record's `date` and `time`; it and `ended_at` are aware datetimes
    (the provider's IST strings converted at this boundary).
    """

    call_id: str
    id: int | None
    uuid: str
    direction: str
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    call_duration: int
    answered_seconds: int
    minutes_consumed: int
    client_number: str
    did_number: str
    agent_name: str
    agent_number: str
    agent_id: str
    hangup_cause: str
    recording_url: str
    dtmf_input: str
    broadcast_id: str
    services: tuple[str, ...]
    department: tuple[str, ...]
    destination: str
    notes: str
    contact_name: str
    contact_number: str
    missed_agents: tuple[MissedAgent, ...]
    custom_identifier: str
    raw: dict[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def answered(self) -> bool:
        return self.status == "answered"

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> CallRecord:
        status = data.get("status")
        if isinstance(status, dict):
            status = status.get("name") or status.get("status") or status.get("value")
        contact = data.get("contact_details") or data.get("contact details") or {}
        if not isinstance(contact, dict):
            contact = {"number": contact}
        missed = tuple(
            MissedAgent(name=_str(item.get("name")), number=_str(item.get("number")))
            for item in (data.get("missed_agents") or [])
            if isinstance(item, dict)
        )
        return cls(
            call_id=_str(data["call_id"]),
            id=_opt_int(data.get("id")),
            uuid=_str(data.get("uuid")),
            direction=_str(data.get("direction")).lower(),
            status=_str(status).lower(),
            started_at=combine_ist(data.get("date"), data.get("time")),
            ended_at=parse_ist(data.get("end_stamp")),
            call_duration=_int(data.get("call_duration")),
            answered_seconds=_int(data.get("answered_seconds")),
            minutes_consumed=_int(data.get("minutes_consumed")),
            client_number=_str(data.get("client_number")),
            did_number=_str(data.get("did_number")),
            agent_name=_str(data.get("agent_name")),
            agent_number=_str(data.get("agent_number")),
            agent_id=_str(data.get("agent_id")),
            hangup_cause=_str(data.get("hangup_cause")),
            recording_url=_str(data.get("recording_url")),
            dtmf_input=_str(data.get("dtmf_input")),
            broadcast_id=_str(data.get("broadcast_id")),
            services=_str_list(data.get("services")),
            department=_str_list(data.get("department")),
            destination=_str(data.get("destination")),
            notes=_str(data.get("notes")),
            contact_name=_str(contact.get("name")),
            contact_number=_str(contact.get("number")),
            missed_agents=missed,
            custom_identifier=_str(data.get("custom_identifier")),
            raw=data,
        )


@dataclass(frozen=True)
class CallRecordsPage:
    """The `{count, limit, size, page, results}` envelope of `GET /call/records`."""

    count: int
    limit: int
    size: int
    page: int
    results: tuple[CallRecord, ...]

    @property
    def last_page(self) -> int:
        if self.limit <= 0:
            return self.page
        return max(1, -(-self.count // self.limit))

    @property
    def has_next(self) -> bool:
        return self.size > 0 and self.page < self.last_page


@dataclass(frozen=True)
class LiveCall:
    """One entry of `GET /live_calls`."""

    call_id: str
    uuid: str
    state: str
    direction: str
    agent_name: str
    agent_number: str
    agent_id: str
    customer_number: str
    did: str
    created_at: datetime | None
    custom_identifier: str
    raw: dict[str, Any] = field(repr=False, compare=False, hash=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> LiveCall:
        return cls(
            call_id=_str(data.get("call_id")),
            uuid=_str(data.get("uuid")),
            state=_str(data.get("state") or data.get("call_status")).lower(),
            direction=_str(data.get("direction")).lower(),
            agent_name=_str(data.get("agent_name")),
            agent_number=_str(data.get("agent_number")),
            agent_id=_str(data.get("agent_id")),
            customer_number=_str(data.get("customer_number") or data.get("client_number")),
            did=_str(data.get("did") or data.get("did_number")),
            created_at=_lenient_time(data.get("created_at")),
            custom_identifier=_str(data.get("custom_identifier")),
            raw=data,
        )
