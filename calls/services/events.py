"""Smartflo call-event webhooks: store every event, apply what it says to our call.

Rules: duplicates change nothing; a late event never moves a call backwards; a blank value
never erases a known one; a status we don't know is kept on the stored event, not rejected.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.models import Agent
from calls.models import CallEvent, CallStatus, OutboundCall, RingingAlert
from calls.services.outcomes import record_outcome_copy_inbound
from calls.services.state import call_can_transition, call_transition
from contactcenter.core.converters import ascii_int
from contactcenter.core.exceptions import ApplicationError
from contactcenter.phones import InvalidPhoneNumber, to_e164
from contactcenter.smartflo import parse_ist

logger = logging.getLogger(__name__)

S = CallStatus
EVENT_STATUS = {
    "agent_ringing": S.AGENT_RINGING,
    "agent_answered": S.AGENT_ANSWERED,
    "customer_ringing": S.CUSTOMER_RINGING,
    "customer_answered": S.IN_PROGRESS,
}
HANGUP_STATUS = {
    "completed": S.COMPLETED,
    "answered": S.COMPLETED,
    "hangup": S.COMPLETED,
    "missed": S.MISSED,
    "noanswer": S.MISSED,
    "no_answer": S.MISSED,
    "no answer": S.MISSED,
    "busy": S.MISSED,
    "cancel": S.MISSED,
    "failed": S.FAILED,
}
HANGUP_EVENTS = frozenset({"hangup", "call_hangup", "completed"})
# Statuses that only a finished call has (unlike "answered", which a live call reports too).
HANGUP_ONLY_STATUSES = frozenset(k for k in HANGUP_STATUS if k != "answered")
# Without an `event` variable and without end stamp or cause: a live call's status alone.
STATUS_ONLY = {
    "ringing": S.AGENT_RINGING,
    "answered": S.IN_PROGRESS,
    "in_progress": S.IN_PROGRESS,
    "connected": S.IN_PROGRESS,
}
MAX_FIELD = 500


class MalformedEvent(ApplicationError):
    code = "malformed_event"


def _clean(payload: Any) -> dict[str, str]:
    if not isinstance(payload, dict):
        raise MalformedEvent("The event must be a JSON object or form fields.")
    cleaned: dict[str, str] = {}
    for key, value in payload.items():
        if isinstance(value, list):  # form/query values arrive as lists
            value = value[-1] if value else ""
        if isinstance(value, (dict, list)):
            value = json.dumps(value, sort_keys=True)
        text = ("" if value is None else str(value)).replace("\x00", "")  # PostgreSQL refuses NUL
        if len(str(key)) > 100 or len(text) > 4000:
            raise MalformedEvent(f"Field {str(key)[:40]!r} is too long.")
        cleaned[str(key).strip().lower().lstrip("$")] = text.strip()
    if not (cleaned.get("call_id") or cleaned.get("custom_identifier") or cleaned.get("uuid")):
        raise MalformedEvent("The event names no call: send call_id, uuid or custom_identifier.")
    return cleaned


def _is_hangup(event: str, call_status: str, data: dict[str, str]) -> bool:
    """Smartflo's hangup trigger carries an end stamp or a hang-up cause, whatever its status says."""
    return (
        event in HANGUP_EVENTS
        or call_status in HANGUP_ONLY_STATUSES
        or bool(data.get("end_stamp") or data.get("hangup_cause"))
    )


def _target_status(event: str, call_status: str, data: dict[str, str]) -> str | None:
    if event in EVENT_STATUS:
        return EVENT_STATUS[event]
    if not _is_hangup(event, call_status, data):
        return STATUS_ONLY.get(call_status)
    if call_status == "":  # a hangup that does not say how it went: the stamps do
        billsec = data.get("billsec", "")
        answered = bool(ascii_int(billsec)) or bool(data.get("answer_stamp"))
        return S.COMPLETED if answered else S.MISSED
    return HANGUP_STATUS.get(call_status)  # None for a status we don't know: kept, not applied


def _find_call(data: dict[str, str]) -> OutboundCall | None:
    identifier = data.get("custom_identifier", "")
    if identifier:
        try:
            found = OutboundCall.objects.filter(custom_identifier=uuid.UUID(identifier)).first()
        except ValueError:
            found = None
        if found is not None:
            return found
    if data.get("call_id"):
        return OutboundCall.objects.filter(call_id=data["call_id"]).first()
    return None


