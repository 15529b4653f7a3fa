"""The call records dashboard: filters, sorting, paging, HTMX partials, charts, query counts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from calls.models import CallRecordSyncRun, Disposition
from contactcenter.smartflo import IST
from tests.records.conftest import login, make_record

pytestmark = pytest.mark.django_db

URL = "/calls/records/"
DAY = datetime(2026, 3, 10, 9, 0, tzinfo=IST)
RANGE = {"from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def rows(response) -> list[str]:
    """The call ids in the table, in order."""
    import re

    return re.findall(r'data-call-id="([^"]+)"', response.content.decode())


@pytest.fixture
def records(asha, vikram):
    return {
        "a1": make_record(agent=asha, started_at=DAY, call_duration=30, client_number="+919812300001"),
        "a2": make_record(agent=asha, status="missed", started_at=DAY + timedelta(hours=5), call_duration=12,
                          answered_seconds=0, direction="inbound"),
        "v1": make_record(agent=vikram, started_at=DAY + timedelta(days=1), call_duration=400, answered_seconds=380,
                          recording_url="http://127.0.0.1:1/recordings/x.mp3"),
    }  # fmt: skip


def test_the_page_lists_records_newest_first_within_the_default_last_seven_days(supervisor_client, asha):
    recent = make_record(agent=asha, started_at=timezone.now() - timedelta(days=1))
    make_record(agent=asha, started_at=timezone.now() - timedelta(days=20))
    response = supervisor_client.get(URL)
    assert response.status_code == 200
    assert rows(response) == [recent.call_id]
    html = response.content.decode()
    assert 'id="chart-hourly"' in html and "vendor/chart.js/chart.umd.js" in html
    assert "Not synced yet" in html


def test_filters_narrow_the_table(records, supervisor_client):
    r = records
    get = lambda **params: rows(supervisor_client.get(URL, {**RANGE, **params}))  # noqa: E731
    assert get() == [r["v1"].call_id, r["a2"].call_id, r["a1"].call_id]
    assert get(agent=r["a1"].agent_id) == [r["a2"].call_id, r["a1"].call_id]
    assert get(direction="inbound") == [r["a2"].call_id]
    assert get(status="answered") == [r["v1"].call_id, r["a1"].call_id]
    assert get(op=">", duration="30") == [r["v1"].call_id]
    assert get(op="<=", duration="30") == [r["a2"].call_id, r["a1"].call_id]
    assert get(op="!=", duration="30") == [r["v1"].call_id, r["a2"].call_id]
    assert get(number="98123 00001") == [r["a1"].call_id]  # a whole number, as typed
    assert get(number="300001") == [r["a1"].call_id]  # or a part of one
    assert get(**{"from": "2026-03-11", "to": "2026-03-11"}) == [r["v1"].call_id]
    assert get(hour="14") == [r["a2"].call_id]  # 14:00 in the display zone


def test_bad_filter_values_are_reported_and_ignored(records, supervisor_client):
    response = supervisor_client.get(URL, {**RANGE, "duration": "abc", "direction": "up"})
    assert response.status_code == 200
    assert len(rows(response)) == 3
    assert "Enter a whole number" in response.content.decode()
    # an operator that is not one: the duration it goes with is not applied either (not as ">=")
    response = supervisor_client.get(URL, {**RANGE, "op": "xx", "duration": "31"})
    assert len(rows(response)) == 3 and filter_errors(response)[0].startswith("Duration: Select a valid choice")


def filter_errors(response) -> list[str]:
    """The filter errors shown under the filters, in order. The HTMX partial (only the results
    section) brings them out of band, into the same place."""
    import re

    html = response.content.decode()
    oob = ' hx-swap-oob="true"' if response.wsgi_request.headers.get("HX-Request") else ""
    block = re.search(rf'<div class="filter-errors" id="filter-errors" role="alert"{oob}>(.*?)</div>', html, re.S)
    assert block, "no filter errors block"
    return re.findall(r'<li class="error">([^<]*)</li>', block.group(1))


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx-partial"])
def test_a_reversed_range_and_a_number_without_digits_are_errors_named_by_their_labels(
    records, supervisor_client, htmx
):
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "records-results"} if htmx else {}
    reversed_range = supervisor_client.get(URL, {"from": "2026-03-11", "to": "2026-03-10"}, **headers)
    assert reversed_range.status_code == 200
    assert filter_errors(reversed_range) == ["To: Must be on or after From."]
    letters = supervisor_client.get(URL, {**RANGE, "number": "abc"}, **headers)
    assert filter_errors(letters) == [
        "Customer number: Enter a phone number, or some of its digits (spaces, dashes and a leading + are fine)."
    ]
    assert len(rows(letters)) == 3  # shown as an error and not applied: not "No calls match"
    labelled = supervisor_client.get(URL, {**RANGE, "op": "~", "duration": "-5", "from": "10/03/2026"}, **headers)
    assert filter_errors(labelled) == [
        "From: Enter a date as YYYY-MM-DD.",
        "Duration: Select a valid choice. ~ is not one of the available choices.",
        "Duration (s): Ensure this value is greater than or equal to 0.",
    ]
    assert filter_errors(supervisor_client.get(URL, {**RANGE, "number": "+91 98123-00001"}, **headers)) == []
    early = supervisor_client.get(URL, {"from": "0001-01-01", "to": "2026-03-31"}, **headers)
    assert filter_errors(early) == ["From: That date is out of range."]


def test_a_failed_sync_says_what_happened_in_words_with_the_detail_beside_it(records, supervisor_client):
    detail = "SmartfloConnectionError: list_call_records: could not connect to Smartflo: ConnectionRefusedError"
    CallRecordSyncRun.objects.create(status="failed", finished_at=timezone.now(), error=detail)
    html = supervisor_client.get(URL, RANGE).content.decode()
    assert f'<span class="error sync-failure" title="{detail}">Smartflo could not be reached</span>' in html
    assert ">SmartfloConnectionError" not in html  # the class name is never the visible text


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        ("SmartfloTimeoutError: list_call_records: no answer within 10 s", "Smartflo did not answer in time"),
        ("SmartfloAuthError: list_call_records: Unauthorized (HTTP 401)", "Smartflo refused our credentials"),
        ("WindowIncomplete: Smartflo counted 5 records between a and b, but its pages returned only 4",
         "Smartflo's records came back incomplete"),
        ("stopped without finishing (its lock expired)", "The sync stopped without finishing"),
        ("KeyError: 'date'", "The sync could not finish"),
    ],
)  # fmt: skip
def test_sync_failures_in_words(error, shown):
    from calls.records_selectors import sync_failure_summary

    assert sync_failure_summary(error) == shown


def test_columns_sort_both_ways(records, supervisor_client):
    r = records
    assert rows(supervisor_client.get(URL, {**RANGE, "sort": "-duration"})) == [
        r["v1"].call_id, r["a1"].call_id, r["a2"].call_id]  # fmt: skip
    assert rows(supervisor_client.get(URL, {**RANGE, "sort": "talk"}))[0] == r["a2"].call_id
    assert rows(supervisor_client.get(URL, {**RANGE, "sort": "started"}))[0] == r["a1"].call_id
    assert rows(supervisor_client.get(URL, {**RANGE, "sort": "nonsense"}))[0] == r["v1"].call_id


def test_pages_and_the_capped_count(supervisor_client, asha, settings):
    settings.CDR_DASHBOARD_PAGE_SIZE = 2
    settings.CDR_DASHBOARD_COUNT_CAP = 3
    made = [make_record(agent=asha, started_at=DAY + timedelta(minutes=i)) for i in range(5)]
    first = supervisor_client.get(URL, RANGE)
    assert rows(first) == [made[4].call_id, made[3].call_id]
    assert "1–2 of 3+ calls" in first.content.decode()  # never counts past the cap
    second = supervisor_client.get(URL, {**RANGE, "page": 2})
    assert rows(second) == [made[2].call_id, made[1].call_id]
    beyond = supervisor_client.get(URL, {**RANGE, "page": 99})  # clamped to the last page
    assert rows(beyond) == [made[2].call_id, made[1].call_id]


def test_the_last_page_and_a_page_past_it_under_the_cap(supervisor_client, asha, settings):
    settings.CDR_DASHBOARD_PAGE_SIZE = 2
    made = [make_record(agent=asha, started_at=DAY + timedelta(minutes=i)) for i in range(3)]
    first = supervisor_client.get(URL, RANGE).content.decode()
    assert "1–2 of 3 calls" in first and 'rel="next"' in first
    last = supervisor_client.get(URL, {**RANGE, "page": 2})
    assert rows(last) == [made[0].call_id] and "3–3 of 3 calls" in last.content.decode()
    beyond = supervisor_client.get(URL, {**RANGE, "page": 7})
    assert rows(beyond) == [made[0].call_id] and "Page 2 of 2" in beyond.content.decode()
    assert "No calls match" in supervisor_client.get(URL, {"from": "2020-01-01", "to": "2020-01-02"}).content.decode()


@pytest.mark.parametrize(
    "query",
    ["", "from=2026-03-01&to=2026-03-31&agent=none&direction=inbound&status=missed&op=%3C&duration=30&hour=14"
         "&number=%3Cb%3E%22x&sort=-duration",
     "from=bad&duration=abc&direction=up&hour=99&agent=12345"],
)  # fmt: skip
def test_the_filter_controls_are_what_django_would_render(query, asha, vikram):
    """The dashboard builds its controls without the widget templates: the same HTML, escaping
    and error state included."""
    from django.http import QueryDict

    from calls.records_forms import RecordFilterForm
    from calls.records_html import form_controls

    for agents in ([(asha.pk, "Asha <Rao>"), (vikram.pk, "Vikram & co")], []):
        form = RecordFilterForm(QueryDict(query), agents=agents)
        form.filters()
        assert form_controls(form) == {name: str(form[name]) for name in form.fields}


def test_htmx_gets_only_the_results_partial(records, supervisor_client):
    response = supervisor_client.get(URL, RANGE, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="records-results")
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="records-results"')
    assert "<html" not in html and len(rows(response)) == 3
    assert 'href="/calls/records/export.csv?from=2026-03-01&amp;to=2026-03-31"' in html


def test_the_hour_chip_follows_filters_changed_in_place(records, supervisor_client):
    """A chart click sets the hour with a page load; filters changed after it come by HTMX, and the
    chip's remove link must keep them (it used to keep the filters of the page load)."""
    hx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "records-results"}
    page = supervisor_client.get(URL, {**RANGE, "hour": "9"}).content.decode()
    assert 'id="clear-hour"' in page and "09:00–09:59" in page

    html = supervisor_client.get(URL, {**RANGE, "hour": "9", "status": "missed"}, **hx).content.decode()
    chip = html[html.index('<div id="hour-chip" hx-swap-oob="true">') :]
    assert 'href="?from=2026-03-01&amp;to=2026-03-31&amp;status=missed&amp;hour=9&amp;hour="' in chip

    cleared = supervisor_client.get(URL, RANGE, **hx).content.decode()
    assert '<div id="hour-chip" hx-swap-oob="true"></div>' in cleared  # no hour: the chip goes


