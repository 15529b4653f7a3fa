"""Shared numbers, factories and request helpers for the masking tests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from masking.models import MaskingNumber, MaskingRule
from masking.services import masking_number_create, masking_rule_create

TOKEN = "test-masking-token"  # tests/settings.py
RESOLVE_URL = "/api/v1/masking/resolve/"

MASKING = "+918069000111"  # the DID callers dial
OTHER_MASKING = "+918069000222"
A = "+919845012345"  # the customer
B = "+919876500002"  # the delivery partner
C = "+919812300003"
D = "+919812300004"
FALLBACK = "+919000000009"


def transfer_to(body: Any) -> str:
    """The 10-digit number of a transfer answer (asserting the exact documented shape)."""
    assert isinstance(body, list) and len(body) == 1, body
    transfer = body[0]["transfer"]
    assert transfer["type"] == "number"
    assert len(transfer["data"]) == 1
    number = transfer["data"][0]
    assert isinstance(number, str) and len(number) == 10 and number.isdigit(), number
    return number


def dialplan_body(caller: Any = A, called: Any = "+91-8069000111", **extra: Any) -> dict[str, Any]:
    """The body Smartflo sends (call_to_number in its documented `+91-XXXXXXXXXX` form)."""
    return {
        "uuid": "7611",
        "call_id": "1715235734.129662",
        "call_to_number": called,
        "caller_id_number": caller,
        "start_stamp": "2024-05-09 11:52:14",
        **extra,
    }


def post_resolve(client, body: Any = None, *, token: str | None = TOKEN, raw: bytes | None = None, **kwargs: Any):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    data = raw if raw is not None else json.dumps(body if body is not None else dialplan_body())
    return client.post(
        RESOLVE_URL, data=data, content_type=kwargs.pop("content_type", "application/json"), **headers, **kwargs
    )


@pytest.fixture
def masking_number(db) -> MaskingNumber:
    return masking_number_create(number=MASKING, label="Deliveries")


@pytest.fixture
def make_rule(db, masking_number):
    """make_rule(party_a=A, party_b=B, two_way=False, ...) through the service."""

    def make(**overrides: Any) -> MaskingRule:
        values = {"masking_number": MASKING, "party_a": A, "party_b": B, **overrides}
        return masking_rule_create(**values)

    return make


@pytest.fixture
def pool(db) -> list[MaskingNumber]:
    """Three pool numbers."""
    return [masking_number_create(number=f"+91806900030{i}", pooled=True) for i in range(1, 4)]


@pytest.fixture
def staff_client(client, make_user):
    user = make_user("staffer")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)
    return client