def _agent_for(number: str) -> Agent | None:
    if not number:
        return None
    try:
        return Agent.objects.filter(follow_me_number=to_e164(number, strict=False), is_active=True).first()
    except InvalidPhoneNumber:
        return None


def _caller_number(raw: str) -> str:
    """E.164 when it parses (so the customer's history finds it), else as the network sent it."""
    try:
        return to_e164(raw, strict=False)
    except InvalidPhoneNumber:
        return raw[:20]


def _fill_blanks(call: OutboundCall, data: dict[str, str]) -> list[str]:
    """Copy known values from the event onto the call, never replacing a value with a blank."""
    changed = []

    def put(field: str, value) -> None:
        if value not in (None, "") and getattr(call, field) in (None, "") and value != getattr(call, field):
            setattr(call, field, value)
            changed.append(field)

    if data.get("call_id") and not OutboundCall.objects.filter(call_id=data["call_id"]).exclude(pk=call.pk).exists():
        put("call_id", data["call_id"][:64])
    for field, key in (("answered_at", "answer_stamp"), ("ended_at", "end_stamp")):
        with contextlib.suppress(ValueError):  # a garbled stamp is ignored, the rest still applies
            put(field, parse_ist(data.get(key)))
    for field, key in (("duration_seconds", "duration"), ("billsec", "billsec")):
        seconds = ascii_int(data.get(key, ""), maximum=2**31 - 1)  # a PositiveIntegerField
        if seconds is not None:
            put(field, seconds)
    put("hangup_cause", data.get("hangup_cause", "")[:80])
    recording = data.get("recording_url", "")
    if recording.startswith(("http://", "https://")):
        put("recording_url", recording[:MAX_FIELD])
    return changed


def _update_alerts(data: dict[str, str], target: str | None) -> None:
    call_id = data.get("call_id", "")
    if not call_id:
        return
    direction = data.get("direction", "").lower()
    if target == S.AGENT_RINGING and direction == "inbound":
        agent = _agent_for(data.get("agent_number") or data.get("answered_agent_number", ""))
        if agent is not None:
            RingingAlert.objects.get_or_create(
                agent=agent,
                call_id=call_id[:64],
                defaults={
                    "caller_number": _caller_number(data.get("caller_id_number") or data.get("customer_number", "")),
                    "direction": direction[:20],
                },
            )
    elif target is not None and target != S.AGENT_RINGING:
        now = timezone.now()
        answered = target in (S.AGENT_ANSWERED, S.IN_PROGRESS)
        alerts = RingingAlert.objects.filter(call_id=call_id[:64])
        alerts.filter(cleared_at__isnull=True).update(
            cleared_at=now, cleared_reason="answered" if answered else "ended"
        )
        if answered:  # the agent who answered is on the call (not if its end came first, out of order)
            answerer = data.get("answered_agent_number", "")
            agent = _agent_for(answerer or data.get("agent_number", ""))
            on_call = alerts.filter(answered_at__isnull=True).exclude(cleared_reason="ended")
            if agent is not None:
                transferred = data.get("event", "").lower() == "transferred"
                if not transferred and alerts.filter(agent=agent, transferred_to__isnull=False).exists():
                    return  # a late word of the answer of an agent who has since passed the call on
                on_call.filter(agent=agent).update(answered_at=now)
                # A transfer, or an answer that names its answerer, while a colleague is on it: the
                # call moves (to a colleague it rang too, or back). An event naming only the agent
                # it rang last moves nothing.
                if transferred or answerer:
                    inbound_call_moved(call_id=call_id[:64], to_agent=agent)
            elif len(rung := list(alerts.values_list("pk", flat=True)[:2])) == 1:
                on_call.filter(pk=rung[0]).update(answered_at=now)  # it rang one agent only: theirs
            else:  # a ring group, and the event does not say who: nobody gets the call (and its note)
                logger.warning("call event %s: answered by an agent it does not name; not shown", call_id[:64])
        else:
            alerts.filter(answered_at__isnull=False, ended_at__isnull=True).update(ended_at=now)