def test_a_column_click_sets_the_filter_forms_sort_so_that_apply_keeps_it(records, supervisor_client):
    hx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "records-results"}
    html = supervisor_client.get(URL, {**RANGE, "sort": "-talk"}, **hx).content.decode()
    assert '<input type="hidden" name="sort" value="-talk" id="id_sort" hx-swap-oob="true">' in html
    page = supervisor_client.get(URL, {**RANGE, "sort": "-talk"}).content.decode()
    assert 'name="sort" value="-talk" id="id_sort"' in page  # the page's own form starts with it


def test_an_agent_sees_only_their_own_rows_and_no_agent_filter(records, asha):
    client = login(asha.user)
    response = client.get(URL, RANGE)
    assert sorted(rows(response)) == sorted([records["a1"].call_id, records["a2"].call_id])
    assert 'name="agent"' not in response.content.decode()
    assert rows(client.get(URL, {**RANGE, "agent": records["v1"].agent_id})) == rows(response)  # ignored


def test_the_sync_status_is_shown(records, supervisor_client):
    CallRecordSyncRun.objects.create(
        status="succeeded", finished_at=timezone.now(), records_stored=42, watermark_after=timezone.now()
    )
    html = supervisor_client.get(URL, RANGE).content.decode()
    assert "Synced" in html and "42 records fetched by that run" in html
    CallRecordSyncRun.objects.create(status="failed", finished_at=timezone.now(), error="SmartfloServerError: 503")
    assert "Last sync failed" in supervisor_client.get(URL, RANGE).content.decode()


