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


def test_the_list_counts_each_agents_calls_of_the_last_days_and_links_to_them(page_client, smartflo):
    from datetime import timedelta

    from django.utils import timezone

    from calls.records_forms import default_days
    from tests.records.conftest import make_record

    page_client.post("/agents/sync/")
    vikram = Agent.objects.get(name="Vikram Singh")
    now = timezone.now()
    for status, count in (("answered", 3), ("missed", 2)):
        for _ in range(count):
            make_record(agent=vikram, status=status, started_at=now - timedelta(hours=1))
    make_record(agent=vikram, status="answered", started_at=now - timedelta(days=30))  # before the days shown
    html = page_client.get("/agents/").content.decode()
    assert "each agent's calls of the last 7 days in the synced call records" in html
    answered = f'<a href="/calls/records/?agent={vikram.pk}&amp;status=answered"'
    assert f'{answered} aria-label="3 answered calls of Vikram Singh">3</a>' in html
    assert 'aria-label="2 missed calls of Vikram Singh">2</a>' in html
    assert 'aria-label="0 answered calls of Asha Rao">0</a>' in html
    # the number is what the dashboard shows behind the link
    records = page_client.get(f"/calls/records/?agent={vikram.pk}&status=answered").content.decode()
    first, last = default_days()
    assert "1–3 of 3 calls" in records and first <= timezone.localdate() <= last


def test_list_query_count_is_pinned(page_client, smartflo, django_assert_max_num_queries):
    for i in range(30):
        Agent.objects.create(name=f"A{i}", follow_me_number=f"+9198765{i:05d}", smartflo_id=str(i))
    with django_assert_max_num_queries(8):
        response = page_client.get("/agents/")
    assert response.status_code == 200
