"""Writes for calls: placing and acting on calls, the status state machine, call events."""

from calls.services.actions import (
    CallActionFailed,
    call_hangup,
    call_place,
    call_supervise,
    call_transfer,
    call_wrap_up,
    inbound_call_hangup,
    inbound_call_transfer,
    inbound_call_wrap_up,
)
from calls.services.events import call_event_ingest
from calls.services.state import IllegalTransition, call_can_transition, call_transition

__all__ = [
    "CallActionFailed",
    "IllegalTransition",
    "call_can_transition",
    "call_event_ingest",
    "call_hangup",
    "call_place",
    "call_supervise",
    "call_transfer",
    "call_transition",
    "call_wrap_up",
    "inbound_call_hangup",
    "inbound_call_transfer",
    "inbound_call_wrap_up",
]
from calls.services.records import (
    LeaseLost,
    SyncError,
    SyncProgress,
    WindowIncomplete,
    call_records_sync,
)

__all__ += ["LeaseLost", "SyncError", "SyncProgress", "WindowIncomplete", "call_records_sync"]
