"""The delivery task against the sandbox: lead before call, retries only where safe, failures
end in `failed` with Smartflo's message, and the task only ever carries the challenge's id."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone
from kombu.exceptions import OperationalError

from otp.models import CALL_OUTCOME_UNKNOWN, OtpChallenge, OtpProviderRequest, OtpState
from otp.services import otp_challenge_deliver, otp_challenges_expire, otp_send
from otp.tasks import deliver_otp
from tests.otp.conftest import E164, PHONE, heard_code

pytestmark = pytest.mark.django_db

LEAD = "/v1/broadcast/lead/sandbox-lead"
CALL = "/v1/c2c_api"


def provider_paths(sandbox) -> list[str]:
    return [entry["path"] for entry in sandbox.requests(path="/v1/*")]


def only_challenge() -> OtpChallenge:
    return OtpChallenge.objects.get()


def test_the_lead_is_added_before_the_call_is_placed(send, smartflo):
    send()

    lead, call = smartflo.requests(path="/v1/*")
    assert (lead["path"], call["path"]) == (LEAD, CALL)
    assert lead["id"] < call["id"]
    code = heard_code(smartflo)
    assert lead["json"] == {"field_0": PHONE, "field_5": code, "duplicate_option": "overwrite"}
    assert call["json"] == {"customer_number": PHONE, "api_key": "sandbox-c2c-key"}


def test_each_provider_request_is_recorded_and_timings_are_kept(send, smartflo):
    send()
    challenge = only_challenge()
    rows = list(challenge.provider_requests.values_list("step", "operation", "method", "path", "status", "outcome"))
    assert rows == [
        ("lead", "broadcast_lead", "POST", "/broadcast/lead/sandbox-lead", 200, "ok"),
        ("call", "support_call", "POST", "/c2c_api", 200, "ok"),
    ]
    assert challenge.created_at <= challenge.lead_added_at <= challenge.call_started_at <= challenge.delivered_at
    assert challenge.code_sealed == ""  # wiped once the lead step was over
    assert challenge.lead_in_flight_until is None


def test_the_task_gets_the_challenge_id_and_nothing_else(
    api, smartflo, django_capture_on_commit_callbacks, monkeypatch
):
    sent: list[dict] = []
    original = deliver_otp.apply_async

    def capture(args=None, kwargs=None, **options):
        sent.append({"args": args, "kwargs": kwargs, "options": options})
        return original(args=args, kwargs=kwargs, **options)

    monkeypatch.setattr(deliver_otp, "apply_async", capture)
    with django_capture_on_commit_callbacks(execute=True):
        challenge_id = api.post("/api/v1/otp/send/", {"phone": PHONE}, format="json").json()["id"]
    assert sent == [{"args": [challenge_id], "kwargs": None, "options": {}}]
    assert heard_code(smartflo) not in json.dumps(sent)


def test_the_task_goes_to_the_configured_queue(
    api, smartflo, django_capture_on_commit_callbacks, monkeypatch, settings
):
    settings.OTP_TASK_QUEUE = "otp"
    sent: list[dict] = []
    monkeypatch.setattr(deliver_otp, "apply_async", lambda args=None, **options: sent.append(options))
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/v1/otp/send/", {"phone": PHONE}, format="json")
    assert sent == [{"queue": "otp"}]


def test_nothing_is_queued_before_the_transaction_commits(api, smartflo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api.post("/api/v1/otp/send/", {"phone": PHONE}, format="json")
    assert len(callbacks) == 1
    assert smartflo.requests(path="/v1/*") == []
    assert only_challenge().state == OtpState.QUEUED


def test_a_broker_outage_fails_the_challenge_instead_of_leaving_it_queued(api, smartflo, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(deliver_otp, "apply_async", refuse)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.post("/api/v1/otp/send/", {"phone": PHONE}, format="json")
    assert response.status_code == 202
    challenge = only_challenge()
    assert (challenge.state, challenge.failure_step, challenge.failure_code) == ("failed", "queue", "queue_unavailable")
    assert challenge.code_sealed == ""


def test_transient_lead_errors_are_retried_by_the_client(send, smartflo):
    smartflo.add_fault(endpoint="broadcast_lead", error_rate=1.0, times=2)
    send()
    assert provider_paths(smartflo) == [LEAD, LEAD, LEAD, CALL]
    challenge = only_challenge()
    assert challenge.state == OtpState.DELIVERED
    assert challenge.lead_tries == 1
    outcomes = list(challenge.provider_requests.values_list("outcome", flat=True))
    assert outcomes == ["SmartfloServerError", "SmartfloServerError", "ok", "ok"]


def test_a_lead_step_still_failing_is_run_again_by_the_task_then_fails_with_the_message(send, smartflo, settings):
    settings.SMARTFLO_MAX_RETRIES = 1
    settings.OTP_LEAD_MAX_TRIES = 3
    smartflo.add_fault(endpoint="broadcast_lead", error_rate=1.0)
    send()

    assert provider_paths(smartflo) == [LEAD] * 6  # 3 task runs x (1 try + 1 client retry); no call
    challenge = only_challenge()
    assert challenge.state == OtpState.FAILED
    assert (challenge.failure_step, challenge.failure_code) == ("lead", "provider_unavailable")
    assert challenge.failure_message == "Injected fault: HTTP 503"
    assert challenge.lead_tries == 3
    assert challenge.code_sealed == ""


def test_a_lead_step_that_recovers_on_a_later_task_run_is_delivered(send, smartflo, settings):
    settings.SMARTFLO_MAX_RETRIES = 0
    smartflo.add_fault(endpoint="broadcast_lead", error_rate=1.0, times=1)
    send()
    assert provider_paths(smartflo) == [LEAD, LEAD, CALL]
    assert only_challenge().state == OtpState.DELIVERED
    assert only_challenge().lead_tries == 2


def test_a_refused_lead_fails_at_once_with_smartflos_message(send, smartflo):
    smartflo.add_fault(endpoint="broadcast_lead", status=400, times=1)
    send()
    assert provider_paths(smartflo) == [LEAD]
    challenge = only_challenge()
    assert (challenge.state, challenge.failure_step, challenge.failure_code) == ("failed", "lead", "provider_rejected")
    assert challenge.failure_message == "Injected fault: HTTP 400"


def test_a_refused_call_fails_with_smartflos_message(send, smartflo, settings):
    settings.OTP_C2C_API_KEY = "not-the-key"
    send()
    assert provider_paths(smartflo) == [LEAD, CALL]
    challenge = only_challenge()
    assert (challenge.state, challenge.failure_step, challenge.failure_code) == ("failed", "call", "provider_rejected")
    assert challenge.failure_message == "Invalid api_key"
    assert challenge.provider_requests.last().error_message == "Invalid api_key"


def test_a_call_without_the_lead_smartflo_expects_fails_with_its_message(send, smartflo, settings):
    smartflo.configure(otp_lead_id="another-list")  # Smartflo's OTP list is not the one we fill
    send()
    challenge = only_challenge()
    assert (challenge.state, challenge.failure_step) == ("failed", "call")
    assert challenge.failure_message == "No lead found for customer"


def test_a_definitely_failed_delivery_cannot_be_verified(send, verify, smartflo, settings):
    settings.OTP_C2C_API_KEY = "not-the-key"
    send()
    code = smartflo.requests(path=LEAD)[0]["json"]["field_5"]
    response = verify(code)
    assert response.status_code == 400
    assert response.json()["code"] == "otp_not_delivered"


def test_a_call_timeout_is_sent_exactly_once_and_fails_as_unknown(send, smartflo):
    smartflo.add_fault(endpoint="c2c_api", timeout_rate=1.0, times=1)
    send()

    assert provider_paths(smartflo) == [LEAD, CALL]
    challenge = only_challenge()
    assert challenge.state == OtpState.FAILED
    assert (challenge.failure_step, challenge.failure_code) == ("call", CALL_OUTCOME_UNKNOWN)
    assert "may have reached Smartflo" in challenge.failure_message
    assert challenge.delivered_at is None


def test_a_5xx_on_the_call_is_not_retried_either(send, smartflo):
    smartflo.add_fault(endpoint="c2c_api", error_rate=1.0, times=1)
    send()
    assert provider_paths(smartflo) == [LEAD, CALL]
    challenge = only_challenge()
    assert (challenge.failure_code, challenge.failure_message) == (CALL_OUTCOME_UNKNOWN, "Injected fault: HTTP 503")


def test_a_call_that_timed_out_but_rang_can_still_be_verified(send, verify, smartflo):
    smartflo.add_fault(endpoint="c2c_api", timeout_rate=1.0, times=1, process=True)
    send()
    assert only_challenge().failure_code == CALL_OUTCOME_UNKNOWN
    assert verify(heard_code(smartflo)).status_code == 200
    assert only_challenge().state == OtpState.VERIFIED


def _queued(backend, **changes) -> OtpChallenge:
    with TestCase.captureOnCommitCallbacks(execute=False):
        challenge = otp_send(phone=PHONE, requested_by=backend)
    if changes:
        OtpChallenge.objects.filter(pk=challenge.pk).update(**changes)
        challenge.refresh_from_db()
    return challenge


def test_the_task_does_nothing_for_a_superseded_challenge(backend, smartflo):
    first = _queued(backend)
    OtpChallenge.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    _queued(backend)

    outcome = otp_challenge_deliver(challenge_id=str(first.pk))
    assert outcome.state == OtpState.SUPERSEDED
    assert smartflo.requests(path="/v1/*") == []


def test_the_task_closes_an_expired_challenge_without_calling(backend, smartflo):
    challenge = _queued(backend)
    outcome = otp_challenge_deliver(challenge_id=str(challenge.pk), now=challenge.expires_at)
    assert outcome.state == OtpState.EXPIRED
    challenge.refresh_from_db()
    assert (challenge.state, challenge.code_sealed) == (OtpState.EXPIRED, "")
    assert smartflo.requests(path="/v1/*") == []


def test_a_missing_challenge_is_a_no_op(smartflo, db):
    assert otp_challenge_deliver(challenge_id="00000000-0000-4000-8000-000000000000").state == "missing"
    assert smartflo.requests(path="/v1/*") == []


def test_running_the_task_again_never_places_a_second_call(backend, smartflo):
    challenge = _queued(backend)
    deliver_otp.apply(args=[str(challenge.pk)])
    deliver_otp.apply(args=[str(challenge.pk)])
    assert provider_paths(smartflo) == [LEAD, CALL]

    # A redelivered message for a challenge stuck in `calling` (worker lost mid-call) does nothing.
    OtpChallenge.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    stuck = _queued(backend, state=OtpState.CALLING, code_sealed="")
    smartflo.clear_requests()
    assert otp_challenge_deliver(challenge_id=str(stuck.pk)).state == OtpState.CALLING
    assert smartflo.requests(path="/v1/*") == []


def test_a_lead_step_waits_while_an_earlier_lead_for_the_phone_is_in_flight(backend, make_user, smartflo):
    earlier = _queued(backend, created_at=timezone.now() - timedelta(minutes=1))
    OtpChallenge.objects.filter(pk=earlier.pk).update(lead_in_flight_until=timezone.now() + timedelta(seconds=30))
    challenge = _queued(backend)

    outcome = otp_challenge_deliver(challenge_id=str(challenge.pk))
    assert outcome.state == OtpState.QUEUED
    assert 0 < outcome.retry_in <= 2
    assert smartflo.requests(path="/v1/*") == []

    OtpChallenge.objects.filter(pk=earlier.pk).update(lead_in_flight_until=None)
    assert otp_challenge_deliver(challenge_id=str(challenge.pk)).state == OtpState.DELIVERED


def test_a_tampered_sealed_code_fails_the_lead_step_instead_of_sending_a_wrong_code(backend, smartflo):
    challenge = _queued(backend)
    OtpChallenge.objects.filter(pk=challenge.pk).update(code_sealed="00" * 6)
    assert otp_challenge_deliver(challenge_id=str(challenge.pk)).state == OtpState.FAILED
    challenge.refresh_from_db()
    assert (challenge.failure_step, challenge.failure_code) == ("lead", "code_unavailable")
    assert smartflo.requests(path="/v1/*") == []


def test_the_sweep_expires_open_challenges_and_wipes_their_sealed_codes(backend, smartflo):
    challenge = _queued(backend)
    assert otp_challenges_expire(now=challenge.expires_at - timedelta(seconds=1)) == 0
    assert otp_challenges_expire(now=challenge.expires_at) == 1
    challenge.refresh_from_db()
    assert (challenge.state, challenge.code_sealed) == (OtpState.EXPIRED, "")
    assert OtpChallenge.objects.filter(phone=E164, state=OtpState.EXPIRED).count() == 1
    assert not OtpProviderRequest.objects.exists()


def test_a_code_smartflo_echoes_in_an_error_is_blanked_before_it_is_stored(backend, smartflo, monkeypatch):
    import httpx

    from contactcenter.smartflo import client_from_settings
    from otp.services import delivery

    def echo_the_code(request: httpx.Request) -> httpx.Response:
        code = json.loads(request.content)["field_5"]
        return httpx.Response(400, json={"success": False, "message": f"field_5 {code} is not allowed"})

    monkeypatch.setattr(
        delivery,
        "client_from_settings",
        lambda **options: client_from_settings(transport=httpx.MockTransport(echo_the_code), **options),
    )
    challenge = _queued(backend)
    assert otp_challenge_deliver(challenge_id=str(challenge.pk)).state == OtpState.FAILED
    challenge.refresh_from_db()
    assert challenge.failure_message == "field_5 ****** is not allowed"
    assert challenge.provider_requests.get().error_message == "field_5 ****** is not allowed"


def test_run_inline_the_task_waits_out_a_retry_instead_of_spinning(backend, smartflo, monkeypatch):
    earlier = _queued(backend, created_at=timezone.now() - timedelta(minutes=1))
    OtpChallenge.objects.filter(pk=earlier.pk).update(lead_in_flight_until=timezone.now() + timedelta(seconds=30))
    challenge = _queued(backend)
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the earlier lead request finishes while we wait
        waits.append(seconds)
        OtpChallenge.objects.filter(pk=earlier.pk).update(lead_in_flight_until=None)

    monkeypatch.setattr("otp.tasks.time.sleep", sleep)
    deliver_otp.apply(args=[str(challenge.pk)])
    assert len(waits) == 1
    assert 0 < waits[0] <= 2
    challenge.refresh_from_db()
    assert challenge.state == OtpState.DELIVERED


def test_beat_runs_the_sweep_by_its_registered_name(settings):
    from contactcenter.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["otp-expire-stale"]
    assert entry["task"] in app.tasks
    assert app.tasks["otp.deliver"].acks_late
