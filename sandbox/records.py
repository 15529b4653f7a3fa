"""Call records (CDRs): their exact shape, raw insertion and deterministic bulk generation.

A record is a plain dict in the documented field order. Two private keys ride along and never
leave the sandbox: `_start` (epoch seconds of the start, the sort key) and `_ivr` (IVR names, for
the `ivr` filter, which has no documented record field).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sandbox import clock, phones
from sandbox.agents import DEFAULT_AGENTS, FIRST_AGENT_ID
from sandbox.errors import BadRequest

RECORD_FIELDS = (
    "id",
    "call_id",
    "uuid",
    "date",
    "time",
    "end_stamp",
    "missed_agents",
    "status",
    "department",
    "destination",
    "direction",
    "call_duration",
    "answered_seconds",
    "minutes_consumed",
    "services",
    "broadcast_id",
    "dtmf_input",
    "client_number",
    "hangup_cause",
    "did_number",
    "notes",
    "contact_details",
    "recording_url",
    # Not in the documentation, but needed to link a record to an agent and to our own call.
    "agent_name",
    "agent_number",
    "agent_id",
    "custom_identifier",
)
DEPARTMENTS = ("Sales", "Support", "Billing")
IVRS = ("Main IVR", "After Hours IVR")
CONTACT_NAMES = ("Ravi Kumar", "Priya Nair", "Arjun Mehta", "Sneha Patil", "Kiran Das")
MISSED_CAUSES = ("NO_ANSWER", "USER_BUSY", "ORIGINATOR_CANCEL", "NO_USER_RESPONSE")


@dataclass(frozen=True)
class AgentRef:
    """Who handled a call, as records show it."""

    id: int | None
    name: str
    number: str  # national digits

    def missed_entry(self) -> dict[str, str]:
        return {"name": self.name, "number": phones.e164(self.number)}


def recording_url(base_url: str, call_id: str) -> str:
    return f"{base_url}/recordings/{call_id}.mp3"


def build_record(
    *,
    call_id: str,
    uuid: str,
    start: int,
    end: int,
    status: str,
    direction: str,
    answered_seconds: int,
    services: str,
    client_number: str,
    did_number: str,
    destination: str,
    hangup_cause: str,
    agent: AgentRef | None = None,
    department: Iterable[str] = (),
    missed_agents: Iterable[AgentRef] = (),
    recording_url: str | None = None,
    broadcast_id: str | None = None,
    dtmf_input: str | None = None,
    notes: str | None = None,
    contact_details: dict[str, str] | None = None,
    custom_identifier: str | None = None,
    ivr: Iterable[str] = (),
) -> dict[str, Any]:
    """A record in the documented shape; `client_number` is national digits."""
    date, time = clock.date_and_time(start)
    duration = max(0, end - start)
    return {
        "id": 0,
        "call_id": call_id,
        "uuid": uuid,
        "date": date,
        "time": time,
        "end_stamp": clock.stamp(end),
        "missed_agents": [a.missed_entry() for a in missed_agents],
        "status": status,
        "department": list(department),
        "destination": destination,
        "direction": direction,
        "call_duration": duration,
        "answered_seconds": answered_seconds,
        "minutes_consumed": math.ceil(duration / 60),
        "services": services,
        "broadcast_id": broadcast_id,
        "dtmf_input": dtmf_input,
        "client_number": phones.e164(client_number),
        "hangup_cause": hangup_cause,
        "did_number": did_number,
        "notes": notes,
        "contact_details": contact_details,
        "recording_url": recording_url,
        "agent_name": agent.name if agent else None,
        "agent_number": phones.e164(agent.number) if agent else None,
        "agent_id": agent.id if agent else None,
        "custom_identifier": custom_identifier,
        "_start": start,
        "_ivr": list(ivr),
    }


def as_list(value: Any) -> list[Any]:
    """A list field given as a list, a single value or nothing."""
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def public(record: dict[str, Any]) -> dict[str, Any]:
    """The record as the API shows it (private keys dropped)."""
    return {key: value for key, value in record.items() if not key.startswith("_")}


def start_of(date: str, time: str) -> int:
    """Epoch seconds of a record's `date` + `time`; BadRequest on a bad format."""
    try:
        return clock.parse_stamp(f"{date} {time}")
    except ValueError:
        raise BadRequest("date must be YYYY-MM-DD and time HH:MM:SS") from None


