"""Call records pages: the dashboard (table, filters, charts), CSV export and recording playback.

Supervisors see every record, agents their own (the selectors decide). The table is swapped in
place by HTMX (`HX-Target: records-results`); every link also works as a plain page load.
"""

from __future__ import annotations

import csv
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from calls.models import CallRecordSyncRunStatus
from calls.records_forms import RecordFilterForm
from calls.records_html import form_controls, table_rows
from calls.records_selectors import (
    SORTS,
    RecordScope,
    call_record_charts,
    call_record_export_rows,
    call_record_get,
    call_record_sync_status,
    call_record_table,
    export_header,
    record_filter_agents,
    sync_failure_summary,
)
from calls.services.recordings import recording_open
from calls.services.records import call_records_sync_request, call_records_sync_requested
from contactcenter.core.exceptions import ApplicationError
from contactcenter.core.roles import is_supervisor

FILTER_KEYS = ("from", "to", "agent", "direction", "status", "op", "duration", "number", "hour")
SORT_LABELS = {"started": "Started", "duration": "Duration", "talk": "Talk time"}


def _filter_query(form: RecordFilterForm) -> QueryDict:
    """The filters as a query string (defaults included), without sort and page."""
    query = QueryDict(mutable=True)
    for key in FILTER_KEYS:
        value = form.data.get(key, "")
        if value not in ("", None):
            query[key] = value
    if "duration" not in query:
        query.pop("op", None)
    return query


def _sort_links(query: QueryDict, current: str) -> dict[str, dict[str, str]]:
    links = {}
    for key in SORTS:
        state = "desc" if current == f"-{key}" else "asc" if current == key else ""
        target = query.copy()
        target["sort"] = key if state == "desc" else f"-{key}"
        links[key] = {
            "url": "?" + target.urlencode(),
            "state": state,
            "aria": {"desc": "descending", "asc": "ascending"}.get(state, "none"),
            "label": SORT_LABELS[key],
        }
    return links


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@login_required
@require_GET
def records_dashboard(request: HttpRequest) -> HttpResponse:
    scope = RecordScope.for_user(request.user)
    form = RecordFilterForm(request.GET, agents=record_filter_agents(scope=scope))
    filters = form.filters()
    table = call_record_table(scope=scope, filters=filters, sort=form.sort_key(), page=_page_number(request))
    query = _filter_query(form)
    sorted_query = query.copy()
    sorted_query["sort"] = table.sort
    context = {
        "form": form,
        "table": table,
        "records_url": reverse("calls:records"),
        "export_url": reverse("calls:records-export"),
        "filter_query": query.urlencode(),
        "sorted_query": sorted_query.urlencode(),
        "sort_links": _sort_links(query, table.sort),
        "rows": table_rows(table.rows),
        "filter_errors": form.error_lines(),
        "hour": filters.hour,
        "zone": timezone.get_current_timezone_name(),
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "records-results":
        context["partial"] = True  # the filter errors, above the table, come along out of band
        return render(request, "records/_results.html", context)
    context["controls"] = form_controls(form)
    context["charts_url"] = reverse("calls:records-charts")
    context.update(_sync_context(request))
    return render(request, "records/dashboard.html", context)


def _sync_context(request: HttpRequest, *, error: str = "") -> dict:
    """What the sync status line shows: the latest run, a "Sync now" no run has taken up yet,
    and for supervisors the button. While either is going the line refreshes itself often."""
    sync = call_record_sync_status()
    requested = call_records_sync_requested()  # until a worker takes it up
    running = sync is not None and sync.status == CallRecordSyncRunStatus.RUNNING
    return {
        "sync": sync,
        "sync_failure": sync_failure_summary(sync.error) if sync is not None and sync.error else "",
        "sync_requested": requested,
        "sync_busy": running or requested is not None,
        "sync_error": error,
        "sync_url": reverse("calls:records-sync"),
        "can_sync": is_supervisor(request.user),
    }


@login_required
@require_http_methods(["GET", "POST"])
def records_sync(request: HttpRequest) -> HttpResponse:
    """GET: the sync status line (the dashboard polls it). POST, supervisors only: "Sync now",
    a run queued for a worker; the answer is the status line (a plain form post goes back to
    the dashboard with a message)."""
    error = ""
    if request.method == "POST":
        if not is_supervisor(request.user):
            raise PermissionDenied("Only supervisors can start a sync.")
        try:
            call_records_sync_request()
        except ApplicationError as exc:
            error = exc.message
        if not request.headers.get("HX-Request"):
            if error:
                messages.error(request, error)
            else:
                messages.success(request, "Sync asked for: new records appear as soon as a worker has fetched them.")
            return redirect("calls:records")
    response = render(request, "records/_sync_status.html", _sync_context(request, error=error))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def records_charts(request: HttpRequest) -> JsonResponse:
    scope = RecordScope.for_user(request.user)
    form = RecordFilterForm(request.GET, agents=record_filter_agents(scope=scope))
    return JsonResponse(call_record_charts(scope=scope, filters=form.filters()))


class _Echo:
    """csv.writer writes into this; the streaming response sends each line as it is made."""

    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def records_export(request: HttpRequest) -> StreamingHttpResponse:
    scope = RecordScope.for_user(request.user)
    form = RecordFilterForm(request.GET, agents=record_filter_agents(scope=scope))
    rows = call_record_export_rows(scope=scope, filters=form.filters())
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff" + writer.writerow(export_header())  # the BOM makes spreadsheets read UTF-8
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="call-records-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def record_recording(request: HttpRequest, call_id: str) -> HttpResponse:
    record = call_record_get(scope=RecordScope.for_user(request.user), call_id=call_id)
    try:
        stream = recording_open(
            url=record.recording_url, call_id=record.call_id, range_header=request.headers.get("Range")
        )
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=exc.status_code, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(
        stream.chunks(), status=stream.status, content_type=stream.headers.get("content-type", "audio/mpeg")
    )
    for name, value in stream.headers.items():
        if name != "content-type":
            response[name] = value
    filename = re.sub(r"[^\w.-]", "_", record.call_id)
    response["Content-Disposition"] = f'inline; filename="recording-{filename}.mp3"'
    response["Cache-Control"] = "private, max-age=300"
    return response
