"""Agent workspace, live-call panel, supervisor live board and the incoming-call pop-up.

Partials are rendered for HTMX (`HX-Request`); every action also works as a plain form post.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape

from agents.models import Agent
from calls.forms import DialForm, TransferForm, WrapUpForm
from calls.models import CallStatus, RingingAlert
from calls.selectors import (
    agent_alerts,
    agent_for_user,
    agent_workspace,
    call_get_for_user,
    calls_visible_to,
    customer_history,
    inbound_call_get_for_user,
    live_board,
    live_calls_loaded_at,
    passed_on,
    refuse_if_passed_on,
    transfer_targets,
    transfer_targets_for,
)
from calls.services import (
    call_hangup,
    call_place,
    call_supervise,
    call_transfer,
    call_wrap_up,
    inbound_call_hangup,
    inbound_call_transfer,
    inbound_call_wrap_up,
)
from calls.services.actions import CallActionFailed, NothingToSave
from calls.services.events import ringing_alert_dismiss
from contactcenter.core.exceptions import ApplicationError
from contactcenter.core.http import require_GET, require_POST
from contactcenter.core.permissions import supervisor_required
from contactcenter.phones import InvalidPhoneNumber, to_e164

BOARD_INTERVALS = (2, 5, 10, 30)
HISTORY_NUMBER_ERROR = (
    "Enter a full Indian phone number: 10 digits, such as 98765 43210 "
    "(+91, 0091 or 0 in front, spaces and dashes are fine)."
)


def _panel(
    request: HttpRequest, call, *, error: str = "", status: int = 200, note_text: str | None = None, notice: str = ""
) -> HttpResponse:
    """The live-call panel. HTMX swaps it in place (errors included, so they always show);
    a plain form post gets the workspace back with the error as a message."""
    if not request.headers.get("HX-Request") and request.method == "POST":
        if error:
            messages.error(request, _with_typed(error, note_text, call.note if call else ""))
        return redirect("calls:workspace")
    passed = call is not None and passed_on(call, request.user)
    context = {
        "call": call,
        "error": error,
        "notice": notice,  # what a save did, when "Saved." would not say it
        "passed": passed,  # live, but with the colleague they transferred it to: a wrap-up, no actions
        "panel_status": "passed" if passed else (call.status if call else ""),
        "targets": transfer_targets_for(call) if call is not None and not passed else [],
        "dispositions": _dispositions(),
        # A refused note comes back as typed, so nothing the agent wrote is lost.
        "note_text": note_text if note_text is not None else (call.note if call else ""),
    }
    response = render(request, "calls/_panel.html", context, status=status)
    if call is not None and (not call.is_live or passed):
        response["HX-Trigger"] = "call-ended"  # the workspace refreshes its lists
    return response


@login_required
@require_GET
def workspace(request: HttpRequest) -> HttpResponse:
    asked = request.GET.get("inbound", "")
    data = agent_workspace(user=request.user, inbound=asked)
    form = DialForm(initial={"destination_number": request.GET.get("dial", "")})
    # Opened from "Write a note": the cursor is in the note (the form may be below the fold).
    context = {"ws": data, "form": form, "focus_note": bool(asked) and data.live_inbound is not None}
    if data.live is not None or data.live_inbound is not None:  # a call in the panel: its wrap-up form
        context["dispositions"] = _dispositions()
    if data.live is not None:  # the panel as the dial's answer draws it, transfer choices included
        context["targets"] = transfer_targets_for(data.live)
    elif data.live_inbound is not None:  # an inbound call: its note can be written now
        context["targets"] = transfer_targets(exclude=data.live_inbound.agent) if data.live_inbound.is_live else []
    return render(request, "calls/workspace.html", context)


def _dial_error(request: HttpRequest, message: str) -> HttpResponse:
    """A dial that never reached Smartflo (a mistyped number, no agent): said beside the dial box,
    leaving the call panel (a live call, a wrap-up being typed) as it is."""
    if not request.headers.get("HX-Request"):
        messages.error(request, message)
        return redirect("calls:workspace")
    response = HttpResponse(f'<span class="error" role="alert">{escape(message)}</span>')
    response["HX-Retarget"] = "#dial-error"
    response["HX-Reswap"] = "innerHTML"
    return response


@login_required
@require_POST
def place(request: HttpRequest) -> HttpResponse:
    agent = agent_for_user(request.user)
    if agent is None:
        return _dial_error(request, "Your sign-in is not linked to an agent: ask a supervisor.")
    form = DialForm(request.POST)
    form.is_valid()
    try:
        call = call_place(requested_by=request.user, agent=agent, destination=form.cleaned_data["destination_number"])
    except ValidationError as exc:
        return _dial_error(request, " ".join(exc.messages))
    except CallActionFailed as exc:
        return _panel(request, exc.call, error=exc.message, status=200)
    except ApplicationError as exc:
        existing = exc.extra.get("call", {}).get("id")
        call = calls_visible_to(request.user).filter(pk=existing).first() if existing else None
        return _panel(request, call, error=exc.message)
    return _panel(request, call)


@login_required
@require_GET
def panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The panel, or with `?part=state` the polled state line: while the call is live only that
    line is replaced; once it ends, the whole panel (with the wrap-up form) takes its place."""
    call = call_get_for_user(user=request.user, reference=str(pk))
    if request.GET.get("part") != "state":
        return _panel(request, call)
    shown = request.GET.get("shown", "")
    state = "passed" if passed_on(call, request.user) else call.status
    # The actions change when the customer answers (transfer opens), when the call ends or when a
    # supervisor passes it to a colleague (the wrap-up form): then the whole panel is redrawn;
    # otherwise only the state line.
    same_actions = (shown == CallStatus.IN_PROGRESS) == (state == CallStatus.IN_PROGRESS) and (shown == "passed") == (
        state == "passed"
    )
    if call.is_live and same_actions:
        return render(request, "calls/_call_state.html", {"call": call, "panel_status": shown})
    response = _panel(request, call)
    response["HX-Retarget"] = "#panel"
    response["HX-Reswap"] = "innerHTML"
    return response


