"""The dashboard's "Sync now" and its self-refreshing status line (/calls/records/sync/)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from kombu.exceptions import OperationalError

from calls.models import CallRecord, CallRecordSyncRun, CallRecordSyncState
from calls.services.records import _lease_acquire, call_records_sync_request_taken
from calls.tasks import sync_call_records
from tests.records.conftest import assert_table_equals_sandbox, hours_ago, login

pytestmark = pytest.mark.django_db

URL = "/calls/records/sync/"
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def queued(monkeypatch) -> list[dict]:
    """The sync task as a queue with no worker behind it: what was queued, nothing run."""
    calls: list[dict] = []
    monkeypatch.setattr(sync_call_records, "apply_async", lambda **options: calls.append(options))
    return calls


def polls_every(html: str) -> str:
    return re.search(r'hx-trigger="every (\d+s)"', html)[1]


def test_a_supervisor_syncs_now_and_the_line_says_what_was_stored(records_settings, sandbox, supervisor_client):
    sandbox.generate_records(count=40, start=hours_ago(5), end=hours_ago(1), seed=31)

    html = supervisor_client.post(URL, **HX).content.decode()  # tests run tasks eagerly: a worker at once

    assert_table_equals_sandbox(sandbox, hours_ago(6), hours_ago(0))
    run = CallRecordSyncRun.objects.get()
    assert (run.kind, run.trigger, run.status, run.records_stored) == ("incremental", "manual", "succeeded", 40)
    assert html.startswith('<div class="sync-status" id="sync-status"') and "Synced" in html and "40 records" in html
    assert polls_every(html) == "60s" and re.search(r'<button [^>]*id="sync-now"(?![^>]*disabled)', html)


def test_until_a_worker_starts_it_the_line_says_it_waits_and_polls_often(records_settings, supervisor_client, queued):
    html = supervisor_client.post(URL, **HX).content.decode()
    assert queued == [{"kwargs": {"trigger": "manual"}}]
    assert "Sync asked for" in html and "waiting for a worker" in html
    assert polls_every(html) == "3s" and re.search(r'<button [^>]*id="sync-now"[^>]*disabled', html)

    supervisor_client.post(URL, **HX)  # a second click while it waits queues nothing more
    assert len(queued) == 1
    assert "waiting for a worker" in supervisor_client.get("/calls/records/").content.decode()

    call_records_sync_request_taken()  # what the task does first, then its run
    CallRecordSyncRun.objects.create(trigger="manual", records_stored=7)
    html = supervisor_client.get(URL, **HX).content.decode()
    assert "Syncing" in html and "7 records so far" in html and polls_every(html) == "3s"
    supervisor_client.post(URL, **HX)  # nor while it runs
    assert len(queued) == 1


def test_the_task_takes_the_request_up_even_when_its_run_is_skipped(records_settings, supervisor_client, queued):
    """The line waits for the task, not for a run that starts after the click (clocks differ,
    and a run can be skipped while another holds the lock)."""
    supervisor_client.post(URL, **HX)
    assert "waiting for a worker" in supervisor_client.get(URL, **HX).content.decode()
    CallRecordSyncState.objects.create(name="default")
    assert _lease_acquire("a-stuck-run")  # another run holds the lock: the task's run is skipped

    sync_call_records.run(trigger="manual")

    assert CallRecordSyncRun.objects.get().status == "skipped"
    html = supervisor_client.get(URL, **HX).content.decode()
    assert "waiting for a worker" not in html and polls_every(html) == "60s"


def test_an_unreachable_queue_is_said_and_nothing_is_left_waiting(records_settings, supervisor_client, monkeypatch):
    def down(**options):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(sync_call_records, "apply_async", down)
    response = supervisor_client.post(URL, **HX)
    html = response.content.decode()
    assert response.status_code == 200  # HTMX swaps it in, so the error shows where the click was
    assert "The task queue cannot be reached" in html and "waiting for a worker" not in html
    assert polls_every(html) == "60s"
    assert not CallRecordSyncRun.objects.exists() and not CallRecord.objects.exists()


def test_without_javascript_the_form_post_goes_back_to_the_dashboard_with_a_message(
    records_settings, supervisor_client, queued
):
    response = supervisor_client.post(URL, follow=True)
    assert response.redirect_chain == [("/calls/records/", 302)]
    assert "Sync asked for: new records appear" in response.content.decode()


def test_the_lines_address_typed_in_opens_the_dashboard(records_settings, supervisor_client):
    """The line is a part of the dashboard (its poll is HTMX's): opened by hand, it is the page."""
    response = supervisor_client.get(URL)
    assert (response.status_code, response["Location"]) == (302, "/calls/records/")


def test_agents_see_the_line_without_the_button_and_cannot_sync(records_settings, asha, queued):
    client = login(asha.user)
    html = client.get(URL, **HX).content.decode()
    assert "Not synced yet" in html and "sync-now" not in html
    assert "sync-now" not in client.get("/calls/records/").content.decode()
    assert client.post(URL, **HX).status_code == 403
    assert queued == []


# --- The table follows a finished run --------------------------------------------------------
# The line remembers the runs the page has shown (`shown`: every run up to it had finished when
# the table was drawn); a newer finished run that stored records answers with the HTMX event
# `records-synced`, on which the results section asks for itself again.


def shown_in(html: str) -> int:
    """The `shown` the line's next poll (and its Sync now) will send."""
    polls = re.search(r'hx-get="/calls/records/sync/\?shown=(\d+)"', html)
    posts = re.search(r'hx-post="/calls/records/sync/\?shown=(\d+)"', html)
    assert polls and (posts is None or posts[1] == polls[1]), html
    return int(polls[1])


def finished_run(stored: int, status: str = "succeeded") -> CallRecordSyncRun:
    from django.utils import timezone

    return CallRecordSyncRun.objects.create(status=status, finished_at=timezone.now(), records_stored=stored)


def test_a_run_that_finished_with_records_since_the_page_was_drawn_tells_the_table(records_settings, supervisor_client):
    page = supervisor_client.get("/calls/records/").content.decode()  # a fresh install: no run yet
    assert shown_in(page) == 0
    run = finished_run(409)

    response = supervisor_client.get(URL, {"shown": 0}, **HX)
    assert response["HX-Trigger"] == "records-synced"
    assert "409 records fetched" in response.content.decode()
    assert shown_in(response.content.decode()) == run.pk  # told once: the next poll stays quiet

    again = supervisor_client.get(URL, {"shown": run.pk}, **HX)
    assert "HX-Trigger" not in again and shown_in(again.content.decode()) == run.pk
    assert shown_in(supervisor_client.get("/calls/records/").content.decode()) == run.pk


def test_no_event_for_a_run_still_going_one_that_stored_nothing_or_a_line_that_sent_nothing(
    records_settings, supervisor_client
):
    shown = finished_run(5).pk
    running = CallRecordSyncRun.objects.create(trigger="manual", records_stored=120)
    response = supervisor_client.get(URL, {"shown": shown}, **HX)
    assert "HX-Trigger" not in response and "120 records so far" in response.content.decode()
    assert shown_in(response.content.decode()) == shown  # the running one is not shown yet

    running.status, running.records_stored = "succeeded", 0
    running.save()
    nothing = supervisor_client.get(URL, {"shown": shown}, **HX)
    assert "HX-Trigger" not in nothing and shown_in(nothing.content.decode()) == running.pk

    assert "HX-Trigger" not in supervisor_client.get(URL, **HX)  # no `shown`: nothing to compare with
    assert "HX-Trigger" not in supervisor_client.get(URL, {"shown": "x"}, **HX)


def test_a_failed_run_that_stored_records_and_one_hidden_behind_a_later_run_count_too(
    records_settings, supervisor_client
):
    shown = finished_run(3).pk
    failed = finished_run(30, status="failed")
    assert supervisor_client.get(URL, {"shown": shown}, **HX)["HX-Trigger"] == "records-synced"

    finished_run(12)  # the line never saw this one:
    finished_run(0)  # another finished before the next poll
    CallRecordSyncRun.objects.create(status="skipped")  # (skipped runs are not shown)
    assert supervisor_client.get(URL, {"shown": failed.pk}, **HX)["HX-Trigger"] == "records-synced"


def test_sync_now_answers_with_the_event_when_its_run_is_done_at_once(records_settings, sandbox, supervisor_client):
    sandbox.generate_records(count=15, start=hours_ago(5), end=hours_ago(1), seed=32)
    page = supervisor_client.get("/calls/records/").content.decode()
    assert "No calls match these filters" in page

    response = supervisor_client.post(f"{URL}?shown={shown_in(page)}", **HX)  # tests run tasks eagerly

    assert response["HX-Trigger"] == "records-synced" and "15 records fetched" in response.content.decode()
    assert CallRecord.objects.count() == 15


def test_the_results_ask_for_themselves_again_on_the_event_with_the_filters_sort_and_page_shown(
    records_settings, supervisor_client, settings
):
    from tests.records.conftest import make_record

    settings.CDR_DASHBOARD_PAGE_SIZE = 1
    for _ in range(3):
        make_record()
    query = {"from": "", "to": "", "status": "answered", "sort": "talk", "page": "2"}  # all time
    for headers in ({}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "records-results"}):
        html = supervisor_client.get("/calls/records/", query, **headers).content.decode()
        refresh = re.search(r"<span hidden id=\"records-refresh\"([^>]*)>", html)[1]
        assert 'hx-get="/calls/records/?from=&amp;to=&amp;status=answered&amp;sort=talk&amp;page=2"' in refresh
        assert 'hx-trigger="records-synced from:body"' in refresh
        assert 'hx-push-url="false"' in refresh  # the address already says it
        assert 'hx-sync="#records-filters:abort"' in refresh  # an Apply wins over it
        # (the section's hx-target and outerHTML swap apply: HX-Target is records-results)
        assert 'data-query="from=&amp;to=&amp;status=answered"' in html  # the charts' query: all time too
