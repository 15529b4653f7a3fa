"""Voice broadcast: leads (`POST /broadcast/lead/<id>`) and the click-to-call-support call
(`POST /c2c_api`) that announces a lead's fields, e.g. an OTP in `field_5`.

The sandbox does not ring anyone: it records an *announcement* (what would have been spoken,
readable at `GET /_control/announcements`) and writes the call record at once.
"""

from __future__ import annotations

import zlib
from typing import Any

from sandbox import clock, phones
from sandbox.errors import BadRequest
from sandbox.records import build_record
from sandbox.state import SandboxState

RING_SECONDS = 4
ANNOUNCEMENT_SECONDS = 12


def lead_put(state: SandboxState, *, lead_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Store the lead `field_0` in list `lead_id`; an existing one only with `duplicate_option: overwrite`."""
    phone = phones.strict_ten_digits(body.get("field_0"))
    if phone is None:
        raise BadRequest("field_0 must be a 10-digit number")
    if not lead_id:
        raise BadRequest("lead_id is required")
    fields = {key: value for key, value in body.items() if key.startswith("field_")}
    with state.lock:
        if (lead_id, phone) in state.leads and body.get("duplicate_option") != "overwrite":
            raise BadRequest("Lead already exists: send duplicate_option: overwrite to replace it")
        lead = {"lead_id": lead_id, "phone": phone, "fields": fields, "at": clock.stamp(clock.now())}
        state.leads[(lead_id, phone)] = lead
        state.changed.notify_all()
        return dict(lead)


def support_call(state: SandboxState, *, customer_number: object, api_key: object) -> dict[str, Any]:
    """Place the announcement call to a customer who has a lead in the OTP list."""
    with state.lock:
        config = state.config
        if not isinstance(api_key, str) or api_key != config.c2c_api_key:
            raise BadRequest("Invalid api_key")
        phone = phones.strict_ten_digits(customer_number)
        if phone is None:
            raise BadRequest("customer_number must be a 10-digit number")
        lead = state.leads.get((config.otp_lead_id, phone))
        if lead is None:
            raise BadRequest("No lead found for customer")
        started = clock.now()
        call_id = state.new_call_id(started)
        fields = dict(lead["fields"])
        announcement = {
            "customer_number": phone,
            "lead_id": config.otp_lead_id,
            "fields": fields,
            "otp": str(fields.get("field_5", "")),
            "at": clock.stamp(started),
            "call_id": call_id,
        }
        state.announcements_log.append(announcement)
        start = int(started)
        state.records.add(
            build_record(
                call_id=call_id,
                uuid=state.new_uuid(),
                start=start,
                end=start + RING_SECONDS + ANNOUNCEMENT_SECONDS,
                status="answered",
                direction="outbound",
                answered_seconds=ANNOUNCEMENT_SECONDS,
                services="Broadcast",
                client_number=phone,
                did_number=config.did_number,
                destination=phones.e164(phone),
                hangup_cause="NORMAL_CLEARING",
                broadcast_id=broadcast_id(config.otp_lead_id),
            )
        )
        state.changed.notify_all()
        return dict(announcement)


def broadcast_id(lead_id: str) -> str:
    """A stable broadcast id for a lead list."""
    return str(1000 + zlib.crc32(lead_id.encode()) % 9000)


def announcements(state: SandboxState, phone: str | None = None) -> list[dict[str, Any]]:
    """Announcements made, oldest first; `phone` in any accepted form filters by customer."""
    with state.lock:
        entries = list(state.announcements_log)
    if phone:
        wanted = phones.mobile(phone) or phone
        entries = [e for e in entries if e["customer_number"] == wanted]
    return [{**e, "fields": dict(e["fields"])} for e in entries]