@login_required
@require_POST
def hangup(request: HttpRequest, pk: int) -> HttpResponse:
    call = call_get_for_user(user=request.user, reference=str(pk))
    try:
        refuse_if_passed_on(call, request.user)
        call = call_hangup(call=call)
    except ApplicationError as exc:
        call.refresh_from_db()
        return _panel(request, call, error=exc.message)
    return _panel(request, call)


@login_required
@require_POST
def transfer(request: HttpRequest, pk: int) -> HttpResponse:
    call = call_get_for_user(user=request.user, reference=str(pk))
    target = _transfer_target(request)
    try:
        refuse_if_passed_on(call, request.user)
        if target is None:
            return _panel(request, call, error="Pick a colleague to transfer to.")
        call = call_transfer(call=call, to_agent=target)
    except ValidationError as exc:
        return _panel(request, call, error=" ".join(exc.messages))
    except ApplicationError as exc:
        return _panel(request, call, error=exc.message)
    return _panel(request, call)


@login_required
@require_POST
def wrap_up(request: HttpRequest, pk: int) -> HttpResponse:
    call = call_get_for_user(user=request.user, reference=str(pk))
    return _save_wrap_up(request, call, call_wrap_up, _panel)


def _dispositions():
    """What a wrap-up form offers: the active dispositions (the form's own choices)."""
    return WrapUpForm.base_fields["disposition"].queryset.all()


def _transfer_target(request: HttpRequest) -> Agent | None:
    """The colleague a transfer form names, if any."""
    form = TransferForm(request.POST)
    return Agent.objects.filter(pk=form.cleaned_data["agent"]).first() if form.is_valid() else None


def _save_wrap_up(request: HttpRequest, call, save, panel) -> HttpResponse:
    """A wrap-up form posted, for a call of ours or an inbound call (`save`, the service, and
    `panel`, what draws its form). A refused note comes back as typed, on the note as it is now.
    Saved, the workspace refreshes its lists (Today shows the note) and drops its draft."""
    form = WrapUpForm(request.POST)
    typed = request.POST.get("note", "")
    if not form.is_valid():
        problems = [f"{name.title()}: {' '.join(errors)}" for name, errors in form.errors.items()]
        return panel(request, call, error=" ".join(problems), note_text=typed)
    try:
        call = save(call=call, base=request.POST.get("base"), **form.cleaned_data)
    except NothingToSave as exc:
        call.refresh_from_db()
        return _wrap_up_notice(request, call, panel, exc.message)
    except ValidationError as exc:
        call.refresh_from_db()
        return panel(request, call, error=" ".join(exc.messages), note_text=typed)
    notice = "Note and disposition cleared." if call.wrap_up_cleared else ""
    if not request.headers.get("HX-Request"):
        messages.success(request, notice or "Note saved.")
    response = panel(request, call, notice=notice)
    triggers = [response.get("HX-Trigger"), "call-ended", "note-saved"]
    response["HX-Trigger"] = ", ".join(dict.fromkeys(t for t in triggers if t))
    return response


