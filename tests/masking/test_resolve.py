"""The API Dialplan endpoint: Smartflo asks where a call to a masking number goes."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from masking.models import ResolutionLog
from masking.selectors import masking_resolve
from masking.services import masking_number_update, masking_rule_deactivate
from tests.masking.conftest import (
    FALLBACK,
    MASKING,
    RESOLVE_URL,
    TOKEN,
    A,
    B,
    C,
    dialplan_body,
    post_resolve,
    transfer_to,
)

pytestmark = pytest.mark.django_db


# --- Matching ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "called",
    [
        "+91-8069000111",  # what Smartflo documents
        "+918069000111",
        "918069000111",
        "08069000111",
        "8069000111",
        "+91 80690 00111",
        " 080-6900-0111 ",
        "+91 (806) 900-0111",
        918069000111,
        8069000111,
    ],
)
def test_every_form_of_the_masking_number_matches(client, make_rule, called):
    make_rule()
    response = post_resolve(client, dialplan_body(called=called))
    assert response.status_code == 200, response.content
    assert transfer_to(response.json()) == "9876500002"


@pytest.mark.parametrize(
    "caller",
    [
        "+919845012345",
        "919845012345",
        "09845012345",
        "9845012345",
        "+91 98450 12345",
        "+91-98450-12345",
        "098450-12345",
        9845012345,
        919845012345,
    ],
)
def test_every_form_of_the_caller_matches(client, make_rule, caller):
    make_rule()
    response = post_resolve(client, dialplan_body(caller=caller))
    assert response.status_code == 200, response.content
    assert transfer_to(response.json()) == "9876500002"


def test_the_answer_is_exactly_the_documented_transfer(client, make_rule):
    make_rule()
    response = post_resolve(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == [{"transfer": {"type": "number", "data": ["9876500002"]}}]


def test_a_one_way_rule_does_not_route_party_b_back(client, make_rule):
    make_rule(two_way=False)
    response = post_resolve(client, dialplan_body(caller=B))
    assert response.status_code == 404
    assert response.json()["code"] == "no_route"


def test_a_two_way_rule_routes_party_b_back_to_party_a(client, make_rule):
    make_rule(two_way=True)
    assert transfer_to(post_resolve(client, dialplan_body(caller=A)).json()) == "9876500002"
    assert transfer_to(post_resolve(client, dialplan_body(caller=B)).json()) == "9845012345"


def test_a_stranger_dialling_the_masking_number_is_unmatched(client, make_rule):
    make_rule(two_way=True)
    response = post_resolve(client, dialplan_body(caller=C))
    assert response.status_code == 404
    assert response.json()["extra"]["outcome"] == "no_rule"


def test_the_same_caller_reaches_different_people_through_different_numbers(client, make_rule):
    make_rule()
    make_rule(masking_number="+918069000222", party_b=C)
    assert transfer_to(post_resolve(client, dialplan_body(called="+91-8069000111")).json()) == "9876500002"
    assert transfer_to(post_resolve(client, dialplan_body(called="+91-8069000222")).json()) == "9812300003"


def test_a_foreign_caller_in_e164_is_matched(client, make_rule):
    make_rule(party_a="+14155550123")
    response = post_resolve(client, dialplan_body(caller="+1 415 555 0123"))
    assert transfer_to(response.json()) == "9876500002"


# --- Validity windows, inactive rules and numbers --------------------------------------------------


def test_a_rule_inside_its_window_matches(client, make_rule):
    now = timezone.now()
    make_rule(valid_from=now - timedelta(hours=1), valid_until=now + timedelta(hours=1))
    assert post_resolve(client).status_code == 200


def test_a_rule_before_its_window_is_unmatched(client, make_rule):
    make_rule(valid_from=timezone.now() + timedelta(hours=1))
    response = post_resolve(client)
    assert response.status_code == 404
    assert response.json()["extra"]["outcome"] == "not_yet_valid"


def test_a_rule_after_its_window_is_unmatched(client, make_rule):
    now = timezone.now()
    make_rule(valid_from=now - timedelta(hours=2), valid_until=now - timedelta(seconds=1))
    response = post_resolve(client)
    assert response.status_code == 404
    assert response.json()["extra"]["outcome"] == "expired"


def test_the_window_is_half_open(make_rule):
    start = timezone.now() + timedelta(days=1)
    end = start + timedelta(hours=1)
    rule = make_rule(valid_from=start, valid_until=end)
    at = {
        start - timedelta(microseconds=1): "not_yet_valid",
        start: "matched",
        end - timedelta(microseconds=1): "matched",
        end: "expired",
    }
    for moment, outcome in at.items():
        resolution = masking_resolve(caller=A, masking_number=MASKING, at=moment)
        assert resolution.outcome == outcome, moment
        assert resolution.rule_id == rule.pk


def test_an_inactive_rule_is_unmatched(client, make_rule):
    make_rule(active=False)
    assert post_resolve(client).status_code == 404


def test_a_deactivated_rule_stops_matching_at_once(client, make_rule):
    rule = make_rule()
    assert post_resolve(client).status_code == 200
    masking_rule_deactivate(rule=rule)
    assert post_resolve(client).status_code == 404


def test_an_inactive_masking_number_routes_nobody(client, make_rule, masking_number):
    make_rule()
    masking_number_update(number=masking_number, data={"active": False})
    response = post_resolve(client)
    assert response.status_code == 404
    assert response.json()["extra"]["outcome"] == "number_inactive"


def test_an_unknown_masking_number_is_unmatched(client, make_rule):
    make_rule()
    assert post_resolve(client, dialplan_body(called="+91-8069000999")).status_code == 404


# --- Fallback versus 404 ---------------------------------------------------------------------------


@pytest.mark.parametrize("configured", ["9000000009", "+91 90000 00009", "09000000009"])
def test_unmatched_calls_go_to_the_fallback_number_when_configured(client, settings, masking_number, configured):
    settings.MASKING_FALLBACK_NUMBER = configured
    response = post_resolve(client, dialplan_body(caller=C))
    assert response.status_code == 200
    assert transfer_to(response.json()) == "9000000009"
    entry = ResolutionLog.objects.get()
    assert (entry.outcome, entry.fallback, entry.answer) == ("no_rule", True, "9000000009")


@pytest.mark.parametrize("kind", ["inactive", "expired", "scheduled"])
def test_every_kind_of_unmatched_takes_the_fallback(client, settings, make_rule, kind):
    settings.MASKING_FALLBACK_NUMBER = FALLBACK
    now = timezone.now()
    window = {
        "inactive": {"active": False},
        "expired": {"valid_from": now - timedelta(days=2), "valid_until": now - timedelta(days=1)},
        "scheduled": {"valid_from": now + timedelta(days=1)},
    }[kind]
    make_rule(**window)
    assert transfer_to(post_resolve(client).json()) == "9000000009"


def test_without_a_fallback_unmatched_calls_answer_404_so_smartflo_fails_over(client, settings, masking_number):
    settings.MASKING_FALLBACK_NUMBER = ""
    response = post_resolve(client, dialplan_body(caller=C))
    assert response.status_code == 404
    assert response.json()["code"] == "no_route"


def test_an_unusable_fallback_setting_answers_404_rather_than_a_bad_transfer(client, settings, masking_number):
    settings.MASKING_FALLBACK_NUMBER = "+14155550123"  # Smartflo transfers to 10-digit numbers only
    assert post_resolve(client, dialplan_body(caller=C)).status_code == 404
    settings.MASKING_FALLBACK_NUMBER = "not a number"
    assert post_resolve(client, dialplan_body(caller=C)).status_code == 404


def test_a_matched_rule_wins_over_the_fallback(client, settings, make_rule):
    settings.MASKING_FALLBACK_NUMBER = FALLBACK
    make_rule()
    assert transfer_to(post_resolve(client).json()) == "9876500002"


@pytest.mark.parametrize("caller", ["anonymous", "Private", "", None, "unknown"])
def test_a_withheld_caller_id_is_unmatched_not_malformed(client, settings, make_rule, caller):
    make_rule()
    response = post_resolve(client, dialplan_body(caller=caller))
    assert response.status_code == 404
    assert response.json()["extra"]["outcome"] == "caller_withheld"
    settings.MASKING_FALLBACK_NUMBER = FALLBACK
    assert transfer_to(post_resolve(client, dialplan_body(caller=caller)).json()) == "9000000009"


# --- Authentication ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [
        {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"},
        {"HTTP_AUTHORIZATION": f"bearer {TOKEN}"},
        {"HTTP_AUTHORIZATION": f"  Bearer   {TOKEN}  "},
        {"HTTP_X_API_KEY": TOKEN},
        {"QUERY_STRING": urlencode({"token": TOKEN})},
    ],
    ids=["bearer", "bearer-lowercase", "bearer-spaces", "x-api-key", "query-token"],
)
def test_each_way_of_presenting_the_token_is_accepted(client, make_rule, credentials):
    make_rule()
    response = client.post(RESOLVE_URL, json.dumps(dialplan_body()), content_type="application/json", **credentials)
    assert response.status_code == 200, response.content
    assert transfer_to(response.json()) == "9876500002"


@pytest.mark.parametrize(
    "credentials",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer wrong-token"},
        {"HTTP_AUTHORIZATION": f"Token {TOKEN}"},
        {"HTTP_AUTHORIZATION": TOKEN},
        {"HTTP_AUTHORIZATION": "Bearer"},
        {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}x"},
        {"HTTP_AUTHORIZATION": f"Bearer {TOKEN[:-1]}"},
        {"HTTP_AUTHORIZATION": "Bearer tëst-masking-token"},
        {"HTTP_X_API_KEY": "wrong"},
        {"QUERY_STRING": "token=wrong"},
        {"QUERY_STRING": "token="},
    ],
    ids=[
        "missing",
        "wrong-bearer",
        "token-scheme",
        "no-scheme",
        "empty-bearer",
        "longer",
        "prefix",
        "non-ascii",
        "wrong-api-key",
        "wrong-query",
        "empty-query",
    ],
)
def test_a_missing_or_wrong_token_is_401_and_nothing_is_resolved(client, make_rule, credentials):
    make_rule()
    response = client.post(RESOLVE_URL, json.dumps(dialplan_body()), content_type="application/json", **credentials)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert ResolutionLog.objects.count() == 0


def test_one_right_credential_among_wrong_ones_is_accepted(client, make_rule):
    make_rule()
    response = client.post(
        RESOLVE_URL + "?token=wrong",
        json.dumps(dialplan_body()),
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer nope",
        HTTP_X_API_KEY=TOKEN,
    )
    assert response.status_code == 200


@pytest.mark.parametrize("presented", ["", "anything", "Bearer "])
def test_with_no_token_configured_every_request_is_refused(client, settings, make_rule, presented):
    settings.MASKING_API_TOKEN = ""
    make_rule()
    response = client.post(
        RESOLVE_URL,
        json.dumps(dialplan_body()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {presented}",
    )
    assert response.status_code == 401


def test_authentication_comes_before_reading_the_body(client):
    response = post_resolve(client, token="wrong", raw=b"{not json")
    assert response.status_code == 401


def test_the_endpoint_ignores_sessions_and_csrf(client, make_user, make_rule):
    make_rule()
    client.force_login(make_user("someone", role="superuser"))  # a session does not replace the token
    assert post_resolve(client, token=None).status_code == 401
    csrf_client = type(client)(enforce_csrf_checks=True)
    assert post_resolve(csrf_client).status_code == 200


# --- Request shapes ------------------------------------------------------------------------------------


def test_get_with_the_variables_in_the_query(client, make_rule):
    make_rule()
    query = urlencode({**dialplan_body(), "token": TOKEN})
    response = client.get(f"{RESOLVE_URL}?{query}")
    assert response.status_code == 200
    assert transfer_to(response.json()) == "9876500002"


def test_a_form_encoded_post(client, make_rule):
    make_rule()
    response = client.post(RESOLVE_URL, dialplan_body(), HTTP_X_API_KEY=TOKEN)  # multipart form
    assert transfer_to(response.json()) == "9876500002"
    response = client.post(
        RESOLVE_URL,
        urlencode(dialplan_body()),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_API_KEY=TOKEN,
    )
    assert transfer_to(response.json()) == "9876500002"


def test_a_post_with_an_empty_body_reads_the_query(client, make_rule):
    make_rule()
    query = urlencode({"caller_id_number": A, "call_to_number": "+91-8069000111"})
    response = client.post(f"{RESOLVE_URL}?{query}", b"", content_type="application/json", HTTP_X_API_KEY=TOKEN)
    assert transfer_to(response.json()) == "9876500002"


def test_json_sent_as_text_plain_is_read(client, make_rule):
    make_rule()
    response = post_resolve(client, dialplan_body(), content_type="text/plain")
    assert transfer_to(response.json()) == "9876500002"


def test_utf16_json_is_read(client, make_rule):
    make_rule()
    raw = json.dumps(dialplan_body()).encode("utf-16")
    assert transfer_to(post_resolve(client, raw=raw).json()) == "9876500002"


def test_the_path_without_a_trailing_slash_answers_too(client, make_rule):
    make_rule()
    response = client.post(
        RESOLVE_URL.rstrip("/"), json.dumps(dialplan_body()), content_type="application/json", HTTP_X_API_KEY=TOKEN
    )
    assert response.status_code == 200


def test_extra_variables_and_missing_optional_ones_are_fine(client, make_rule):
    make_rule()
    body = {"caller_id_number": A, "call_to_number": "+91-8069000111", "did": "x", "custom": {"a": [1]}}
    assert transfer_to(post_resolve(client, body).json()) == "9876500002"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"{not json", None),
        (b"\xff\xfe\x00garbage", None),
        (b'["+919845012345", "+918069000111"]', None),
        (b'"a string"', None),
        (b"42", None),
        (b"null", None),
        (b"[" * 5000 + b"]" * 5000, None),
        (json.dumps({"caller_id_number": A}).encode(), "call_to_number"),
        (json.dumps({"call_to_number": MASKING}).encode(), "caller_id_number"),
        (json.dumps(dialplan_body(called="")).encode(), "call_to_number"),
        (json.dumps(dialplan_body(called=None)).encode(), "call_to_number"),
        (json.dumps(dialplan_body(called="not a number")).encode(), "call_to_number"),
        (json.dumps(dialplan_body(called="12345")).encode(), "call_to_number"),
        (json.dumps(dialplan_body(caller="12345")).encode(), "caller_id_number"),
        (json.dumps(dialplan_body(caller="+91 98450 abcde")).encode(), "caller_id_number"),
        (json.dumps(dialplan_body(caller=[A])).encode(), "caller_id_number"),
        (json.dumps(dialplan_body(caller={"n": A})).encode(), "caller_id_number"),
        (json.dumps(dialplan_body(caller=True)).encode(), "caller_id_number"),
        (json.dumps(dialplan_body(caller=9.845012345e9)).encode(), "caller_id_number"),
        (json.dumps(dialplan_body(called="9" * 5000)).encode(), "call_to_number"),
    ],
)
def test_a_malformed_request_is_400_naming_the_variable(client, masking_number, raw, field):
    response = post_resolve(client, raw=raw)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    if field:
        assert field in body["extra"]["fields"]
    assert ResolutionLog.objects.get().outcome == "invalid"


@pytest.mark.parametrize("method", ["put", "patch", "delete", "options", "head"])
def test_other_methods_are_405(client, method):
    response = getattr(client, method)(RESOLVE_URL, HTTP_X_API_KEY=TOKEN)
    assert response.status_code == 405
    assert "POST" in response["Allow"]


# --- Never a 5xx ---------------------------------------------------------------------------------------


def test_an_internal_error_answers_as_unmatched_and_is_logged(client, make_rule, monkeypatch, caplog):
    make_rule()

    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("masking.apis.masking_resolve", broken)
    with caplog.at_level(logging.ERROR, logger="masking.apis"):
        response = post_resolve(client)
    assert response.status_code == 404
    assert any("answering as unmatched" in r.getMessage() for r in caplog.records)
    assert ResolutionLog.objects.get().outcome == "error"


def test_an_internal_error_takes_the_fallback_when_configured(client, settings, make_rule, monkeypatch):
    settings.MASKING_FALLBACK_NUMBER = FALLBACK
    make_rule()
    monkeypatch.setattr("masking.apis.masking_resolve", lambda **kw: 1 / 0)
    assert transfer_to(post_resolve(client).json()) == "9000000009"


def test_a_database_outage_still_answers_without_a_5xx(client, settings, make_rule, monkeypatch):
    from django.db.utils import OperationalError

    settings.MASKING_FALLBACK_NUMBER = FALLBACK
    make_rule()

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", down)
    response = post_resolve(client)
    assert response.status_code == 200
    assert transfer_to(response.json()) == "9000000009"


def test_a_failing_log_write_does_not_change_the_answer(client, make_rule, monkeypatch, caplog):
    make_rule()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("masking.logwriter.resolution_log_insert", broken)
    with caplog.at_level(logging.ERROR):
        response = post_resolve(client)
    assert response.status_code == 200
    assert transfer_to(response.json()) == "9876500002"
    assert any("log write failed" in r.getMessage() for r in caplog.records)


def test_it_keeps_answering_with_redis_and_celery_down(client, settings, make_rule, monkeypatch):
    """No cache, no broker: a dead Redis for both, and any attempt to use them fails loudly."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    def forbidden(*args, **kwargs):
        raise AssertionError("the resolve endpoint must not use the cache or Celery")

    monkeypatch.setattr("django.core.cache.backends.redis.RedisCache.get", forbidden)
    monkeypatch.setattr("django.core.cache.backends.redis.RedisCache.set", forbidden)
    monkeypatch.setattr("celery.app.task.Task.apply_async", forbidden)
    make_rule()
    response = post_resolve(client)
    assert response.status_code == 200
    assert transfer_to(response.json()) == "9876500002"


