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


def test_unexpected_errors_are_left_to_django():
    assert render(RuntimeError("boom")) is None
