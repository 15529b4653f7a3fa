"""Placing calls and acting on live ones (hang up, transfer, monitor/whisper/barge), and the
agent's wrap-up. Every Smartflo attempt made for a call is written to ProviderRequest."""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from agents.models import Agent
from agents.services import agent_sync
from calls.models import CallStatus, Disposition, OutboundCall, ProviderRequest, RingingAlert, held_by
from calls.services.events import inbound_call_moved
from calls.services.outcomes import record_outcome_copy_inbound, record_outcome_copy_outbound
from calls.services.state import IllegalTransition, call_can_transition, call_transition
from contactcenter.core.exceptions import ApplicationError, provider_error, unknown_outcome_reason
from contactcenter.phones import InvalidPhoneNumber, mask, to_e164, to_national
from contactcenter.smartflo import (
    BARGE,
    MONITOR,
    WHISPER,
    Attempt,
    SmartfloClient,
    SmartfloError,
    SmartfloRejectedError,
    SmartfloUnknownOutcomeError,
    client_from_settings,
)

logger = logging.getLogger(__name__)


PRE_ANSWER = (
    CallStatus.REQUESTED,
    CallStatus.ORIGINATING,
    CallStatus.AGENT_RINGING,
    CallStatus.AGENT_ANSWERED,
    CallStatus.CUSTOMER_RINGING,
)
SUPERVISION = {"monitor": MONITOR, "whisper": WHISPER, "barge": BARGE}
# Changes whenever a hang-up or a transfer goes through Smartflo: the live boards' shared snapshot
# of Smartflo's live calls (calls.selectors.live_calls_snapshot) is served only while it matches.
LIVE_CALLS_CHANGED_KEY = "calls:live_calls:changed"


def live_calls_changed() -> None:
    """Smartflo's live calls have just changed (a call hung up or moved to another agent): every
    board's next read, first of all the answer to the action, polls Smartflo again instead of
    showing the snapshot taken before (for up to LIVE_CALLS_CACHE_SECONDS). A new token each
    time, so a poll already under way, whose answer may predate the change, is not served either.
    """
    cache.set(LIVE_CALLS_CHANGED_KEY, uuid.uuid4().hex, timeout=24 * 3600)


class CallActionFailed(ApplicationError):
    """Smartflo refused or did not answer; `call` is the call as it stands after the attempt."""

    def __init__(self, error: ApplicationError, call: OutboundCall | None) -> None:
        super().__init__(error.message, code=error.code, status_code=error.status_code, extra=dict(error.extra))
        self.call = call
        if call is not None:
            self.extra["call"] = {"id": call.pk, "status": call.status}


def _recorder(call: OutboundCall | None):
    def record(attempt: Attempt) -> None:
        ProviderRequest.objects.create(
            outbound_call=call,
            operation=attempt.operation,
            method=attempt.method,
            path=attempt.path,
            attempt=attempt.attempt,
            status_code=attempt.status,
            duration_ms=attempt.duration_ms,
            error=str(attempt.error)[:500] if attempt.error else "",
        )

    return record


def _client(call: OutboundCall | None, client: SmartfloClient | None) -> SmartfloClient:
    """A client for a request someone is waiting on: no retries, a short timeout."""
    return client or interactive_client(on_attempt=_recorder(call))


def interactive_client(**options) -> SmartfloClient:
    return client_from_settings(
        max_retries=0, timeout=min(settings.SMARTFLO_TIMEOUT, settings.SMARTFLO_INTERACTIVE_TIMEOUT), **options
    )


def _agent_number(agent: Agent) -> str:
    """What Smartflo's `agent_number` takes: the EID when we know it, else the 10-digit mobile."""
    return agent.eid or to_national(agent.follow_me_number)


