"""Everything the sandbox remembers, behind one re-entrant lock (`SandboxState.lock`).

Callers take `state.lock` around any read-modify-write; the small helpers here assume it is
held (they take it again, which an RLock allows). `changed` is a condition on the same lock,
notified whenever something tests may wait for happens (a record, a webhook, a call step).
"""

from __future__ import annotations

import copy
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sandbox import clock, phones
from sandbox.agents import AgentBook
from sandbox.config import SandboxConfig
from sandbox.errors import BadRequest
from sandbox.faults import FaultSet, WebhookFaults
from sandbox.records import AgentRef
from sandbox.recordstore import RecordStore
from sandbox.scheduler import Timer

LOG_LIMIT = 20_000  # entries kept in each log (requests, webhooks, events)


@dataclass
class Scenario:
    """How the next calls to one destination behave (`POST /_control/scenario`)."""

    agent_answers: bool = True
    customer_answers: bool = True
    talk_seconds: float | None = None
    hold: bool = False
    ring_seconds: float | None = None
    times: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise BadRequest(f"unknown scenario keys: {', '.join(unknown)}")
        scenario = cls(**data)
        for name in ("agent_answers", "customer_answers", "hold"):
            if not isinstance(getattr(scenario, name), bool):
                raise BadRequest(f"{name} must be true or false")
        for name in ("talk_seconds", "ring_seconds"):
            value = getattr(scenario, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
                raise BadRequest(f"{name} must be a number of seconds or null")
        times = scenario.times
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
            raise BadRequest("times must be a positive integer or null")
        return scenario

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LiveCall:
    """A call in progress. `step` guards scheduled transitions against stale timers."""

    call_id: str
    uuid: str
    direction: str
    agent: AgentRef
    customer: str  # national digits
    did_number: str
    created: float
    scenario: Scenario
    custom_identifier: str | None = None
    call_timeout: int | None = None
    services: str = "Click to Call"
    state: str = "agent_ringing"
    step: int = 0
    timer: Timer | None = None
    agent_answered_at: float | None = None
    answered_at: float | None = None
    timed_out: bool = False
    monitored_by: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "uuid": self.uuid,
            "state": self.state,
            "direction": self.direction,
            "agent_name": self.agent.name,
            "agent_number": phones.e164(self.agent.number),
            "agent_id": self.agent.id,
            "customer_number": phones.e164(self.customer),
            "did": self.did_number,
            "created_at": clock.stamp(self.created),
            "custom_identifier": self.custom_identifier,
            "monitored_by": [dict(entry) for entry in self.monitored_by],
        }


class SandboxState:
    """The sandbox's data. See the module docstring for the locking rule."""

    def __init__(self, config: SandboxConfig, *, seed: int = 0, seed_agents: bool = True) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.seed = seed
        self.seed_agents = seed_agents
        self.initial_config = config
        self.public_url = "http://127.0.0.1"  # set by the server once it is bound
        self.generation = 0  # bumped by reset(); late work from before a reset is dropped
        self.reset()

    def reset(self) -> None:
        """Back to the initial state (constructor config, default agents, nothing else)."""
        with self.lock:
            self.generation += 1
            self.config = self.initial_config
            self.agents = AgentBook(seed_agents=self.seed_agents)
            self.calls: dict[str, LiveCall] = {}
            self.records = RecordStore()
            self.leads: dict[tuple[str, str], dict[str, Any]] = {}
            self.announcements_log: list[dict[str, Any]] = []
            self.inbound_log: list[dict[str, Any]] = []
            self.request_log: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
            self.webhook_log: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
            self.event_log: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
            self.scenarios: dict[str, Scenario] = {}
            self.faults = FaultSet(self.seed)
            self.webhook_faults = WebhookFaults()
            self.webhook_rng = random.Random(self.seed + 1)
            self.id_rng = random.Random(self.seed + 2)
            self._request_seq = 0
            self.changed.notify_all()

    # --- identifiers -------------------------------------------------------------------

    def new_call_id(self, epoch: float) -> str:
        """A unique `"<epoch seconds>.<6 digits>"`, like Smartflo's."""
        with self.lock:
            while True:
                call_id = f"{int(epoch)}.{self.id_rng.randrange(1_000_000):06d}"
                if call_id not in self.calls and call_id not in self.records:
                    return call_id

    def new_uuid(self) -> str:
        """A 13-hex-digit leg id like `61111f5e708c5`."""
        with self.lock:
            return f"{self.id_rng.getrandbits(52):013x}"

    # --- waiting -----------------------------------------------------------------------

    def notify(self) -> None:
        with self.lock:
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[], Any], timeout: float) -> Any:
        """Wait until `predicate()` (called with the lock held) is truthy; its last value."""
        with self.lock:
            return self.changed.wait_for(predicate, timeout=timeout)

    # --- request log ------------------------------------------------------------------

    def log_request(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self._request_seq += 1
            entry["id"] = self._request_seq
            self.request_log.append(entry)
            self.changed.notify_all()
            return entry

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """Logged /v1 requests, oldest first; `path` matches exactly, or as a prefix if it ends in `*`."""
        with self.lock:
            entries = list(self.request_log)
            if path:
                if path.endswith("*"):
                    entries = [e for e in entries if e["path"].startswith(path[:-1])]
                else:
                    entries = [e for e in entries if e["path"] == path]
            return copy.deepcopy(entries)

    # --- scenarios --------------------------------------------------------------------

    def take_scenario(self, destination: str) -> Scenario:
        """The scenario for a call to `destination` (national digits), using one of its `times`."""
        with self.lock:
            scenario = self.scenarios.get(destination)
            if scenario is None:
                return Scenario()
            if scenario.times is not None:
                scenario.times -= 1
                if scenario.times <= 0:
                    del self.scenarios[destination]
            return copy.copy(scenario)

    # --- summary ----------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "agents": len(self.agents.all()),
                "live_calls": [call.to_json() for call in self.calls.values()],
                "records": len(self.records),
                "leads": len(self.leads),
                "announcements": len(self.announcements_log),
                "inbound_calls": len(self.inbound_log),
                "requests": len(self.request_log),
                "webhooks": len(self.webhook_log),
                "events": len(self.event_log),
                "faults": self.faults.list(),
                "webhook_faults": self.webhook_faults.to_dict(),
                "scenarios": {number: s.to_dict() for number, s in self.scenarios.items()},
                "config": self.config.to_dict(),
            }
