"""Fault injection for the provider endpoints and for webhook delivery.

A fault is chosen per request *before* the request is handled and is written into the request
log together with the request, so a request that then times out or fails is still visible.
All randomness comes from one seeded `random.Random`, so a run is repeatable.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

from sandbox.errors import BadRequest

ENDPOINTS = frozenset(
    {
        "click_to_call",
        "call_records",
        "agents",
        "agent",
        "hangup",
        "call_options",
        "live_calls",
        "broadcast_lead",
        "c2c_api",
        "login",
        "*",
    }
)
_RATES = ("error_rate", "timeout_rate", "malformed_rate", "repeat_rows")


@dataclass
class Fault:
    """One fault rule. `times` counts the remaining requests it applies to (None = forever)."""

    endpoint: str = "*"
    latency: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    timeout_rate: float = 0.0
    malformed_rate: float = 0.0
    status: int | None = None
    times: int | None = None
    repeat_rows: float = 0.0
    process: bool = False
    retry_after: int | None = None
    id: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        """Validate a control-API fault object; BadRequest names the bad key."""
        if not isinstance(data, dict):
            raise BadRequest("a fault must be a JSON object")
        known = {f for f in cls.__dataclass_fields__ if f != "id"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BadRequest(f"unknown fault keys: {', '.join(unknown)}")
        fault = cls(**data)
        fault._validate()
        return fault

    def _validate(self) -> None:
        if self.endpoint not in ENDPOINTS:
            raise BadRequest(f"endpoint must be one of {', '.join(sorted(ENDPOINTS))}")
        if not _is_number(self.latency) or self.latency < 0:
            raise BadRequest("latency must be a number of seconds >= 0")
        for name in _RATES:
            value = getattr(self, name)
            if not _is_number(value) or not 0 <= value <= 1:
                raise BadRequest(f"{name} must be between 0 and 1")
        for name in ("error_status", "status"):
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or not 100 <= value <= 599):
                raise BadRequest(f"{name} must be an HTTP status code")
        if self.times is not None and (not _is_int(self.times) or self.times < 1):
            raise BadRequest("times must be a positive integer or null")
        if self.retry_after is not None and (not _is_int(self.retry_after) or self.retry_after < 0):
            raise BadRequest("retry_after must be a whole number of seconds")
        if not isinstance(self.process, bool):
            raise BadRequest("process must be true or false")

    def matches(self, endpoint: str) -> bool:
        return self.endpoint in ("*", endpoint)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FaultDecision:
    """What to do to one request."""

    latency: float = 0.0
    action: str | None = None  # "timeout" | "error" | "malformed" | "status"
    status: int | None = None
    repeat_rows: float = 0.0
    process: bool = False
    retry_after: int | None = None

    def describe(self) -> str | None:
        """A short label for the request log, e.g. `"latency 0.2s, error 503"`."""
        parts = []
        if self.latency:
            parts.append(f"latency {self.latency:g}s")
        if self.action == "timeout":
            parts.append("timeout")
        elif self.action == "malformed":
            parts.append("malformed")
        elif self.action in ("error", "status"):
            parts.append(f"{self.action} {self.status}")
        if self.repeat_rows:
            parts.append(f"repeat_rows {self.repeat_rows:g}")
        if self.process and self.action:
            parts.append("processed")
        return ", ".join(parts) or None


class FaultSet:
    """The active fault rules. Not thread-safe: the state lock guards it."""

    def __init__(self, seed: int = 0) -> None:
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)
        self._next_id = 1

    def add(self, fault: Fault) -> Fault:
        fault.id = self._next_id
        self._next_id += 1
        self._faults.append(fault)
        return fault

    def remove(self, fault_id: int) -> bool:
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fault_id]
        return len(self._faults) != before

    def clear(self) -> None:
        self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        return [f.to_dict() for f in self._faults]

    def decide(self, endpoint: str) -> FaultDecision | None:
        """Apply every matching rule in the order added; the first one that fires decides.

        Latencies add up. Each matching rule with `times` is used up by this request whether or
        not its random draw fired. Random numbers are drawn only for non-zero rates.
        """
        decision = FaultDecision()
        matched = False
        for fault in list(self._faults):
            if not fault.matches(endpoint):
                continue
            matched = True
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
            decision.latency += fault.latency
            if fault.repeat_rows and not decision.repeat_rows:
                decision.repeat_rows = fault.repeat_rows
            if decision.action is None:
                self._fire(fault, decision)
        return decision if matched else None

    def _fire(self, fault: Fault, decision: FaultDecision) -> None:
        if fault.status is not None:
            decision.action, decision.status = "status", fault.status
        elif fault.timeout_rate and self._rng.random() < fault.timeout_rate:
            decision.action = "timeout"
        elif fault.error_rate and self._rng.random() < fault.error_rate:
            decision.action, decision.status = "error", fault.error_status
        elif fault.malformed_rate and self._rng.random() < fault.malformed_rate:
            decision.action = "malformed"
        if decision.action:
            decision.process = fault.process
            decision.retry_after = fault.retry_after


@dataclass
class WebhookFaults:
    """How webhook delivery misbehaves: duplicates, reordering, delay."""

    duplicate_rate: float = 0.0
    reorder: bool = False
    reorder_rate: float = 0.5
    reorder_delay: float = 0.3
    delay: float = 0.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WebhookFaults:
        if not isinstance(data, dict):
            raise BadRequest("webhook faults must be a JSON object")
        unknown = sorted(set(data) - {"duplicate_rate", "reorder", "reorder_rate", "reorder_delay", "delay"})
        if unknown:
            raise BadRequest(f"unknown webhook fault keys: {', '.join(unknown)}")
        faults = cls(**data)
        for name in ("duplicate_rate", "reorder_rate"):
            value = getattr(faults, name)
            if not _is_number(value) or not 0 <= value <= 1:
                raise BadRequest(f"{name} must be between 0 and 1")
        for name in ("reorder_delay", "delay"):
            value = getattr(faults, name)
            if not _is_number(value) or value < 0:
                raise BadRequest(f"{name} must be a number of seconds >= 0")
        if not isinstance(faults.reorder, bool):
            raise BadRequest("reorder must be true or false")
        return faults

    def to_dict(self) -> dict[str, Any]:
        return {
            "duplicate_rate": self.duplicate_rate,
            "reorder": self.reorder,
            "reorder_rate": self.reorder_rate,
            "reorder_delay": self.reorder_delay,
            "delay": self.delay,
        }


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
