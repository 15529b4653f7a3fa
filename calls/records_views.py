"""Call records pages: the dashboard (table, filters, charts), CSV export and recording playback.

Supervisors see every record, agents their own (the selectors decide). The table is swapped in
place by HTMX (`HX-Target: records-results`); every link also works as a plain page load. The
sync status line polls `records_sync`; when a run the page has not shown yet finishes with
records stored, the answer carries the HTMX event `records-synced` (SYNCED_EVENT), on which the
results section asks for itself again with the filters, sort and page it shows.
"""

from __future__ import annotations

import csv
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from calls.models import CallRecordSyncRun, CallRecordSyncRunStatus
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
    record_outcomes,
    sync_failure_summary,
)
from calls.services.recordings import recording_open
from calls.services.records import call_records_sync_request, call_records_sync_requested
from contactcenter.core.exceptions import ApplicationError
from contactcenter.core.http import require_GET, require_http_methods
from contactcenter.core.permissions import signed_in_or_token
from contactcenter.core.roles import is_supervisor

FILTER_KEYS = ("from", "to", "agent", "direction", "status", "op", "duration", "number", "outcome", "hour")
SORT_LABELS = {"started": "Started", "duration": "Duration", "talk": "Talk time"}
SYNCED_EVENT = "records-synced"


def _filter_query(form: RecordFilterForm) -> QueryDict:
    """The filters as a query string (defaults included), without sort and page. Empty dates stay
    (`from=&to=`: all time), or the links, the charts and the export would show the last 7 days."""
    query = QueryDict(mutable=True)
    for key in FILTER_KEYS:
        value = form.data.get(key, "")
        if value not in ("", None) or key in ("from", "to"):
            query[key] = value or ""
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


def _filter_form(request: HttpRequest, scope: RecordScope) -> RecordFilterForm:
    """The filters of the query string, the same for the page, its charts and its export."""
    return RecordFilterForm(request.GET, agents=record_filter_agents(scope=scope), outcomes=record_outcomes())


@login_required
@require_GET
def records_dashboard(request: HttpRequest) -> HttpResponse:
    partial = bool(request.headers.get("HX-Request") and request.headers.get("HX-Target") == "records-results")
    # The sync line is read before the table: the runs it says the table shows are in it.
    sync = {} if partial else _sync_context(request)
    scope = RecordScope.for_user(request.user)
    form = _filter_form(request, scope)
    filters = form.filters()
    table = call_record_table(
        scope=scope, filters=filters, sort=form.sort_key(), page=_page_number(request), outcomes=form.outcomes
    )
    query = _filter_query(form)
    sorted_query = query.copy()
    sorted_query["sort"] = table.sort
    as_shown = sorted_query.copy()
    as_shown["page"] = str(table.number)
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
        "dates_shown_instead": form.dates_shown_instead_line(),
        # what the results ask for again when a sync run stores records: what they show now
        "refresh_url": reverse("calls:records") + "?" + as_shown.urlencode(),
        "hour": filters.hour,
        "zone": timezone.get_current_timezone_name(),
    }
    if partial:
        context["partial"] = True  # the filter errors, above the table, come along out of band
        return render(request, "records/_results.html", context)
    context["controls"] = form_controls(form)
    context["charts_url"] = reverse("calls:records-charts")
    context.update(sync)
    return render(request, "records/dashboard.html", context)


def _sync_context(request: HttpRequest, *, error: str = "", shown: int | None = None) -> dict:
    """What the sync status line shows: the latest run, a "Sync now" no run has taken up yet,
    and for supervisors the button. While either is going the line refreshes itself often.

    `shown`: the line's page has shown every run up to this id (they had all finished when its
    table was read; the line sends it back with each poll). `sync_shown` is the same for now,
    and `sync_new_records` says whether a run between the two stored records: the table lags."""
    sync = call_record_sync_status()
    requested = call_records_sync_requested()  # until a worker takes it up
    running = sync is not None and sync.status == CallRecordSyncRunStatus.RUNNING
    # Runs never overlap (the lock): every run before the latest one has finished.
    finished = 0 if sync is None else sync.pk - 1 if running else sync.pk
    new_records = False
    if shown is not None and finished > shown:
        if not running and sync.records_stored:
            new_records = True
        else:  # the latest stored nothing or is still going: did one between them store any?
            new_records = CallRecordSyncRun.objects.filter(
                pk__gt=shown, pk__lte=finished, records_stored__gt=0
            ).exists()
    return {
        "sync_shown": max(finished, shown or 0),
        "sync_new_records": new_records,
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
    the dashboard with a message). Either answer carries the event SYNCED_EVENT when a run
    newer than the `shown` the line sends finished with records stored (see `_sync_context`)."""
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
    if request.method == "GET" and not request.headers.get("HX-Request"):
        return redirect("calls:records")  # the line is a part of the dashboard: typed in, the dashboard
    context = _sync_context(request, error=error, shown=_shown_run(request))
    response = render(request, "records/_sync_status.html", context)
    if context["sync_new_records"]:
        response["HX-Trigger"] = SYNCED_EVENT
    response["Cache-Control"] = "no-store"
    return response


def _shown_run(request: HttpRequest) -> int | None:
    try:
        return max(0, int(request.GET["shown"]))
    except (KeyError, ValueError):
        return None


@login_required
@require_GET
def records_charts(request: HttpRequest) -> JsonResponse:
    scope = RecordScope.for_user(request.user)
    form = _filter_form(request, scope)
    return JsonResponse(call_record_charts(scope=scope, filters=form.filters(), outcomes=form.outcomes))


class _Echo:
    """csv.writer writes into this; the streaming response sends each line as it is made."""

    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def records_export(request: HttpRequest) -> StreamingHttpResponse:
    scope = RecordScope.for_user(request.user)
    form = _filter_form(request, scope)
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


@signed_in_or_token  # the API's records link here: a token opens it too
@require_GET
def record_recording(request: HttpRequest, call_id: str) -> HttpResponse:
    api = getattr(request, "api_token", False)  # opened with the API's token: errors in its shape
    try:
        record = call_record_get(scope=RecordScope.for_user(request.user), call_id=call_id)
    except Http404:
        if not api:
            raise
        return JsonResponse({"code": "not_found", "message": "No such call record.", "extra": {}}, status=404)
    try:
        stream = recording_open(
            url=record.recording_url, call_id=record.call_id, range_header=request.headers.get("Range")
        )
    except ApplicationError as exc:
        if api:
            return JsonResponse(exc.body(), status=exc.status_code)
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