def call_place(
    *,
    requested_by: AbstractBaseUser,
    agent: Agent,
    destination: str,
    caller_id: str | None = None,
    client: SmartfloClient | None = None,
) -> OutboundCall:
    """Ring `agent`, then `destination`, through Smartflo's click to call.

    One request reaches Smartflo at most: a second click while the agent's previous call is
    still being set up returns 409 with that call instead of dialling again. A refusal ends the
    call `failed` with Smartflo's message; a timeout ends it `unknown` (raised as
    CallActionFailed, 502/504).
    """
    try:
        destination_e164 = to_e164(destination)
    except InvalidPhoneNumber as exc:
        raise ValidationError({"destination_number": [str(exc)]}) from None
    if not any(destination_e164.startswith("+" + code) for code in settings.CALL_ALLOWED_COUNTRY_CODES):
        raise ValidationError({"destination_number": ["Calls to this country are not enabled."]})
    caller = ""
    if caller_id:
        try:
            caller = to_e164(caller_id)
        except InvalidPhoneNumber as exc:
            raise ValidationError({"caller_id": [str(exc)]}) from None

    with transaction.atomic():
        locked = Agent.objects.select_for_update().get(pk=agent.pk)
        if not locked.is_active or locked.blocked:
            raise ApplicationError(
                f"{locked.name} is {locked.status} in Smartflo and cannot take calls.",
                code="agent_unavailable",
                status_code=409,
            )
        now = timezone.now()
        setting_up = Q(
            status__in=PRE_ANSWER, requested_at__gte=now - timedelta(seconds=settings.CALL_SETUP_WINDOW_SECONDS)
        )
        unknown = Q(
            status=CallStatus.UNKNOWN, requested_at__gte=now - timedelta(seconds=settings.CALL_SETUP_WINDOW_SECONDS)
        )
        talking = Q(status=CallStatus.IN_PROGRESS, requested_at__gte=now - timedelta(hours=4))
        # The agent's own calls, and a call transferred to them; not one they passed on, which goes
        # on with the colleague.
        busy = OutboundCall.objects.filter(setting_up | unknown | talking, held_by(locked))
        pending = busy.order_by("-requested_at").first()
        if pending is not None:
            message = {
                CallStatus.UNKNOWN: "The last call's outcome is unknown and a phone may be ringing: "
                "check before calling again.",
                CallStatus.IN_PROGRESS: "This agent is on a call; hang it up before dialling again.",
            }.get(pending.status, "A call for this agent is already being set up; wait for it before dialling again.")
            raise ApplicationError(
                message,
                code="call_in_progress",
                status_code=409,
                extra={"call": {"id": pending.pk, "status": pending.status}},
            )
        call = OutboundCall.objects.create(
            requested_by=requested_by, agent=locked, destination=destination_e164, caller_id=caller
        )
        call_transition(call=call, to=CallStatus.ORIGINATING)

    smartflo = _client(call, client)
    try:
        result = smartflo.click_to_call(
            agent_number=_agent_number(agent),
            destination_number=destination_e164,
            caller_id=caller or None,
            custom_identifier=str(call.custom_identifier),
        )
    except SmartfloError as exc:
        unknown = isinstance(exc, SmartfloUnknownOutcomeError)
        target = CallStatus.UNKNOWN if unknown else CallStatus.FAILED
        if unknown:
            message = f"Outcome unknown: {unknown_outcome_reason(exc)}. Check before calling again."
        else:
            message = exc.provider_message or exc.message
        if call_can_transition(OutboundCall.objects.get(pk=call.pk).status, target):
            call_transition(call=call, to=target, provider_message=message)
        logger.warning("click to call %s to %s: %s", call.pk, mask(destination_e164), exc)
        raise CallActionFailed(provider_error(exc), call) from exc
    finally:
        if client is None:
            smartflo.close()

    # An event may already have moved the call on: touch only what this answer adds.
    updates = {"provider_message": result.message[:500]}
    OutboundCall.objects.filter(pk=call.pk).update(**updates)
    if result.call_id:
        OutboundCall.objects.filter(pk=call.pk, call_id__isnull=True).update(call_id=result.call_id)
    call.refresh_from_db()
    logger.info("call %s placed for agent %s to %s", call.pk, agent.pk, mask(destination_e164))
    return call


def _live_entry(call: OutboundCall, smartflo: SmartfloClient):
    """Smartflo's live-call entry for our call (by its call id or our identifier), if listed."""
    for live in smartflo.live_calls():
        if (call.call_id and live.call_id == call.call_id) or live.custom_identifier == str(call.custom_identifier):
            if live.call_id and not call.call_id:
                OutboundCall.objects.filter(pk=call.pk, call_id__isnull=True).update(call_id=live.call_id)
                call.call_id = live.call_id
            return live
    return None


def _require_call_id(call: OutboundCall) -> str:
    if not call.call_id:
        raise ApplicationError(
            "Smartflo does not list this call as live any more.", code="call_not_live", status_code=409
        )
    return call.call_id


def _smartflo_call_id(call: OutboundCall, smartflo: SmartfloClient) -> str:
    """Smartflo's call id for our call: stored, or found in the live calls by our identifier."""
    if not call.call_id:
        _live_entry(call, smartflo)
    return _require_call_id(call)