def _wrap_up_notice(request: HttpRequest, call, panel, notice: str) -> HttpResponse:
    """An empty form posted over an empty wrap-up: nothing is saved, and the form says why."""
    if not request.headers.get("HX-Request"):
        messages.info(request, notice)
    return panel(request, call, notice=notice)


def _with_typed(error: str, typed: str | None, saved: str) -> str:
    """Without JavaScript a refused note comes back as a message: it carries what was typed."""
    if typed and typed.strip() != saved:
        return f"{error} Your text: “{typed.strip()}”"
    return error


def _inbound_panel(
    request: HttpRequest, call: RingingAlert, *, error: str = "", note_text: str | None = None, notice: str = ""
) -> HttpResponse:
    """The panel of an inbound call the agent answered: its state line (polled until the hang-up)
    and its wrap-up form, usable during the call. A plain form post gets the workspace back."""
    if not request.headers.get("HX-Request") and request.method == "POST":
        if error:
            messages.error(request, _with_typed(error, note_text, call.note))
        return redirect(reverse("calls:workspace") + f"?inbound={call.pk}")
    context = {
        "call": call,
        "error": error,
        "notice": notice,
        "dispositions": _dispositions(),
        "note_text": note_text if note_text is not None else call.note,
        "targets": transfer_targets(exclude=call.agent) if call.is_live else [],
    }
    return render(request, "calls/_inbound_panel.html", context)


def _inbound_state(request: HttpRequest, call: RingingAlert, *, error: str = "") -> HttpResponse:
    """The inbound call's state line with its actions (what Hang up and Transfer answer): the
    note form beside it is left as typed. Once the call has ended the workspace refreshes its
    lists. A plain form post gets the workspace back with this call in the panel."""
    if not request.headers.get("HX-Request") and request.method == "POST":
        if error:
            messages.error(request, error)
        return redirect(reverse("calls:workspace") + f"?inbound={call.pk}")
    context = {"call": call, "error": error, "targets": transfer_targets(exclude=call.agent) if call.is_live else []}
    response = render(request, "calls/_inbound_state.html", context)
    if not call.is_live:
        response["HX-Trigger"] = "call-ended"
    return response