def test_the_page_query_count_does_not_grow_with_rows(supervisor_client, asha, django_assert_num_queries):
    for i in range(3):
        make_record(agent=asha, started_at=DAY + timedelta(minutes=i))
    # session, user, groups (read once per request), agents and outcomes for the filters, the
    # page (which carries the capped count), sync status
    with django_assert_num_queries(7):
        supervisor_client.get(URL, RANGE)
    outcomes = list(Disposition.objects.all()[:3])
    for i in range(60):  # rows with outcomes: their labels are the filter's, read once
        make_record(agent=asha, started_at=DAY + timedelta(hours=1, minutes=i), disposition=outcomes[i % 3])
    with django_assert_num_queries(7):
        assert len(rows(supervisor_client.get(URL, RANGE))) == 50
    with django_assert_num_queries(6):  # the HTMX partial: no sync status
        supervisor_client.get(URL, RANGE, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="records-results")


def test_the_agents_page_query_count(asha, django_assert_num_queries):
    client = login(asha.user)
    for i in range(10):
        make_record(agent=asha, started_at=DAY + timedelta(minutes=i))
    # session, user, groups (read once per request), the agent, outcomes, the page with its count, sync status
    with django_assert_num_queries(7):
        client.get(URL, RANGE)


def test_charts_sum_the_filtered_records(records, supervisor_client):
    data = supervisor_client.get("/calls/records/charts/", RANGE).json()
    assert data["total"] == 3
    assert data["hourly"]["answered"][9] == 2  # 09:00 on two days
    assert data["hourly"]["missed"][14] == 1
    assert data["daily"]["keys"] == ["2026-03-10", "2026-03-11"]
    assert data["daily"]["answered"] == [1, 1] and data["daily"]["missed"] == [1, 0]
    assert dict(zip(data["status"]["keys"], data["status"]["values"], strict=True)) == {"answered": 2, "missed": 1}
    agents = dict(zip(data["agents"]["labels"], zip(data["agents"]["calls"], data["agents"]["talk_minutes"])))
    assert agents == {"Asha Rao": (2, 1.2), "Vikram Singh": (1, 6.3)}
    assert data["agents"]["keys"][0] == records["a1"].agent_id  # a bar click filters by this id

    inbound = supervisor_client.get("/calls/records/charts/", {**RANGE, "direction": "inbound"}).json()
    assert inbound["total"] == 1