def record_from_raw(data: dict[str, Any], *, call_id: str, uuid: str, now: int, did_number: str) -> dict[str, Any]:
    """A full record from a partial one given to `POST /_control/records`.

    The start comes from `date` + `time` or `start` ("YYYY-MM-DD HH:MM:SS"), else now; missing
    fields get answered-outbound defaults. Unknown keys are refused so typos do not pass silently.
    """
    if not isinstance(data, dict):
        raise BadRequest("each record must be a JSON object")
    allowed = set(RECORD_FIELDS) | {"start", "ivr"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise BadRequest(f"unknown record fields: {', '.join(unknown)}")
    if "start" in data:
        try:
            start = clock.parse_stamp(data["start"])
        except ValueError:
            raise BadRequest("start must be YYYY-MM-DD HH:MM:SS") from None
    elif "date" in data or "time" in data:
        start = start_of(data.get("date", ""), data.get("time", ""))
    else:
        start = now
    duration = data.get("call_duration", 30)
    if not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
        raise BadRequest("call_duration must be a whole number of seconds")
    answered = data.get("status", "answered") == "answered"
    record = build_record(
        call_id=str(data.get("call_id") or call_id),
        uuid=str(data.get("uuid") or uuid),
        start=start,
        end=start + duration,
        status="answered",
        direction="outbound",
        answered_seconds=duration if answered else 0,
        services="Click to Call",
        client_number="9000000000",
        did_number=did_number,
        destination="",
        hangup_cause="NORMAL_CLEARING",
        ivr=as_list(data.get("ivr")),
    )
    for key in RECORD_FIELDS:
        if key in data and key not in ("id", "date", "time"):
            record[key] = as_list(data[key]) if key == "department" else data[key]
    if "end_stamp" not in data:
        record["end_stamp"] = clock.stamp(start + duration)
    return record


def generate(
    *,
    count: int,
    start: int,
    end: int,
    seed: int,
    recordings_base: str,
    did_number: str,
) -> list[dict[str, Any]]:
    """`count` records with start times spread over [start, end], sorted by start.

    Deterministic: the same arguments give identical records, call_ids included. Mixes inbound
    and outbound, answered and missed, the three default agents, departments, IVR and broadcast
    services, and recording URLs on most answered calls.
    """
    if count < 0:
        raise BadRequest("count must be zero or more")
    if end < start:
        raise BadRequest("from must not be after to")
    rng = random.Random(seed)
    agents = [AgentRef(FIRST_AGENT_ID + i, name, number) for i, (name, number, _) in enumerate(DEFAULT_AGENTS)]
    span = end - start + 1
    starts = sorted(start + _below(rng, span) for _ in range(count))
    used: set[str] = set()
    records = []
    for begin in starts:
        call_id = f"{begin}.{_below(rng, 1_000_000):06d}"
        while call_id in used:
            call_id = f"{begin}.{_below(rng, 1_000_000):06d}"
        used.add(call_id)
        records.append(_generated_record(rng, call_id, begin, agents, recordings_base, did_number))
    return records


def _generated_record(
    rng: random.Random,
    call_id: str,
    begin: int,
    agents: list[AgentRef],
    recordings_base: str,
    did_number: str,
) -> dict[str, Any]:
    agent = agents[_below(rng, len(agents))]
    client = f"9{_below(rng, 1_000_000_000):09d}"
    answered = rng.random() < 0.7
    ring = 3 + _below(rng, 28)
    talk = 10 + _below(rng, 891) if answered else 0
    inbound = rng.random() < 0.45
    if inbound:
        department = DEPARTMENTS[_below(rng, len(DEPARTMENTS))]
        services, destination, departments = "IVR", department, [department]
        ivr = [IVRS[_below(rng, len(IVRS))]]
        dtmf: str | None = str(1 + _below(rng, 3))
        broadcast_id = None
    else:
        broadcast = rng.random() < 0.05
        services = "Broadcast" if broadcast else "Click to Call"
        destination, departments, ivr, dtmf = phones.e164(client), [], [], None
        broadcast_id = str(1000 + _below(rng, 9000)) if broadcast else None
    has_recording = answered and rng.random() < 0.8
    contact = None
    if rng.random() < 0.2:
        contact = {"name": CONTACT_NAMES[_below(rng, len(CONTACT_NAMES))], "number": phones.e164(client)}
    return build_record(
        call_id=call_id,
        uuid=f"{rng.getrandbits(52):013x}",
        start=begin,
        end=begin + ring + talk,
        status="answered" if answered else "missed",
        direction="inbound" if inbound else "outbound",
        answered_seconds=talk,
        services=services,
        client_number=client,
        did_number=did_number,
        destination=destination,
        hangup_cause="NORMAL_CLEARING" if answered else MISSED_CAUSES[_below(rng, len(MISSED_CAUSES))],
        agent=agent,
        department=departments,
        missed_agents=() if answered else (agent,),
        recording_url=recording_url(recordings_base, call_id) if has_recording else None,
        broadcast_id=broadcast_id,
        dtmf_input=dtmf,
        contact_details=contact,
        ivr=ivr,
    )


def _below(rng: random.Random, n: int) -> int:
    """A uniform integer in [0, n): `randrange` semantics at a fraction of its cost."""
    return int(rng.random() * n)
