"""OTP voice broadcast: `POST /broadcast/lead/<id>`, `POST /c2c_api` and the announcements log."""

from __future__ import annotations

import pytest

PHONE = "9845012345"


def add_lead(api, lead_id="sandbox-lead", phone=PHONE, otp="482913", **extra):
    body = {"field_0": phone, "field_5": otp, "duplicate_option": "overwrite", **extra}
    return api.post(f"/broadcast/lead/{lead_id}", json=body)


def support_call(api, phone=PHONE, api_key="sandbox-c2c-key"):
    return api.post("/c2c_api", json={"customer_number": phone, "api_key": api_key})


def test_a_lead_then_a_support_call_announces_the_otp(sandbox, api, control):
    response = add_lead(api)
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Lead added successfully"}
    response = support_call(api)
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Call initiated successfully"}

    (announcement,) = control.get("/announcements", params={"phone": PHONE}).json()
    assert announcement["customer_number"] == PHONE
    assert announcement["lead_id"] == "sandbox-lead"
    assert announcement["otp"] == "482913"
    assert announcement["fields"] == {"field_0": PHONE, "field_5": "482913"}
    record = sandbox.record(announcement["call_id"])
    assert record["services"] == "Broadcast" and record["broadcast_id"]
    assert record["direction"] == "outbound" and record["client_number"] == "+919845012345"


def test_overwriting_a_lead_changes_what_the_next_call_says(sandbox, api):
    add_lead(api, otp="111111")
    support_call(api)
    add_lead(api, otp="222222")
    support_call(api)
    assert [a["otp"] for a in sandbox.announcements(phone="+91 98450 12345")] == ["111111", "222222"]


def test_a_duplicate_lead_without_overwrite_is_400(api):
    assert add_lead(api, duplicate_option="skip").status_code == 200
    response = add_lead(api, duplicate_option="skip")
    assert response.status_code == 400
    assert "duplicate_option" in response.json()["message"]


@pytest.mark.parametrize("phone", ["+919845012345", "12345", "98450123456", None, "98450-12345"])
def test_field_0_must_be_exactly_ten_digits(api, phone):
    response = add_lead(api, phone=phone)
    assert response.status_code == 400
    assert "field_0" in response.json()["message"]


def test_field_0_may_be_a_json_number(sandbox, api):
    assert add_lead(api, phone=9845012345).status_code == 200
    assert sandbox.leads()[0]["phone"] == PHONE


@pytest.mark.parametrize(
    ("setup_lead_id", "phone", "api_key", "message"),
    [
        ("sandbox-lead", PHONE, "wrong-key", "Invalid api_key"),
        ("sandbox-lead", PHONE, None, "Invalid api_key"),
        ("other-list", PHONE, "sandbox-c2c-key", "No lead found for customer"),
        ("sandbox-lead", "9845099999", "sandbox-c2c-key", "No lead found for customer"),
        ("sandbox-lead", "+919845012345", "sandbox-c2c-key", "customer_number"),
    ],
)
def test_support_call_refusals_are_400(sandbox, api, setup_lead_id, phone, api_key, message):
    add_lead(api, lead_id=setup_lead_id)
    response = support_call(api, phone=phone, api_key=api_key)
    assert response.status_code == 400
    assert response.json() == {"success": False, "message": response.json()["message"]}
    assert message in response.json()["message"]
    assert sandbox.announcements() == []


def test_announcements_filter_by_phone_and_list_newest_last(sandbox, api, control):
    for phone, otp in (("9845000001", "1"), ("9845000002", "2"), ("9845000001", "3")):
        add_lead(api, phone=phone, otp=otp)
        support_call(api, phone=phone)
    assert [a["otp"] for a in control.get("/announcements").json()] == ["1", "2", "3"]
    assert [a["otp"] for a in control.get("/announcements", params={"phone": "9845000001"}).json()] == ["1", "3"]


def test_the_otp_list_and_key_are_configurable(sandbox, api):
    sandbox.configure(otp_lead_id="otp-list-2", c2c_api_key="key-2")
    add_lead(api, lead_id="otp-list-2", otp="777777")
    assert support_call(api, api_key="key-2").status_code == 200
    assert sandbox.announcements()[0]["lead_id"] == "otp-list-2"
