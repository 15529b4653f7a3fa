"""API fuzzing: schemathesis drives every operation of `/api/schema/` through the WSGI app.

For every operation the schema documents, generated requests (valid and invalid ones, plus
schemathesis's boundary "coverage" cases) must never get a 5xx, and every answer must be one the
schema documents: its status code, its content type and its body. Each operation is called the
way its real callers call it:

- a supervisor signed in with a browser session (cookie + CSRF token): every user operation;
- an agent with a DRF token: the operations agents may use (their calls and records, `/me/`);
- the enterprise's backend with a DRF token, no role and `masking.add_maskingsession`: OTP,
  masking sessions, `/me/`;
- Smartflo with its shared secrets: the call-event webhook and the masking resolve endpoint.

Requests run in-process (schemathesis's WSGI transport, in the test's database transaction);
whatever asks Smartflo asks the sandbox. Purely random input rarely names an object that
exists, so part of the generated values are steered, reproducibly, onto real ones (call ids,
agent ids, pks, valid phone numbers, the OTP code the sandbox heard): that is how the success
answers get checked against the schema too.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, settings

from contactcenter.wsgi import application
from sandbox.webhooks import PAYLOAD_KEYS

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# Credentials are ours to send (below), not generated.
schema.config.generation.update(max_examples=20, deterministic=True, with_security_parameters=False)

fuzz_settings = settings(
    deadline=None,
    derandomize=True,  # the same examples every run
    database=None,  # ... and no example database replaying older failures
    # The fixtures build the world once per operation; examples then share it, like real clients.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)

WEBHOOK_TOKEN = "test-webhook-token"  # tests/settings.py
MASKING_TOKEN = "test-masking-token"
MASKING_NUMBER = "+918069000111"
PARTY_A, PARTY_B = "+919845012345", "+919876500002"
OTP_PHONE = "+919812345678"
HOLD_NUMBER = "9876543299"  # the sandbox keeps calls to it in progress

MACHINE_PATHS = ["/api/v1/webhooks/smartflo/", "/api/v1/masking/resolve/"]
AGENT_PATHS = r"^/api/v1/(me|calls|call-records)/"
BACKEND_PATHS = r"^/api/v1/(me|otp|masking/sessions)/"


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Serve requests as Django's test client does: the WSGI handler would otherwise close the
    database connection after each response, and the test's transaction with it. (Django's test
    client reconnects these signals after each of its requests: no test client below.)"""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _session_credentials(user) -> dict[str, dict[str, str]]:
    """A signed-in browser: session cookie, CSRF cookie and the matching X-CSRFToken header."""
    from django.conf import settings as django_settings
    from django.test import Client

    browser = Client()
    browser.force_login(user)  # makes the session; sends no request
    session = browser.cookies[django_settings.SESSION_COOKIE_NAME].value
    csrf = "fuzzcsrf" * 4  # any 32 allowed characters: Django compares cookie and header
    return {
        "cookies": {django_settings.SESSION_COOKIE_NAME: session, django_settings.CSRF_COOKIE_NAME: csrf},
        "headers": {"X-CSRFToken": csrf},
    }


def _token_credentials(user) -> dict[str, dict[str, str]]:
    from rest_framework.authtoken.models import Token

    return {"headers": {"Authorization": f"Token {Token.objects.create(user=user).key}"}}