@login_required
@require_GET
def inbound_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The inbound call's panel, or with `?part=state` its polled state line: 204 (nothing to
    swap) while the call goes on; once it has ended the line says so, stops polling and tells the
    workspace to refresh its lists. The form below it is left alone, so a note being typed is kept."""
    call = inbound_call_get_for_user(user=request.user, pk=pk)
    if request.GET.get("part") != "state":
        return _inbound_panel(request, call)
    if call.is_live:  # nothing changed: no swap (a transfer choice stays; no screen reader re-reading)
        return HttpResponse(status=204)
    return _inbound_state(request, call)


@login_required
@require_POST
def inbound_hangup(request: HttpRequest, pk: int) -> HttpResponse:
    call = inbound_call_get_for_user(user=request.user, pk=pk)
    try:
        call = inbound_call_hangup(call=call)
    except ApplicationError as exc:
        call.refresh_from_db()
        return _inbound_state(request, call, error=exc.message)
    return _inbound_state(request, call)


@login_required
@require_POST
def inbound_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    call = inbound_call_get_for_user(user=request.user, pk=pk)
    target = _transfer_target(request)
    if target is None:
        return _inbound_state(request, call, error="Pick a colleague to transfer to.")
    try:
        call = inbound_call_transfer(call=call, to_agent=target)
    except ValidationError as exc:
        return _inbound_state(request, call, error=" ".join(exc.messages))
    except ApplicationError as exc:
        call.refresh_from_db()
        return _inbound_state(request, call, error=exc.message)
    return _inbound_state(request, call)


@login_required
@require_POST
def inbound_wrap_up(request: HttpRequest, pk: int) -> HttpResponse:
    call = inbound_call_get_for_user(user=request.user, pk=pk)
    return _save_wrap_up(request, call, inbound_call_wrap_up, _inbound_panel)


@login_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    """Calls with one customer (the pop-up's "history" link and the recent-customers list).
    A number that is not one (typed into the address bar, a truncated link) gets the page back
    with a message and a box to type it again, not a 404."""
    typed = request.GET.get("number", "").strip()
    try:
        number = to_e164(typed, strict=False)
    except InvalidPhoneNumber:
        return render(request, "calls/history.html", {"typed": typed, "error": HISTORY_NUMBER_ERROR})
    calls = customer_history(user=request.user, number=number)
    return render(request, "calls/history.html", {"number": number, "calls": calls})


@login_required
@require_GET
def alerts(request: HttpRequest) -> HttpResponse:
    """The incoming-call pop-up, and the inbound call the agent is on, polled by every page an
    agent has open."""
    return _alerts(request)


def _alerts(request: HttpRequest) -> HttpResponse:
    """The pop-ups and on-call notes, with a fingerprint of what they show: a poll that sends
    back the fingerprint it shows gets 204 while nothing changed, so nothing is redrawn (focus on
    Dismiss stays, screen readers are not told the same thing every 2 s)."""
    ringing, on_calls = agent_alerts(user=request.user)
    # On the workspace "Write a note" loads the call into its panel in place (nothing else on the
    # page is lost), as the call itself does when the panel is empty; elsewhere it opens the
    # workspace with that call.
    page = urlsplit(request.headers.get("HX-Current-URL", "")).path
    context = {"alerts": ringing, "on_calls": on_calls, "on_workspace": page == reverse("calls:workspace")}
    html = render_to_string("calls/_alerts.html", context, request)
    shown = hashlib.sha256(html.encode()).hexdigest()[:16]
    if request.method == "GET" and request.GET.get("shown") == shown:
        return HttpResponse(status=204)
    return HttpResponse(html + f'<input type="hidden" id="incoming-shown" name="shown" value="{shown}">')


@login_required
@require_POST
def alert_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    agent = agent_for_user(request.user)
    ringing_alert_dismiss(alert=get_object_or_404(RingingAlert, pk=pk, agent=agent))
    return _alerts(request)


@supervisor_required
@require_GET
def board_page(request: HttpRequest) -> HttpResponse:
    interval = _interval(request)
    return render(request, "calls/live_board.html", {"interval": interval, "intervals": BOARD_INTERVALS})


def _interval(request: HttpRequest) -> int:
    try:
        value = int(request.GET.get("every", 5))
    except ValueError:
        value = 5
    return value if value in BOARD_INTERVALS else 5


@supervisor_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    return _render_board(request)


def _render_board(request: HttpRequest, notice: str = "", *, refused: bool = False) -> HttpResponse:
    """The board; when Smartflo's live calls could not be fetched, only the error and when they
    last were (an empty table would claim there are no live calls)."""
    error = ""
    rows, fetched_at, loaded_at = [], None, None
    try:
        rows, fetched = live_board(user=request.user)
        fetched_at = datetime.fromtimestamp(fetched, tz=UTC)
    except ApplicationError as exc:
        error = exc.message
        loaded = live_calls_loaded_at()
        loaded_at = datetime.fromtimestamp(loaded, tz=UTC) if loaded else None
    context = {
        "rows": rows,
        "fetched_at": fetched_at,
        "loaded_at": loaded_at,
        "error": error,
        "interval": _interval(request),
        "notice": notice,
        "refused": refused,  # the action was refused: shown as an error, not as a success
    }
    return render(request, "calls/_board.html", context)


@supervisor_required
@require_POST
def board_action(request: HttpRequest, call_id: str, action: str) -> HttpResponse:
    notice = ""
    try:
        if action == "hangup":
            local = calls_visible_to(request.user).filter(call_id=call_id).first()
            if local is not None and local.is_final:
                local = None  # our row lags behind Smartflo: hang up what Smartflo lists as live
            call_hangup(call=local) if local else call_hangup(call_id=call_id)
            notice = "Hang-up sent."
        elif action == "transfer":
            local = calls_visible_to(request.user).filter(call_id=call_id).first()
            if local is not None and local.is_final:
                local = None  # our row lags behind Smartflo: transfer what Smartflo lists as live
            target = _transfer_target(request)
            if target is None:
                raise ValidationError("Pick an agent to transfer to.")
            call_transfer(call=local, to_agent=target) if local else call_transfer(call_id=call_id, to_agent=target)
            notice = f"Transferred to {target.name}."
        elif action in ("monitor", "whisper", "barge"):
            call_supervise(supervisor_agent=agent_for_user(request.user), call_id=call_id, mode=action)
            notice = f"{action.title()} started: Smartflo is ringing your phone."
        else:
            raise Http404("Unknown action.")
    except ValidationError as exc:
        return _render_board(request, " ".join(exc.messages), refused=True)
    except ApplicationError as exc:
        return _render_board(request, exc.message, refused=True)
    return _render_board(request, notice)
