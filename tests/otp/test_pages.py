"""The supervisors' OTP broadcast log and the admin: masked numbers, states, timings and
provider errors; never a code, its hash or its sealed form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from otp.models import OtpChallenge, OtpState
from tests.otp.conftest import heard_code

pytestmark = pytest.mark.django_db


def secrets_of(challenge: OtpChallenge, code: str) -> list[str]:
    values = [code, challenge.code_hash]
    if challenge.code_sealed:
        values.append(challenge.code_sealed)
    return values


def make_challenges(user, count: int) -> None:
    now = timezone.now()
    OtpChallenge.objects.bulk_create(
        OtpChallenge(
            phone=f"+9198765{i:05d}",
            requested_by=user,
            state=OtpState.FAILED if i % 3 == 0 else OtpState.DELIVERED,
            failure_step="call" if i % 3 == 0 else "",
            failure_message="Invalid api_key" if i % 3 == 0 else "",
            code_hash="0" * 64,
            created_at=now - timedelta(minutes=i),
            expires_at=now - timedelta(minutes=i) + timedelta(minutes=5),
            delivered_at=None if i % 3 == 0 else now - timedelta(minutes=i) + timedelta(seconds=2),
        )
        for i in range(count)
    )


def test_the_log_shows_masked_numbers_states_timings_and_provider_errors(supervisor_client, send, smartflo, settings):
    send("9876543210")
    delivered = OtpChallenge.objects.get()
    code = heard_code(smartflo)
    OtpChallenge.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    settings.OTP_C2C_API_KEY = "not-the-key"
    send("9876500099")

    response = supervisor_client.get("/otp/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "+91******3210" in html
    assert "+91******0099" in html
    assert "9876543210" not in html
    assert 'data-state="delivered"' in html
    assert 'data-state="failed"' in html
    assert "placing the call: Invalid api_key" in html
    assert "backend" in html
    for secret in secrets_of(delivered, code):
        assert secret not in html


def test_the_detail_page_lists_each_provider_request(supervisor_client, send, smartflo):
    smartflo.add_fault(endpoint="broadcast_lead", error_rate=1.0, times=1)
    send()
    challenge = OtpChallenge.objects.get()
    code = heard_code(smartflo)

    response = supervisor_client.get(f"/otp/{challenge.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<code>POST /broadcast/lead/sandbox-lead</code>") == 2
    assert html.count("<code>POST /c2c_api</code>") == 1
    assert "SmartfloServerError: Injected fault: HTTP 503" in html
    assert "+91******3210" in html
    for secret in secrets_of(challenge, code):
        assert secret not in html


def test_the_log_filters_by_state_and_number(supervisor_client, backend):
    make_challenges(backend, 6)
    failed = supervisor_client.get("/otp/", {"state": "failed"}).content.decode()
    assert failed.count('data-state="failed"') == 2
    assert 'data-state="delivered"' not in failed
    one = supervisor_client.get("/otp/", {"phone": "98765 00004"}).content.decode()
    assert one.count("<tr data-state=") == 1
    bad = supervisor_client.get("/otp/", {"phone": "12"})
    assert b'data-field="phone"' in bad.content
    assert b"<tr data-state=" not in bad.content
    assert b'data-field="state"' not in failed.encode()


def test_an_unknown_state_says_so_and_shows_every_state(supervisor_client, backend):
    make_challenges(backend, 6)
    html = supervisor_client.get("/otp/", {"state": "bogus<b>"}).content.decode()
    assert (
        '<p class="error" role="alert" data-field="state">There is no OTP state “bogus&lt;b&gt;”: showing all states.'
        in html
    )
    assert html.count("<tr data-state=") == 6
    assert '<option value="" selected' not in html and "selected>" not in html  # "All states" is the choice shown


def test_the_log_is_paginated_with_a_fixed_query_count(supervisor_client, backend, django_assert_num_queries):
    make_challenges(backend, 3)
    with django_assert_num_queries(5) as small:
        supervisor_client.get("/otp/")
    OtpChallenge.objects.all().delete()
    make_challenges(backend, 120)
    with django_assert_num_queries(len(small.captured_queries)):
        response = supervisor_client.get("/otp/", {"page": 2})
    assert response.content.decode().count("<tr data-state=") == 50
    assert b"Page 2 of 3" in response.content


def test_the_detail_page_has_a_fixed_query_count(supervisor_client, backend, django_assert_num_queries):
    make_challenges(backend, 1)
    challenge = OtpChallenge.objects.get()
    with django_assert_num_queries(5):
        assert supervisor_client.get(f"/otp/{challenge.pk}/").status_code == 200


def test_unknown_challenge_is_404(supervisor_client):
    assert supervisor_client.get("/otp/00000000-0000-4000-8000-000000000000/").status_code == 404


@pytest.mark.parametrize("role", ["agent", None])
def test_only_supervisors_see_the_log(client, make_user, role):
    client.force_login(make_user("someone", role=role))
    assert client.get("/otp/").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/otp/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_admin_is_read_only_and_never_shows_the_code(client, make_user, send, smartflo):
    client.force_login(make_user("root", role="superuser"))
    send()
    challenge = OtpChallenge.objects.get()
    code = heard_code(smartflo)

    pages = [
        client.get("/admin/otp/otpchallenge/"),
        client.get(f"/admin/otp/otpchallenge/{challenge.pk}/change/"),
        client.get("/admin/otp/otpchallenge/", {"q": "+919876543210"}),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert "+91******3210" in html
        for secret in secrets_of(challenge, code):
            assert secret not in html
        assert "code_hash" not in html
        assert "code_sealed" not in html
    assert client.get("/admin/otp/otpchallenge/add/").status_code == 403
    change = client.post(f"/admin/otp/otpchallenge/{challenge.pk}/change/", {"state": "verified"})
    assert change.status_code == 403
    challenge.refresh_from_db()
    assert challenge.state == OtpState.DELIVERED


def test_the_admin_never_loads_the_secret_columns(client, make_user, backend, django_assert_max_num_queries):
    client.force_login(make_user("root", role="superuser"))
    make_challenges(backend, 2)
    with django_assert_max_num_queries(20) as queries:
        client.get("/admin/otp/otpchallenge/")
    selects = [q["sql"] for q in queries.captured_queries if "otp_otpchallenge" in q["sql"]]
    assert selects
    assert not any("code_hash" in sql or "code_sealed" in sql for sql in selects)