@pytest.fixture
def world(smartflo, asha, vikram, supervisor, make_user, django_capture_on_commit_callbacks, settings):
    """What the API acts on: a live call (Vikram's, held in progress by the sandbox), a finished
    one and a call record of Asha's, masking rules, a pool and a session, a delivered OTP."""
    from django.contrib.auth.models import Permission

    from calls.models import CallRecord, CallStatus, OutboundCall
    from calls.services import call_place
    from masking.services import masking_number_create, masking_rule_create, masking_session_create
    from otp.services import otp_send

    smartflo.set_scenario(HOLD_NUMBER, hold=True)
    live = call_place(requested_by=supervisor, agent=vikram, destination=HOLD_NUMBER)
    smartflo.wait_for_state(live.call_id, "in_progress")
    now = timezone.now()
    ended = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.COMPLETED, call_id="1.5"
    )
    record = CallRecord.objects.create(
        call_id="1715235734.129662",
        direction="outbound",
        status="answered",
        started_at=now - timedelta(minutes=5),
        ended_at=now,
        call_duration=60,
        answered_seconds=50,
        agent=asha,
        client_number="+919876543210",
        services="IVR, Queue",
        recording_url="https://recordings.example.com/1715235734.mp3",
        first_synced_at=now,
        synced_at=now,
    )
    masking_number_create(number=MASKING_NUMBER, label="Deliveries")
    for i in range(1, 4):
        masking_number_create(number=f"+91806900030{i}", pooled=True)
    rule = masking_rule_create(masking_number=MASKING_NUMBER, party_a=PARTY_A, party_b=PARTY_B)
    session, _ = masking_session_create(party_a="+919812300003", party_b="+919812300004", ttl_seconds=600)

    backend = make_user("backend")
    backend.user_permissions.add(Permission.objects.get(codename="add_maskingsession"))
    settings.OTP_LEAD_RETRY_SECONDS = 0.01
    with django_capture_on_commit_callbacks(execute=True):  # deliver it, as a commit would
        otp_send(phone=OTP_PHONE, requested_by=backend)
    heard = smartflo.announcements(phone=OTP_PHONE[3:])[-1]["otp"]

    return {
        "supervisor": _session_credentials(supervisor),
        "agent": _token_credentials(asha.user),
        "backend": _token_credentials(backend),
        "known": {
            "call_id": [str(live.pk), live.call_id, str(live.custom_identifier), ended.call_id, record.call_id],
            "id": [rule.pk, session.pk],
            "agent": [asha.pk, vikram.pk],
            "code": [heard],
            "event_call": [live.call_id, str(ended.custom_identifier)],
        },
    }


# --- Steering: part of the generated values become real ones ----------------------------------


def _digest(*parts: Any) -> int:
    return zlib.crc32(repr(parts).encode())


def _phone(seed: int) -> str:
    """A valid Indian mobile number derived from the generated value: new numbers, no clashes."""
    return f"+9198{seed % 10**8:08d}"


