"""API Dialplan (number masking): `POST /_control/inbound_call` against a local dialplan API."""

from __future__ import annotations

import re

import pytest

CALLER = "9845012345"
MASKING = "8069000111"
TRANSFER = [{"transfer": {"type": "number", "data": ["9876500002"]}}]


@pytest.fixture
def dialplan(sandbox, receiver):
    sandbox.configure(dialplan_url=receiver.url, dialplan_token="dp-secret", dialplan_timeout=0.3)
    return receiver


def inbound(control, caller=CALLER, called=MASKING):
    response = control.post("/inbound_call", json={"caller_id_number": caller, "call_to_number": called})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_transfer_answer_connects_the_call(sandbox, control, dialplan):
    dialplan.body = TRANSFER
    outcome = inbound(control, caller="+91 98450 12345")
    assert outcome["outcome"] == "connected"
    assert outcome["connected_to"] == "9876500002"

    (request,) = dialplan.received()
    assert request.headers["authorization"] == "Bearer dp-secret"
    body = request.json()
    assert set(body) == {"uuid", "call_id", "call_to_number", "caller_id_number", "start_stamp"}
    assert body["call_id"] == outcome["call_id"]
    assert re.fullmatch(r"\d{10}\.\d{6}", body["call_id"])
    assert body["call_to_number"] == "+91-8069000111"
    assert body["caller_id_number"] == "+919845012345"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", body["start_stamp"])

    record = sandbox.record(outcome["call_id"])
    assert (record["direction"], record["status"]) == ("inbound", "answered")
    assert record["destination"] == "+919876500002"
    assert record["agent_name"] == "Vikram Singh"
    assert record["did_number"] == "918069000111"
    assert record["client_number"] == "+919845012345"


@pytest.mark.parametrize(
    ("status", "body", "delay", "reason"),
    [
        (404, {"detail": "no rule"}, 0, "http 404"),
        (500, TRANSFER, 0, "http 500"),
        (200, TRANSFER, 1.0, "timeout"),
        (200, b"<html>ok</html>", 0, "bad body"),
        (200, [], 0, "bad body"),
        (200, {"transfer": {"type": "number", "data": ["9876500002"]}}, 0, "bad body"),
        (200, [{"transfer": {"type": "queue", "data": ["9876500002"]}}], 0, "bad body"),
        (200, [{"transfer": {"type": "number", "data": ["+919876500002"]}}], 0, "bad body"),
        (200, [{"transfer": {"type": "number", "data": []}}], 0, "bad body"),
    ],
)
def test_anything_but_a_transfer_answer_runs_the_failover(sandbox, control, dialplan, status, body, delay, reason):
    dialplan.status, dialplan.body, dialplan.delay = status, body, delay
    outcome = inbound(control)
    assert outcome["outcome"] == "failover"
    assert outcome["reason"].startswith(reason)
    assert "connected_to" not in outcome
    record = sandbox.record(outcome["call_id"])
    assert (record["direction"], record["status"], record["destination"]) == ("inbound", "missed", "Failover")
    assert reason in record["notes"]


def test_a_refused_connection_runs_the_failover(sandbox, control):
    sandbox.configure(dialplan_url="http://127.0.0.1:9/resolve")
    outcome = inbound(control)
    assert outcome["outcome"] == "failover" and outcome["reason"].startswith("connection error")


def test_without_a_dialplan_url_the_failover_runs(control):
    assert inbound(control)["reason"] == "no dialplan_url configured"


def test_no_token_means_no_authorization_header(sandbox, control, dialplan):
    sandbox.configure(dialplan_token=None)
    dialplan.body = TRANSFER
    inbound(control)
    assert "authorization" not in dialplan.received()[0].headers


def test_inbound_calls_are_listed_and_validated(sandbox, control, dialplan):
    dialplan.body = TRANSFER
    inbound(control)
    assert [c["outcome"] for c in control.get("/inbound_calls").json()] == ["connected"]
    bad = control.post("/inbound_call", json={"caller_id_number": "12", "call_to_number": MASKING})
    assert bad.status_code == 400 and "caller_id_number" in bad.json()["message"]
    bad = control.post("/inbound_call", json={"caller_id_number": CALLER, "call_to_number": "80690"})
    assert bad.status_code == 400 and "call_to_number" in bad.json()["message"]


def test_the_python_api_does_the_same(sandbox, dialplan):
    dialplan.body = TRANSFER
    assert sandbox.inbound_call(caller_id_number=CALLER, call_to_number=MASKING)["outcome"] == "connected"
