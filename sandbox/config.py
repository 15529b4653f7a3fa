"""Run-time settings of the sandbox, changeable while it runs (`POST /_control/config`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sandbox.errors import BadRequest

DEFAULT_TOKEN = "sandbox-token"
DEFAULT_DID = "918062000000"
_OPTIONAL_TEXT = ("webhook_url", "webhook_token", "dialplan_url", "dialplan_token")
_REQUIRED_TEXT = ("token", "c2c_api_key", "otp_lead_id", "did_number")
_SECONDS = ("ring_seconds", "talk_seconds", "dialplan_timeout", "hang_seconds")


@dataclass(frozen=True)
class SandboxConfig:
    """Immutable settings snapshot; `updated()` returns a validated copy."""

    token: str = DEFAULT_TOKEN
    webhook_url: str | None = None
    webhook_token: str | None = None
    dialplan_url: str | None = None
    dialplan_token: str | None = None
    c2c_api_key: str = "sandbox-c2c-key"
    otp_lead_id: str = "sandbox-lead"
    ring_seconds: float = 2.0
    talk_seconds: float = 20.0
    dialplan_timeout: float = 3.0
    hang_seconds: float = 30.0
    time_scale: float | None = None
    did_number: str = DEFAULT_DID

    @property
    def scale(self) -> float:
        """Sandbox seconds per provider second, applied to `call_timeout`.

        Defaults to `talk_seconds / 20` so the stock 20 s talk is real time and a test server
        with `talk_seconds=0.3` runs a `call_timeout` of 20 in 0.3 s.
        """
        if self.time_scale is not None:
            return self.time_scale
        return max(self.talk_seconds, 0.001) / 20.0

    def updated(self, **changes: Any) -> SandboxConfig:
        """A copy with `changes` applied; BadRequest names the first invalid setting."""
        clean: dict[str, Any] = {}
        for name, value in changes.items():
            if name in _OPTIONAL_TEXT:
                if value is not None and not isinstance(value, str):
                    raise BadRequest(f"{name} must be a string or null")
                clean[name] = value or None
            elif name in _REQUIRED_TEXT:
                if not isinstance(value, str) or not value:
                    raise BadRequest(f"{name} must be a non-empty string")
                clean[name] = value
            elif name in _SECONDS:
                clean[name] = _seconds(name, value)
            elif name == "time_scale":
                clean[name] = None if value is None else _seconds(name, value, positive=True)
            else:
                raise BadRequest(f"unknown setting {name!r}")
        return dataclasses.replace(self, **clean)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["scale"] = self.scale
        return data


def _seconds(name: str, value: Any, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"{name} must be a number of seconds")
    if value < 0 or (positive and value == 0):
        raise BadRequest(f"{name} must be {'positive' if positive else 'zero or more'}")
    return float(value)