def _apply(data: dict[str, str], common: dict, target: str | None, event_name: str, call_status: str) -> CallEvent:
    """Inside the ingest transaction: apply the event to its call, store it as the original."""
    call = _find_call(data)
    if call is not None:
        call = OutboundCall.objects.select_for_update().get(pk=call.pk)
    outcome = []
    applied = False
    if call is None:
        outcome.append("no local call")
    else:
        changed = _fill_blanks(call, data)
        if changed:
            call.save(update_fields=[*changed, "updated_at"])
            outcome.append("filled " + ", ".join(changed))
            applied = True
        if target is None:
            outcome.append(f"status {call_status or event_name or '(none)'!r} kept, not applied")
        elif call_can_transition(call.status, target):
            call_transition(call=call, to=target)
            outcome.append(f"-> {target}")
            applied = True
        elif call.status != target:
            outcome.append(f"late or out of order: {call.status} kept, {target} ignored")
    _update_alerts(data, target)
    # The unique constraint on original fingerprints makes a racing twin fail here, rolling back
    # everything it did above.
    return CallEvent.objects.create(**common, outbound_call=call, applied=applied, outcome="; ".join(outcome)[:200])


def call_event_ingest(*, payload: Any) -> CallEvent:
    """Store one webhook event and apply it. Raises MalformedEvent (400) for unusable bodies."""
    data = _clean(payload)
    fingerprint = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    event_name = data.get("event", "").lower()
    call_status = data.get("call_status", "").lower()
    target = _target_status(event_name, call_status, data)
    common = {
        "call_id": data.get("call_id", "")[:64],
        "custom_identifier": data.get("custom_identifier", "")[:64],
        "event": event_name[:40],
        "call_status": call_status[:40],
        "direction": data.get("direction", "").lower()[:20],
        "fingerprint": fingerprint,
        "payload": data,
    }

    if CallEvent.objects.filter(fingerprint=fingerprint, duplicate=False).exists():
        return CallEvent.objects.create(**common, duplicate=True, outcome="duplicate: ignored")
    try:
        with transaction.atomic():
            event = _apply(data, common, target, event_name, call_status)
    except IntegrityError:
        if not CallEvent.objects.filter(fingerprint=fingerprint, duplicate=False).exists():
            raise
        # A twin delivery of the same event committed first: everything this one did is rolled back.
        return CallEvent.objects.create(**common, duplicate=True, outcome="duplicate: ignored")
    logger.info("call event %s %s: %s", common["call_id"], event_name or call_status, event.outcome)
    return event


@transaction.atomic
def inbound_call_moved(*, call_id: str, to_agent: Agent) -> None:
    """An inbound call an agent is on is now with `to_agent` (a transfer, from the app or seen in
    Smartflo's events): the agent's part ends there (`transferred_to`), and the colleague is on
    it, with a row of their own for its note. Nothing for a call no agent of ours is on."""
    now = timezone.now()
    alerts = RingingAlert.objects.select_for_update().filter(call_id=call_id)
    passing = list(alerts.filter(answered_at__isnull=False, ended_at__isnull=True).exclude(agent=to_agent))
    if not passing:
        return
    alerts.filter(pk__in=[a.pk for a in passing]).update(ended_at=now, transferred_to=to_agent)
    taking, _ = RingingAlert.objects.get_or_create(
        agent=to_agent,
        call_id=call_id,
        defaults={"caller_number": passing[0].caller_number, "direction": passing[0].direction or "inbound"},
    )
    if taking.answered_at is None or taking.ended_at is not None:  # rung before, or had passed it on
        RingingAlert.objects.filter(pk=taking.pk).update(
            answered_at=now, ended_at=None, transferred_to=None, cleared_at=now, cleared_reason="transferred"
        )
    record_outcome_copy_inbound(call_id)  # the record shows the colleague's outcome once they note one


def ringing_alert_dismiss(*, alert: RingingAlert) -> None:
    """The agent closed the pop-up: it goes from every tab (they poll)."""
    RingingAlert.objects.filter(pk=alert.pk, cleared_at__isnull=True).update(
        cleared_at=timezone.now(), cleared_reason="dismissed"
    )
