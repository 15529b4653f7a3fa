"""Retry rules, shown against the sandbox's fault injection.

Reads retry transient failures with backoff; a call-placing request is never sent twice once it
may have reached Smartflo.
"""

from __future__ import annotations

import httpx
import pytest

from contactcenter.smartflo import (
    SmartfloClient,
    SmartfloConnectionError,
    SmartfloRateLimitedError,
    SmartfloResponseError,
    SmartfloServerError,
    SmartfloTimeoutError,
    SmartfloUnknownOutcomeError,
)


def test_a_get_that_fails_once_succeeds(smartflo_client, sandbox, sleeps):
    sandbox.add_fault(endpoint="agents", error_rate=1.0, error_status=503, times=1)
    assert smartflo_client.list_agents()
    assert len(sandbox.requests(path="/v1/agents")) == 2
    assert len(sleeps.calls) == 1


def test_a_get_that_times_out_once_succeeds(smartflo_client, sandbox, sleeps):
    sandbox.add_fault(endpoint="agents", timeout_rate=1.0, times=1)
    assert smartflo_client.list_agents()
    assert len(sandbox.requests(path="/v1/agents")) == 2


def test_a_garbled_answer_is_retried_for_reads(smartflo_client, sandbox):
    sandbox.add_fault(endpoint="live_calls", malformed_rate=1.0, times=2)
    assert smartflo_client.live_calls() == []
    assert len(sandbox.requests(path="/v1/live_calls")) == 3


def test_reads_give_up_after_max_retries_with_exponential_backoff(sandbox, sleeps):
    sandbox.add_fault(endpoint="agents", error_rate=1.0, error_status=502)
    with (
        SmartfloClient(
            base_url=sandbox.base_url,
            token=sandbox.token,
            timeout=1.0,
            max_retries=3,
            sleep=sleeps,
            random_fn=lambda: 1.0,
        ) as smartflo,
        pytest.raises(SmartfloServerError) as info,
    ):
        smartflo.list_agents()
    assert info.value.status == 502
    assert len(sandbox.requests(path="/v1/agents")) == 4  # one try + three retries
    assert sleeps.calls == [0.5, 1.0, 2.0]


def test_backoff_uses_full_jitter_and_a_ceiling(sandbox, sleeps):
    sandbox.add_fault(endpoint="agents", error_rate=1.0)
    with (
        SmartfloClient(
            base_url=sandbox.base_url,
            token=sandbox.token,
            timeout=1.0,
            max_retries=6,
            backoff_base=1.0,
            backoff_max=4.0,
            sleep=sleeps,
            random_fn=lambda: 0.5,
        ) as smartflo,
        pytest.raises(SmartfloServerError),
    ):
        smartflo.list_agents()
    assert sleeps.calls == [0.5, 1.0, 2.0, 2.0, 2.0, 2.0]


def test_timed_out_click_to_call_reaches_smartflo_exactly_once(smartflo_client, sandbox, sleeps):
    sandbox.add_fault(endpoint="click_to_call", timeout_rate=1.0)
    with pytest.raises(SmartfloUnknownOutcomeError) as info:
        smartflo_client.click_to_call(agent_number="1001", destination_number="9876543210")
    assert isinstance(info.value.cause, SmartfloTimeoutError)
    assert len(sandbox.requests(path="/v1/click_to_call")) == 1
    assert sleeps.calls == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_click_to_call_answered_with_5xx_is_unknown_outcome_and_not_retried(smartflo_client, sandbox, status):
    sandbox.add_fault(endpoint="click_to_call", error_rate=1.0, error_status=status)
    with pytest.raises(SmartfloUnknownOutcomeError) as info:
        smartflo_client.click_to_call(agent_number="1001", destination_number="9876543210")
    assert info.value.status == status
    assert isinstance(info.value.cause, SmartfloServerError)
    assert len(sandbox.requests(path="/v1/click_to_call")) == 1


def test_garbled_click_to_call_answer_is_unknown_outcome(smartflo_client, sandbox):
    sandbox.add_fault(endpoint="click_to_call", malformed_rate=1.0)
    with pytest.raises(SmartfloUnknownOutcomeError) as info:
        smartflo_client.click_to_call(agent_number="1001", destination_number="9876543210")
    assert isinstance(info.value.cause, SmartfloResponseError)
    assert len(sandbox.requests(path="/v1/click_to_call")) == 1


@pytest.mark.parametrize(
    ("endpoint", "path", "call"),
    [
        ("c2c_api", "/v1/c2c_api", lambda c, s: c.support_call(customer_number="9876543210", api_key=s.c2c_api_key)),
        ("agent", "/v1/agent", lambda c, s: c.add_agent(name="Once", follow_me_number="9876500077")),
        ("call_options", "/v1/call/options", lambda c, s: c.transfer(call_id="1.1", intercom="1002")),
    ],
)
def test_other_non_idempotent_posts_are_sent_once(smartflo_client, sandbox, endpoint, path, call):
    sandbox.add_fault(endpoint=endpoint, timeout_rate=1.0)
    with pytest.raises(SmartfloUnknownOutcomeError):
        call(smartflo_client, sandbox)
    assert len(sandbox.requests(path=path)) == 1


def test_idempotent_posts_retry(smartflo_client, sandbox):
    sandbox.add_fault(endpoint="broadcast_lead", error_rate=1.0, times=1)
    assert smartflo_client.broadcast_lead(lead_id=sandbox.otp_lead_id, phone="9876543210", otp="123456").success
    assert len(sandbox.requests(path=f"/v1/broadcast/lead/{sandbox.otp_lead_id}")) == 2


def test_rate_limited_click_to_call_is_not_placed_and_not_retried(smartflo_client, sandbox):
    sandbox.add_fault(endpoint="click_to_call", status=429)
    with pytest.raises(SmartfloRateLimitedError):
        smartflo_client.click_to_call(agent_number="1001", destination_number="9876543210")
    assert len(sandbox.requests(path="/v1/click_to_call")) == 1


def test_connection_refused_is_retried_even_for_calls_because_nothing_was_sent(sleeps):
    refused = httpx.MockTransport(lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused", request=request)))
    with (
        SmartfloClient(
            base_url="http://127.0.0.1:9/v1", token="t", transport=refused, max_retries=2, sleep=sleeps
        ) as smartflo,
        pytest.raises(SmartfloConnectionError) as info,
    ):
        smartflo.click_to_call(agent_number="1001", destination_number="9876543210")
    assert info.value.never_sent
    assert len(sleeps.calls) == 2


def test_retry_after_header_is_honoured_for_reads(sleeps):
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "3"}, json={"success": False, "message": "slow down"}),
            httpx.Response(200, json=[]),
        ]
    )
    transport = httpx.MockTransport(lambda request: next(answers))
    with SmartfloClient(base_url="http://x/v1", token="t", transport=transport, sleep=sleeps) as smartflo:
        assert smartflo.list_agents() == []
    assert sleeps.calls == [3.0]


def test_a_dead_server_gives_a_connection_error_for_reads(sleeps):
    with (
        SmartfloClient(
            base_url="http://127.0.0.1:9/v1", token="t", timeout=0.5, max_retries=1, sleep=sleeps
        ) as smartflo,
        pytest.raises(SmartfloConnectionError),
    ):
        smartflo.list_agents()
    assert len(sleeps.calls) == 1
