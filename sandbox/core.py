"""`Sandbox`: the fake Smartflo account and every operation on it, without HTTP.

The HTTP layer (`sandbox.api`, `sandbox.control`) only translates requests into these methods,
and in-process tests call them directly: `srv.add_fault(...)`, `srv.set_scenario(...)`, ...
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sandbox import broadcast, clock, dialplan, phones
from sandbox.config import DEFAULT_TOKEN, SandboxConfig
from sandbox.errors import BadRequest, NotFound
from sandbox.faults import Fault, WebhookFaults
from sandbox.lifecycle import SUPERVISION_MODES, CallLifecycle, agent_ref
from sandbox.records import AgentRef, generate, record_from_raw
from sandbox.recordstore import RecordQuery
from sandbox.scheduler import Scheduler
from sandbox.state import SandboxState, Scenario
from sandbox.webhooks import WebhookDispatcher

TRANSFER = 4
DEFAULT_GENERATE_DAYS = 7


class Sandbox:
    """A stateful fake Smartflo account. `SandboxServer` adds the HTTP server around it."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        webhook_url: str | None = None,
        webhook_token: str | None = None,
        dialplan_url: str | None = None,
        dialplan_token: str | None = None,
        c2c_api_key: str = "sandbox-c2c-key",
        otp_lead_id: str = "sandbox-lead",
        ring_seconds: float = 2.0,
        talk_seconds: float = 20.0,
        dialplan_timeout: float = 3.0,
        hang_seconds: float = 30.0,
        seed: int = 0,
        seed_agents: bool = True,
        time_scale: float | None = None,
    ) -> None:
        config = SandboxConfig().updated(
            token=token,
            webhook_url=webhook_url,
            webhook_token=webhook_token,
            dialplan_url=dialplan_url,
            dialplan_token=dialplan_token,
            c2c_api_key=c2c_api_key,
            otp_lead_id=otp_lead_id,
            ring_seconds=ring_seconds,
            talk_seconds=talk_seconds,
            dialplan_timeout=dialplan_timeout,
            hang_seconds=hang_seconds,
            time_scale=time_scale,
        )
        self.state = SandboxState(config, seed=seed, seed_agents=seed_agents)
        self._scheduler = Scheduler()
        self._webhooks = WebhookDispatcher(self.state)
        self._lifecycle = CallLifecycle(self.state, self._scheduler, self._webhooks)

    def _start_workers(self) -> None:
        self._scheduler.start()
        self._webhooks.start()

    def _stop_workers(self) -> None:
        self._scheduler.stop()
        self._webhooks.stop()

    # --- control -----------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the initial state: constructor config, default agents, nothing else."""
        with self.state.lock:
            self._scheduler.clear()
            self._webhooks.clear()
            self.state.reset()

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change settings at run time (webhook_url, webhook_token, dialplan_url, dialplan_token,
        ring_seconds, talk_seconds, dialplan_timeout, hang_seconds, time_scale, c2c_api_key,
        otp_lead_id, token, did_number). Returns the new config."""
        with self.state.lock:
            self.state.config = self.state.config.updated(**changes)
            return self.state.config.to_dict()

    @property
    def config(self) -> SandboxConfig:
        """The current settings (read-only snapshot; change them with `configure`)."""
        return self.state.config

    @property
    def token(self) -> str:
        return self.state.config.token

    @property
    def c2c_api_key(self) -> str:
        return self.state.config.c2c_api_key

    @property
    def otp_lead_id(self) -> str:
        return self.state.config.otp_lead_id

    @property
    def webhook_url(self) -> str | None:
        return self.state.config.webhook_url

    @property
    def webhook_token(self) -> str | None:
        return self.state.config.webhook_token

    @property
    def dialplan_url(self) -> str | None:
        return self.state.config.dialplan_url

    @property
    def dialplan_token(self) -> str | None:
        return self.state.config.dialplan_token

    def summary(self) -> dict[str, Any]:
        return self.state.summary()

    # --- agents ------------------------------------------------------------------------

    def agents(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [agent.to_json(self.state.config.did_number) for agent in self.state.agents.all()]

    def add_agent(self, *, name: object, follow_me_number: object, intercom: object = None) -> dict[str, Any]:
        with self.state.lock:
            agent = self.state.agents.add(name=name, follow_me_number=follow_me_number, intercom=intercom)
            return agent.to_json(self.state.config.did_number)

    def block_agent(self, agent_id: int | str, blocked: bool | None = None) -> dict[str, Any]:
        """Set (or, with `blocked=None`, toggle) an agent's `custom_status`."""
        with self.state.lock:
            agent = self.state.agents.get(agent_id)
            agent.custom_status = int(not agent.custom_status if blocked is None else blocked)
            return agent.to_json(self.state.config.did_number)

    def remove_agent(self, agent_id: int | str) -> dict[str, Any]:
        """Delete an agent, as if removed in the Smartflo portal."""
        with self.state.lock:
            return self.state.agents.remove(agent_id).to_json(self.state.config.did_number)

    # --- calls -------------------------------------------------------------------------

    def click_to_call(
        self,
        *,
        agent_number: object,
        destination_number: object,
        caller_id: object = None,
        call_timeout: int | None = None,
        custom_identifier: str | None = None,
    ) -> str:
        """Start an (asynchronous) click-to-call and return its call_id."""
        ref = str(agent_number).strip() if isinstance(agent_number, int | str) and agent_number != "" else ""
        if not ref:
            raise BadRequest("agent_number is required")
        customer = phones.customer(destination_number)
        if customer is None:
            raise BadRequest("destination_number must be 10 to 15 digits (+91 and 0 prefixes allowed)")
        did = None
        if caller_id not in (None, ""):
            did = phones.customer(caller_id)
            if did is None:
                raise BadRequest("caller_id must be a phone number")
        with self.state.lock:
            agent = self.state.agents.find(ref)
            if agent is None:
                raise BadRequest("Agent not found")
            if agent.custom_status:
                raise BadRequest("Agent is blocked")
            did_number = self.state.config.did_number if did is None else (f"91{did}" if len(did) == 10 else did)
            return self._lifecycle.place(
                agent=agent,
                customer=customer,
                did_number=did_number,
                call_timeout=call_timeout,
                custom_identifier=custom_identifier,
            )

    def hangup(self, call_id: str) -> None:
        """Hang up a live call (NotFound if it is not live). Also how a test makes a party hang up."""
        self._lifecycle.hangup(call_id)

    def call_options(self, *, option: int, call_id: str, agent_id: object = None, intercom: object = None) -> str:
        """`POST /call/options` (`option` is the body's `type`): 1 monitor, 2 whisper, 3 barge,
        4 transfer. Returns the success message."""
        if option not in (*SUPERVISION_MODES, TRANSFER):
            raise BadRequest("type must be 1 (monitor), 2 (whisper), 3 (barge) or 4 (transfer)")
        if not call_id:
            raise BadRequest("call_id is required")
        with self.state.lock:
            if call_id not in self.state.calls:
                raise NotFound("Call not found or already ended")
            if option == TRANSFER:
                self._lifecycle.transfer(call_id, self._transfer_target(intercom))
                return "Redirect successful"
            if agent_id in (None, ""):
                raise BadRequest("agent_id is required for monitor, whisper and barge")
            supervisor = self.state.agents.get(agent_id)
            return self._lifecycle.supervise(call_id, option, supervisor)

    def _transfer_target(self, intercom: object) -> AgentRef:
        if intercom in (None, "") or isinstance(intercom, bool) or not isinstance(intercom, int | str):
            raise BadRequest("intercom is required for transfer (type 4)")
        text = str(intercom).strip()
        if len(text) == 4 and text.isdigit():
            agent = next((a for a in self.state.agents.all() if a.intercom == text), None)
            if agent is None:
                raise NotFound(f"No agent with intercom {text}")
            return agent_ref(agent)
        number = phones.mobile(text)
        if number is None:
            raise BadRequest("intercom must be an agent intercom or a 10-digit number")
        agent = self.state.agents.by_number(number)
        return agent_ref(agent) if agent else AgentRef(None, "", number)

    def live_calls(self, *, agent_number: str | None = None, direction: str | None = None) -> list[dict[str, Any]]:
        with self.state.lock:
            calls = list(self.state.calls.values())
            if direction:
                calls = [c for c in calls if c.direction == direction.strip().lower()]
            if agent_number:
                wanted = phones.mobile(agent_number)
                agents = {a.id: a for a in self.state.agents.all()}
                calls = [
                    c
                    for c in calls
                    if c.agent.number == wanted
                    or (c.agent.id in agents and agents[c.agent.id].answers_to(agent_number))
                ]
            return [c.to_json() for c in sorted(calls, key=lambda c: (c.created, c.call_id))]

    def set_scenario(
        self,
        destination_number: object,
        *,
        agent_answers: bool = True,
        customer_answers: bool = True,
        talk_seconds: float | None = None,
        hold: bool = False,
        ring_seconds: float | None = None,
        times: int | None = None,
    ) -> dict[str, Any]:
        """How the next calls to `destination_number` go (until reset, or for `times` calls)."""
        number = phones.customer(destination_number)
        if number is None:
            raise BadRequest("destination_number must be a phone number")
        scenario = Scenario.from_dict(
            {
                "agent_answers": agent_answers,
                "customer_answers": customer_answers,
                "talk_seconds": talk_seconds,
                "hold": hold,
                "ring_seconds": ring_seconds,
                "times": times,
            }
        )
        with self.state.lock:
            self.state.scenarios[number] = scenario
        return {"destination_number": number, **scenario.to_dict()}

    def scenarios(self) -> dict[str, dict[str, Any]]:
        """The scenarios in force, by destination (national digits)."""
        with self.state.lock:
            return {number: s.to_dict() for number, s in self.state.scenarios.items()}

    def clear_scenarios(self) -> None:
        with self.state.lock:
            self.state.scenarios.clear()

    def wait_for_state(self, call_id: str, state: str, timeout: float = 5.0) -> dict[str, Any]:
        """Wait until live call `call_id` is in `state`; its live-call JSON. TimeoutError otherwise."""

        def current() -> dict[str, Any] | None:
            call = self.state.calls.get(call_id)
            return call.to_json() if call is not None and call.state == state else None

        found = self.state.wait_for(current, timeout)
        if not found:
            raise TimeoutError(f"call {call_id} did not reach {state} within {timeout}s")
        return found

    # --- records -----------------------------------------------------------------------

    def call_records(
        self, params: Mapping[str, Any] | None = None, *, repeat_rows: float = 0.0, **kw: Any
    ) -> dict[str, Any]:
        """One page of `GET /call/records`; params as a query dict (values str or list of str)."""
        merged = {k: v for k, v in {**(params or {}), **kw}.items() if v is not None}
        query = RecordQuery.from_params(
            {k: [str(x) for x in v] if isinstance(v, list | tuple) else [str(v)] for k, v in merged.items()}
        )
        with self.state.lock:
            return self.state.records.query(query, repeat_rows=repeat_rows)

    def generate_records(
        self,
        *,
        count: int,
        start: str | datetime | float | None = None,
        end: str | datetime | float | None = None,
        seed: int = 0,
    ) -> int:
        """Add `count` deterministic records spread over [start, end] (default: the last 7 days).

        Same arguments, same records (call_ids included); generating again upserts by call_id.
        """
        if isinstance(count, bool) or not isinstance(count, int):
            raise BadRequest("count must be a whole number")
        try:
            last = clock.to_epoch(end) if end is not None else int(clock.now())
            first = clock.to_epoch(start) if start is not None else last - DEFAULT_GENERATE_DAYS * 86400
        except ValueError:
            raise BadRequest("from and to must be YYYY-MM-DD HH:MM:SS") from None
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise BadRequest("seed must be a whole number")
        with self.state.lock:
            base, did = self.state.public_url, self.state.config.did_number
        records = generate(count=count, start=first, end=last, seed=seed, recordings_base=base, did_number=did)
        with self.state.lock:
            added = self.state.records.add_many(records)
            self.state.changed.notify_all()
            return added

    def insert_records(self, records: list[dict[str, Any]]) -> list[str]:
        """Insert raw (partial) records; missing fields get defaults. Returns their call_ids."""
        if not isinstance(records, list):
            raise BadRequest("records must be a list")
        with self.state.lock:
            now = int(clock.now())
            built = [
                record_from_raw(
                    raw,
                    call_id=self.state.new_call_id(now),
                    uuid=self.state.new_uuid(),
                    now=now,
                    did_number=self.state.config.did_number,
                )
                for raw in records
            ]
            for record in built:
                self.state.records.add(record)
            self.state.changed.notify_all()
            return [record["call_id"] for record in built]

    def patch_record(self, call_id: str, /, **changes: Any) -> dict[str, Any]:
        """Change fields of a record, e.g. `recording_url` arriving later."""
        with self.state.lock:
            record = self.state.records.update(call_id, changes)
            self.state.changed.notify_all()
            return record

    def record(self, call_id: str) -> dict[str, Any] | None:
        with self.state.lock:
            return self.state.records.get(call_id)

    def record_count(self) -> int:
        with self.state.lock:
            return len(self.state.records)

    def wait_for_record(self, call_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """Wait until the call `call_id` has ended and has a record; TimeoutError otherwise."""
        record = self.state.wait_for(lambda: self.state.records.get(call_id), timeout)
        if not record:
            raise TimeoutError(f"no record for call {call_id} within {timeout}s")
        return record

    # --- broadcast (OTP) ---------------------------------------------------------------

    def broadcast_lead(self, lead_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return broadcast.lead_put(self.state, lead_id=lead_id, body=body)

    def support_call(self, *, customer_number: object, api_key: object) -> dict[str, Any]:
        return broadcast.support_call(self.state, customer_number=customer_number, api_key=api_key)

    def leads(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [{**lead, "fields": dict(lead["fields"])} for lead in self.state.leads.values()]

    def announcements(self, phone: str | None = None) -> list[dict[str, Any]]:
        """Announcement calls made (what was spoken, e.g. `otp`), oldest first."""
        return broadcast.announcements(self.state, phone)

    # --- inbound calls (API Dialplan) --------------------------------------------------

    def inbound_call(self, *, caller_id_number: object, call_to_number: object) -> dict[str, Any]:
        """Simulate an inbound call to a masking number; asks `dialplan_url` where to connect."""
        return dialplan.inbound_call(self.state, caller_id_number=caller_id_number, call_to_number=call_to_number)

    def ring_agent(self, *, caller_id_number: object, agent: object) -> str:
        """Simulate an inbound call from `caller_id_number` that rings `agent` (intercom, number
        or id), as Smartflo does for a DID routed to an agent; returns the call_id. Webhooks say
        `agent_ringing` (inbound), then `agent_answered` or a missed `hangup`."""
        customer = phones.customer(caller_id_number)
        if customer is None:
            raise BadRequest("caller_id_number must be a phone number of 10 to 15 digits")
        ref = str(agent).strip() if isinstance(agent, int | str) else ""
        if not ref:
            raise BadRequest("agent is required (intercom, number or id)")
        with self.state.lock:
            found = self.state.agents.find(ref)
            if found is None:
                raise BadRequest("Agent not found")
            return self._lifecycle.ring_agent(agent=found, customer=customer, did_number=self.state.config.did_number)

    def inbound_calls(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(entry) for entry in self.state.inbound_log]

    # --- faults ------------------------------------------------------------------------

    def add_fault(self, endpoint: str = "*", **options: Any) -> dict[str, Any]:
        """Add a fault rule (see `sandbox.faults.Fault`); returns it with its id."""
        fault = Fault.from_dict({"endpoint": endpoint, **options})
        with self.state.lock:
            return self.state.faults.add(fault).to_dict()

    def faults(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return self.state.faults.list()

    def remove_fault(self, fault_id: int) -> None:
        with self.state.lock:
            if not self.state.faults.remove(fault_id):
                raise NotFound(f"No fault {fault_id}")

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()

    def set_webhook_faults(self, **options: Any) -> dict[str, Any]:
        """duplicate_rate, reorder, reorder_rate, reorder_delay, delay; unset options reset."""
        faults = WebhookFaults.from_dict(options)
        with self.state.lock:
            self.state.webhook_faults = faults
            return faults.to_dict()

    def webhook_faults(self) -> dict[str, Any]:
        with self.state.lock:
            return self.state.webhook_faults.to_dict()

    # --- logs --------------------------------------------------------------------------

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """Logged /v1 requests, oldest first (path exact, or a prefix ending in `*`)."""
        return self.state.requests(path)

    def clear_requests(self) -> None:
        with self.state.lock:
            self.state.request_log.clear()

    def webhooks(self, *, call_id: str | None = None, event: str | None = None) -> list[dict[str, Any]]:
        """Webhook deliveries attempted (with status or error), in delivery order."""
        with self.state.lock:
            entries = [dict(e) for e in self.state.webhook_log]
        return [e for e in entries if (call_id is None or e["call_id"] == call_id) and (event in (None, e["event"]))]

    def clear_webhooks(self) -> None:
        with self.state.lock:
            self.state.webhook_log.clear()
            self.state.event_log.clear()

    def events(self, *, call_id: str | None = None) -> list[dict[str, str]]:
        """Every webhook payload the life cycles produced, in emission order (sent or not)."""
        with self.state.lock:
            payloads = [dict(e["payload"]) for e in self.state.event_log]
        return [p for p in payloads if call_id is None or p["call_id"] == call_id]

    def wait_for_webhooks(
        self, count: int, *, timeout: float = 5.0, call_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Wait until at least `count` deliveries (for `call_id`, if given) were attempted."""

        def enough() -> bool:
            return sum(1 for e in self.state.webhook_log if call_id in (None, e["call_id"])) >= count

        if not self.state.wait_for(enough, timeout):
            raise TimeoutError(f"fewer than {count} webhooks within {timeout}s")
        return self.webhooks(call_id=call_id)
