"""The provider endpoints under `/v1`, shaped as Smartflo documents them.

Handlers only translate HTTP into `Sandbox` calls; validation of values lives there. Auth and
fault injection happen before a handler runs (see `sandbox.server`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from sandbox.core import Sandbox
from sandbox.errors import BadRequest, Unauthorized
from sandbox.httpio import Request, Response, Router, json_response

TOKEN_LIFETIME = 3600


def _ok(message: str, **extra: Any) -> Response:
    return json_response({"success": True, "message": message, **extra})


def _whole(value: object) -> int | None:
    """An integer given as a JSON number or a digit string; None if absent or not one."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _text(value: object) -> str:
    return str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""


def _call_id(value: object) -> str:
    """A call_id; the docs type it as a number in places, so `1715235734.129662` may come unquoted."""
    if isinstance(value, float):
        return f"{value:.6f}"
    return _text(value)


class ProviderApi:
    """Routes and handlers of `/v1`. Route names are the fault-injection endpoint names."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.router = Router()
        for method, path, handler, name in (
            ("POST", "/v1/auth/login", self.login, "login"),
            ("POST", "/v1/click_to_call", self.click_to_call, "click_to_call"),
            ("POST", "/v1/call/hangup", self.hangup, "hangup"),
            ("POST", "/v1/call/options", self.call_options, "call_options"),
            ("POST", "/v1/agent", self.add_agent, "agent"),
            ("GET", "/v1/agents", self.agents, "agents"),
            ("GET", "/v1/live_calls", self.live_calls, "live_calls"),
            ("GET", "/v1/call/records", self.call_records, "call_records"),
            ("POST", "/v1/broadcast/lead/{lead_id}", self.broadcast_lead, "broadcast_lead"),
            ("POST", "/v1/c2c_api", self.c2c_api, "c2c_api"),
        ):
            self.router.add(method, path, handler, name)

    def login(self, request: Request) -> Response:
        body = request.json_object()
        if not _text(body.get("email")) or not _text(body.get("password")):
            raise Unauthorized("Invalid email or password")
        token = self.sandbox.config.token
        return json_response(
            {"success": True, "access_token": token, "token_type": "bearer", "expires_in": TOKEN_LIFETIME}
        )

    def click_to_call(self, request: Request) -> Response:
        body = request.json_object()
        if _whole(body.get("async")) != 1:
            raise BadRequest("Synchronous click to call is no longer supported: send async: 1")
        call_timeout = None
        if body.get("call_timeout") not in (None, ""):
            call_timeout = _whole(body["call_timeout"])
            if call_timeout is None or call_timeout <= 0:
                raise BadRequest("call_timeout must be a positive whole number of seconds")
        identifier = body.get("custom_identifier")
        call_id = self.sandbox.click_to_call(
            agent_number=body.get("agent_number"),
            destination_number=body.get("destination_number"),
            caller_id=body.get("caller_id"),
            call_timeout=call_timeout,
            custom_identifier=None if identifier in (None, "") else str(identifier),
        )
        extra = {"call_id": call_id} if _whole(body.get("get_call_id")) == 1 else {}
        return _ok("Originate successfully queued", **extra)

    def hangup(self, request: Request) -> Response:
        call_id = _call_id(request.json_object().get("call_id"))
        if not call_id:
            raise BadRequest("call_id is required")
        self.sandbox.hangup(call_id)
        return _ok("Call hangup successful")

    def call_options(self, request: Request) -> Response:
        body = request.json_object()
        option = _whole(body.get("type"))
        if option is None:
            raise BadRequest("type must be 1 (monitor), 2 (whisper), 3 (barge) or 4 (transfer)")
        message = self.sandbox.call_options(
            option=option,
            call_id=_call_id(body.get("call_id")),
            agent_id=body.get("agent_id"),
            intercom=body.get("intercom", body.get("Intercom")),
        )
        return _ok(message)

    def add_agent(self, request: Request) -> Response:
        body = request.json_object()
        agent = self.sandbox.add_agent(
            name=body.get("name"), follow_me_number=body.get("follow_me_number"), intercom=body.get("intercom")
        )
        return _ok("Agent added successfully", agent_id=str(agent["id"]))

    def agents(self, request: Request) -> Response:
        return json_response(self.sandbox.agents())

    def live_calls(self, request: Request) -> Response:
        calls = self.sandbox.live_calls(agent_number=request.arg("agent_number"), direction=request.arg("direction"))
        return json_response(calls)

    def call_records(self, request: Request) -> Response:
        return json_response(self.sandbox.call_records(request.query, repeat_rows=request.repeat_rows))

    def broadcast_lead(self, request: Request) -> Response:
        self.sandbox.broadcast_lead(unquote(request.params["lead_id"]), request.json_object())
        return _ok("Lead added successfully")

    def c2c_api(self, request: Request) -> Response:
        body = request.json_object()
        self.sandbox.support_call(customer_number=body.get("customer_number"), api_key=body.get("api_key"))
        return _ok("Call initiated successfully")
