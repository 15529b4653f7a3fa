"""A supervisor works the call records dashboard in real headless Chromium: filters, a chart click,
CSV export and recording playback through the proxy."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agents.services import agent_sync
from calls.models import CallRecord
from calls.services import call_records_sync
from calls.tasks import sync_call_records
from tests.browser.conftest import SCREENSHOTS
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def synced(settings, smartflo, make_user):
    """Three days of sandbox records, synced; the sandbox's recordings allowed."""
    settings.RECORDING_ALLOWED_HOSTS = [urlsplit(smartflo.url).netloc]
    agent_sync()
    now = timezone.now()
    smartflo.generate_records(count=80, start=now - timedelta(days=3), end=now - timedelta(minutes=5), seed=5)
    call_records_sync(start=now - timedelta(days=4), trigger="manual")
    assert CallRecord.objects.count() == 80
    make_user("sup", role="supervisor")


CHARTS_DRAWN = """() => {
  const charts = document.getElementById("records-charts"), results = document.getElementById("records-results");
  return charts.dataset.state === "ready" && charts.dataset.loadedQuery === results.dataset.query;
}"""


def table_statuses(page) -> set[str]:
    return set(page.locator("#records-results tbody td:nth-child(3)").all_inner_texts())


def test_a_supervisor_filters_clicks_a_chart_exports_and_plays_a_recording(page, live_server, synced):
    sign_in(page, live_server, "sup")
    page.click("nav >> text=Records")
    expect(page.locator("#records-results tbody tr")).to_have_count(50)
    expect(page.locator("#sync-status")).to_contain_text("Synced")
    page.wait_for_function(CHARTS_DRAWN)
    assert page.evaluate("Chart.getChart('chart-daily').data.datasets[0].data.reduce((a, b) => a + b, 0)") > 0

    # Filter: missed calls only (the table is swapped in place, the address follows).
    page.select_option("#id_status", "missed")
    page.click("button.apply")
    page.wait_for_url("**status=missed**")
    expect(page.locator("#records-results .records-count")).to_contain_text(
        str(CallRecord.objects.filter(status="missed").count())
    )
    assert table_statuses(page) == {"Missed"}
    page.wait_for_function(CHARTS_DRAWN)  # the charts follow the filters
    assert page.evaluate("Chart.getChart('chart-status').data.datasets[0].data[0]") == 0

    # A bar of the answered-vs-missed chart opens the table filtered to that bar.
    page.select_option("#id_status", "")
    page.click("button.apply")
    expect(page.locator("#records-results .records-count")).to_contain_text("of 80 calls")
    page.wait_for_function(CHARTS_DRAWN)
    bar = page.evaluate(
        "(() => { const el = Chart.getChart('chart-status').getDatasetMeta(0).data[0];"
        " return {x: el.x, y: (el.y + el.base) / 2}; })()"
    )
    page.locator("#chart-status").click(position=bar)
    page.wait_for_url("**status=answered**")
    assert table_statuses(page) == {"Answered"}
    answered = CallRecord.objects.filter(status="answered").count()
    expect(page.locator("#records-results .records-count")).to_contain_text(f"of {answered} calls")

    # Export what the table shows.
    with page.expect_download() as download:
        page.click("#export-csv")
    text = open(download.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == answered and {r["status"] for r in rows} == {"answered"}
    assert download.value.suggested_filename.startswith("call-records-")

    # Play a recording: the audio element asks our proxy, which answers with the audio.
    with page.expect_response(lambda r: "/recording" in r.url) as response:
        page.locator("button.play").first.click()
    assert response.value.status in (200, 206)
    assert response.value.headers["content-type"] == "audio/wav"
    src = page.get_attribute("#player-audio", "src")
    assert src.startswith("/calls/records/") and src.endswith("/recording")
    expect(page.locator("#player")).to_be_visible()
    # Chromium decoded it: a two-second recording, no media error.
    page.wait_for_function("() => { const a = document.querySelector('#player-audio'); return a.duration > 1.5; }")
    assert page.evaluate("document.querySelector('#player-audio').error") is None
    assert not page.console_errors


def test_filter_errors_show_under_the_filters_and_clear_when_corrected(page, live_server, make_user):
    """The table is swapped by HTMX; the errors above it come along out of band."""
    make_user("sup", role="supervisor")
    sign_in(page, live_server, "sup")
    page.goto(live_server.url + "/calls/records/")
    errors = page.locator(".records-head #filter-errors li")
    expect(errors).to_have_count(0)

    page.fill("#id_number", "abc")
    page.fill("#id_to", "2020-01-01")
    page.click("button.apply")
    page.wait_for_url("**number=abc**")
    expect(errors).to_have_text(
        [
            "To: Must be on or after From.",
            "Customer number: Enter a phone number, or some of its digits (spaces, dashes and a leading + are fine).",
        ]
    )

    page.fill("#id_number", "98123")
    page.click("button.apply")
    page.wait_for_url("**number=98123**")
    expect(errors).to_have_text(["To: Must be on or after From."])
    page.click("a.reset")
    expect(errors).to_have_count(0)
    assert page.console_errors == []


def test_sync_now_fetches_new_records_and_the_status_line_says_so(page, live_server, synced, smartflo):
    """Tests run tasks at once (eagerly): the click's answer is the line after the run."""
    now = timezone.now()  # calls of the last few minutes: after the watermark the backfill left
    smartflo.generate_records(count=12, start=now - timedelta(minutes=4), end=now - timedelta(seconds=30), seed=6)
    sign_in(page, live_server, "sup")
    page.goto(live_server.url + "/calls/records/")
    expect(page.locator("#sync-status")).to_contain_text("Synced")
    page.wait_for_function(CHARTS_DRAWN)
    assert (
        page.evaluate("Chart.getChart('chart-status').data.datasets.flatMap(d => d.data).reduce((a, b) => a + b)") == 80
    )

    with page.expect_response(lambda r: urlsplit(r.url).path == "/calls/records/sync/" and r.request.method == "POST"):
        page.click("#sync-now")
    expect(page.locator("#sync-status")).to_contain_text("12 records")
    expect(page.locator("#sync-now")).to_be_enabled()
    assert CallRecord.objects.count() == 92
    # no Apply: the click's answer says the run stored records, and the table and the charts follow
    expect(page.locator("#records-results .records-count")).to_contain_text("of 92 calls")
    page.wait_for_function(
        "() => Chart.getChart('chart-status').data.datasets.flatMap(d => d.data).reduce((a, b) => a + b, 0) === 92"
    )
    assert not page.console_errors


def test_apply_keeps_the_sort_a_column_click_chose(page, live_server, synced):
    sign_in(page, live_server, "sup")
    page.goto(live_server.url + "/calls/records/")
    page.click("#records-results th a:has-text('Talk time')")
    page.wait_for_url("**sort=-talk**")
    page.select_option("#id_status", "answered")
    page.click("button.apply")
    page.wait_for_url("**status=answered**")
    assert "sort=-talk" in page.url
    assert "agent=" not in page.url and "op=" not in page.url and "from=" in page.url  # only what is in use
    expect(page.locator("#records-results th[aria-sort='descending']")).to_contain_text("Talk time")
    assert not page.console_errors


def test_back_and_forward_show_the_filters_charts_and_table_of_that_address(page, live_server, synced):
    """Filters applied and pages turned in place (HTMX) are in the browser's history: going back
    or forward shows that address whole, the filter controls and charts included, so the next
    Apply starts from what is shown."""
    answered = CallRecord.objects.filter(status="answered").count()
    assert answered > 50  # two pages
    sign_in(page, live_server, "sup")
    page.goto(live_server.url + "/calls/records/?from=&to=")
    page.wait_for_function(CHARTS_DRAWN)
    page.select_option("#id_status", "answered")
    page.click("button.apply")
    page.wait_for_url("**status=answered**")
    expect(page.locator("#records-results .records-count")).to_contain_text(f"1–50 of {answered} calls")
    page.click("#records-results a[rel=next]")
    page.wait_for_url("**page=2**")
    expect(page.locator("#records-results .records-count")).to_contain_text(f"51–{answered} of {answered} calls")

    def shows(count: str, status: str) -> None:
        expect(page.locator("#records-results .records-count")).to_contain_text(count)
        expect(page.locator("#id_status")).to_have_value(status)
        page.wait_for_function(CHARTS_DRAWN)
        total = "Chart.getChart('chart-status').data.datasets[0].data.reduce((a, b) => a + b, 0)"
        assert page.evaluate(total) == (answered if status else 80)

    page.go_back()
    page.wait_for_url(lambda url: "status=answered" in url and "page=2" not in url)
    shows(f"1–50 of {answered} calls", "answered")
    page.go_back()
    page.wait_for_url(lambda url: "status=" not in url)
    shows("1–50 of 80 calls", "")
    page.go_forward()
    page.wait_for_url(lambda url: "status=answered" in url and "page=2" not in url)
    shows(f"1–50 of {answered} calls", "answered")
    page.select_option("#id_direction", "inbound")  # Apply from here keeps what the page shows
    page.click("button.apply")
    page.wait_for_url("**direction=inbound**")
    assert "status=answered" in page.url
    assert page.evaluate("sessionStorage.getItem('htmx-history-cache')") is None  # no records kept in the browser
    assert not page.console_errors


def test_sync_now_on_an_empty_dashboard_shows_the_records_without_a_reload(
    page, live_server, smartflo, make_user, monkeypatch
):
    """A fresh install: Sync now is queued for a worker, the status line polls until the run is
    done, and then the table and the charts show its records by themselves, with the sort chosen
    before and without touching the filter being typed meanwhile."""
    agent_sync()
    make_user("sup", role="supervisor")
    now = timezone.now()
    smartflo.generate_records(count=30, start=now - timedelta(hours=20), end=now - timedelta(minutes=5), seed=7)
    queued = []
    monkeypatch.setattr(sync_call_records, "apply_async", lambda **options: queued.append(options))  # no worker yet

    sign_in(page, live_server, "sup")
    page.goto(live_server.url + "/calls/records/")
    expect(page.locator("#records-results .records-count")).to_have_text("No calls match these filters.")
    page.wait_for_function(CHARTS_DRAWN)
    page.click("#records-results th a:has-text('Talk time')")  # a sort chosen before the sync
    page.wait_for_url("**sort=-talk**")
    address = page.url
    page.evaluate("window.notReloaded = true")  # gone if the page were loaded again

    page.click("#sync-now")
    expect(page.locator("#sync-status")).to_contain_text("waiting for a worker")
    assert queued == [{"kwargs": {"trigger": "manual"}}]
    page.click("#id_number")
    page.keyboard.type("98")  # a filter being typed, not applied yet
    sync_call_records.run(trigger="manual")  # the worker takes the run up
    assert CallRecord.objects.count() == 30

    expect(page.locator("#sync-status")).to_contain_text("30 records fetched", timeout=10_000)  # its 3 s poll
    expect(page.locator("#records-results .records-count")).to_contain_text("1–30 of 30 calls")
    expect(page.locator("#records-results tbody tr")).to_have_count(30)
    page.wait_for_function(
        "() => Chart.getChart('chart-status').data.datasets.flatMap(d => d.data).reduce((a, b) => a + b, 0) === 30"
    )
    assert page.evaluate("window.notReloaded") is True and page.url == address
    expect(page.locator("#records-results th[aria-sort='descending']")).to_contain_text("Talk time")
    assert page.input_value("#id_number") == "98"
    assert page.evaluate("document.activeElement.id") == "id_number"
    assert not page.console_errors


def test_a_bar_of_the_outcomes_chart_lists_the_calls_noted_with_that_outcome(page, live_server, synced):
    from calls.models import Disposition

    interested = Disposition.objects.get_or_create(label="Interested", defaults={"position": 0})[0]
    later = Disposition.objects.get_or_create(label="Call back later", defaults={"position": 2})[0]
    answered = list(CallRecord.objects.filter(status="answered").order_by("id"))
    CallRecord.objects.filter(pk__in=[r.pk for r in answered[:7]]).update(disposition=interested)
    CallRecord.objects.filter(pk__in=[r.pk for r in answered[7:10]]).update(disposition=later)
    sign_in(page, live_server, "sup")
    page.goto(live_server.url + "/calls/records/")
    page.wait_for_function(CHARTS_DRAWN)
    assert page.evaluate("Chart.getChart('chart-outcomes').data.labels") == [
        "Interested", "Call back later", "No outcome"
    ]  # fmt: skip
    assert page.evaluate("Chart.getChart('chart-outcomes').data.datasets[0].data") == [7, 3, 70]

    bar = page.evaluate(  # a horizontal bar: its middle is between its base and its end, on x
        "(() => { const el = Chart.getChart('chart-outcomes').getDatasetMeta(0).data[1];"
        " return {x: (el.x + el.base) / 2, y: el.y}; })()"
    )
    page.locator("#chart-outcomes").click(position=bar)
    page.wait_for_url(f"**outcome={later.pk}**")
    expect(page.locator("#records-results .records-count")).to_contain_text("1–3 of 3 calls")
    assert set(page.locator("#records-results tbody td:nth-child(6)").all_inner_texts()) == {"Call back later"}
    expect(page.locator("#id_outcome")).to_have_value(str(later.pk))  # the filter says so

    page.select_option("#id_outcome", "none")
    page.click("button.apply")
    page.wait_for_url("**outcome=none**")
    expect(page.locator("#records-results .records-count")).to_contain_text("of 70 calls")

    # Outcomes per agent: a segment lists that agent's calls with that outcome.
    page.goto(live_server.url + "/calls/records/")
    page.wait_for_function(CHARTS_DRAWN)
    chart = "Chart.getChart('chart-agent-outcomes')"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#records-charts").screenshot(path=str(SCREENSHOTS / "records-charts.png"))
    assert page.evaluate(f"{chart}.data.datasets.map(d => d.label)") == ["Interested", "Call back later", "No outcome"]
    first = page.evaluate(f"{chart}.data.labels[0]")
    agent = CallRecord.objects.filter(agent_name=first).values_list("agent_id", flat=True).first()
    expected = CallRecord.objects.filter(agent_id=agent, disposition=interested).count()
    assert page.evaluate(f"{chart}.data.datasets[0].data[0]") == expected > 0
    segment = page.evaluate(
        f"(() => {{ const el = {chart}.getDatasetMeta(0).data[0]; return {{x: (el.x + el.base) / 2, y: el.y}}; }})()"
    )
    page.locator("#chart-agent-outcomes").click(position=segment)
    page.wait_for_url(f"**outcome={interested.pk}**")
    assert f"agent={agent}" in page.url
    expect(page.locator("#records-results .records-count")).to_contain_text(f"of {expected} call")
    assert not page.console_errors