def _action_failed(exc: SmartfloError, call: OutboundCall | None, *, confirmed_gone: bool = False) -> ApplicationError:
    """What to answer when Smartflo would not act on a live call.

    Smartflo's 404 is not Smartflo failing (502) but the call not being live there: it ended
    before our row heard of it (409 `call_not_live`), or the id names no live call (404).
    """
    # Only Smartflo's own JSON 404 says that: an HTML 404 (a wrong SMARTFLO_BASE_URL, a proxy)
    # has no provider message and stays a provider error.
    if isinstance(exc, SmartfloRejectedError) and exc.status == 404 and exc.provider_message is not None:
        live_calls_changed()  # the boards' snapshot may still list it
        extra = {"provider_message": exc.provider_message or exc.message}
        if call is None:
            return ApplicationError(
                "Smartflo has no live call with this id: it may have ended already.",
                code="call_not_found",
                status_code=404,
                extra=extra,
            )
        if confirmed_gone:
            call = _settle_not_live(call)
        not_live = ApplicationError(
            f"Smartflo does not list this call as live any more (here it is {call.get_status_display().lower()}).",
            code="call_not_live",
            status_code=409,
            extra=extra,
        )
        return CallActionFailed(not_live, call)
    return CallActionFailed(provider_error(exc), call)


def _settle_not_live(call: OutboundCall) -> OutboundCall:
    """Our call that was in progress (the customer had answered), that Smartflo's live calls do
    not list and that Smartflo refused to hang up as not live, has ended, whatever events we
    missed: end it here too (completed), so it stops holding the agent's line for hours (a new
    dial is refused while a call is in progress). Calls not yet answered are left alone: an
    "answered" event may still be on its way, and they stop blocking the agent after
    CALL_SETUP_WINDOW_SECONDS anyway; the reconcile task settles them.
    """
    call.refresh_from_db()
    if call.status == CallStatus.IN_PROGRESS and call_can_transition(call.status, CallStatus.COMPLETED):
        with contextlib.suppress(IllegalTransition):
            call_transition(
                call=call, to=CallStatus.COMPLETED, provider_message="Ended: Smartflo no longer lists this call as live"
            )
        call.refresh_from_db()
    return call


def call_hangup(
    *, call: OutboundCall | None = None, call_id: str | None = None, client: SmartfloClient | None = None
) -> OutboundCall | None:
    """Hang up a live call: ours (`call`), or any Smartflo call by id (supervisors' live board).

    For our call, Smartflo's live entry is read first: it gives the call id if we lack it and
    says whether the customer had answered, so the call ends `completed` without guessing.
    Before an answer, how it ended is left to Smartflo's hangup event, and the call is marked
    `cancelled_at`: called off, so neither the agent's Missed calls nor Today count it missed.
    """
    if call is not None and call.is_final:
        raise ApplicationError("This call has already ended.", code="call_ended", status_code=409)
    smartflo = _client(call, client)
    answered = gone = False
    try:
        if call is not None:
            live = _live_entry(call, smartflo)  # also learns the call id if we lacked it
            gone = live is None  # Smartflo's live calls do not list it
            answered = call.status == CallStatus.IN_PROGRESS or (live is not None and live.state == "in_progress")
            target = _require_call_id(call)
        else:
            target = call_id
        smartflo.hangup(call_id=target)
    except SmartfloError as exc:
        raise _action_failed(exc, call, confirmed_gone=gone) from exc
    finally:
        if client is None:
            smartflo.close()
    live_calls_changed()
    if call is not None:
        if not answered:  # called off before the customer answered: not a call the customer missed
            OutboundCall.objects.filter(pk=call.pk, answered_at__isnull=True, cancelled_at__isnull=True).update(
                cancelled_at=timezone.now()
            )
        call.refresh_from_db()
        if answered and call_can_transition(call.status, CallStatus.COMPLETED):
            # Smartflo's hangup event may get there first: the call has ended either way.
            with contextlib.suppress(IllegalTransition):
                call_transition(call=call, to=CallStatus.COMPLETED, provider_message="Hung up from the application")
            call.refresh_from_db()
    return call


