"""Each failure maps to one class of the SmartfloError hierarchy, carrying status and message."""

import httpx
import pytest

from contactcenter.smartflo import (
    SmartfloAuthError,
    SmartfloClient,
    SmartfloError,
    SmartfloRateLimitedError,
    SmartfloRejectedError,
    SmartfloResponseError,
    SmartfloServerError,
)


def client_answering(response: httpx.Response) -> SmartfloClient:
    return SmartfloClient(
        base_url="http://smartflo.test/v1",
        token="t",
        transport=httpx.MockTransport(lambda request: response),
        max_retries=0,
        sleep=lambda s: None,
    )


@pytest.mark.parametrize(
    ("response", "error", "status"),
    [
        (httpx.Response(401, json={"success": False, "message": "Token expired"}), SmartfloAuthError, 401),
        (httpx.Response(403, json={"success": False, "message": "Forbidden"}), SmartfloAuthError, 403),
        (httpx.Response(200, json={"success": False, "message": "Agent is blocked"}), SmartfloRejectedError, 200),
        (httpx.Response(400, json={"success": False, "message": "Invalid number"}), SmartfloRejectedError, 400),
        (httpx.Response(404, text="not here"), SmartfloRejectedError, 404),
        (httpx.Response(429, json={"success": False, "message": "Too many"}), SmartfloRateLimitedError, 429),
        (httpx.Response(500, json={"success": False, "message": "Internal"}), SmartfloServerError, 500),
        (httpx.Response(503, text="<html>down</html>"), SmartfloServerError, 503),
        (httpx.Response(200, text="{not json"), SmartfloResponseError, 200),
    ],
)
def test_status_and_body_map_to_one_error_class(response, error, status):
    with client_answering(response) as smartflo, pytest.raises(error) as info:
        smartflo.hangup(call_id="1.1")
    assert isinstance(info.value, SmartfloError)
    assert info.value.status == status
    assert info.value.operation == "hangup"
    assert info.value.message


def test_provider_message_is_kept():
    response = httpx.Response(200, json={"success": False, "message": "Agent is blocked"})
    with client_answering(response) as smartflo, pytest.raises(SmartfloRejectedError) as info:
        smartflo.hangup(call_id="1.1")
    assert info.value.provider_message == "Agent is blocked"
    assert "Agent is blocked" in str(info.value)


def test_records_answer_without_results_is_a_response_error():
    with client_answering(httpx.Response(200, json={"count": 1})) as smartflo, pytest.raises(SmartfloResponseError):
        smartflo.call_records(from_date="2024-05-01 00:00:00", to_date="2024-05-02 00:00:00")


def test_add_agent_success_without_agent_id_is_not_silently_accepted():
    answer = httpx.Response(200, json={"success": True, "message": "Agent added successfully"})
    with client_answering(answer) as smartflo, pytest.raises(SmartfloError):
        smartflo.add_agent(name="A", follow_me_number="9876543210")


def test_every_attempt_reaches_the_audit_hook():
    attempts = []
    with SmartfloClient(
        base_url="http://smartflo.test/v1",
        token="t",
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"success": True, "message": "ok"})),
        on_attempt=attempts.append,
    ) as smartflo:
        smartflo.hangup(call_id="1.1")
    (attempt,) = attempts
    assert (attempt.operation, attempt.method, attempt.path, attempt.status, attempt.error) == (
        "hangup",
        "POST",
        "/call/hangup",
        200,
        None,
    )
    assert attempt.duration_ms >= 0


def test_logs_mask_numbers_and_never_show_the_token(caplog, sandbox):
    token = sandbox.token
    with caplog.at_level("DEBUG"), SmartfloClient(base_url=sandbox.base_url, token=token, timeout=1.0) as smartflo:
        sandbox.set_scenario(destination_number="9876543210", hold=False)
        smartflo.click_to_call(agent_number="1001", destination_number="9876543210")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "smartflo click_to_call POST" in text
    assert token not in text
    assert "9876543210" not in text


@pytest.mark.parametrize("body", [[1, 2], "queued", 42])
def test_unreadable_2xx_to_a_call_placing_request_is_unknown_outcome(body):
    from contactcenter.smartflo import SmartfloUnknownOutcomeError

    with client_answering(httpx.Response(200, json=body)) as smartflo, pytest.raises(SmartfloUnknownOutcomeError):
        smartflo.click_to_call(agent_number="1001", destination_number="9876543210")


def test_live_calls_with_odd_timestamps_still_list():
    answer = httpx.Response(200, json=[{"call_id": "1.1", "created_at": "1715235734"}])
    with client_answering(answer) as smartflo:
        (call,) = smartflo.live_calls()
    assert call.call_id == "1.1" and call.created_at is None
