"""The masking admin: numbers and rules (search, filters, bulk actions), CSV import, the
"test a call" tool, sessions and the resolution log."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from masking.models import MaskingNumber, MaskingRoute, MaskingRule, MaskingSession, ResolutionLog
from masking.services import masking_session_create
from tests.masking.conftest import FALLBACK, MASKING, OTHER_MASKING, A, B, C, D, post_resolve

pytestmark = pytest.mark.django_db

RULES = reverse("admin:masking_maskingrule_changelist")
NUMBERS = reverse("admin:masking_maskingnumber_changelist")
IMPORT = reverse("admin:masking_maskingrule_import")
TEST_CALL = reverse("admin:masking_maskingrule_test_call")
SIMULATE = reverse("admin:masking_maskingrule_simulate_call")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def rule_form(**overrides) -> dict:
    data = {
        "masking_number": "080 6900 0111",
        "party_a": "98450 12345",
        "party_b": "+91-98765-00002",
        "two_way": "on",
        "active": "on",
        "valid_from_0": "",
        "valid_from_1": "",
        "valid_until_0": "",
        "valid_until_1": "",
        "reference": "order-1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- Rules: list, search, filters ------------------------------------------------------------------


def test_the_rule_list_searches_numbers_in_any_form(admin_client, make_rule):
    make_rule()
    make_rule(party_a=C, party_b=D)
    for term, expected in (("98450 12345", 1), ("098765-00002", 1), ("+91 80690 00111", 2), ("order", 0)):
        response = admin_client.get(RULES, {"q": term})
        assert response.status_code == 200
        assert response.context["cl"].result_count == expected, term


@pytest.mark.parametrize(
    ("state", "expected"), [("live", {"live"}), ("scheduled", {"scheduled"}), ("expired", {"expired"})]
)
def test_the_state_filter(admin_client, make_rule, state, expected):
    now = timezone.now()
    make_rule(reference="live")
    make_rule(party_a=C, valid_from=now + timedelta(days=1), reference="scheduled")
    make_rule(party_a=D, valid_from=now - timedelta(days=2), valid_until=now - timedelta(days=1), reference="expired")
    response = admin_client.get(RULES, {"state": state})
    assert {rule.reference for rule in response.context["cl"].result_list} == expected


def test_the_rule_list_has_no_n_plus_one(admin_client, make_rule, pool, django_assert_max_num_queries):
    for i in range(25):
        make_rule(party_a=f"+9198450{i:05d}", party_b=f"+9198770{i:05d}", two_way=i % 2 == 0)
    masking_session_create(party_a=C, party_b=D, ttl_seconds=60)
    with django_assert_max_num_queries(12):
        response = admin_client.get(RULES)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 26


def test_the_tools_are_linked_from_the_rule_list(admin_client, settings):
    settings.SMARTFLO_BASE_URL = "https://api-smartflo.tatateleservices.com/v1"
    page = admin_client.get(RULES).content.decode()
    assert TEST_CALL in page and IMPORT in page
    assert SIMULATE not in page  # only with the sandbox
    settings.SMARTFLO_BASE_URL = "http://127.0.0.1:8900/v1"
    assert SIMULATE in admin_client.get(RULES).content.decode()


# --- Rules: add and change through the services -----------------------------------------------------


def test_add_a_rule_in_the_admin(admin_client, client):
    response = admin_client.post(reverse("admin:masking_maskingrule_add"), rule_form())
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    rule = MaskingRule.objects.get()
    assert (rule.masking_number.number, rule.party_a, rule.party_b, rule.two_way) == (MASKING, A, B, True)
    assert rule.created_by.username == "admin"
    assert set(MaskingRoute.objects.values_list("caller", flat=True)) == {A, B}
    assert post_resolve(client).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"party_b": "98450 12345"}, "party_b"),
        ({"party_a": "nope"}, "party_a"),
        ({"masking_number": "123"}, "masking_number"),
        ({"party_b": "+14155550123"}, "party_b"),
    ],
)
def test_the_add_form_shows_field_errors(admin_client, overrides, field):
    response = admin_client.post(reverse("admin:masking_maskingrule_add"), rule_form(**overrides))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert MaskingRule.objects.count() == 0


def test_the_add_form_shows_a_clash(admin_client, make_rule):
    existing = make_rule(party_a=B, party_b=C)
    response = admin_client.post(reverse("admin:masking_maskingrule_add"), rule_form())  # two-way: B is a caller
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert f"rule #{existing.pk}" in str(errors["party_b"])
    assert MaskingRule.objects.count() == 1


def test_change_a_rule_in_the_admin(admin_client, make_rule):
    rule = make_rule()
    url = reverse("admin:masking_maskingrule_change", args=[rule.pk])
    form = admin_client.get(url).context["adminform"].form
    assert form.initial["masking_number"] == MASKING
    response = admin_client.post(url, rule_form(masking_number=OTHER_MASKING, party_b=C, two_way=None))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.masking_number.number, rule.party_b, rule.two_way) == (OTHER_MASKING, C, False)
    assert set(MaskingRoute.objects.values_list("masking_number__number", "caller", "callee")) == {
        (OTHER_MASKING, A, C)
    }


def test_a_sessions_rule_is_read_only_in_the_admin(admin_client, pool):
    session, _ = masking_session_create(party_a=A, party_b=B, ttl_seconds=60)
    url = reverse("admin:masking_maskingrule_change", args=[session.rule_id])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.post(url, rule_form(party_b=C)).status_code == 403


def test_bulk_activate_and_deactivate(admin_client, make_rule, pool):
    live = make_rule()
    idle = make_rule(party_a=C, party_b=D, active=False)
    blocked = make_rule(party_b=D, active=False)  # A is held by `live`
    session, _ = masking_session_create(party_a="+919812300007", party_b="+919812300008", ttl_seconds=60)
    response = admin_client.post(
        RULES, {"action": "deactivate", "_selected_action": [live.pk, session.rule_id]}, follow=True
    )
    assert "2 rule(s) deactivated" in " ".join(messages_of(response))
    session.refresh_from_db()
    assert session.status == "closed"
    response = admin_client.post(RULES, {"action": "activate", "_selected_action": [idle.pk, live.pk]}, follow=True)
    assert "2 rule(s) activated" in " ".join(messages_of(response))
    live.refresh_from_db()
    idle.refresh_from_db()
    assert live.active and idle.active
    # `blocked` clashes with the reactivated `live`: refused, and said so
    response = admin_client.post(RULES, {"action": "activate", "_selected_action": [blocked.pk, idle.pk]}, follow=True)
    text = " ".join(messages_of(response))
    assert "0 rule(s) activated, 1 already activated" in text
    assert f"Rule #{blocked.pk}" in text and f"rule #{live.pk}" in text
    blocked.refresh_from_db()
    assert not blocked.active


# --- Numbers -----------------------------------------------------------------------------------------


def test_add_a_number_in_any_form(admin_client):
    response = admin_client.post(
        reverse("admin:masking_maskingnumber_add"), {"number": "080 6900 0111", "label": "x", "pooled": "on"}
    )
    assert response.status_code == 302
    number = MaskingNumber.objects.get()
    assert (number.number, number.pooled, number.active) == (MASKING, True, False)


def test_the_admin_refuses_a_number_a_rule_transfers_to(admin_client, make_rule):
    rule = make_rule()
    response = admin_client.post(reverse("admin:masking_maskingnumber_add"), {"number": B, "active": "on"})
    assert response.status_code == 200
    assert f"Masking rule #{rule.pk} transfers calls to this number" in response.content.decode()
    assert not MaskingNumber.objects.filter(number=B).exists()


def test_number_bulk_actions_and_list(admin_client, client, pool, make_rule):
    make_rule(masking_number=pool[0].number)
    body = {"caller_id_number": A, "call_to_number": pool[0].number}
    assert post_resolve(client, body).status_code == 200
    ids = [n.pk for n in pool]
    admin_client.post(NUMBERS, {"action": "deactivate", "_selected_action": ids})
    assert not MaskingNumber.objects.filter(pk__in=ids, active=True).exists()
    assert post_resolve(client, body).json()["extra"]["outcome"] == "number_inactive"
    admin_client.post(NUMBERS, {"action": "activate", "_selected_action": ids[:1]})
    assert post_resolve(client, body).status_code == 200
    admin_client.post(NUMBERS, {"action": "remove_from_pool", "_selected_action": ids})
    assert list(MaskingNumber.objects.filter(pk__in=ids, active=True).values_list("pk", flat=True)) == ids[:1]
    assert not MaskingNumber.objects.filter(pooled=True).exists()
    response = admin_client.get(NUMBERS, {"q": "08069000301", "active__exact": "1"})
    assert response.context["cl"].result_count == 1
    assert response.context["cl"].result_list[0].live_rule_count == 1


# --- CSV import ----------------------------------------------------------------------------------------


def upload(admin_client, text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return admin_client.post(IMPORT, {"file": io.BytesIO(data)}, format="multipart")


def test_csv_import_saves_good_rows_and_reports_bad_ones(admin_client, client):
    csv_text = (
        "masking_number,party_a,party_b,two_way,valid_from,valid_until,active,reference\n"
        "+91 80690 00111,98450 12345,98765 00002,yes,,,,order-1\n"  # good
        "08069000111,9812300003,9812300004,no,2030-01-01 09:00,2030-01-31 18:00,true,order-2\n"  # good
        "08069000111,9812300003,9876500009,,,,,order-3\n"  # clash with the row above
        "08069000111,not-a-number,9876500009,,,,,order-4\n"  # bad party_a
        "08069000111,9812300005,9812300006,perhaps,,,,order-5\n"  # bad boolean
        "08069000111,9812300007,9812300008,,31/01/2030,,,order-6\n"  # bad date
        "\n"  # blank lines are skipped
        "08069000222,9812300007,9812300008,,,,no,order-7\n"  # good (inactive)
    )
    response = upload(admin_client, csv_text)
    assert response.status_code == 200
    report = response.context["report"]
    assert len(report.created) == 3
    assert [row.line for row in report.errors] == [4, 5, 6, 7]
    assert "party_a" in report.errors[0].errors  # the clash names the column
    assert "party_a" in report.errors[1].errors
    assert "two_way" in report.errors[2].errors
    assert "valid_from" in report.errors[3].errors
    assert sorted(MaskingRule.objects.values_list("reference", flat=True)) == ["order-1", "order-2", "order-7"]
    page = response.content.decode()
    assert "3 rules imported, 4 rows refused" in page
    assert post_resolve(client).status_code == 200
    scheduled = MaskingRule.objects.get(reference="order-2")
    assert scheduled.valid_from.isoformat().startswith("2030-01-01T03:30")  # 09:00 IST in UTC


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("party_a,party_b\n1,2\n", "missing column"),
        ("masking_number,party_a,party_b,colour\n", "unknown column"),
        ("", "empty"),
        (b"masking_number,party_a,party_b\n\xff\xfe,1,2\n", "UTF-8"),
    ],
)
def test_a_bad_file_saves_nothing_and_says_why(admin_client, content, message):
    response = upload(admin_client, content)
    assert response.status_code == 200
    assert message in str(response.context["form"].errors["file"])
    assert MaskingRule.objects.count() == 0


def test_csv_import_needs_the_add_permission(client, make_user):
    user = make_user("viewer")
    user.is_staff = True
    user.save()
    client.force_login(user)
    assert client.get(IMPORT).status_code == 403


# --- Test a call -----------------------------------------------------------------------------------------


def test_test_a_call_shows_whom_the_caller_reaches(admin_client, make_rule):
    rule = make_rule(two_way=True)
    response = admin_client.get(TEST_CALL, {"caller": "98765 00002", "masking_number": "+91-8069000111"})
    assert response.status_code == 200
    result = response.context["result"]
    assert result["resolution"].destination == A
    assert result["resolution"].rule_id == rule.pk
    page = response.content.decode()
    assert "Reaches" in page and A in page and "9845012345" in page
    assert ResolutionLog.objects.count() == 0  # a dry run writes nothing


def test_test_a_call_explains_an_unmatched_call(admin_client, settings, make_rule):
    now = timezone.now()
    make_rule(valid_from=now - timedelta(days=2), valid_until=now - timedelta(days=1))
    response = admin_client.get(TEST_CALL, {"caller": A, "masking_number": MASKING})
    assert response.context["result"]["resolution"].outcome == "expired"
    assert "failover" in response.content.decode()
    assert response.context["result"]["rules"][0][1] == "expired"
    settings.MASKING_FALLBACK_NUMBER = FALLBACK
    response = admin_client.get(TEST_CALL, {"caller": A, "masking_number": MASKING})
    assert "fallback number" in response.content.decode()
    # and at a moment inside the window, it would have matched
    moment = (now - timedelta(days=1, hours=12)).astimezone(timezone.get_current_timezone())
    response = admin_client.get(
        TEST_CALL, {"caller": A, "masking_number": MASKING, "at": moment.strftime("%Y-%m-%d %H:%M")}
    )
    assert response.context["result"]["resolution"].outcome == "matched"


def test_test_a_call_validates_and_is_staff_only(admin_client, client, make_user):
    response = admin_client.get(TEST_CALL, {"caller": "xyz", "masking_number": MASKING})
    assert "caller" in response.context["form"].errors
    assert admin_client.get(TEST_CALL).context["result"] is None
    client.force_login(make_user("agent1", role="agent"))
    assert client.get(TEST_CALL).status_code == 302  # to the admin sign-in


def test_simulated_calls_are_offered_only_with_the_sandbox(admin_client, settings):
    settings.SMARTFLO_BASE_URL = "https://api-smartflo.tatateleservices.com/v1"
    response = admin_client.get(SIMULATE, follow=True)
    assert response.redirect_chain[-1][0] == RULES
    assert "only with the Smartflo sandbox" in " ".join(messages_of(response))


# --- Sessions and the log ---------------------------------------------------------------------------------


def test_sessions_list_and_close_action(admin_client, pool):
    session, _ = masking_session_create(party_a=A, party_b=B, ttl_seconds=60)
    listing = admin_client.get(reverse("admin:masking_maskingsession_changelist"), {"q": "98450 12345"})
    assert listing.context["cl"].result_count == 1
    assert admin_client.get(reverse("admin:masking_maskingsession_add")).status_code == 403
    admin_client.post(
        reverse("admin:masking_maskingsession_changelist"), {"action": "close", "_selected_action": [session.pk]}
    )
    session.refresh_from_db()
    assert session.status == MaskingSession.Status.CLOSED
    assert "admin" in session.close_reason


def test_the_resolution_log_is_browsable_and_read_only(admin_client, client, make_rule):
    make_rule()
    post_resolve(client)
    url = reverse("admin:masking_resolutionlog_changelist")
    response = admin_client.get(url, {"q": "1715235734.129662"})
    assert response.context["cl"].result_count == 1
    assert admin_client.get(url, {"outcome__exact": "matched"}).context["cl"].result_count == 1
    entry = ResolutionLog.objects.get()
    page = admin_client.get(reverse("admin:masking_resolutionlog_change", args=[entry.pk]))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.get(reverse("admin:masking_resolutionlog_add")).status_code == 403


def test_masking_home_leads_staff_to_the_admin(admin_client, client, make_user):
    assert admin_client.get("/masking/")["Location"] == RULES
    client.force_login(make_user("agent1", role="agent"))
    assert client.get("/masking/").status_code == 302
    assert "/admin/login/" in client.get("/masking/")["Location"]


def test_change_a_number_in_the_admin(admin_client, client, make_rule, masking_number):
    make_rule()
    url = reverse("admin:masking_maskingnumber_change", args=[masking_number.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "number" not in page.context["adminform"].form.fields  # the key is read-only
    response = admin_client.post(url, {"label": "Deliveries (north)", "pooled": "on"})
    assert response.status_code == 302
    masking_number.refresh_from_db()
    assert (masking_number.label, masking_number.pooled, masking_number.active) == ("Deliveries (north)", True, False)
    assert post_resolve(client).json()["extra"]["outcome"] == "number_inactive"  # unticked: switched off


def test_simulated_call_form_is_prefilled_with_an_active_rule(admin_client):
    from masking.services import masking_rule_create

    masking_rule_create(masking_number=MASKING, party_a=A, party_b=B)
    form = admin_client.get(SIMULATE).context["form"]
    assert form.initial == {"caller": A, "masking_number": MASKING}