def _moment(seed: int) -> str:
    """A date or time in one of the forms the API reads, in a year from 1 to 9999."""
    day = f"{(1, 1850, 1999, 2024, 9999)[seed // 4 % 5]:04d}-{1 + seed % 12:02d}-{1 + seed % 28:02d}"
    return [day, f"{day} 23:59:59", f"{day}T00:00:00+14:00", f"{day}T23:59:59-12:00"][seed // 20 % 4]


def _steerers(known: dict[str, list]) -> dict[str, Callable[[int], Any]]:
    """Field name -> a real value for it, chosen by a digest of what was generated."""

    def pick(options: list) -> Callable[[int], Any]:
        return lambda seed: options[seed // 4 % len(options)]

    def party(seed: int) -> str:
        return [PARTY_A, PARTY_B, _phone(seed)][seed // 4 % 3]

    return {
        "call_id": pick(known["call_id"]),
        "id": pick(known["id"]),
        "agent": pick(known["agent"]),
        "code": pick(known["code"]),
        "masking_number": pick([MASKING_NUMBER, "+918069000301", "080-6900-0111"]),
        "call_to_number": pick(["+91-8069000111", MASKING_NUMBER, "8069000302"]),
        "caller_id_number": party,
        "party": party,
        "party_a": party,
        "party_b": _phone,
        "destination_number": _phone,
        "follow_me_number": _phone,
        "caller_id": _phone,
        "phone": pick([OTP_PHONE, OTP_PHONE[3:], "+919876543210", "98765 43210"]),
        "ttl_seconds": lambda seed: 60 + seed % 3600,
        "from": _moment,
        "to": _moment,
    }


def _steer_values(values: Any, steerers: dict[str, Callable[[int], Any]]) -> None:
    """Three in four of the fields we know (chosen by a digest, so reproducibly) get a real value."""
    if not isinstance(values, dict):
        return
    for name, value in list(values.items()):
        seed = _digest(name, value)
        if name in steerers and seed % 4:
            values[name] = steerers[name](seed)


#: Smartflo's webhook variables (docs/calls.md; the sandbox sends the same), and the `$`-prefixed
#: spelling some templates use: generated values are sent under these names. The call's own
#: reference is set apart (below), so that the event is about one of our calls.
EVENT_VARIABLES = [key for key in PAYLOAD_KEYS if key not in ("call_id", "custom_identifier")] + ["$call_status"]


def _steer_event(values: Any, known: dict[str, list]) -> Any:
    """A Smartflo event about one of our calls, carrying the generated values as its variables."""
    if not isinstance(values, dict) or not _digest(values) % 4:
        return values
    event = {EVENT_VARIABLES[i % len(EVENT_VARIABLES)]: v for i, v in enumerate(values.values())}
    for name in ("start_stamp", "answer_stamp", "end_stamp"):
        if name in event and _digest(name, event[name]) % 2:
            event[name] = _moment(_digest(name, event[name])).replace("T", " ")[:19]  # Smartflo's form
    calls = known["event_call"]
    reference = calls[_digest(values) // 4 % len(calls)]
    event["custom_identifier" if "-" in reference else "call_id"] = reference
    return event


def _steer(case, known: dict[str, list]) -> None:
    steerers = _steerers(known)
    _steer_values(case.path_parameters, steerers)
    if case.operation.path == "/api/v1/webhooks/smartflo/":
        if case.method == "GET" and case.query is not None:
            case.query = _steer_event(case.query, known)
        else:
            case.body = _steer_event(case.body, known)
        return
    _steer_values(case.query, steerers)
    _steer_values(case.body, steerers)


# --- The tests ---------------------------------------------------------------------------------


@schema.exclude(path=MACHINE_PATHS).parametrize()
@fuzz_settings
def test_api_as_supervisor(case, world):
    _steer(case, world["known"])
    case.call_and_validate(checks=CHECKS, **world["supervisor"])


@schema.include(path_regex=AGENT_PATHS).parametrize()
@fuzz_settings
def test_api_as_agent(case, world):
    _steer(case, world["known"])
    case.call_and_validate(checks=CHECKS, **world["agent"])


@schema.include(path_regex=BACKEND_PATHS).parametrize()
@fuzz_settings
def test_api_as_backend(case, world):
    _steer(case, world["known"])
    case.call_and_validate(checks=CHECKS, **world["backend"])


@schema.include(path=MACHINE_PATHS).parametrize()
@fuzz_settings
def test_api_as_smartflo(case, world):
    _steer(case, world["known"])
    secrets = {"X-Webhook-Token": WEBHOOK_TOKEN, "Authorization": f"Bearer {MASKING_TOKEN}"}
    case.call_and_validate(checks=CHECKS, headers=secrets)


def _api_routes(patterns, prefix: str = "") -> set[str]:
    """Every URL route of the app, as an OpenAPI path (`<id:pk>` -> `{id}`, as drf-spectacular names it)."""
    import re

    from django.urls import URLPattern

    routes = set()
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLPattern):
            routes.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{%s}" % ("id" if m[1] == "pk" else m[1]), route))
        else:
            routes |= _api_routes(pattern.url_patterns, route)
    return routes


def test_the_schema_has_every_api_route():
    """Every operation is fuzzed only if the schema documents it: every route under /api/v1/ is
    there (the resolve endpoint, a plain Django view, by masking/schema.py)."""
    from django.urls import get_resolver

    routes = {r for r in _api_routes(get_resolver().url_patterns) if r.startswith("/api/v1/")}
    routes.discard("/api/v1/masking/resolve")  # the same view without the slash, for Smartflo
    documented = {result.ok().path for result in schema.get_all_operations()}
    assert routes == documented
