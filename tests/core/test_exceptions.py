"""One exception handler renders every API error as {"code", "message", "extra"}."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.test import APIRequestFactory

from contactcenter.core.exceptions import ApplicationError, api_exception_handler


def render(exc):
    request = APIRequestFactory().get("/")
    return api_exception_handler(exc, {"request": request, "view": None})


def test_application_error_keeps_its_code_status_and_extra():
    response = render(ApplicationError("Smartflo refused", code="provider_rejected", status_code=502, extra={"a": 1}))
    assert response.status_code == 502
    assert response.data == {"code": "provider_rejected", "message": "Smartflo refused", "extra": {"a": 1}}


def test_validation_error_names_the_field():
    response = render(exceptions.ValidationError({"phone": ["Enter a valid phone number."]}))
    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert response.data["message"] == "phone: Enter a valid phone number."
    assert response.data["extra"]["fields"] == {"phone": ["Enter a valid phone number."]}


def test_django_validation_error_becomes_a_400():
    response = render(DjangoValidationError({"intercom": ["Must be 4 digits."]}))
    assert response.status_code == 400
    assert response.data["extra"]["fields"]["intercom"] == ["Must be 4 digits."]


def test_throttled_carries_retry_after():
    response = render(exceptions.Throttled(wait=30))
    assert response.status_code == 429
    assert response.data["code"] == "throttled"
    assert response.data["extra"]["retry_after"] == 30


def test_unexpected_errors_are_logged_and_answered_in_the_api_shape(caplog):
    response = render(RuntimeError("boom"))
    assert response.status_code == 500
    assert response.data["code"] == "internal_error"
    assert "boom" not in response.data["message"]
    assert any(record.exc_info for record in caplog.records)


def test_provider_errors_map_to_stable_codes():
    from contactcenter.core.exceptions import provider_error
    from contactcenter.smartflo import (
        SmartfloAuthError,
        SmartfloRejectedError,
        SmartfloServerError,
        SmartfloTimeoutError,
        SmartfloUnknownOutcomeError,
    )

    rejected = provider_error(SmartfloRejectedError("no", status=400, provider_message="Agent is blocked"))
    assert (rejected.code, rejected.status_code) == ("provider_rejected", 502)
    assert "Agent is blocked" in rejected.message
    unknown = provider_error(SmartfloUnknownOutcomeError("?", cause=SmartfloTimeoutError("t")))
    assert (unknown.code, unknown.status_code) == ("provider_unknown_outcome", 504)
    auth = provider_error(SmartfloAuthError("bad", status=401))
    assert (auth.code, auth.status_code) == ("provider_auth_failed", 502)
    down = provider_error(SmartfloServerError("down", status=503))
    assert (down.code, down.status_code) == ("provider_unavailable", 503)
