"""`GET /api/v1/call-records/` (DESIGN.md): filters, pagination with `count`, who sees what."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from contactcenter.smartflo import IST
from tests.records.conftest import login, make_record

pytestmark = pytest.mark.django_db

URL = "/api/v1/call-records/"


def ids(response) -> list[str]:
    return [r["call_id"] for r in response.json()["results"]]


@pytest.fixture
def records(asha, vikram):
    day = datetime(2026, 3, 10, 9, 0, tzinfo=IST)
    return {
        "asha_in": make_record(agent=asha, direction="inbound", started_at=day, call_duration=30),
        "asha_missed": make_record(
            agent=asha, status="missed", started_at=day + timedelta(hours=2), call_duration=20, answered_seconds=0
        ),
        "vikram_out": make_record(agent=vikram, started_at=day + timedelta(days=1), call_duration=300),
        "nobody": make_record(
            agent=None, direction="inbound", status="missed", started_at=day - timedelta(days=1), call_duration=10
        ),
    }


def test_a_supervisor_lists_every_record_newest_first_with_a_count(records, supervisor_client):
    response = supervisor_client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4 and set(body) == {"count", "next", "previous", "results"}
    assert ids(response) == [r.call_id for r in sorted(records.values(), key=lambda r: r.started_at, reverse=True)]
    first = body["results"][0]
    assert first["started_at"].endswith("+05:30")  # the display zone, with its offset
    assert first["agent"] == records["vikram_out"].agent_id and first["agent_name"] == "Vikram Singh"
    assert set(first) >= {"call_id", "direction", "status", "call_duration", "client_number", "recording", "services"}


def test_filters_combine(records, supervisor_client):
    r = records
    assert ids(supervisor_client.get(URL, {"direction": "inbound"})) == [r["asha_in"].call_id, r["nobody"].call_id]
    assert ids(supervisor_client.get(URL, {"status": "missed"})) == [r["asha_missed"].call_id, r["nobody"].call_id]
    assert ids(supervisor_client.get(URL, {"min_duration": 30, "direction": "inbound"})) == [r["asha_in"].call_id]
    assert ids(supervisor_client.get(URL, {"agent": r["asha_in"].agent_id})) == [
        r["asha_missed"].call_id,
        r["asha_in"].call_id,
    ]
    assert ids(supervisor_client.get(URL, {"from": "2026-03-10", "to": "2026-03-10"})) == [
        r["asha_missed"].call_id,
        r["asha_in"].call_id,
    ]
    # a time in the display zone, and an ISO time with its own offset
    assert ids(supervisor_client.get(URL, {"from": "2026-03-10 10:00:00"})) == [
        r["vikram_out"].call_id,
        r["asha_missed"].call_id,
    ]
    assert ids(supervisor_client.get(URL, {"to": "2026-03-10T03:30:00+00:00"})) == [
        r["asha_in"].call_id,
        r["nobody"].call_id,
    ]


def test_pages_carry_the_count(records, supervisor_client):
    body = supervisor_client.get(URL, {"page_size": 3}).json()
    assert body["count"] == 4 and len(body["results"]) == 3 and body["next"]
    assert len(supervisor_client.get(body["next"]).json()["results"]) == 1


@pytest.mark.parametrize(
    "params",
    [{"from": "yesterday"}, {"direction": "sideways"}, {"status": "busy"}, {"min_duration": -1}, {"agent": "x"},
     {"from": "2026-03-11", "to": "2026-03-10"},
     # bounds that do not fit the database's UTC (they used to be 500s)
     {"from": "0001-01-01"}, {"from": "0001-01-01T00:00:00+14:00"}, {"to": "9999-12-31T23:59:59-12:00"}],
)  # fmt: skip
def test_bad_filters_answer_400_with_a_code(records, supervisor_client, params):
    response = supervisor_client.get(URL, params)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_an_agent_sees_only_their_own_records(records, asha):
    client = login(asha.user)
    response = client.get(URL)
    assert sorted(ids(response)) == sorted([records["asha_in"].call_id, records["asha_missed"].call_id])
    assert response.json()["count"] == 2
    # asking for a colleague's records finds nothing rather than leaking them
    assert ids(client.get(URL, {"agent": records["vikram_out"].agent_id})) == []


def test_another_agents_record_is_a_404(records, asha):
    client = login(asha.user)
    assert client.get(f"{URL}{records['asha_in'].call_id}/").status_code == 200
    response = client.get(f"{URL}{records['vikram_out'].call_id}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_user_who_is_not_an_agent_sees_nothing(records, make_user):
    assert login(make_user("clerk")).get(URL).json()["count"] == 0


def test_anonymous_callers_are_refused(records, client):
    response = client.get(URL)
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_token_auth_works(records, supervisor):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=supervisor)
    from django.test import Client

    response = Client().get(URL, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.json()["count"] == 4


def test_recording_links_point_at_our_proxy(supervisor_client, asha):
    record = make_record(agent=asha, recording_url="https://cloudphone.tatateleservices.com/file/recording?t=secret")
    make_record(agent=asha, recording_url="")
    results = supervisor_client.get(URL).json()["results"]
    links = {r["call_id"]: r["recording"] for r in results}
    assert links[record.call_id] == f"http://testserver/calls/records/{record.call_id}/recording"
    assert "secret" not in str(results)  # the provider's tokenised URL never leaves the server
    assert list(links.values()).count(None) == 1


def test_records_carry_their_outcome_and_filter_by_it(records, supervisor_client):
    from calls.models import CallRecord, Disposition

    interested = Disposition.objects.get_or_create(label="Interested")[0]
    CallRecord.objects.filter(pk=records["asha_in"].pk).update(disposition=interested)
    outcomes = {r["call_id"]: r["outcome"] for r in supervisor_client.get(URL).json()["results"]}
    assert outcomes == {r.call_id: ("Interested" if key == "asha_in" else None) for key, r in records.items()}
    noted = next(r for r in supervisor_client.get(URL).json()["results"] if r["outcome"])
    assert noted["outcome_id"] == interested.pk  # what the filter takes
    assert ids(supervisor_client.get(URL, {"outcome": noted["outcome_id"]})) == [records["asha_in"].call_id]
    assert len(ids(supervisor_client.get(URL, {"outcome": "none"}))) == 3
    detail = supervisor_client.get(f"{URL}{records['asha_in'].call_id}/").json()
    assert detail["outcome"] == "Interested"
    for bad in ("interested", "-1", "0", "١"):  # a label, a negative, zero, a non-ASCII digit
        response = supervisor_client.get(URL, {"outcome": bad})
        assert response.status_code == 400 and response.json()["code"] == "invalid", bad
        assert response.json()["extra"]["fields"] == {"outcome": ["A disposition id, or `none`."]}, bad


def test_the_list_query_count_does_not_grow_with_the_page(supervisor_client, asha, django_assert_num_queries):
    for _ in range(3):
        make_record(agent=asha)
    # session, user, groups (supervisor check), count, page
    with django_assert_num_queries(5):
        supervisor_client.get(URL)
    from calls.models import CallRecord, Disposition

    for _ in range(30):
        make_record(agent=asha)
    CallRecord.objects.update(disposition=Disposition.objects.get_or_create(label="Interested")[0])
    with django_assert_num_queries(5):  # the outcomes come with the page
        assert len(supervisor_client.get(URL).json()["results"]) == 33


def test_agent_list_query_count(asha, django_assert_num_queries):
    client = login(asha.user)
    for _ in range(5):
        make_record(agent=asha)
    # session, user, groups, agent, count, page
    with django_assert_num_queries(6):
        assert client.get(URL).json()["count"] == 5
