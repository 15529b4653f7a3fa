"""API Dialplan (number masking): an inbound call asks the enterprise's API where to go.

`inbound_call` posts the documented body to `dialplan_url` and reads the documented answer,
`[{"transfer": {"type": "number", "data": ["<10-digit>"]}}]`. Anything else (non-2xx, timeout,
refused connection, a body of another shape) makes Smartflo run the DID's failover destination,
and so does the sandbox. Either way the call is written as an inbound call record.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from sandbox import clock, phones
from sandbox.errors import BadRequest
from sandbox.records import AgentRef, build_record
from sandbox.state import SandboxState

SERVICE = "API Dialplan"


class Failover(Exception):
    """The dialplan answer was unusable; the message says why."""


def inbound_call(state: SandboxState, *, caller_id_number: object, call_to_number: object) -> dict[str, Any]:
    """Simulate a call from `caller_id_number` to the masking number `call_to_number`."""
    caller = phones.customer(caller_id_number)
    if caller is None:
        raise BadRequest("caller_id_number must be a phone number of 10 to 15 digits")
    called = phones.mobile(call_to_number)
    if called is None:
        raise BadRequest("call_to_number must be a 10-digit number")
    with state.lock:
        config = state.config
        started = clock.now()
        call_id, uuid = state.new_call_id(started), state.new_uuid()
    body = {
        "uuid": uuid,
        "call_id": call_id,
        "call_to_number": phones.dashed(called),
        "caller_id_number": phones.e164(caller),
        "start_stamp": clock.stamp(started),
    }
    outcome: dict[str, Any] = {"call_id": call_id, "uuid": uuid, "request": body}
    try:
        connected_to = _ask_dialplan(config.dialplan_url, config.dialplan_token, config.dialplan_timeout, body)
        outcome.update(outcome="connected", connected_to=connected_to)
    except Failover as exc:
        connected_to = None
        outcome.update(outcome="failover", reason=str(exc))
    with state.lock:
        state.records.add(_record(state, caller, called, connected_to, outcome, started))
        state.inbound_log.append(dict(outcome))
        state.changed.notify_all()
    return outcome


def _ask_dialplan(url: str | None, token: str | None, timeout: float, body: dict[str, str]) -> str:
    """The 10-digit number the dialplan API transfers to; Failover with the reason otherwise."""
    if not url:
        raise Failover("no dialplan_url configured")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.post(url, json=body, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        raise Failover(f"timeout after {timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise Failover(f"connection error: {type(exc).__name__}") from None
    if not 200 <= response.status_code < 300:
        raise Failover(f"http {response.status_code}")
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Failover("bad body: not JSON") from None
    return _transfer_number(data)


def _transfer_number(data: Any) -> str:
    try:
        transfer = data[0]["transfer"]
        kind, numbers = transfer["type"], transfer["data"]
    except (KeyError, IndexError, TypeError):
        raise Failover('bad body: expected [{"transfer": {"type": "number", "data": [...]}}]') from None
    if kind != "number":
        raise Failover(f"bad body: transfer type {kind!r} is not 'number'")
    if not isinstance(numbers, list) or not numbers:
        raise Failover("bad body: transfer data is not a non-empty list")
    number = phones.strict_ten_digits(numbers[0]) if isinstance(numbers[0], str) else None
    if number is None:
        raise Failover(f"bad body: {numbers[0]!r} is not a 10-digit number")
    return number


def _record(
    state: SandboxState,
    caller: str,
    called: str,
    connected_to: str | None,
    outcome: dict[str, Any],
    started: float,
) -> dict[str, Any]:
    config = state.config
    start = int(started)
    ring = clock.whole_seconds(config.ring_seconds)
    agent = state.agents.by_number(connected_to) if connected_to else None
    common: dict[str, Any] = {
        "call_id": outcome["call_id"],
        "uuid": outcome["uuid"],
        "start": start,
        "direction": "inbound",
        "services": SERVICE,
        "client_number": caller,
        "did_number": f"91{called}",
    }
    if connected_to is None:
        return build_record(
            **common,
            end=start + ring,
            status="missed",
            answered_seconds=0,
            destination="Failover",
            hangup_cause="NORMAL_CLEARING",
            notes=f"API Dialplan failed ({outcome['reason']}): failover destination used",
        )
    talk = clock.whole_seconds(config.talk_seconds)
    return build_record(
        **common,
        end=start + ring + talk,
        status="answered",
        answered_seconds=talk,
        destination=phones.e164(connected_to),
        hangup_cause="NORMAL_CLEARING",
        agent=AgentRef(agent.id, agent.name, agent.follow_me_number) if agent else AgentRef(None, "", connected_to),
    )
