"""Call-event webhooks: payloads in Smartflo's `$variable` vocabulary, and their delivery.

Delivery runs on one background thread in due-time order, so without faults the events of a
call arrive in the order they happened. Webhook faults add delay, duplicate some events or hold
some back (`reorder`) so later events overtake them. Failures are logged, never raised.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from sandbox import clock, phones
from sandbox.faults import WebhookFaults
from sandbox.state import LiveCall, SandboxState

logger = logging.getLogger("sandbox.webhooks")

WEBHOOK_TIMEOUT = 10.0
TOKEN_HEADER = "X-Webhook-Token"
PAYLOAD_KEYS = (
    "call_id",
    "uuid",
    "call_status",
    "event",
    "direction",
    "caller_id_number",
    "call_to_number",
    "customer_number",
    "start_stamp",
    "answer_stamp",
    "end_stamp",
    "duration",
    "billsec",
    "answered_agent_number",
    "answered_agent_name",
    "agent_number",
    "recording_url",
    "hangup_cause",
    "custom_identifier",
    "did_number",
)


def event_payload(
    call: LiveCall,
    event: str,
    call_status: str,
    *,
    end: float | None = None,
    hangup_cause: str = "",
    recording_url: str | None = None,
) -> dict[str, str]:
    """The webhook body for one life-cycle step. Every key is present; unknown values are ""."""
    agent_answered = call.agent_answered_at is not None
    duration = billsec = ""
    if end is not None:
        duration = str(clock.whole_seconds(end - call.created))
        billsec = str(clock.whole_seconds(end - call.answered_at)) if call.answered_at else "0"
    did, customer = f"+{call.did_number}", phones.e164(call.customer)
    inbound = call.direction == "inbound"  # the customer called the DID
    return {
        "call_id": call.call_id,
        "uuid": call.uuid,
        "call_status": call_status,
        "event": event,
        "direction": call.direction,
        "caller_id_number": customer if inbound else did,
        "call_to_number": did if inbound else customer,
        "customer_number": phones.e164(call.customer),
        "start_stamp": clock.stamp(call.created),
        "answer_stamp": clock.stamp(call.answered_at) if call.answered_at else "",
        "end_stamp": clock.stamp(end) if end is not None else "",
        "duration": duration,
        "billsec": billsec,
        "answered_agent_number": phones.e164(call.agent.number) if agent_answered else "",
        "answered_agent_name": call.agent.name if agent_answered else "",
        "agent_number": phones.e164(call.agent.number),
        "recording_url": recording_url or "",
        "hangup_cause": hangup_cause,
        "custom_identifier": call.custom_identifier or "",
        "did_number": call.did_number,
    }


@dataclass(order=True)
class Delivery:
    due: float
    sequence: int
    url: str = field(compare=False)
    token: str | None = field(compare=False)
    payload: dict[str, str] = field(compare=False)
    generation: int = field(compare=False)
    duplicate: bool = field(default=False, compare=False)
    delayed: bool = field(default=False, compare=False)


class WebhookDispatcher:
    """Plans deliveries (applying webhook faults) and sends them on a background thread."""

    def __init__(self, state: SandboxState) -> None:
        self._state = state
        self._queue: list[Delivery] = []
        self._sequence = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._http: httpx.Client | None = None

    def start(self) -> None:
        self._http = httpx.Client(timeout=WEBHOOK_TIMEOUT)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._queue.clear()
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=1.0)
        if self._http is not None:
            self._http.close()

    def clear(self) -> None:
        with self._cond:
            self._queue.clear()

    def emit(self, payloads: list[dict[str, str]]) -> None:
        """Log `payloads` as events and queue them for the configured webhook URL, if any."""
        if not payloads:
            return
        state = self._state
        with state.lock:
            now = time.monotonic()
            for payload in payloads:
                state.event_log.append({"at": clock.now(), "payload": dict(payload)})
            url = state.config.webhook_url
            if not url:
                state.changed.notify_all()
                return
            deliveries = [
                delivery
                for payload in payloads
                for delivery in self._plan(payload, url, state.config.webhook_token, now, state.webhook_faults)
            ]
            state.changed.notify_all()
        with self._cond:
            for delivery in deliveries:
                heapq.heappush(self._queue, delivery)
            self._cond.notify_all()

    def _plan(
        self, payload: dict[str, str], url: str, token: str | None, now: float, faults: WebhookFaults
    ) -> list[Delivery]:
        rng: random.Random = self._state.webhook_rng
        due = now + faults.delay
        delayed = False
        if faults.reorder and faults.reorder_rate and rng.random() < faults.reorder_rate:
            due += faults.reorder_delay
            delayed = True
        generation = self._state.generation
        deliveries = [Delivery(due, next(self._sequence), url, token, payload, generation, delayed=delayed)]
        if faults.duplicate_rate and rng.random() < faults.duplicate_rate:
            deliveries.append(
                Delivery(due, next(self._sequence), url, token, payload, generation, duplicate=True, delayed=delayed)
            )
        return deliveries

    def _run(self) -> None:
        while True:
            with self._cond:
                delivery = self._next_due()
            if delivery is None:
                return
            self._send(delivery)

    def _next_due(self) -> Delivery | None:
        while not self._stopped:
            if not self._queue:
                self._cond.wait()
                continue
            wait = self._queue[0].due - time.monotonic()
            if wait <= 0:
                return heapq.heappop(self._queue)
            self._cond.wait(timeout=wait)
        return None

    def _send(self, delivery: Delivery) -> None:
        headers = {TOKEN_HEADER: delivery.token} if delivery.token else {}
        entry: dict[str, Any] = {
            "event": delivery.payload["event"],
            "call_id": delivery.payload["call_id"],
            "url": delivery.url,
            "payload": delivery.payload,
            "duplicate": delivery.duplicate,
            "delayed": delivery.delayed,
            "status": None,
            "error": None,
        }
        if self._http is None:  # not started: nothing can be queued, but stay safe
            return
        started = time.monotonic()
        try:
            response = self._http.post(delivery.url, json=delivery.payload, headers=headers)
            entry["status"] = response.status_code
            if response.status_code >= 400:
                logger.warning("webhook %s answered HTTP %s", delivery.url, response.status_code)
        except httpx.HTTPError as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
            logger.warning("webhook %s failed: %s", delivery.url, entry["error"])
        except RuntimeError as exc:  # the client was closed by stop()
            entry["error"] = f"{type(exc).__name__}: {exc}"
        entry["ok"] = entry["status"] is not None and 200 <= entry["status"] < 300
        entry["elapsed"] = round(time.monotonic() - started, 4)
        entry["sent_at"] = clock.now()
        with self._state.lock:
            if delivery.generation == self._state.generation:
                self._state.webhook_log.append(entry)
                self._state.changed.notify_all()
