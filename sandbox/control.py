"""The control API under `/_control` (no auth): inspect and steer the sandbox from outside.

Every operation here is also a `Sandbox` method, for in-process tests.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from sandbox.core import Sandbox
from sandbox.errors import BadRequest
from sandbox.faults import Fault
from sandbox.httpio import Request, Response, Router, json_response
from sandbox.state import Scenario

OK = {"success": True}


class ControlApi:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.router = Router()
        routes = (
            ("GET", "/_control/state", self.state),
            ("POST", "/_control/reset", self.reset),
            ("GET", "/_control/config", self.get_config),
            ("POST", "/_control/config", self.set_config),
            ("GET", "/_control/requests", self.requests),
            ("DELETE", "/_control/requests", self.clear_requests),
            ("GET", "/_control/faults", self.faults),
            ("POST", "/_control/faults", self.add_faults),
            ("DELETE", "/_control/faults", self.clear_faults),
            ("DELETE", "/_control/faults/{fault_id}", self.remove_fault),
            ("GET", "/_control/webhook_faults", self.webhook_faults),
            ("POST", "/_control/webhook_faults", self.set_webhook_faults),
            ("DELETE", "/_control/webhook_faults", self.clear_webhook_faults),
            ("GET", "/_control/webhooks", self.webhooks),
            ("DELETE", "/_control/webhooks", self.clear_webhooks),
            ("GET", "/_control/events", self.events),
            ("GET", "/_control/scenario", self.scenarios),
            ("POST", "/_control/scenario", self.set_scenario),
            ("DELETE", "/_control/scenario", self.clear_scenarios),
            ("GET", "/_control/agents", self.agents),
            ("POST", "/_control/agents/{agent_id}/block", self.block_agent),
            ("DELETE", "/_control/agents/{agent_id}", self.remove_agent),
            ("GET", "/_control/live_calls", self.live_calls),
            ("POST", "/_control/calls/{call_id}/hangup", self.hangup),
            ("POST", "/_control/records/generate", self.generate_records),
            ("POST", "/_control/records", self.insert_records),
            ("GET", "/_control/records/count", self.record_count),
            ("GET", "/_control/records/{call_id}", self.record),
            ("PATCH", "/_control/records/{call_id}", self.patch_record),
            ("GET", "/_control/leads", self.leads),
            ("GET", "/_control/announcements", self.announcements),
            ("POST", "/_control/inbound_call", self.inbound_call),
            ("GET", "/_control/inbound_calls", self.inbound_calls),
            ("POST", "/_control/ring_agent", self.ring_agent),
        )
        for method, path, handler in routes:
            self.router.add(method, path, handler)

    def state(self, request: Request) -> Response:
        return json_response(self.sandbox.summary())

    def reset(self, request: Request) -> Response:
        self.sandbox.reset()
        return json_response(OK)

    def get_config(self, request: Request) -> Response:
        return json_response(self.sandbox.config.to_dict())

    def set_config(self, request: Request) -> Response:
        return json_response(self.sandbox.configure(**request.json_object()))

    def requests(self, request: Request) -> Response:
        return json_response(self.sandbox.requests(request.arg("path")))

    def clear_requests(self, request: Request) -> Response:
        self.sandbox.clear_requests()
        return json_response(OK)

    def faults(self, request: Request) -> Response:
        return json_response(self.sandbox.faults())

    def add_faults(self, request: Request) -> Response:
        """One fault object, or a list of them (all validated before any is added)."""
        data = request.json_body()
        items = data if isinstance(data, list) else [data]
        if not all(isinstance(item, dict) for item in items):
            raise BadRequest("send a fault object or a list of fault objects")
        for item in items:  # validate the whole batch before adding any
            Fault.from_dict(item)
        added = [self.sandbox.add_fault(**item) for item in items]
        return json_response(added if isinstance(data, list) else added[0])

    def clear_faults(self, request: Request) -> Response:
        self.sandbox.clear_faults()
        return json_response(OK)

    def remove_fault(self, request: Request) -> Response:
        fault_id = request.params["fault_id"]
        if not fault_id.isdigit():
            raise BadRequest("fault id must be a number")
        self.sandbox.remove_fault(int(fault_id))
        return json_response(OK)

    def webhook_faults(self, request: Request) -> Response:
        return json_response(self.sandbox.webhook_faults())

    def set_webhook_faults(self, request: Request) -> Response:
        return json_response(self.sandbox.set_webhook_faults(**request.json_object()))

    def clear_webhook_faults(self, request: Request) -> Response:
        return json_response(self.sandbox.set_webhook_faults())

    def webhooks(self, request: Request) -> Response:
        return json_response(self.sandbox.webhooks(call_id=request.arg("call_id"), event=request.arg("event")))

    def clear_webhooks(self, request: Request) -> Response:
        self.sandbox.clear_webhooks()
        return json_response(OK)

    def events(self, request: Request) -> Response:
        return json_response(self.sandbox.events(call_id=request.arg("call_id")))

    def scenarios(self, request: Request) -> Response:
        return json_response(self.sandbox.scenarios())

    def set_scenario(self, request: Request) -> Response:
        body = request.json_object()
        destination = body.pop("destination_number", None)
        unknown = sorted(set(body) - set(Scenario.__dataclass_fields__))
        if unknown:
            raise BadRequest(f"unknown scenario keys: {', '.join(unknown)}")
        return json_response(self.sandbox.set_scenario(destination, **body))

    def clear_scenarios(self, request: Request) -> Response:
        self.sandbox.clear_scenarios()
        return json_response(OK)

    def agents(self, request: Request) -> Response:
        return json_response(self.sandbox.agents())

    def block_agent(self, request: Request) -> Response:
        blocked = request.json_object(required=False).get("blocked")
        if blocked is not None and not isinstance(blocked, bool):
            raise BadRequest("blocked must be true, false or absent (toggle)")
        return json_response(self.sandbox.block_agent(request.params["agent_id"], blocked))

    def remove_agent(self, request: Request) -> Response:
        return json_response(self.sandbox.remove_agent(request.params["agent_id"]))

    def live_calls(self, request: Request) -> Response:
        return json_response(self.sandbox.live_calls())

    def hangup(self, request: Request) -> Response:
        self.sandbox.hangup(unquote(request.params["call_id"]))
        return json_response(OK)

    def generate_records(self, request: Request) -> Response:
        body = request.json_object()
        unknown = sorted(set(body) - {"count", "from", "to", "seed"})
        if unknown:
            raise BadRequest(f"unknown keys: {', '.join(unknown)}")
        added = self.sandbox.generate_records(
            count=body.get("count", 100), start=body.get("from"), end=body.get("to"), seed=body.get("seed", 0)
        )
        return json_response({"success": True, "generated": added, "count": self.sandbox.record_count()})

    def insert_records(self, request: Request) -> Response:
        data = request.json_body()
        records: Any = data.get("records") if isinstance(data, dict) and "records" in data else data
        if isinstance(records, dict):
            records = [records]
        call_ids = self.sandbox.insert_records(records)
        return json_response({"success": True, "call_ids": call_ids}, status=201)

    def record_count(self, request: Request) -> Response:
        return json_response({"count": self.sandbox.record_count()})

    def record(self, request: Request) -> Response:
        call_id = unquote(request.params["call_id"])
        record = self.sandbox.record(call_id)
        if record is None:
            return json_response({"success": False, "message": f"No record with call_id {call_id}"}, 404)
        return json_response(record)

    def patch_record(self, request: Request) -> Response:
        return json_response(self.sandbox.patch_record(unquote(request.params["call_id"]), **request.json_object()))

    def leads(self, request: Request) -> Response:
        return json_response(self.sandbox.leads())

    def announcements(self, request: Request) -> Response:
        return json_response(self.sandbox.announcements(request.arg("phone")))

    def inbound_call(self, request: Request) -> Response:
        body = request.json_object()
        return json_response(
            self.sandbox.inbound_call(
                caller_id_number=body.get("caller_id_number"), call_to_number=body.get("call_to_number")
            )
        )

    def ring_agent(self, request: Request) -> Response:
        body = request.json_object()
        unknown = sorted(set(body) - {"caller_id_number", "agent"})
        if unknown:
            raise BadRequest(f"unknown keys: {', '.join(unknown)}")
        call_id = self.sandbox.ring_agent(caller_id_number=body.get("caller_id_number"), agent=body.get("agent"))
        return json_response({"success": True, "call_id": call_id})

    def inbound_calls(self, request: Request) -> Response:
        return json_response(self.sandbox.inbound_calls())