def call_transfer(
    *,
    to_agent: Agent,
    call: OutboundCall | None = None,
    call_id: str | None = None,
    client: SmartfloClient | None = None,
) -> OutboundCall | None:
    """Transfer a live call to a colleague (Smartflo call option 4, by intercom): ours
    (`call`), or any Smartflo call by id (supervisors' live board). Ours only once the customer
    has answered (as the agent's panel and the board offer it): 409 `call_not_answered` before."""
    if call is not None and not call.is_live:
        raise ApplicationError("Only a live call can be transferred.", code="call_not_live", status_code=409)
    if call is not None and to_agent.pk == (call.transferred_to_id or call.agent_id):
        raise ValidationError({"agent": ["The call is already with this agent."]})
    if not to_agent.is_active or to_agent.blocked:
        raise ValidationError({"agent": [f"{to_agent.name} is {to_agent.status} and cannot take calls."]})
    smartflo = _client(call, client)
    try:
        if call is not None and call.status in PRE_ANSWER:  # our status may lag Smartflo's: ask it
            live = _live_entry(call, smartflo)
            if live is None:
                raise ApplicationError(
                    "Smartflo does not list this call as live any more.", code="call_not_live", status_code=409
                )
            _refuse_unanswered(live)
        elif call is None:  # a call we did not place (the live board, the API): as Smartflo lists it
            live = next((entry for entry in smartflo.live_calls() if entry.call_id == call_id), None)
            if live is None:
                raise ApplicationError(
                    "Smartflo has no live call with this id.", code="call_not_found", status_code=404
                )
            _refuse_unanswered(live)
            call = _ours_by_identifier(live)  # placed by us after all, its call id not stored yet
            if call is not None and not call.call_id:
                OutboundCall.objects.filter(pk=call.pk, call_id__isnull=True).update(call_id=live.call_id)
                call.call_id = live.call_id
        smartflo.transfer(
            call_id=_smartflo_call_id(call, smartflo) if call is not None else call_id,
            intercom=to_agent.intercom or to_national(to_agent.follow_me_number),
        )
    except SmartfloError as exc:
        raise _action_failed(exc, call) from exc
    finally:
        if client is None:
            smartflo.close()
    live_calls_changed()  # Smartflo's live calls now name the new agent
    if call is None:
        inbound_call_moved(call_id=call_id, to_agent=to_agent)  # an inbound call an agent was on
        return None
    OutboundCall.objects.filter(pk=call.pk).update(transferred_to=to_agent, updated_at=timezone.now())
    call.refresh_from_db()
    logger.info("call %s transferred to agent %s", call.pk, to_agent.pk)
    return call


def _ours_by_identifier(live) -> OutboundCall | None:
    try:
        identifier = uuid.UUID(live.custom_identifier or "")
    except ValueError:
        return None
    return OutboundCall.objects.filter(custom_identifier=identifier).first()


def _refuse_unanswered(live) -> None:
    if live.state in PRE_ANSWER:
        raise ApplicationError(
            "The customer has not answered yet: a call can be transferred once they have.",
            code="call_not_answered",
            status_code=409,
        )


def call_supervise(
    *, supervisor_agent: Agent | None, call_id: str, mode: str, client: SmartfloClient | None = None
) -> None:
    """Monitor, whisper or barge into a live call as the supervisor's own Smartflo agent."""
    if mode not in SUPERVISION:
        raise ValidationError({"mode": ["Choose monitor, whisper or barge."]})
    if supervisor_agent is None:
        raise ApplicationError(
            "Your sign-in is not linked to a Smartflo agent, so Smartflo cannot connect you to the call. "
            "An admin can link it on the agent's page.",
            code="no_linked_agent",
            status_code=409,
        )
    smartflo = _client(None, client)
    try:
        if not supervisor_agent.smartflo_id:
            # Linked, but never synced (a fresh install: the hourly sync has not run yet). One
            # sync learns the ids of every agent; without an id Smartflo cannot connect anyone.
            # At most one such sync a minute, however often the button is pressed.
            if cache.add("calls:on-demand-agent-sync", 1, timeout=60):
                try:
                    agent_sync(client=smartflo)
                except ApplicationError as exc:
                    raise ApplicationError(
                        f"Your agent ({supervisor_agent.name}) has no Smartflo id yet, and reading the agents "
                        f"from Smartflo failed: {exc.message}",
                        code=exc.code,
                        status_code=exc.status_code,
                    ) from exc
            supervisor_agent.refresh_from_db()
            if not supervisor_agent.smartflo_id:
                raise ApplicationError(
                    f"Your agent ({supervisor_agent.name}) has no Smartflo id: Smartflo does not list it. "
                    "Check it exists in Smartflo, then use Agents → Sync from Smartflo.",
                    code="agent_not_in_smartflo",
                    status_code=409,
                )
        smartflo.call_option(call_id=call_id, option=SUPERVISION[mode], agent_id=supervisor_agent.smartflo_id)
    except SmartfloError as exc:
        raise CallActionFailed(provider_error(exc), None) from exc
    finally:
        if client is None:
            smartflo.close()


