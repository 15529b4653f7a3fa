"""The resolve endpoint's WSGI lane (masking/wsgi.py) answers exactly as the Django view does.

The lane takes Smartflo's canonical request; everything else goes to Django. These tests call
the project's WSGI application (lane in front) and Django's handler alone with the same
environ, and compare status, headers that matter, body and the resolution log row.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contactcenter.wsgi import application, django_application
from masking.models import ResolutionLog
from masking.wsgi import ResolveLane
from tests.masking.conftest import FALLBACK, MASKING, TOKEN, A, B, C, transfer_to
from tests.masking.test_resolve_properties import content_types, credentials, dialplan_dicts, encodings

pytestmark = pytest.mark.django_db

PATH = "/api/v1/masking/resolve/"
COMPARED_HEADERS = ("Content-Type", "Cache-Control", "WWW-Authenticate", "Allow")


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Django's handler closes the connection after each request; the test's transaction must
    survive it (as Django's test client arranges)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def environ(
    body: bytes, *, method: str = "POST", content_type: str = "application/json", query: str = "", **headers: str
) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": PATH,
        "QUERY_STRING": query,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "SCRIPT_NAME": "",
        **headers,
    }


def call(app, env: dict[str, Any]) -> tuple[int, dict[str, str], bytes, dict | None]:
    """(status, compared headers, body, the log row written) for one request."""
    started: list = []
    before = ResolutionLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    result = app(env, lambda status, headers, exc_info=None: started.append((status, headers)))
    body = b"".join(result)
    result.close()  # as the server does once the answer is sent: the log row is written now
    status, headers = started[0]
    header_map = {name: value for name, value in headers if name in COMPARED_HEADERS}
    row = (
        ResolutionLog.objects.filter(pk__gt=before)
        .values("method", "call_id", "uuid", "caller", "dialled_number", "outcome", "answer", "status_code")
        .first()
    )
    return int(status.split()[0]), header_map, body, row


def assert_same_answer(env_factory) -> tuple[int, bytes]:
    via_lane = call(application, env_factory())
    via_django = call(django_application, env_factory())
    assert via_lane[0] == via_django[0], (via_lane, via_django)
    assert via_lane[1] == via_django[1]
    assert json.loads(via_lane[2]) == json.loads(via_django[2])
    assert via_lane[3] == via_django[3]
    return via_lane[0], via_lane[2]


@pytest.fixture
def rules(make_rule):
    make_rule()  # A -> B on MASKING
    make_rule(party_a=C, party_b=B, two_way=True, masking_number=MASKING)


def smartflo_body(**overrides: Any) -> bytes:
    values = {
        "uuid": "7611",
        "call_id": "1715235734.129662",
        "call_to_number": "+91-8069000111",
        "caller_id_number": A,
        "start_stamp": "2024-05-09 11:52:14",
        **overrides,
    }
    return json.dumps(values).encode()


def test_the_lane_answers_smartflos_request_itself_and_gives_the_views_answer(rules, monkeypatch):
    lane = ResolveLane(django_application)
    taken = lane.taken
    status, body = assert_same_answer(lambda: environ(smartflo_body(), HTTP_AUTHORIZATION=f"Bearer {TOKEN}"))
    assert status == 200 and transfer_to(json.loads(body)) == B[-10:]

    # and it is the lane that answered: with Django out of reach it still does
    def no_django(environ, start_response):
        raise AssertionError("the lane passed a canonical request to Django")

    lane = ResolveLane(no_django)
    result = lane(environ(smartflo_body(), HTTP_X_API_KEY=TOKEN), lambda *args: None)
    assert transfer_to(json.loads(b"".join(result))) == B[-10:]
    result.close()
    assert lane.taken == taken + 1


@pytest.mark.parametrize(
    "env",
    [
        pytest.param(lambda: environ(smartflo_body(), method="GET", query=f"token={TOKEN}"), id="GET"),
        pytest.param(lambda: environ(smartflo_body(), query=f"token={TOKEN}"), id="query token"),
        pytest.param(lambda: environ(smartflo_body(), HTTP_AUTHORIZATION="Bearer wrong"), id="wrong token"),
        pytest.param(lambda: environ(smartflo_body()), id="no token"),
        pytest.param(
            lambda: environ(smartflo_body(), content_type="text/plain", HTTP_X_API_KEY=TOKEN), id="text/plain"
        ),
        pytest.param(lambda: environ(b"x" * 5000, HTTP_X_API_KEY=TOKEN), id="too large"),
        pytest.param(lambda: environ(b"   ", HTTP_X_API_KEY=TOKEN), id="blank body"),
    ],
)
def test_everything_else_goes_to_django(rules, env):
    seen = []

    def django(environ, start_response):
        seen.append(environ["wsgi.input"].read())
        start_response("204 No Content", [])
        return []

    expected = env()["wsgi.input"].read()
    ResolveLane(django)(env(), lambda *args: None)
    assert seen == [expected]  # the body arrives whole, as if the lane were not there


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({}, 200),
        ({"caller_id_number": C}, 200),  # two-way rule, from A's side
        ({"caller_id_number": "+919999999999"}, 404),
        ({"caller_id_number": "anonymous"}, 404),
        ({"call_to_number": "+91-8069000999"}, 404),
        ({"caller_id_number": "not a number"}, 400),
        ({"caller_id_number": ["+919845012345"]}, 400),
        ({"call_to_number": None}, 400),
    ],
)
def test_each_outcome_is_the_views(rules, overrides, status):
    got, _ = assert_same_answer(lambda: environ(smartflo_body(**overrides), HTTP_AUTHORIZATION=f"Bearer {TOKEN}"))
    assert got == status


def test_the_fallback_and_a_non_object_body_are_the_views(rules, settings):
    settings.MASKING_FALLBACK_NUMBER = FALLBACK
    got, body = assert_same_answer(
        lambda: environ(smartflo_body(caller_id_number="+919999999999"), HTTP_X_API_KEY=TOKEN)
    )
    assert got == 200 and transfer_to(json.loads(body)) == FALLBACK[-10:]
    for raw in (b"[1, 2]", b"{not json", b'"text"', "\ufeff{}".encode("utf-16")):
        assert assert_same_answer(lambda raw=raw: environ(raw, HTTP_X_API_KEY=TOKEN))[0] == 400


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=dialplan_dicts,
    encoding=encodings,
    content_type=content_types,
    credential=credentials,
)
def test_whatever_arrives_the_lane_answers_as_django(rules, values, encoding, content_type, credential):
    raw = json.dumps(values, ensure_ascii=False).encode(encoding, errors="replace")
    assert_same_answer(lambda: environ(raw, content_type=content_type, **credential))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=dialplan_dicts, encoding=encodings, credential=st.sampled_from(credentials.elements[:2]))
def test_whatever_smartflo_shaped_arrives_the_lane_takes_it_and_answers_as_django(rules, values, encoding, credential):
    """Canonical headers and a good token: the lane's own path, for every body."""
    raw = json.dumps(values, ensure_ascii=False).encode(encoding, errors="replace")
    if raw.strip():
        assert_same_answer(lambda: environ(raw, **credential))
