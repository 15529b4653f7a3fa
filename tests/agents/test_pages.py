"""The supervisor's agents pages: list, add form with field errors, sync button."""

import pytest

from agents.models import Agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_client(client, make_user):
    client.force_login(make_user("sup", role="supervisor"))
    return client


def test_form_shows_field_errors_and_sends_nothing(page_client, smartflo):
    response = page_client.post("/agents/new/", {"name": "", "follow_me_number": "123", "intercom": "99"})
    assert response.status_code == 400
    content = response.content.decode()
    for field in ("name", "follow_me_number", "intercom"):
        assert f'data-field="{field}"' in content
    assert smartflo.requests(path="/v1/agent") == []


def test_form_creates_and_redirects_to_the_list(page_client, smartflo):
    response = page_client.post("/agents/new/", {"name": "Kiran", "follow_me_number": "9876500042"}, follow=True)
    assert response.redirect_chain[-1][0] == "/agents/"
    assert b"Kiran" in response.content
    assert Agent.objects.get().name == "Kiran"


def test_form_shows_smartflos_refusal(page_client, smartflo):
    response = page_client.post("/agents/new/", {"name": "Kiran", "follow_me_number": "9876500042", "intercom": "1001"})
    assert response.status_code == 400
    assert b"Smartflo refused" in response.content
    assert Agent.objects.count() == 0


def test_sync_button(page_client, smartflo):
    response = page_client.post("/agents/sync/", follow=True)
    assert b"Synced from Smartflo: 3 created" in response.content
    assert b"Vikram Singh" in response.content


def test_the_list_says_whose_counters_these_are_and_links_each_agent_to_their_calls(page_client, smartflo):
    page_client.post("/agents/sync/")
    vikram = Agent.objects.get(name="Vikram Singh")
    html = page_client.get("/agents/").content.decode()
    assert "Answered and Missed are Smartflo's own totals for each agent, as of the last sync" in html
    link = f'<a href="/calls/records/?agent={vikram.pk}" aria-label="Call records of Vikram Singh">Calls</a>'
    assert link in html
    records = page_client.get(f"/calls/records/?agent={vikram.pk}").content.decode()
    assert f'<option value="{vikram.pk}" selected>Vikram Singh</option>' in records  # the dashboard takes it


def test_list_query_count_is_pinned(page_client, smartflo, django_assert_max_num_queries):
    for i in range(30):
        Agent.objects.create(name=f"A{i}", follow_me_number=f"+9198765{i:05d}", smartflo_id=str(i))
    with django_assert_max_num_queries(8):
        response = page_client.get("/agents/")
    assert response.status_code == 200
