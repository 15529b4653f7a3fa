"""Masking sessions: pool allocation, the same pair again, expiry, cool-off, close, the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.authtoken.models import Token

from contactcenter.core.exceptions import ApplicationError
from masking.models import MaskingNumber, MaskingRoute, MaskingRule, MaskingSession
from masking.selectors import masking_resolve
from masking.services import (
    masking_number_create,
    masking_session_close,
    masking_session_create,
    masking_session_transition,
    masking_sessions_expire_due,
)
from masking.tasks import close_expired_sessions
from tests.masking.conftest import A, B, C, D, post_resolve, transfer_to

pytestmark = pytest.mark.django_db
SESSIONS_URL = "/api/v1/masking/sessions/"
E = "+919812300005"
F = "+919812300006"


def create(a: str = A, b: str = B, ttl: int = 600, **kwargs) -> MaskingSession:
    session, created = masking_session_create(party_a=a, party_b=b, ttl_seconds=ttl, **kwargs)
    assert created
    return session


def shift_clock(monkeypatch, seconds: float) -> None:
    """Move "now" for the services and selectors (timezone.now) forward."""
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(seconds=seconds))


# --- Allocation ---------------------------------------------------------------------------------------


def test_a_session_lends_a_pool_number_with_a_two_way_rule(pool, client):
    session = create(reference="order-7")
    assert session.masking_number in pool
    assert session.status == "active"
    rule = session.rule
    assert (rule.party_a, rule.party_b, rule.two_way, rule.active, rule.reference) == (A, B, True, True, "order-7")
    assert rule.valid_until == session.expires_at
    number = session.masking_number.number
    assert transfer_to(post_resolve(client, {"caller_id_number": A, "call_to_number": number}).json()) == "9876500002"
    assert transfer_to(post_resolve(client, {"caller_id_number": B, "call_to_number": number}).json()) == "9845012345"


def test_only_active_pool_numbers_are_lent(db):
    masking_number_create(number="+918069000401", pooled=False)
    masking_number_create(number="+918069000402", pooled=True, active=False)
    with pytest.raises(ApplicationError) as caught:
        create()
    assert caught.value.code == "no_number_available"
    good = masking_number_create(number="+918069000403", pooled=True)
    assert create().masking_number == good


def test_disjoint_pairs_share_a_number(db):
    only = masking_number_create(number="+918069000401", pooled=True)
    assert create(A, B).masking_number == only
    assert create(C, D).masking_number == only


def test_a_number_is_never_lent_to_a_party_already_using_it_with_someone_else(pool):
    first = create(A, B)
    second = create(A, C)  # A is on first's number with B
    third = create(D, B)  # B is too
    assert second.masking_number != first.masking_number
    assert third.masking_number != first.masking_number
    fourth = create(C, D)  # C and D already hold second's and third's numbers
    assert fourth.masking_number not in {second.masking_number, third.masking_number}


def test_a_party_in_a_one_way_rule_counts_as_using_the_number(pool, make_rule):
    make_rule(masking_number=pool[0].number, party_a=C, party_b=A)  # A receives calls from pool[0]
    assert create(A, B).masking_number != pool[0]


def test_the_pool_runs_out_for_a_busy_party(pool):
    for other in (B, C, D):
        create(A, other)
    with pytest.raises(ApplicationError) as caught:
        create(A, E)
    assert (caught.value.code, caught.value.status_code) == ("no_number_available", 409)
    assert create(E, F)  # others are still served


def test_every_allocation_respects_the_invariant(pool):
    """After many allocations, no number joins a party to two different people."""
    people = [A, B, C, D, E, F]
    for i, a in enumerate(people):
        for b in people[i + 1 :]:
            try:
                create(a, b)
            except ApplicationError:
                pass
    for number in MaskingNumber.objects.all():
        partners: dict[str, set[str]] = {}
        for rule in MaskingRule.objects.filter(masking_number=number, active=True):
            partners.setdefault(rule.party_a, set()).add(rule.party_b)
            partners.setdefault(rule.party_b, set()).add(rule.party_a)
        assert all(len(others) == 1 for others in partners.values()), (number, partners)


def test_least_recently_allocated_first(pool):
    assert create(A, B).masking_number == pool[0]
    assert create(C, D).masking_number == pool[1]
    assert create(E, F).masking_number == pool[2]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"party_a": "nope"}, "party_a"),
        ({"party_b": A}, "party_b"),
        ({"party_b": "+14155550123"}, "party_b"),
        ({"ttl_seconds": 0}, "ttl_seconds"),
        ({"ttl_seconds": 10**9}, "ttl_seconds"),
        ({"ttl_seconds": True}, "ttl_seconds"),
    ],
)
def test_bad_session_requests_are_refused_by_field(pool, values, field):
    with pytest.raises(ValidationError) as caught:
        masking_session_create(**{"party_a": A, "party_b": B, "ttl_seconds": 60, **values})
    assert field in caught.value.message_dict


def test_a_party_may_not_be_a_masking_number(pool):
    with pytest.raises(ValidationError) as caught:
        masking_session_create(party_a=A, party_b=pool[1].number, ttl_seconds=60)
    assert "party_b" in caught.value.message_dict


# --- The same pair again ----------------------------------------------------------------------------------


def test_the_same_pair_gets_its_session_back_with_the_later_expiry(pool):
    session = create(A, B, ttl=600)
    again, created = masking_session_create(party_a=B, party_b=A, ttl_seconds=3600)
    assert not created
    assert again.pk == session.pk
    assert again.expires_at > session.expires_at
    again.rule.refresh_from_db()
    assert again.rule.valid_until == again.expires_at
    shorter, _ = masking_session_create(party_a=A, party_b=B, ttl_seconds=60)
    assert shorter.expires_at == again.expires_at  # never shortened
    assert MaskingSession.objects.count() == 1


def test_an_extended_session_keeps_matching_past_its_first_expiry(pool, client, monkeypatch):
    session = create(A, B, ttl=60)
    masking_session_create(party_a=A, party_b=B, ttl_seconds=3600)
    shift_clock(monkeypatch, 120)
    body = {"caller_id_number": B, "call_to_number": session.masking_number.number}
    assert transfer_to(post_resolve(client, body).json()) == "9845012345"


# --- Expiry ------------------------------------------------------------------------------------------------


def test_an_expired_session_stops_matching_at_once(pool, client, monkeypatch):
    session = create(ttl=60)
    body = {"caller_id_number": A, "call_to_number": session.masking_number.number}
    assert post_resolve(client, body).status_code == 200
    shift_clock(monkeypatch, 61)
    response = post_resolve(client, body)  # before any task ran
    assert response.status_code == 404
    assert response.json()["extra"]["outcome"] == "expired"
    session.refresh_from_db()
    assert session.status == "active"  # not yet recorded...
    assert session.status_at(timezone.now()) == "expired"  # ...but reported as expired


def test_the_periodic_task_closes_expired_sessions(pool, monkeypatch):
    due = create(A, B, ttl=60)
    later = create(C, D, ttl=3600)
    shift_clock(monkeypatch, 120)
    assert close_expired_sessions.delay().get() == 1  # eager in tests
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, later.status) == ("expired", "active")
    assert due.closed_at is not None
    assert due.close_reason == "ttl elapsed"
    due.rule.refresh_from_db()
    assert (due.rule.active, due.rule.ended_at) == (False, due.expires_at)
    assert not MaskingRoute.objects.filter(rule=due.rule).exists()
    assert masking_sessions_expire_due() == 0  # idempotent


def test_an_expired_session_of_the_pair_is_replaced_on_the_same_number(pool, monkeypatch):
    first = create(A, B, ttl=60)
    shift_clock(monkeypatch, 120)
    second, created = masking_session_create(party_a=A, party_b=B, ttl_seconds=60)
    assert created and second.pk != first.pk
    assert second.masking_number == first.masking_number  # the number they already know
    first.refresh_from_db()
    assert first.status == "expired"


def test_a_rule_taking_an_expired_sessions_caller_expires_the_session(pool, monkeypatch):
    from masking.services import masking_rule_create

    session = create(A, B, ttl=60)
    shift_clock(monkeypatch, 120)
    rule = masking_rule_create(masking_number=session.masking_number.number, party_a=A, party_b=C)
    session.refresh_from_db()
    assert (session.status, session.close_reason) == ("expired", "ttl elapsed")
    assert set(MaskingRoute.objects.values_list("rule_id", "caller")) == {(rule.pk, A)}


# --- Cool-off ----------------------------------------------------------------------------------------------


def test_a_released_number_rests_for_its_parties(pool, settings, monkeypatch):
    settings.MASKING_COOLOFF_SECONDS = 3600
    only = pool[0]
    MaskingNumber.objects.exclude(pk=only.pk).update(pooled=False)
    session = create(A, B)
    masking_session_close(session=session)
    with pytest.raises(ApplicationError):  # A would otherwise reach C on the number that meant B
        create(A, C)
    with pytest.raises(ApplicationError):
        create(D, B)
    shift_clock(monkeypatch, 3601)
    assert create(A, C).masking_number == only


def test_a_resting_number_is_lent_at_once_to_people_who_never_had_it(pool, settings):
    settings.MASKING_COOLOFF_SECONDS = 3600
    MaskingNumber.objects.exclude(pk=pool[0].pk).update(pooled=False)
    masking_session_close(session=create(A, B))
    assert create(C, D).masking_number == pool[0]


def test_the_cool_off_runs_from_the_expiry(pool, settings, monkeypatch):
    settings.MASKING_COOLOFF_SECONDS = 600
    MaskingNumber.objects.exclude(pk=pool[0].pk).update(pooled=False)
    create(A, B, ttl=60)
    shift_clock(monkeypatch, 60 + 599)
    with pytest.raises(ApplicationError):
        create(A, C)
    monkeypatch.undo()
    shift_clock(monkeypatch, 60 + 601)
    assert create(A, C).masking_number == pool[0]


def test_no_cool_off_when_set_to_zero(pool, settings):
    settings.MASKING_COOLOFF_SECONDS = 0
    MaskingNumber.objects.exclude(pk=pool[0].pk).update(pooled=False)
    masking_session_close(session=create(A, B))
    assert create(A, C).masking_number == pool[0]


def test_a_cooling_number_is_passed_over_for_a_rested_one(pool, settings):
    settings.MASKING_COOLOFF_SECONDS = 3600
    first = create(A, B)
    masking_session_close(session=first)
    assert create(A, C).masking_number != first.masking_number


# --- Closing: a state machine -----------------------------------------------------------------------------


def test_close_stops_matching_and_cannot_happen_twice(pool, client):
    session = create()
    closed = masking_session_close(session=session, reason="delivered")
    assert (closed.status, closed.close_reason) == ("closed", "delivered")
    assert masking_resolve(caller=A, masking_number=session.masking_number.number, at=timezone.now()).outcome == (
        "no_rule"
    )
    with pytest.raises(ApplicationError) as caught:
        masking_session_close(session=session)
    assert (caught.value.code, caught.value.extra["status"]) == ("invalid_transition", "closed")
    with pytest.raises(ApplicationError):
        masking_session_transition(session=session, to="expired")
    with pytest.raises(ApplicationError):
        masking_session_transition(session=session, to="active")


def test_deactivating_a_sessions_rule_closes_the_session(pool):
    from masking.services import masking_rule_deactivate

    session = create()
    masking_rule_deactivate(rule=session.rule)
    session.refresh_from_db()
    assert (session.status, session.close_reason) == ("closed", "rule deactivated")


def test_the_database_allows_one_active_session_per_pair(pool):
    from django.db import IntegrityError, transaction

    session = create(A, B)
    other_rule = MaskingRule.objects.create(masking_number=pool[1], party_a=C, party_b=D, active=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        MaskingSession.objects.create(
            rule=other_rule, masking_number=pool[1], party_a=B, party_b=A, expires_at=session.expires_at
        )


# --- API ---------------------------------------------------------------------------------------------------


def test_create_through_the_api_is_201_then_200_for_the_same_pair(staff_client, pool):
    body = {"party_a": "98450 12345", "party_b": "+91-98765-00002", "ttl_seconds": 900, "reference": "order-9"}
    response = staff_client.post(SESSIONS_URL, body, content_type="application/json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["masking_number"] in {n.number for n in pool}
    assert (created["party_a"], created["party_b"], created["status"], created["reference"]) == (
        A,
        B,
        "active",
        "order-9",
    )
    assert created["created_by"] == "staffer"
    again = staff_client.post(SESSIONS_URL, body, content_type="application/json")
    assert again.status_code == 200
    assert again.json()["id"] == created["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"party_a": A, "party_b": B}, "ttl_seconds"),
        ({"party_a": A, "party_b": B, "ttl_seconds": "soon"}, "ttl_seconds"),
        ({"party_a": A, "party_b": B, "ttl_seconds": -5}, "ttl_seconds"),
        ({"party_a": A, "party_b": B, "ttl_seconds": 10**12}, "ttl_seconds"),
        ({"party_a": A, "ttl_seconds": 60}, "party_b"),
        ({"party_a": "x", "party_b": B, "ttl_seconds": 60}, "party_a"),
    ],
)
def test_api_bad_input_is_a_400_naming_the_field(staff_client, pool, body, field):
    response = staff_client.post(SESSIONS_URL, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert field in response.json()["extra"]["fields"]


def test_api_pool_exhausted_is_a_409(staff_client, db):
    response = staff_client.post(
        SESSIONS_URL, {"party_a": A, "party_b": B, "ttl_seconds": 60}, content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "no_number_available"


def test_api_close_and_detail(staff_client, pool):
    session = create()
    response = staff_client.post(f"{SESSIONS_URL}{session.pk}/close/")
    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    again = staff_client.post(f"{SESSIONS_URL}{session.pk}/close/")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    assert staff_client.get(f"{SESSIONS_URL}{session.pk}/").json()["status"] == "closed"
    assert staff_client.get(f"{SESSIONS_URL}999999/").status_code == 404


def test_api_list_filters_and_query_count(staff_client, pool, django_assert_num_queries):
    create(A, B)
    masking_session_close(session=create(C, D))
    create(E, F)
    with django_assert_num_queries(4):  # session, user, count, page
        listed = staff_client.get(SESSIONS_URL).json()
    assert listed["count"] == 3
    assert staff_client.get(SESSIONS_URL, {"status": "closed"}).json()["count"] == 1
    assert staff_client.get(SESSIONS_URL, {"party": "9845012345"}).json()["count"] == 1
    assert staff_client.get(SESSIONS_URL, {"status": "nonsense"}).status_code == 400


def test_an_api_client_with_the_permission_and_a_token(client, make_user, pool):
    backend = make_user("backend")
    token = Token.objects.create(user=backend)
    headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    body = {"party_a": A, "party_b": B, "ttl_seconds": 60}
    assert client.post(SESSIONS_URL, body, content_type="application/json", **headers).status_code == 403
    backend.user_permissions.add(Permission.objects.get(codename="add_maskingsession"))
    response = client.post(SESSIONS_URL, body, content_type="application/json", **headers)
    assert response.status_code == 201
    assert client.get("/api/v1/masking/rules/", **headers).status_code == 403  # sessions only


def test_agents_cannot_create_sessions(client, make_user, pool):
    client.force_login(make_user("agent1", role="agent"))
    body = {"party_a": A, "party_b": B, "ttl_seconds": 60}
    assert client.post(SESSIONS_URL, body, content_type="application/json").status_code == 403
    client.logout()
    assert client.post(SESSIONS_URL, body, content_type="application/json").status_code == 401