def test_charts_of_an_agent_cover_only_their_records(records, asha):
    data = login(asha.user).get("/calls/records/charts/", RANGE).json()
    assert data["total"] == 2 and data["agents"]["labels"] == ["Asha Rao"]


def test_charts_query_count(records, supervisor_client, django_assert_num_queries):
    # session, user, groups (scope), agents and outcomes for the filters, cache version x2, three
    # grouped queries
    with django_assert_num_queries(10):
        supervisor_client.get("/calls/records/charts/", RANGE)
    with django_assert_num_queries(7):  # cached
        supervisor_client.get("/calls/records/charts/", RANGE)


def test_pages_need_a_sign_in(client):
    for url in (URL, "/calls/records/charts/", "/calls/records/export.csv", "/calls/records/1.2/recording"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_navigation_links_to_records(supervisor_client, asha):
    assert 'href="/calls/records/">Records</a>' in supervisor_client.get("/").content.decode()
    assert 'href="/calls/records/">Records</a>' in login(asha.user).get("/").content.decode()


def test_the_hour_and_partial_number_filters_use_their_indexes_on_postgresql(asha):
    """Migration 0005's indexes match the ORM's own SQL for these filters (on SQLite they scan)."""
    from django.db import connection, transaction

    from calls.records_selectors import RecordFilters, RecordScope, call_records_filter, call_records_visible_to
    from tests.needs import skip_or_fail

    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://...")
    make_record(agent=asha, started_at=DAY, client_number="+919812300001")
    records = call_records_filter(call_records_visible_to(RecordScope(supervisor=True)), RecordFilters(hour=9))
    digits = call_records_filter(call_records_visible_to(RecordScope(supervisor=True)), RecordFilters(number="2300"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a table of one row would be scanned anyway
        assert "callrecord_hour_started" in records.explain()
        cursor.execute("SET LOCAL enable_indexscan = off")  # the GIN index applies to the ORM's LIKE
        assert "callrecord_client_trgm" in digits.explain()
    assert list(records) == list(digits)


def test_big_counts_are_grouped_with_commas(rf):
    from django.template.loader import render_to_string

    from calls.records_selectors import RecordsPage

    table = RecordsPage(rows=[], number=120, page_size=50, count=10000, capped=True, sort="-started")
    html = render_to_string("records/_results.html", {"table": table, "sort_links": {}}, rf.get(URL))
    assert "of 10,000+ calls" in html and "Page 120 of 200+" in html


# --- Dates that cannot be applied ------------------------------------------------------------
# From and To go together: when either is wrong, or To is before From, neither is applied (not
# one of them alone), the default last 7 days are shown and the page says which days those are.


@pytest.fixture
def recent_and_older(asha):
    """One call yesterday (in the default last 7 days), one 15 days ago (outside them)."""

    def days_ago(days: int) -> datetime:
        return datetime.combine(timezone.localdate() - timedelta(days=days), datetime.min.time(), IST).replace(hour=10)

    return {
        "recent": make_record(agent=asha, started_at=days_ago(1)),
        "older": make_record(agent=asha, started_at=days_ago(15)),
    }


def default_range_note() -> str:
    today = timezone.localdate()
    first = today - timedelta(days=6)
    return f"Showing the last 7 days instead: {first:%d %b %Y} – {today:%d %b %Y}."


def inconsistent_dates() -> list[dict]:
    today = timezone.localdate()
    day = lambda days: (today - timedelta(days=days)).isoformat()  # noqa: E731
    return [
        {"from": day(20), "to": day(25)},  # To before From: From alone used to apply (day 20 onwards)
        {"from": "20/11/2025", "to": day(10)},  # a From that is no date: To alone used to apply
        {"from": day(20), "to": "0001-01-01"},  # a To out of range
    ]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx-partial"])
def test_inconsistent_dates_apply_neither_and_say_which_days_are_shown(recent_and_older, supervisor_client, htmx):
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "records-results"} if htmx else {}
    for dates in inconsistent_dates():
        response = supervisor_client.get(URL, dates, **headers)
        assert rows(response) == [recent_and_older["recent"].call_id], dates
        assert len(filter_errors(response)) == 1
        html = response.content.decode()
        assert f'<p class="muted" id="filter-dates-shown">{default_range_note()}</p>' in html
        assert f'value="{dates["from"]}"' in html or htmx  # what was typed stays in the form, to correct

    fine = supervisor_client.get(URL, {"from": inconsistent_dates()[0]["from"], "to": ""}, **headers)
    assert len(rows(fine)) == 2 and "filter-dates-shown" not in fine.content.decode()


def test_the_charts_and_the_export_show_the_same_days_as_the_table(recent_and_older, supervisor_client):
    import csv
    import io

    for dates in inconsistent_dates():
        assert supervisor_client.get("/calls/records/charts/", dates).json()["total"] == 1, dates
        text = b"".join(supervisor_client.get("/calls/records/export.csv", dates).streaming_content).decode()
        assert [r["call_id"] for r in csv.DictReader(io.StringIO(text[1:]))] == [recent_and_older["recent"].call_id]