class NothingToSave(ValidationError):
    """A wrap-up with no note and no disposition over one that has neither: nothing is saved."""

    def __init__(self) -> None:
        super().__init__("Nothing to save yet: write a note or choose a disposition.", code="nothing_to_save")


def _check_wrap_up(call: OutboundCall | RingingAlert, note: str, disposition: Disposition | None, base: str | None):
    """`call` is locked; `base`: the version of the note the form was opened with (None: no check).
    Marks `call.wrap_up_cleared` when the save empties a note or disposition it had."""
    if disposition is not None and not disposition.active:
        raise ValidationError({"disposition": ["This disposition is no longer offered."]})
    if len(note) > 5000:
        raise ValidationError({"note": ["Keep the note under 5,000 characters."]})
    if base is not None and base != call.wrap_up_version:  # a colleague, or another tab, saved it since
        saved = f"“{call.note}”" if call.note else "empty"
        raise ValidationError(
            f"This note was changed elsewhere since you opened it; it is now {saved}. "
            "Your text is kept: check it and save again."
        )
    had, empty = bool(call.note or call.disposition_id), not note.strip() and disposition is None
    if empty and not had:
        raise NothingToSave()
    call.wrap_up_cleared = had and empty


@transaction.atomic
def call_wrap_up(
    *, call: OutboundCall, note: str, disposition: Disposition | None, base: str | None = None
) -> OutboundCall:
    """Save the agent's note and disposition (any time; typically once the call has ended)."""
    call = OutboundCall.objects.select_for_update().get(pk=call.pk)
    _check_wrap_up(call, note, disposition, base)
    call.note = note.strip()
    call.disposition = disposition
    call.save(update_fields=["note", "disposition", "updated_at"])
    record_outcome_copy_outbound(call)
    return call


def inbound_call_hangup(*, call: RingingAlert, client: SmartfloClient | None = None) -> RingingAlert:
    """Hang up an inbound call the agent is on (Smartflo's hangup by call id). Its end is noted
    at once, as when Smartflo no longer has it live; the hang-up event finds it ended."""
    if not call.is_live:
        raise ApplicationError("This call has already ended.", code="call_ended", status_code=409)
    try:
        call_hangup(call_id=call.call_id, client=client)
    except ApplicationError as exc:
        if exc.code != "call_not_found":  # Smartflo has no such live call: it is over
            raise
    RingingAlert.objects.filter(pk=call.pk, ended_at__isnull=True).update(ended_at=timezone.now())
    call.refresh_from_db()
    return call


def inbound_call_transfer(*, call: RingingAlert, to_agent: Agent, client: SmartfloClient | None = None) -> RingingAlert:
    """Pass an inbound call the agent is on to a colleague (call option 4, by intercom)."""
    if not call.is_live:
        raise ApplicationError("Only a call in progress can be transferred.", code="call_not_live", status_code=409)
    if to_agent.pk == call.agent_id:
        raise ValidationError({"agent": ["The call is already with you."]})
    try:
        call_transfer(call_id=call.call_id, to_agent=to_agent, client=client)
    except ApplicationError as exc:
        if exc.code == "call_not_found":  # Smartflo has no such live call: it is over, as for a hang-up
            RingingAlert.objects.filter(pk=call.pk, ended_at__isnull=True).update(ended_at=timezone.now())
            raise ApplicationError("This call had already ended.", code="call_ended", status_code=409) from exc
        raise
    call.refresh_from_db()
    return call


@transaction.atomic
def inbound_call_wrap_up(
    *, call: RingingAlert, note: str, disposition: Disposition | None, base: str | None = None
) -> RingingAlert:
    """The same for an inbound call the agent answered (during the call or after it)."""
    call = RingingAlert.objects.select_for_update().get(pk=call.pk)
    if call.answered_at is None:
        raise ValidationError("This call was not answered here: there is nothing to note.")
    _check_wrap_up(call, note, disposition, base)
    call.note = note.strip()
    call.disposition = disposition
    call.save(update_fields=["note", "disposition"])
    record_outcome_copy_inbound(call.call_id)
    return call