# --- The log and the query budget ---------------------------------------------------------------------


def test_every_resolution_is_logged(client, make_rule):
    rule = make_rule()
    post_resolve(client)
    post_resolve(client, dialplan_body(caller=C, call_id="1715235734.000002", uuid="7612"))
    matched, unmatched = ResolutionLog.objects.order_by("pk")
    assert matched.call_id == "1715235734.129662"
    assert matched.uuid == "7611"
    assert matched.caller == A
    assert matched.dialled_number == MASKING
    assert matched.outcome == "matched"
    assert matched.answer == "9876500002"
    assert matched.matched_rule_id == rule.pk
    assert matched.status_code == 200
    assert matched.method == "POST"
    assert 0 < matched.latency_ms < 5000
    assert (unmatched.outcome, unmatched.status_code, unmatched.answer, unmatched.matched_rule_id) == (
        "no_rule",
        404,
        "",
        None,
    )


def test_an_expired_rule_is_named_in_the_log(client, make_rule):
    now = timezone.now()
    rule = make_rule(valid_from=now - timedelta(days=2), valid_until=now - timedelta(days=1))
    post_resolve(client)
    entry = ResolutionLog.objects.get()
    assert (entry.outcome, entry.matched_rule_id, entry.answer) == ("expired", rule.pk, "")


