"""Each operation sends exactly the request the provider documentation describes.

These use httpx.MockTransport to see the wire request; behaviour against a live server is in
test_client_sandbox.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from contactcenter.smartflo import SmartfloClient, SmartfloInvalidRequest

BASE = "https://api-smartflo.tatateleservices.com/v1"
TOKEN = "Bearer eyJ.test.token"


class Recorder:
    def __init__(self, answer=None, status: int = 200) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = {"success": True, "message": "ok"} if answer is None else answer
        self.status = status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json=self.answer)

    @property
    def only(self) -> httpx.Request:
        assert len(self.requests) == 1
        return self.requests[0]

    def body(self) -> dict:
        return json.loads(self.only.content)


@pytest.fixture
def wire():
    return Recorder()


@pytest.fixture
def api(wire):
    with SmartfloClient(base_url=BASE, token=TOKEN, transport=httpx.MockTransport(wire), sleep=lambda s: None) as c:
        yield c


def assert_json_post(request: httpx.Request, path: str) -> None:
    assert request.method == "POST"
    assert request.url.raw_path.decode().split("?")[0] == "/v1" + path
    assert request.headers["Authorization"] == TOKEN  # verbatim
    assert request.headers["accept"] == "application/json"
    assert request.headers["content-type"] == "application/json"


def test_click_to_call_sends_documented_fields_and_always_async(api, wire):
    wire.answer = {"success": True, "message": "Originate successfully queued", "call_id": "1715235734.129662"}
    result = api.click_to_call(
        agent_number="0506000",
        destination_number="+91 98765-43210",
        caller_id="08069000000",
        call_timeout=32,
        custom_identifier="c0ffee",
    )
    assert_json_post(wire.only, "/click_to_call")
    assert wire.body() == {
        "agent_number": "0506000",
        "destination_number": "9876543210",
        "caller_id": 8069000000,
        "async": 1,
        "call_timeout": 32,
        "get_call_id": 1,
        "custom_identifier": "c0ffee",
    }
    assert result.call_id == "1715235734.129662"
    assert result.message == "Originate successfully queued"


def test_click_to_call_minimal_body(api, wire):
    api.click_to_call(agent_number="9876500001", destination_number="09876543210", get_call_id=False)
    assert wire.body() == {"agent_number": "9876500001", "destination_number": "9876543210", "async": 1}


def test_broadcast_lead_body(api, wire):
    api.broadcast_lead(lead_id="list 7/a", phone="+919876543210", otp="004711")
    request = wire.only
    assert_json_post(request, "/broadcast/lead/list%207%2Fa")
    assert wire.body() == {"field_0": "9876543210", "field_5": "004711", "duplicate_option": "overwrite"}


def test_support_call_body(api, wire):
    api.support_call(customer_number="098765 43210", api_key="key-123")
    assert_json_post(wire.only, "/c2c_api")
    assert wire.body() == {"customer_number": "9876543210", "api_key": "key-123"}


def test_hangup_body(api, wire):
    wire.answer = {"success": True, "message": "Call hangup successful"}
    result = api.hangup(call_id="1715235734.129662")
    assert_json_post(wire.only, "/call/hangup")
    assert wire.body() == {"call_id": "1715235734.129662"}
    assert result.success and result.message == "Call hangup successful"


def test_add_agent_body_uses_integers_as_documented(api, wire):
    wire.answer = {"success": True, "message": "Agent added successfully", "agent_id": "05063330001"}
    result = api.add_agent(name="Test Agent", follow_me_number="+91 98765 00009", intercom="1234")
    assert_json_post(wire.only, "/agent")
    assert wire.body() == {"name": "Test Agent", "follow_me_number": 9876500009, "intercom": 1234}
    assert result.agent_id == "05063330001"


def test_add_agent_without_intercom(api, wire):
    wire.answer = {"success": True, "message": "Agent added successfully", "agent_id": 42}
    assert api.add_agent(name="A", follow_me_number="9876500009").agent_id == "42"
    assert "intercom" not in wire.body()


def test_transfer_body(api, wire):
    wire.answer = {"success": True, "message": "Redirect successful"}
    api.transfer(call_id="1715235734.129662", intercom="1002", agent_id="0506")
    assert_json_post(wire.only, "/call/options")
    assert wire.body() == {"type": 4, "call_id": "1715235734.129662", "intercom": "1002", "agent_id": "0506"}


def test_transfer_to_a_mobile_sends_ten_digits(api, wire):
    api.transfer(call_id="1.2", intercom="+91 98765 43210")
    assert wire.body() == {"type": 4, "call_id": "1.2", "intercom": "9876543210"}


@pytest.mark.parametrize(("method", "option"), [("monitor", 1), ("whisper", 2), ("barge", 3)])
def test_supervision_options(api, wire, method, option):
    getattr(api, method)(call_id="1715235734.129662", agent_id="0506000")
    assert_json_post(wire.only, "/call/options")
    assert wire.body() == {"type": option, "call_id": "1715235734.129662", "agent_id": "0506000"}


def test_list_agents_is_a_get_without_body(api, wire):
    wire.answer = []
    assert api.list_agents() == []
    request = wire.only
    assert request.method == "GET"
    assert request.url.path == "/v1/agents"
    assert request.headers["Authorization"] == TOKEN
    assert request.content == b""


def test_live_calls_passes_filters(api, wire):
    wire.answer = []
    api.live_calls(agent_number="9876500001")
    assert wire.only.url.path == "/v1/live_calls"
    assert dict(wire.only.url.params) == {"agent_number": "9876500001"}


def test_call_records_query_converts_any_zone_to_ist(api, wire):
    wire.answer = {"count": 0, "limit": 50, "size": 0, "page": 2, "results": []}
    utc_start = datetime(2024, 5, 9, 6, 22, 14, tzinfo=UTC)  # 11:52:14 IST
    new_york_end = datetime(2024, 5, 9, 14, 0, 0, tzinfo=timezone(timedelta(hours=-4)))  # 23:30 IST
    api.call_records(
        from_date=utc_start,
        to_date=new_york_end,
        page=2,
        limit=50,
        agents="345623",
        direction="Inbound",
        call_type="missed",
        duration=30,
        operator=">=",
        department=["sales", "support"],
        services="Click to Call",
        callerid="12345678",
        call_id="1627373566.350603",
        ivr=["ivr1"],
        destination="sales",
    )
    request = wire.only
    assert request.method == "GET"
    assert request.url.path == "/v1/call/records"
    params = request.url.params
    assert params["from_date"] == "2024-05-09 11:52:14"
    assert params["to_date"] == "2024-05-09 23:30:00"
    assert params["page"] == "2"
    assert params["limit"] == "50"
    assert params["agents"] == "345623"
    assert params["direction"] == "Inbound"
    assert params["call_type"] == "m"
    assert params["duration"] == "30"
    assert params["operator"] == ">="
    assert params.get_list("department") == ["sales", "support"]
    assert params.get_list("ivr") == ["ivr1"]
    assert params["services"] == "Click to Call"
    assert params["callerid"] == "12345678"
    assert params["call_id"] == "1627373566.350603"
    assert params["destination"] == "sales"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.click_to_call(agent_number="", destination_number="9876543210"), "agent_number"),
        (lambda c: c.click_to_call(agent_number="1001", destination_number="12345"), "destination_number"),
        (lambda c: c.click_to_call(agent_number="1001", destination_number="98765abc10"), "destination_number"),
        (lambda c: c.click_to_call(agent_number="1001", destination_number="+1234567890123456"), "destination_number"),
        (
            lambda c: c.click_to_call(agent_number="1001", destination_number="9876543210", call_timeout=0),
            "call_timeout",
        ),
        (lambda c: c.broadcast_lead(lead_id="", phone="9876543210", otp="123456"), "lead_id"),
        (lambda c: c.broadcast_lead(lead_id="7", phone="+14155550123", otp="123456"), "phone"),
        (lambda c: c.broadcast_lead(lead_id="7", phone="9876543210", otp="12ab"), "otp"),
        (lambda c: c.support_call(customer_number="9876543210", api_key=""), "api_key"),
        (lambda c: c.support_call(customer_number="98765", api_key="k"), "customer_number"),
        (lambda c: c.hangup(call_id=" "), "call_id"),
        (lambda c: c.add_agent(name="", follow_me_number="9876543210"), "name"),
        (lambda c: c.add_agent(name="A", follow_me_number="123"), "follow_me_number"),
        (lambda c: c.add_agent(name="A", follow_me_number="9876543210", intercom="12"), "intercom"),
        (lambda c: c.add_agent(name="A", follow_me_number="9876543210", intercom="0123"), "intercom"),
        (lambda c: c.transfer(call_id="1.2", intercom=""), "intercom"),
        (lambda c: c.monitor(call_id="1.2", agent_id=""), "agent_id"),
        (lambda c: c.call_records(from_date="2024-05-09", to_date="2024-05-10 00:00:00"), "from_date"),
        (lambda c: c.call_records(from_date=datetime(2024, 5, 9), to_date="2024-05-10 00:00:00"), "from_date"),
        (lambda c: c.call_records(from_date="2024-05-11 00:00:00", to_date="2024-05-10 00:00:00"), "from_date"),
        (lambda c: c.call_records(from_date="2024-05-09 00:00:00", to_date="2024-05-10 00:00:00", page=0), "page"),
        (
            lambda c: c.call_records(from_date="2024-05-09 00:00:00", to_date="2024-05-10 00:00:00", call_type="x"),
            "call_type",
        ),
        (
            lambda c: c.call_records(from_date="2024-05-09 00:00:00", to_date="2024-05-10 00:00:00", operator="=="),
            "operator",
        ),
        (
            lambda c: c.call_records(from_date="2024-05-09 00:00:00", to_date="2024-05-10 00:00:00", direction="up"),
            "direction",
        ),
        (
            lambda c: c.call_records(from_date="2024-05-09 00:00:00", to_date="2024-05-10 00:00:00", duration="-1"),
            "duration",
        ),
    ],
)
def test_invalid_input_raises_before_any_request(api, wire, call, field):
    with pytest.raises(SmartfloInvalidRequest) as info:
        call(api)
    assert info.value.field == field
    assert wire.requests == []


def test_unknown_record_filter_is_refused(api, wire):
    with pytest.raises(SmartfloInvalidRequest, match="colour"):
        api.call_records(from_date="2024-05-09 00:00:00", to_date="2024-05-10 00:00:00", colour="red")
    assert wire.requests == []


def test_repr_never_shows_the_token(api):
    assert TOKEN not in repr(api)
    assert "eyJ" not in repr(api)
