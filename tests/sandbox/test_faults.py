"""Fault injection (`/_control/faults`) and the request log that records it."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.sandbox.conftest import CUSTOMER


def test_latency_delays_the_answer(sandbox, api):
    sandbox.add_fault(endpoint="agents", latency=0.3)
    started = time.monotonic()
    assert api.get("/agents").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    api.get("/live_calls")
    assert time.monotonic() - started < 0.3


@pytest.mark.parametrize("status", [500, 502, 503])
def test_error_rate_one_always_fails_with_the_given_status(sandbox, api, status):
    sandbox.add_fault(endpoint="agents", error_rate=1.0, error_status=status)
    response = api.get("/agents")
    assert response.status_code == status
    assert response.json()["success"] is False


def test_error_rate_is_random_but_repeatable_for_a_seed(sandbox, api):
    def pattern():
        sandbox.reset()
        sandbox.add_fault(endpoint="agents", error_rate=0.5)
        return [api.get("/agents").status_code for _ in range(20)]

    first = pattern()
    assert set(first) == {200, 503}
    assert pattern() == first


def test_a_timeout_holds_the_request_so_a_short_client_timeout_fires(sandbox, api):
    sandbox.add_fault(endpoint="click_to_call", timeout_rate=1.0, times=1)
    body = {"agent_number": "1001", "destination_number": CUSTOMER, "async": 1}
    with pytest.raises(httpx.ReadTimeout):
        api.post("/click_to_call", json=body, timeout=0.3)
    (logged,) = sandbox.requests(path="/v1/click_to_call")
    assert logged["fault"] == "timeout"
    assert logged["json"] == body
    assert api.get("/live_calls").json() == []  # the held request had no effect
    assert api.post("/click_to_call", json=body).status_code == 200  # times=1 is used up


def test_a_timeout_with_process_takes_effect_before_the_answer_is_lost(sandbox, api):
    sandbox.add_fault(endpoint="click_to_call", timeout_rate=1.0, process=True)
    with pytest.raises(httpx.ReadTimeout):
        api.post(
            "/click_to_call", json={"agent_number": "1001", "destination_number": CUSTOMER, "async": 1}, timeout=0.3
        )
    assert len(api.get("/live_calls").json()) == 1
    assert sandbox.requests(path="/v1/click_to_call")[0]["fault"] == "timeout, processed"


def test_malformed_answers_200_with_a_body_that_is_not_json(sandbox, api):
    sandbox.add_fault(endpoint="live_calls", malformed_rate=1.0)
    response = api.get("/live_calls")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_a_fixed_status_with_retry_after(sandbox, api):
    sandbox.add_fault(endpoint="click_to_call", status=429, retry_after=2)
    response = api.post("/click_to_call", json={})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.json() == {"success": False, "message": "Injected fault: HTTP 429"}


def test_times_limits_a_fault_to_the_next_n_requests(sandbox, api):
    sandbox.add_fault(endpoint="agents", error_rate=1.0, times=2)
    assert [api.get("/agents").status_code for _ in range(3)] == [503, 503, 200]
    assert sandbox.faults() == []


def test_a_wildcard_fault_hits_every_endpoint_and_a_named_one_only_its_own(sandbox, api):
    sandbox.add_fault(endpoint="agents", status=418)
    assert api.get("/agents").status_code == 418
    assert api.get("/live_calls").status_code == 200
    sandbox.add_fault(endpoint="*", status=500)
    assert api.get("/live_calls").status_code == 500
    assert api.get("/agents").status_code == 418  # first matching rule decides


def test_repeat_rows_replaces_the_start_of_a_page_with_the_end_of_the_previous_one(sandbox, api):
    sandbox.generate_records(count=30, start="2024-05-01 00:00:00", end="2024-05-02 00:00:00", seed=9)
    params = {"from_date": "2024-05-01 00:00:00", "to_date": "2024-05-02 00:00:00", "limit": 10}
    page1 = [r["call_id"] for r in api.get("/call/records", params={**params, "page": 1}).json()["results"]]
    clean2 = [r["call_id"] for r in api.get("/call/records", params={**params, "page": 2}).json()["results"]]
    sandbox.add_fault(endpoint="call_records", repeat_rows=0.5)
    assert [r["call_id"] for r in api.get("/call/records", params={**params, "page": 1}).json()["results"]] == page1
    page2 = api.get("/call/records", params={**params, "page": 2}).json()
    ids = [r["call_id"] for r in page2["results"]]
    assert (page2["count"], page2["size"]) == (30, 10)
    assert ids[:5] == page1[5:]
    assert ids[5:] == clean2[5:]
    assert sandbox.requests(path="/v1/call/records")[-1]["fault"] == "repeat_rows 0.5"


def test_the_request_is_logged_before_the_fault_with_the_token_redacted(sandbox, api):
    sandbox.add_fault(endpoint="broadcast_lead", error_rate=1.0)
    body = {"field_0": "9845012345", "field_5": "123456", "duplicate_option": "overwrite"}
    assert api.post("/broadcast/lead/list-1?x=1", json=body).status_code == 503
    (entry,) = sandbox.requests(path="/v1/broadcast/lead/list-1")
    assert entry["method"] == "POST"
    assert entry["query"] == {"x": "1"}
    assert entry["json"] == body and entry["body"] is None
    assert entry["headers"]["authorization"] == "<redacted>"
    assert entry["endpoint"] == "broadcast_lead"
    assert entry["fault"] == "error 503"
    assert entry["status"] == 503
    assert sandbox.leads() == []


def test_faults_over_the_control_api(sandbox, api, control):
    added = control.post(
        "/faults", json=[{"endpoint": "agents", "status": 500}, {"endpoint": "hangup", "latency": 0.1}]
    )
    assert added.status_code == 200
    assert [f["endpoint"] for f in control.get("/faults").json()] == ["agents", "hangup"]
    assert api.get("/agents").status_code == 500
    assert control.delete(f"/faults/{added.json()[0]['id']}").status_code == 200
    assert api.get("/agents").status_code == 200
    assert control.delete("/faults").json() == {"success": True}
    assert control.get("/faults").json() == []


@pytest.mark.parametrize(
    "fault",
    [
        {"endpoint": "nowhere"},
        {"endpoint": "agents", "error_rate": 2},
        {"endpoint": "agents", "latency": -1},
        {"endpoint": "agents", "status": 99},
        {"endpoint": "agents", "times": 0},
        {"endpoint": "agents", "flakiness": 0.5},
    ],
)
def test_invalid_faults_are_400_and_none_is_added(control, fault):
    response = control.post("/faults", json=[{"endpoint": "agents", "status": 500}, fault])
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert control.get("/faults").json() == []


def test_a_raw_non_json_body_is_logged_as_text(sandbox, api):
    api.post("/click_to_call", content=b"agent=1001", headers={"Content-Type": "text/plain"})
    (entry,) = sandbox.requests(path="/v1/click_to_call")
    assert entry["json"] is None and entry["body"] == "agent=1001"
    assert entry["status"] == 400


def test_the_request_log_filters_by_path_and_can_be_cleared(sandbox, api, control):
    api.get("/agents")
    api.get("/live_calls", params={"direction": "outbound"})
    assert [e["path"] for e in control.get("/requests").json()] == ["/v1/agents", "/v1/live_calls"]
    assert control.get("/requests", params={"path": "/v1/live_calls"}).json()[0]["query"] == {"direction": "outbound"}
    assert len(control.get("/requests", params={"path": "/v1/*"}).json()) == 2
    assert control.delete("/requests").status_code == 200
    assert sandbox.requests() == []