@pytest.mark.parametrize("caller", [A, C], ids=["matched", "unmatched"])
def test_a_resolution_costs_two_queries(client, make_rule, django_assert_num_queries, caller):
    make_rule(two_way=True)
    with django_assert_num_queries(2):  # the route lookup and the log row
        response = post_resolve(client, dialplan_body(caller=caller))
    assert response.status_code in (200, 404)


def test_a_refused_request_costs_no_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert post_resolve(client, token="wrong").status_code == 401


def test_numbers_never_reach_the_logs_unmasked(client, make_rule, caplog):
    with caplog.at_level(logging.DEBUG):
        make_rule(two_way=True)
        post_resolve(client)
        post_resolve(client, raw=b"{broken")
    text = "\n".join(record.getMessage() for record in caplog.records if record.name.startswith("masking"))
    for digits in ("9845012345", "9876500002", "8069000111"):
        assert digits not in text


@pytest.mark.parametrize("prepared", [True, False])
def test_on_postgresql_the_lookup_is_a_prepared_statement_unless_turned_off(client, settings, make_rule, prepared):
    from django.db import connection

    from tests.needs import skip_or_fail

    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://...")
    settings.MASKING_PREPARED_LOOKUP = prepared
    make_rule()
    for _ in range(8):  # psycopg prepares a statement from its fifth run (prepare_threshold)
        assert transfer_to(post_resolve(client).json()) == "9876500002"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%maskingroute%"])
        (count,) = cursor.fetchone()
    assert count == (1 if prepared else 0)
