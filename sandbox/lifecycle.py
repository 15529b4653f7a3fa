"""Call life cycles: state machines driven by the scheduler.

Click-to-call:

    agent_ringing --agent answers--> agent_answered --> customer_ringing --customer answers-->
    in_progress --talk over / call_timeout / hangup--> (record)

An inbound call to an agent (a customer dials the DID; Smartflo rings the agent):

    agent_ringing --agent answers--> in_progress --talk over / hangup--> (record)

Missed legs and hang-ups end the call early. Every step sends a webhook event. Transitions run
under the state lock; a scheduled step carries the call's `step` number and is ignored if the
call has moved on (hung up, transferred away, reset) since it was scheduled.
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox import clock, phones
from sandbox.agents import Agent
from sandbox.errors import NotFound
from sandbox.records import AgentRef, build_record, recording_url
from sandbox.scheduler import Scheduler
from sandbox.state import LiveCall, SandboxState
from sandbox.webhooks import WebhookDispatcher, event_payload

Step = Callable[[LiveCall], None]
SUPERVISION_MODES = {1: "monitor", 2: "whisper", 3: "barge"}


def agent_ref(agent: Agent) -> AgentRef:
    return AgentRef(agent.id, agent.name, agent.follow_me_number)


class CallLifecycle:
    def __init__(self, state: SandboxState, scheduler: Scheduler, webhooks: WebhookDispatcher) -> None:
        self._state = state
        self._scheduler = scheduler
        self._webhooks = webhooks

    # --- operations ------------------------------------------------------------------

    def place(
        self,
        *,
        agent: Agent,
        customer: str,
        did_number: str,
        call_timeout: int | None = None,
        custom_identifier: str | None = None,
    ) -> str:
        """Start a click-to-call: the agent's phone starts ringing. Returns the call_id."""
        return self._ring(
            self._agent_ring_over,
            direction="outbound",
            agent=agent,
            customer=customer,
            did_number=did_number,
            custom_identifier=custom_identifier,
            call_timeout=call_timeout,
        )

    def ring_agent(self, *, agent: Agent, customer: str, did_number: str) -> str:
        """An inbound call: `customer` dialled the DID and Smartflo rings `agent` (the app's
        incoming-call pop-up). The scenario of the customer's number says whether the agent
        answers, how long it rings and how long they talk. Returns the call_id."""
        return self._ring(
            self._inbound_ring_over,
            direction="inbound",
            agent=agent,
            customer=customer,
            did_number=did_number,
            services="Inbound",
        )

    def _ring(self, ring_over: Step, *, agent: Agent, customer: str, **fields) -> str:
        """A new live call whose first step is the agent's phone ringing; `ring_over` runs when
        the ringing ends (answered or not)."""
        state = self._state
        with state.lock:
            created = clock.now()
            call = LiveCall(
                call_id=state.new_call_id(created),
                uuid=state.new_uuid(),
                agent=agent_ref(agent),
                customer=customer,
                created=created,
                scenario=state.take_scenario(customer),
                **fields,
            )
            state.calls[call.call_id] = call
            self._emit(call, "agent_ringing", "ringing")
            self._schedule(call, self._ring_seconds(call), ring_over)
            return call.call_id

    def hangup(self, call_id: str) -> None:
        """End a live call now (either party hanging up); NotFound if it is not live."""
        with self._state.lock:
            call = self._live(call_id)
            if call.state == "in_progress":
                self._finish(call, status="answered", cause="NORMAL_CLEARING", call_status="completed")
            else:
                self._finish(call, status="missed", cause="ORIGINATOR_CANCEL", call_status="missed")

    def transfer(self, call_id: str, target: AgentRef) -> None:
        """Redirect a live call to another agent (or an outside number)."""
        state = self._state
        with state.lock:
            call = self._live(call_id)
            call.agent = target
            if target.id is not None:
                self._count(target.id, answered=True)
            if call.agent_answered_at is None:
                call.agent_answered_at = clock.now()
            self._emit(call, "transferred", "answered" if call.answered_at else "ringing")

    def supervise(self, call_id: str, mode: int, supervisor: Agent) -> str:
        """A supervisor joins a live call to monitor (1), whisper (2) or barge (3)."""
        with self._state.lock:
            call = self._live(call_id)
            name = SUPERVISION_MODES[mode]
            call.monitored_by = [m for m in call.monitored_by if m["agent_id"] != supervisor.id]
            call.monitored_by.append(
                {
                    "agent_id": supervisor.id,
                    "agent_name": supervisor.name,
                    "mode": name,
                    "since": clock.stamp(clock.now()),
                }
            )
            self._state.changed.notify_all()
            return f"{name.capitalize()} successful"

    # --- steps -----------------------------------------------------------------------

    def _agent_ring_over(self, call: LiveCall) -> None:
        if not self._agent_picks_up(call):
            return
        call.state = "agent_answered"
        call.agent_answered_at = clock.now()
        self._emit(call, "agent_answered", "answered")
        # A short pause while the bridge dials out, so `agent_answered` is observable.
        self._schedule(call, self._ring_seconds(call) / 4, self._dial_customer)

    def _dial_customer(self, call: LiveCall) -> None:
        call.state = "customer_ringing"
        call.uuid = self._state.new_uuid()  # the customer leg has its own uuid
        self._emit(call, "customer_ringing", "ringing")
        self._schedule(call, self._ring_seconds(call), self._customer_ring_over)

    def _customer_ring_over(self, call: LiveCall) -> None:
        if not call.scenario.customer_answers:
            self._finish(call, status="missed", cause="NO_USER_RESPONSE", call_status="missed")
            return
        self._talk(call, "customer_answered", clock.now())

    def _inbound_ring_over(self, call: LiveCall) -> None:
        if not self._agent_picks_up(call):
            return
        call.agent_answered_at = clock.now()  # the agent's answer connects the caller at once
        self._talk(call, "agent_answered", call.agent_answered_at)

    def _agent_picks_up(self, call: LiveCall) -> bool:
        """Whether the ringing agent answers (counted either way); a miss ends the call."""
        answers = call.scenario.agent_answers
        self._count(call.agent.id, answered=answers)
        if not answers:
            self._finish(call, status="missed", cause="NO_ANSWER", call_status="missed", missed_agent=True)
        return answers

    def _talk(self, call: LiveCall, event: str, answered_at: float) -> None:
        """Both parties connected at `answered_at`: the talk runs until it is over (or a hang-up)."""
        call.state = "in_progress"
        call.answered_at = answered_at
        self._emit(call, event, "answered")
        talk = self._talk_seconds(call)
        if talk is not None:
            self._schedule(call, talk, self._talk_over)

    def _talk_over(self, call: LiveCall) -> None:
        cause = "ALLOTTED_TIMEOUT" if call.timed_out else "NORMAL_CLEARING"
        self._finish(call, status="answered", cause=cause, call_status="completed")

    # --- helpers ---------------------------------------------------------------------

    def _live(self, call_id: str) -> LiveCall:
        call = self._state.calls.get(call_id)
        if call is None:
            raise NotFound("Call not found or already ended")
        return call

    def _ring_seconds(self, call: LiveCall) -> float:
        ring = call.scenario.ring_seconds
        return self._state.config.ring_seconds if ring is None else ring

    def _talk_seconds(self, call: LiveCall) -> float | None:
        """Seconds of talk before the call ends by itself; None = held until hung up."""
        scenario = call.scenario
        talk = None if scenario.hold else scenario.talk_seconds
        if talk is None and not scenario.hold:
            talk = self._state.config.talk_seconds
        if call.call_timeout:
            limit = call.call_timeout * self._state.config.scale
            if talk is None or limit < talk:
                talk, call.timed_out = limit, True
        return talk

    def _schedule(self, call: LiveCall, delay: float, step: Step) -> None:
        call.step += 1
        call.timer = self._scheduler.call_later(delay, self._run_step, call, call.step, step)

    def _run_step(self, call: LiveCall, expected_step: int, step: Step) -> None:
        with self._state.lock:
            if self._state.calls.get(call.call_id) is call and call.step == expected_step:
                step(call)
                self._state.changed.notify_all()

    def _count(self, agent_id: int | None, *, answered: bool) -> None:
        try:
            agent = self._state.agents.get(agent_id)
        except NotFound:  # the agent vanished upstream mid-call
            return
        if answered:
            agent.calls_answered += 1
        else:
            agent.calls_missed += 1

    def _emit(self, call: LiveCall, event: str, call_status: str) -> None:
        # Emitting under the state lock keeps a call's events in the order its steps ran.
        self._webhooks.emit([event_payload(call, event, call_status)])

    def _finish(self, call: LiveCall, *, status: str, cause: str, call_status: str, missed_agent: bool = False) -> None:
        """End the call: drop it from the live calls, write its record, send `hangup`."""
        state = self._state
        ended = clock.now()
        if call.timer is not None:
            call.timer.cancel()
        call.step += 1
        del state.calls[call.call_id]
        start = int(call.created)
        duration = clock.whole_seconds(ended - call.created)
        answered = status == "answered"
        url = recording_url(state.public_url, call.call_id) if answered else None
        record = build_record(
            call_id=call.call_id,
            uuid=call.uuid,
            start=start,
            end=start + duration,
            status=status,
            direction=call.direction,
            answered_seconds=min(duration, clock.whole_seconds(ended - call.answered_at)) if call.answered_at else 0,
            services=call.services,
            client_number=call.customer,
            did_number=call.did_number,
            destination=phones.e164(call.customer),
            hangup_cause=cause,
            agent=call.agent,
            missed_agents=(call.agent,) if missed_agent else (),
            recording_url=url,
            custom_identifier=call.custom_identifier,
        )
        state.records.add(record)
        payload = event_payload(call, "hangup", call_status, end=ended, hangup_cause=cause, recording_url=url)
        self._webhooks.emit([payload])
        state.changed.notify_all()
