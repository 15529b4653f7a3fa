"""Property tests: whatever arrives at the resolve endpoint, it never answers 5xx.

Bodies are arbitrary bytes, arbitrary JSON (of every type, at the top and in each variable),
text in several encodings, forms and query strings, under arbitrary methods, content types and
credentials. A 200 is always the documented transfer shape.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.masking.conftest import RESOLVE_URL, TOKEN, A, transfer_to

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

VARIABLES = ("uuid", "call_id", "call_to_number", "caller_id_number", "start_stamp")

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
phone_like = st.one_of(
    st.from_regex(r"\A(\+91[ -]?|91|0)?[6-9]\d{4}[ -]?\d{5}\Z"),
    st.from_regex(r"\A\+?[\d \-()]{0,20}\Z"),
    st.integers(min_value=0, max_value=10**16),
)
variable_values = st.one_of(phone_like, json_values)
dialplan_dicts = st.dictionaries(st.sampled_from(VARIABLES), variable_values, max_size=5) | st.fixed_dictionaries(
    {"caller_id_number": variable_values, "call_to_number": variable_values}
)
encodings = st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252", "ascii"])
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "application/octet-stream",
        "",
    ]
)
methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "FOO"])
credentials = st.sampled_from(
    [
        {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"},
        {"HTTP_X_API_KEY": TOKEN},
        {"HTTP_AUTHORIZATION": "Bearer nope"},
        {},
    ]
)


def _encode(value: Any, encoding: str) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode(encoding, errors="replace")


bodies = st.one_of(
    st.binary(max_size=300),
    st.builds(_encode, json_values, encodings),
    st.builds(_encode, dialplan_dicts, encodings),
    st.builds(lambda d: urlencode({k: str(v) for k, v in d.items()}).encode(), dialplan_dicts),
)


def check(response) -> None:
    assert response.status_code < 500, response.content
    body = json.loads(response.content) if response.content else None
    if response.status_code == 200:
        transfer_to(body)
    elif response.content:
        assert set(body) == {"code", "message", "extra"}


@pytest.fixture
def rule(make_rule):
    return make_rule(two_way=True)


@PROPERTY_SETTINGS
@given(body=bodies, content_type=content_types, method=methods, auth=credentials)
@example(
    body=b'{"caller_id_number": "+919845012345", "call_to_number": "+91-8069000111"}',
    content_type="application/json",
    method="POST",
    auth={"HTTP_X_API_KEY": TOKEN},
)
def test_no_body_method_or_content_type_gets_a_5xx(client, rule, body, content_type, method, auth):
    response = client.generic(method, RESOLVE_URL, body, content_type=content_type, **auth)
    check(response)


@PROPERTY_SETTINGS
@given(variables=dialplan_dicts, auth=credentials)
def test_no_json_variables_get_a_5xx(client, rule, variables, auth):
    response = client.post(RESOLVE_URL, json.dumps(variables), content_type="application/json", **auth)
    check(response)
    if auth and "nope" not in str(auth) and variables.get("caller_id_number") in (A, "9845012345"):
        if variables.get("call_to_number") in ("+918069000111", "8069000111"):
            assert response.status_code == 200


@PROPERTY_SETTINGS
@given(query=st.text(max_size=200), auth=credentials, method=st.sampled_from(["GET", "POST"]))
def test_no_query_string_gets_a_5xx(client, rule, query, auth, method):
    response = client.generic(method, RESOLVE_URL, b"", QUERY_STRING=query, **auth)
    check(response)


@PROPERTY_SETTINGS
@given(
    header=st.text(max_size=80).map(lambda s: s.encode("utf-8", "replace").decode("latin-1")),
    key=st.text(max_size=80).map(lambda s: s.encode("utf-8", "replace").decode("latin-1")),
)
def test_no_credential_header_gets_a_5xx(client, rule, header, key):
    body = json.dumps({"caller_id_number": A, "call_to_number": "+91-8069000111"})
    response = client.post(
        RESOLVE_URL, body, content_type="application/json", HTTP_AUTHORIZATION=header, HTTP_X_API_KEY=key
    )
    check(response)
    assert response.status_code in (200, 401)


number_texts = st.one_of(
    st.from_regex(r"\A\s*\+\s?9\s?1[ \-().]*\d[\d \-().]{8,14}\s*\Z"),
    st.from_regex(r"\A[\d+ \-().]{0,20}\Z"),
    st.text(max_size=20),
)


@settings(max_examples=500, deadline=None)
@given(text=number_texts)
@example(text="+91 98450 12345")
@example(text="+91-8069000111")
@example(text="+91٩٨٤٥٠١٢٣٤٥")  # Arabic-Indic digits: phonenumbers folds them to ASCII
@example(text="+910845012345")
@example(text="+919٨٤٥٠١٢٣٤٥")
def test_the_fast_path_normalises_exactly_like_to_e164(text):
    """dialplan.fast_e164 skips phonenumbers for Smartflo's own forms; it must agree everywhere."""
    from contactcenter.phones import InvalidPhoneNumber, to_e164
    from masking.dialplan import fast_e164

    try:
        expected = to_e164(text, strict=False)
    except InvalidPhoneNumber:
        with pytest.raises(InvalidPhoneNumber):
            fast_e164(text)
    else:
        assert fast_e164(text) == expected


API_FIELDS = (
    "masking_number",
    "party_a",
    "party_b",
    "two_way",
    "valid_from",
    "valid_until",
    "active",
    "reference",
    "ttl_seconds",
)
api_bodies = st.one_of(
    st.binary(max_size=200),
    st.builds(
        _encode,
        st.dictionaries(
            st.sampled_from(API_FIELDS),
            st.one_of(phone_like, json_values, st.datetimes().map(str)),
            max_size=9,
        ),
        st.just("utf-8"),
    ),
)


@PROPERTY_SETTINGS
@given(body=api_bodies, path=st.sampled_from(["/api/v1/masking/rules/", "/api/v1/masking/sessions/"]))
def test_the_rule_and_session_apis_never_answer_5xx(admin_client, pool, body, path):
    response = admin_client.post(path, body, content_type="application/json")
    assert response.status_code < 500, response.content
    assert response.status_code in (200, 201) or set(response.json()) == {"code", "message", "extra"}
