"""Masking rules: validation, the database constraints, clashes, and the staff API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from contactcenter.core.exceptions import ApplicationError
from masking.models import MaskingNumber, MaskingRoute, MaskingRule
from masking.services import (
    masking_rule_activate,
    masking_rule_create,
    masking_rule_deactivate,
    masking_rule_update,
    masking_rules_set_active,
)
from tests.masking.conftest import MASKING, OTHER_MASKING, A, B, C, D, post_resolve, transfer_to

pytestmark = pytest.mark.django_db
RULES_URL = "/api/v1/masking/rules/"


def routes() -> set[tuple[str, str, str]]:
    return set(MaskingRoute.objects.values_list("masking_number__number", "caller", "callee"))


# --- Service: what a rule is ------------------------------------------------------------------------


def test_a_rule_stores_e164_and_writes_one_route_per_caller(make_rule):
    one_way = make_rule(party_a="98450 12345", party_b="098765-00002", masking_number="+91-80690-00111")
    assert (one_way.masking_number.number, one_way.party_a, one_way.party_b) == (MASKING, A, B)
    assert routes() == {(MASKING, A, B)}
    make_rule(party_a=C, party_b=D, two_way=True)
    assert routes() == {(MASKING, A, B), (MASKING, C, D), (MASKING, D, C)}


def test_a_new_masking_number_is_registered_outside_the_pool(db):
    rule = masking_rule_create(masking_number="8069000555", party_a=A, party_b=B)
    number = MaskingNumber.objects.get(number="+918069000555")
    assert rule.masking_number == number
    assert (number.active, number.pooled) == (True, False)


def test_an_inactive_rule_has_no_routes(make_rule):
    make_rule(active=False)
    assert routes() == set()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"masking_number": "123"}, "masking_number"),
        ({"masking_number": "+14155550123"}, "masking_number"),
        ({"party_a": "abc"}, "party_a"),
        ({"party_a": ""}, "party_a"),
        ({"party_b": "12"}, "party_b"),
        ({"party_b": "+14155550123"}, "party_b"),  # Smartflo transfers to 10-digit numbers only
        ({"party_a": "+14155550123", "two_way": True}, "party_a"),  # ...and two-way dials A too
        ({"party_b": A}, "party_b"),
        ({"party_b": "09845012345"}, "party_b"),  # the same number in another form
        ({"party_b": MASKING}, "party_b"),  # a transfer back into the masking number loops
        ({"party_a": MASKING}, "party_a"),
        ({"valid_from": timezone.now(), "valid_until": timezone.now() - timedelta(hours=1)}, "valid_until"),
        # a typo, and one Asia/Kolkata cannot even render as ISO 8601 (offset +05:53:28 in 282)
        ({"valid_until": datetime(282, 8, 1, tzinfo=UTC)}, "valid_until"),
        ({"valid_from": datetime(2100, 1, 1, tzinfo=UTC)}, "valid_from"),
    ],
)
def test_bad_fields_are_refused_by_name(make_rule, values, field):
    with pytest.raises(ValidationError) as caught:
        make_rule(**values)
    assert field in caught.value.message_dict
    assert MaskingRule.objects.count() == 0


def test_a_party_that_is_another_masking_number_is_refused(make_rule):
    MaskingNumber.objects.create(number=OTHER_MASKING)
    with pytest.raises(ValidationError) as caught:
        make_rule(party_b=OTHER_MASKING)
    assert "party_b" in caught.value.message_dict


def test_a_number_a_rule_transfers_to_cannot_become_a_masking_number(make_rule):
    """The other way round: calls to it would loop back into the API Dialplan."""
    from masking.services import masking_number_create

    one_way = make_rule()  # A -> B
    with pytest.raises(ValidationError) as caught:
        masking_number_create(number=B)
    assert caught.value.message_dict == {
        "number": [
            f"Masking rule #{one_way.pk} transfers calls to this number: as a masking number they would loop "
            "back here. Deactivate or change that rule first."
        ]
    }
    with pytest.raises(ValidationError) as caught:  # nor by naming it as a new rule's masking number
        make_rule(masking_number=B, party_a=C, party_b=D)
    assert list(caught.value.message_dict) == ["masking_number"]
    assert not MaskingNumber.objects.filter(number=B).exists()
    assert masking_number_create(number=A).number == A  # a one-way caller is never dialled

    two_way = make_rule(masking_number=OTHER_MASKING, party_a=C, party_b=D, two_way=True)
    with pytest.raises(ValidationError):
        masking_number_create(number=C)
    masking_rule_deactivate(rule=two_way)  # once no rule dials it, it may
    assert masking_number_create(number=C).number == C
    MaskingRule.objects.filter(pk=one_way.pk).update(valid_until=timezone.now() - timedelta(minutes=1))
    assert masking_number_create(number=B).number == B  # an expired rule dials nobody

    # ... and a rule switched off meanwhile cannot be switched back on into the loop
    with pytest.raises(ApplicationError) as caught:
        masking_rule_activate(rule=two_way)
    assert caught.value.code == "party_is_masking_number" and caught.value.status_code == 409
    two_way.refresh_from_db()
    assert not two_way.active and not MaskingRoute.objects.filter(rule=two_way).exists()
    from masking.services import masking_rules_set_active

    result = masking_rules_set_active(rules=[two_way], active=True)  # the admin's bulk action
    assert result.changed == 0 and "a masking number now" in result.errors[0]


def test_a_window_that_ends_before_it_starts_says_so_in_words(make_rule):
    start = timezone.now()
    with pytest.raises(ValidationError) as caught:
        make_rule(valid_from=start, valid_until=start - timedelta(hours=1))
    assert caught.value.message_dict == {"valid_until": ["Must be after “valid from”, the start of the window."]}
    rule = make_rule(valid_until=start + timedelta(days=1))
    with pytest.raises(ValidationError) as caught:  # only the start changed: it is what is wrong
        masking_rule_update(rule=rule, data={"valid_from": start + timedelta(days=2)})
    assert caught.value.message_dict == {"valid_from": ["Must be before “valid until”, the end of the window."]}


def test_a_foreign_caller_is_fine_on_a_one_way_rule(make_rule):
    assert make_rule(party_a="+14155550123").party_a == "+14155550123"


# --- Clashes: one active answer per (masking number, caller) ------------------------------------------


def test_a_second_active_rule_for_the_same_caller_is_a_conflict(make_rule):
    first = make_rule()
    with pytest.raises(ApplicationError) as caught:
        make_rule(party_b=C)
    assert caught.value.code == "rule_conflict"
    assert caught.value.status_code == 409
    assert caught.value.extra["rule_id"] == first.pk
    assert "party_a" in caught.value.extra["fields"]


def test_a_two_way_party_b_is_a_caller_too(make_rule):
    make_rule(party_a=A, party_b=B, two_way=True)
    with pytest.raises(ApplicationError) as caught:  # B already reaches A through this number
        make_rule(party_a=B, party_b=C)
    assert caught.value.code == "rule_conflict"
    with pytest.raises(ApplicationError):  # ...and as party B of another two-way rule
        make_rule(party_a=C, party_b=B, two_way=True)


def test_a_one_way_party_b_is_not_a_caller(make_rule):
    make_rule(party_a=A, party_b=B)
    assert make_rule(party_a=B, party_b=C).party_a == B


def test_the_same_caller_on_another_number_is_fine(make_rule):
    make_rule()
    assert make_rule(masking_number=OTHER_MASKING, party_b=C)


def test_inactive_rules_do_not_clash(make_rule):
    make_rule(active=False)
    make_rule(party_b=C, active=False)
    assert make_rule(party_b=D).active


def test_an_expired_rule_is_retired_instead_of_clashing(make_rule):
    now = timezone.now()
    old = make_rule(valid_from=now - timedelta(days=2), valid_until=now - timedelta(days=1))
    new = make_rule(party_b=C)
    old.refresh_from_db()
    assert not old.active
    assert old.ended_at == old.valid_until
    assert routes() == {(MASKING, A, C)}
    assert new.active


def test_a_scheduled_rule_holds_its_caller(make_rule):
    make_rule(valid_from=timezone.now() + timedelta(days=1))
    with pytest.raises(ApplicationError):
        make_rule(party_b=C)


# --- The database itself refuses what the services would ----------------------------------------------


def test_db_route_constraint_refuses_two_routes_for_one_caller(make_rule):
    rule = make_rule(two_way=True)
    other = make_rule(party_a=C, party_b=D)
    with pytest.raises(IntegrityError), transaction.atomic():  # B is a caller of the two-way rule
        MaskingRoute.objects.create(rule=other, masking_number=rule.masking_number, caller=B, callee=D)


def test_db_rule_constraint_refuses_two_active_rules_for_one_party_a(make_rule, masking_number):
    make_rule()
    with pytest.raises(IntegrityError), transaction.atomic():
        MaskingRule.objects.create(masking_number=masking_number, party_a=A, party_b=C, active=True)
    # inactive duplicates are history, and allowed
    MaskingRule.objects.create(masking_number=masking_number, party_a=A, party_b=C, active=False)


def test_db_rule_constraint_refuses_two_active_two_way_rules_for_one_party_b(make_rule, masking_number):
    make_rule(two_way=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        MaskingRule.objects.create(masking_number=masking_number, party_a=C, party_b=B, two_way=True)


def test_db_check_constraints(masking_number):
    with pytest.raises(IntegrityError), transaction.atomic():
        MaskingRule.objects.create(masking_number=masking_number, party_a=A, party_b=A, active=False)
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        MaskingRule.objects.create(
            masking_number=masking_number, party_a=A, party_b=B, active=False, valid_from=now, valid_until=now
        )


# --- Update, activate, deactivate --------------------------------------------------------------------------


def test_update_moves_the_routes(make_rule):
    rule = make_rule()
    masking_rule_update(rule=rule, data={"party_b": C, "two_way": True, "masking_number": OTHER_MASKING})
    assert routes() == {(OTHER_MASKING, A, C), (OTHER_MASKING, C, A)}


def test_update_to_a_clash_changes_nothing(make_rule):
    make_rule(party_a=C, party_b=D)
    rule = make_rule()
    with pytest.raises(ApplicationError):
        masking_rule_update(rule=rule, data={"party_a": C})
    rule.refresh_from_db()
    assert rule.party_a == A
    assert routes() == {(MASKING, C, D), (MASKING, A, B)}


def test_deactivate_then_activate(make_rule):
    rule = make_rule(two_way=True)
    masking_rule_deactivate(rule=rule)
    rule.refresh_from_db()
    assert (rule.active, routes()) == (False, set())
    assert rule.ended_at is not None
    masking_rule_activate(rule=rule)
    rule.refresh_from_db()
    assert (rule.active, rule.ended_at) == (True, None)
    assert routes() == {(MASKING, A, B), (MASKING, B, A)}


def test_activating_into_a_clash_is_refused(make_rule):
    rule = make_rule(active=False)
    make_rule(party_b=C)
    with pytest.raises(ApplicationError):
        masking_rule_activate(rule=rule)


def test_bulk_activation_reports_each_refusal(make_rule):
    blocked = make_rule(active=False)
    fine = make_rule(party_a=C, party_b=D, active=False)
    make_rule(party_b=D)  # holds A
    result = masking_rules_set_active(rules=MaskingRule.objects.filter(pk__in=[blocked.pk, fine.pk]), active=True)
    assert (result.changed, result.unchanged, len(result.errors)) == (1, 0, 1)
    assert f"#{blocked.pk}" in result.errors[0]


# --- API -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("when", ["0001-1-1 0:0:0", "0001-01-01T00:00:00", "9999-12-31T23:59:59-12:00"])
def test_a_window_time_at_the_edge_of_the_calendar_is_400_not_500(staff_client, when):
    body = {"masking_number": MASKING, "party_a": A, "party_b": B, "valid_from": when}
    response = staff_client.post(RULES_URL, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert list(response.json()["extra"]["fields"]) == ["valid_from"]


def test_create_through_the_api(staff_client, client):
    response = staff_client.post(
        RULES_URL,
        {
            "masking_number": "+91-8069000111",
            "party_a": "98450 12345",
            "party_b": "09876500002",
            "two_way": True,
            "valid_until": (timezone.now() + timedelta(days=1)).isoformat(),
            "reference": "order-1042",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("masking_number", "party_a", "party_b", "two_way", "active", "reference")} == {
        "masking_number": MASKING,
        "party_a": A,
        "party_b": B,
        "two_way": True,
        "active": True,
        "reference": "order-1042",
    }
    assert body["state"] == "live"
    assert body["created_by"] == "staffer"
    assert body["session"] is None
    assert transfer_to(post_resolve(client).json()) == "9876500002"


def test_create_needs_only_the_three_numbers(staff_client):
    response = staff_client.post(
        RULES_URL, {"masking_number": MASKING, "party_a": A, "party_b": B}, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["two_way"], body["active"], body["valid_from"], body["valid_until"]) == (False, True, None, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"party_a": A, "party_b": B}, "masking_number"),
        ({"masking_number": MASKING, "party_a": "nope", "party_b": B}, "party_a"),
        ({"masking_number": MASKING, "party_a": A, "party_b": A}, "party_b"),
        ({"masking_number": MASKING, "party_a": A, "party_b": B, "two_way": "maybe"}, "two_way"),
        ({"masking_number": MASKING, "party_a": A, "party_b": B, "valid_from": "yesterday"}, "valid_from"),
        ({"masking_number": MASKING, "party_a": A, "party_b": ["x"]}, "party_b"),
        ({"masking_number": MASKING, "party_a": "\x00", "party_b": B}, "party_a"),
        (
            {
                "masking_number": MASKING,
                "party_a": A,
                "party_b": B,
                "valid_from": "2030-01-02T00:00:00+05:30",
                "valid_until": "2030-01-01T00:00:00+05:30",
            },
            "valid_until",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(staff_client, body, field):
    response = staff_client.post(RULES_URL, body, content_type="application/json")
    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["code"] == "invalid"
    assert field in payload["extra"]["fields"]
    assert set(payload) == {"code", "message", "extra"}


def test_a_body_that_is_not_json_is_a_400(staff_client):
    response = staff_client.post(RULES_URL, "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_a_clash_is_a_409_naming_the_rule(staff_client, make_rule):
    rule = make_rule()
    response = staff_client.post(
        RULES_URL, {"masking_number": MASKING, "party_a": A, "party_b": C}, content_type="application/json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "rule_conflict"
    assert body["extra"]["rule_id"] == rule.pk
    assert "party_a" in body["extra"]["fields"]


def test_patch_changes_fields_and_deactivates(staff_client, client, make_rule):
    rule = make_rule()
    url = f"{RULES_URL}{rule.pk}/"
    response = staff_client.patch(url, {"party_b": C}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["party_b"] == C
    assert transfer_to(post_resolve(client).json()) == "9812300003"
    response = staff_client.patch(url, {"active": False}, content_type="application/json")
    assert (response.json()["active"], response.json()["state"]) == (False, "inactive")
    assert post_resolve(client).status_code == 404


def test_patching_the_window_takes_effect_at_once(staff_client, client, make_rule):
    rule = make_rule()
    url = f"{RULES_URL}{rule.pk}/"
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    response = staff_client.patch(url, {"valid_until": past}, content_type="application/json")
    assert response.json()["state"] == "expired"
    assert post_resolve(client).json()["extra"]["outcome"] == "expired"
    future = (timezone.now() + timedelta(days=1)).isoformat()
    staff_client.patch(url, {"valid_from": None, "valid_until": future}, content_type="application/json")
    assert post_resolve(client).status_code == 200


def test_a_masking_number_cannot_be_renumbered(masking_number):
    from masking.services import masking_number_update

    with pytest.raises(ValidationError):
        masking_number_update(number=masking_number, data={"number": OTHER_MASKING})


def test_get_one_and_404(staff_client, make_rule):
    rule = make_rule()
    assert staff_client.get(f"{RULES_URL}{rule.pk}/").json()["id"] == rule.pk
    missing = staff_client.get(f"{RULES_URL}999999/")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_list_with_filters(staff_client, make_rule):
    make_rule()
    make_rule(party_a=C, party_b=D, active=False)
    make_rule(masking_number=OTHER_MASKING, party_a=C, party_b=B)
    assert staff_client.get(RULES_URL).json()["count"] == 3
    assert staff_client.get(RULES_URL, {"active": "false"}).json()["count"] == 1
    assert staff_client.get(RULES_URL, {"masking_number": "8069000222"}).json()["count"] == 1
    assert staff_client.get(RULES_URL, {"party": "98765 00002"}).json()["count"] == 2
    bad = staff_client.get(RULES_URL, {"party": "nope"})
    assert bad.status_code == 400
    assert "party" in bad.json()["extra"]["fields"]


def test_the_list_costs_the_same_for_3_or_30_rules(staff_client, make_rule, django_assert_num_queries):
    def listing_queries(count: int) -> int:
        for i in range(count):
            make_rule(party_a=f"+9198450{i:05d}", party_b=f"+9198770{i:05d}", masking_number=f"+9180690{i:05d}")
        with django_assert_num_queries(4) as captured:  # session, user, count, page
            assert staff_client.get(RULES_URL).status_code == 200
        return len(captured)

    assert listing_queries(3) == 4
    MaskingRoute.objects.all().delete()
    MaskingRule.objects.all().delete()
    assert listing_queries(30) == 4


@pytest.mark.parametrize("role", ["supervisor", "superuser"])
def test_supervisors_manage_rules_too(client, make_user, role):
    client.force_login(make_user("boss", role=role))
    assert client.get(RULES_URL).status_code == 200


def test_agents_and_anonymous_users_cannot(client, make_user):
    assert client.get(RULES_URL).status_code == 401
    client.force_login(make_user("agent1", role="agent"))
    response = client.get(RULES_URL)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    response = client.post(RULES_URL, {"masking_number": MASKING, "party_a": A, "party_b": B})
    assert response.status_code == 403


def test_drf_token_auth_works(client, make_user):
    user = make_user("backend")
    user.is_staff = True
    user.save()
    token = Token.objects.create(user=user)
    response = client.get(RULES_URL, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200


def test_a_sessions_rule_is_changed_through_its_session(staff_client, pool):
    from masking.services import masking_session_create

    session, _ = masking_session_create(party_a=A, party_b=B, ttl_seconds=600)
    response = staff_client.patch(f"{RULES_URL}{session.rule_id}/", {"party_b": C}, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["code"] == "managed_by_session"
    assert staff_client.get(f"{RULES_URL}{session.rule_id}/").json()["session"] == session.pk


def test_a_one_way_callers_number_is_taken_as_the_network_sends_it(make_rule):
    """Party A of a one-way rule is a caller id, never dialled: a number outside the numbering
    plan still routes (and the rule stays editable); party B, which Smartflo dials, must exist."""
    from masking.services import masking_rule_update

    rule = make_rule(party_a="+915555555555")
    assert rule.party_a == "+915555555555"
    assert masking_rule_update(rule=rule, data={"reference": "edited"}).reference == "edited"
    with pytest.raises(ValidationError) as refused:
        make_rule(party_a="+919845012399", party_b="+915555555555")
    assert "party_b" in refused.value.message_dict
