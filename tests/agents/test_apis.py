"""The agents API: create through Smartflo, field errors, provider failures, sync."""

import pytest

from agents.models import Agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, make_user):
    client.force_login(make_user("sup", role="supervisor"))
    return client


def post(api, path, body=None):
    return api.post(path, body or {}, content_type="application/json")


def test_create_returns_201_with_the_smartflo_id(api, smartflo):
    response = post(
        api,
        "/api/v1/agents/",
        {
            "name": "Kiran",
            "follow_me_number": "+91 98765 00042",
            "intercom": "4242",
            "username": "kiran",
            "password": "a-long-passphrase",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["smartflo_id"]
    assert body["follow_me_number"] == "+919876500042"
    assert body["username"] == "kiran"
    assert "password" not in body
    assert Agent.objects.get().smartflo_id == body["smartflo_id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"follow_me_number": "9876500042"}, "name"),
        ({"name": "K", "follow_me_number": "98765"}, "follow_me_number"),
        ({"name": "K", "follow_me_number": "9876500042", "intercom": "42"}, "intercom"),
        (
            {"name": "K", "follow_me_number": "9876500042", "username": "x y<>", "password": "a-long-passphrase"},
            "username",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, smartflo, body, field):
    response = post(api, "/api/v1/agents/", body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["extra"]["fields"]
    assert smartflo.requests(path="/v1/agent") == []


def test_refusal_is_a_502_with_smartflos_message(api, smartflo):
    response = post(api, "/api/v1/agents/", {"name": "K", "follow_me_number": "9876500042", "intercom": "1001"})
    assert response.status_code == 502
    assert response.json()["code"] == "provider_rejected"
    assert response.json()["extra"]["provider_message"]
    assert Agent.objects.count() == 0


def test_timeout_is_a_504_and_nothing_is_stored(api, smartflo):
    smartflo.add_fault(endpoint="agent", timeout_rate=1.0)
    response = post(api, "/api/v1/agents/", {"name": "K", "follow_me_number": "9876500042"})
    assert response.status_code == 504
    assert response.json()["code"] == "provider_unknown_outcome"
    assert Agent.objects.count() == 0


def test_sync_then_list(api, smartflo, django_assert_max_num_queries):
    response = post(api, "/api/v1/agents/sync/")
    assert response.json() == {"created": 3, "updated": 0, "unchanged": 0, "deactivated": 0}
    with django_assert_max_num_queries(6):
        listed = api.get("/api/v1/agents/").json()
    assert listed["count"] == 3
    assert {a["name"] for a in listed["results"]} == {"Asha Rao", "Vikram Singh", "Meera Iyer"}


def test_sync_command(smartflo):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sync_agents", stdout=out)
    assert "3 created" in out.getvalue()
    call_command("sync_agents", stdout=out)
    assert "3 unchanged" in out.getvalue()
    assert Agent.objects.count() == 3
