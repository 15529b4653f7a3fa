"""Reads for calls: what a user may see, the agent workspace, the live board, alerts."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from agents.models import Agent
from calls.models import FINAL_STATUSES, INBOUND_ON_CALL_LIMIT, CallStatus, OutboundCall, RingingAlert, held_by
from calls.services.actions import LIVE_CALLS_CHANGED_KEY, PRE_ANSWER, interactive_client
from contactcenter.core.converters import ascii_int
from contactcenter.core.exceptions import ApplicationError, provider_error
from contactcenter.core.roles import is_supervisor
from contactcenter.phones import InvalidPhoneNumber, to_e164
from contactcenter.smartflo import LiveCall, SmartfloError

logger = logging.getLogger(__name__)

LIVE_CACHE_KEY = "calls:live_calls"
LIVE_LOCK_KEY = "calls:live_calls:lock"
LIVE_LOADED_KEY = "calls:live_calls:loaded_at"  # when a poll last succeeded, shown when one fails
LIVE_LOADED_SECONDS = 24 * 3600


def agent_for_user(user) -> Agent | None:
    """The Smartflo agent a sign-in is linked to, if any."""
    if not user.is_authenticated:
        return None
    return Agent.objects.filter(user=user).first()


def handled_by(agent: Agent) -> Q:
    """Calls placed for `agent` or transferred to them: the calls that are theirs."""
    return Q(agent=agent) | Q(transferred_to=agent)


def passed_on(call: OutboundCall, user) -> bool:
    """Whether `user` is an agent who passed `call` on: it goes on with a colleague, so it is no
    longer theirs to hang up or transfer (supervisors act on any call)."""
    if not call.is_live or call.transferred_to_id is None or is_supervisor(user):
        return False
    agent = agent_for_user(user)
    return agent is not None and agent.pk != call.transferred_to_id


def refuse_if_passed_on(call: OutboundCall, user) -> None:
    """Refuse (409 `call_transferred`) a hang-up or transfer by an agent who passed `call` on."""
    if passed_on(call, user):
        raise ApplicationError(
            f"This call is with {call.transferred_to.name} now: only they or a supervisor can act on it.",
            code="call_transferred",
            status_code=409,
        )


def calls_visible_to(user) -> QuerySet[OutboundCall]:
    """Supervisors see every call; an agent sees the calls placed for them or transferred to them."""
    calls = OutboundCall.objects.select_related("agent", "transferred_to", "disposition")
    if is_supervisor(user):
        return calls
    agent = agent_for_user(user)
    if agent is None:
        return calls.none()
    return calls.filter(handled_by(agent))


def call_get_for_user(*, user, reference: str) -> OutboundCall:
    """One call by our id, our custom identifier or Smartflo's call id; 404 unless visible."""
    calls = calls_visible_to(user)
    reference = str(reference).strip()
    match = calls.filter(call_id=reference).first()
    if match is None and len(reference) == 36:
        match = calls.filter(custom_identifier=reference).first() if _is_uuid(reference) else None
    if match is None and (pk := ascii_int(reference)) is not None:
        match = calls.filter(pk=pk).first()
    if match is None:
        raise Http404("No such call.")
    return match


def _is_uuid(text: str) -> bool:
    import uuid

    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class MissedCall:
    """A call the agent should return: a customer who called in and was not answered (seen
    ringing at the agent and ending unanswered, or in Smartflo's synced records), or the agent's
    own call that did not reach the customer: the customer did not pick up, or (`not_dialled`)
    the agent's own phone did not answer, so the customer was never rung."""

    number: str
    at: object  # aware datetime
    inbound: bool
    not_dialled: bool = False


def missed_calls_for(*, agent: Agent, days: int = 7, limit: int = 20) -> list[MissedCall]:
    from calls.models import CallDirection, CallRecord, CallRecordStatus

    since = timezone.now() - timedelta(days=days)
    records = (
        CallRecord.objects.filter(
            agent=agent, direction=CallDirection.INBOUND, status=CallRecordStatus.MISSED, started_at__gte=since
        )
        .exclude(client_number="")
        .order_by("-started_at")
        .values_list("call_id", "client_number", "started_at")[:limit]
    )
    # Known at once from the call events, before the next records sync brings them (the same call
    # is listed once).
    rang = (
        _missed_here(RingingAlert.objects.filter(agent=agent, started_at__gte=since))
        .order_by("-started_at")
        .values_list("call_id", "caller_number", "started_at")[:limit]
    )
    inbound = {call_id: (number, at) for call_id, number, at in rang}
    for call_id in _answered_elsewhere(list(inbound)):  # someone took it after all
        del inbound[call_id]
    inbound.update({call_id: (number, at) for call_id, number, at in records})
    outbound = (
        OutboundCall.objects.filter(handled_by(agent), status=CallStatus.MISSED, cancelled_at__isnull=True)
        .filter(requested_at__gte=since)
        .order_by("-requested_at")
        .values_list("destination", "requested_at", "agent_answered_at")[:limit]
    )
    merged = [MissedCall(n, at, True) for n, at in inbound.values()] + [
        MissedCall(n, at, False, not_dialled=agent_answered is None) for n, at, agent_answered in outbound
    ]
    spoken = _last_spoken(agent, {m.number for m in merged})
    # not those the agent has spoken with since (called back and answered, or answered their call)
    merged = [m for m in merged if m.number not in spoken or m.at > spoken[m.number]]
    merged.sort(key=lambda m: m.at, reverse=True)
    return merged[:limit]


def _last_spoken(agent: Agent, numbers: set[str]) -> dict[str, object]:
    """`{number: when the agent last spoke with it}`: their latest call to it that the customer
    answered, or the latest call from it that they answered (two queries)."""
    if not numbers:
        return {}
    placed = (
        OutboundCall.objects.filter(handled_by(agent), destination__in=numbers, answered_at__isnull=False)
        .values("destination")
        .annotate(last=Max("requested_at"))
        .values_list("destination", "last")
    )
    answered = (
        RingingAlert.objects.filter(agent=agent, caller_number__in=numbers, answered_at__isnull=False)
        .values("caller_number")
        .annotate(last=Max("answered_at"))
        .values_list("caller_number", "last")
    )
    spoken: dict[str, object] = {}
    for number, last in [*placed, *answered]:
        spoken[number] = max(last, spoken.get(number, last))
    return spoken


def _missed_here(alerts: QuerySet[RingingAlert]) -> QuerySet[RingingAlert]:
    """Inbound calls that rang and ended with nobody answering (per the call events)."""
    return alerts.filter(answered_at__isnull=True, cleared_reason="ended").exclude(caller_number="")


def _answered_elsewhere(call_ids: list[str]) -> set[str]:
    """Of calls the events left unanswered at an agent, those answered after all: by a colleague
    (a ring group), or per Smartflo's synced record (a hang-up event that came before the answer)."""
    from calls.models import CallRecord, CallRecordStatus

    if not call_ids:
        return set()
    answered = RingingAlert.objects.filter(call_id__in=call_ids, answered_at__isnull=False)
    synced = CallRecord.objects.filter(call_id__in=call_ids).exclude(status=CallRecordStatus.MISSED)
    return set(answered.values_list("call_id", flat=True)) | set(synced.values_list("call_id", flat=True))


@dataclass(frozen=True)
class CallRow:
    """A row of the agent's Today list or a customer's history: a call placed by us (for an agent,
    or transferred to one), or an inbound call an agent answered. `pk` is the call's or the
    inbound call's, as `inbound` says."""

    pk: int
    inbound: bool
    number: str
    at: object  # aware datetime: placed, or answered
    status: str  # a CallStatus value, for the badge
    status_label: str
    disposition: object  # Disposition | None
    note: str
    live: bool
    agent_name: str

    @classmethod
    def placed(cls, call: OutboundCall, viewer: Agent | None = None) -> CallRow:
        """`viewer`: the agent whose list it is; a live call they passed on is over for them."""
        status, label, live = call.shown_status, call.shown_status_label, call.is_live
        if viewer is not None and call.transferred_to_id not in (None, viewer.pk):  # they passed it on
            status, label, live = CallStatus.COMPLETED, f"Transferred to {call.transferred_to.name}", False
        return cls(call.pk, False, call.destination, call.requested_at, status, label, call.disposition, call.note,
                   live, call.agent.name)  # fmt: skip

    @classmethod
    def missed(cls, call: RingingAlert) -> CallRow:
        return cls(call.pk, True, call.caller_number, call.started_at, CallStatus.MISSED, "Missed", None, "", False,
                   call.agent.name)  # fmt: skip

    @classmethod
    def answered(cls, call: RingingAlert) -> CallRow:
        live = call.is_live
        status, label = (CallStatus.IN_PROGRESS, "On the call") if live else (CallStatus.COMPLETED, "Answered")
        if call.transferred_to is not None:
            label = f"Transferred to {call.transferred_to.name}"
        return cls(call.pk, True, call.caller_number, call.answered_at, status, label, call.disposition, call.note,
                   live, call.agent.name)  # fmt: skip


INBOUND_RELATED = ("agent", "disposition", "transferred_to")  # what an inbound call's row and panel show


def _newest(rows: list[CallRow], limit: int) -> list[CallRow]:
    return sorted(rows, key=lambda row: row.at, reverse=True)[:limit]


def inbound_visible_to(user) -> QuerySet[RingingAlert]:
    """Inbound calls offered to agents: supervisors see all, an agent the ones that rang at them."""
    calls = RingingAlert.objects.select_related(*INBOUND_RELATED)
    if is_supervisor(user):
        return calls
    agent = agent_for_user(user)
    return calls.filter(agent=agent) if agent is not None else calls.none()


def customer_history(*, user, number: str, limit: int = 100) -> list[CallRow]:
    """The calls with one customer (E.164) the user may see, both ways, newest first: ours, the
    inbound calls agents answered and those nobody answered. Inbound calls stored before caller
    numbers were normalised may hold the national form."""
    variants = [number]
    if number.startswith("+91"):
        variants += [number[3:], "0" + number[3:], number[1:]]
    placed = calls_visible_to(user).filter(destination=number).order_by("-requested_at")[:limit]
    inbound = inbound_visible_to(user).filter(caller_number__in=variants)
    answered = inbound.filter(answered_at__isnull=False).order_by("-answered_at")[:limit]
    missed = {}
    for call in _missed_here(inbound).order_by("-started_at")[:limit]:  # the newest, once per call
        missed.setdefault(call.call_id, call)
    for call_id in _answered_elsewhere(list(missed)):
        del missed[call_id]
    rows = [CallRow.placed(c) for c in placed] + [CallRow.answered(c) for c in answered]
    return _newest(rows + [CallRow.missed(c) for c in missed.values()], limit)


@dataclass(frozen=True)
class Workspace:
    agent: Agent | None
    today: list[CallRow]
    missed: list[MissedCall]
    recent_customers: list[str]
    live: OutboundCall | None
    live_inbound: RingingAlert | None = None  # an inbound call they are on, shown when `live` is None


def agent_workspace(*, user, inbound: str = "") -> Workspace:
    """The agent's workspace. `inbound` (an inbound call's id, from its "Write a note" link)
    puts that call in the panel when it is one they answered; else the panel holds their live
    call, or the inbound call they are on."""
    agent = agent_for_user(user)
    if agent is None:
        return Workspace(agent=None, today=[], missed=[], recent_customers=[], live=None)
    mine = OutboundCall.objects.filter(handled_by(agent)).select_related("disposition", "transferred_to", "agent")
    start_of_day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    answered = RingingAlert.objects.filter(agent=agent, answered_at__gte=start_of_day).select_related(*INBOUND_RELATED)
    placed = [CallRow.placed(c, agent) for c in mine.filter(requested_at__gte=start_of_day)[:50]]
    today = _newest(placed + [CallRow.answered(c) for c in answered.order_by("-answered_at")[:50]], 50)
    missed = missed_calls_for(agent=agent)
    # The customers of their latest calls both ways: numbers they dialled and callers they answered.
    contacts = list(mine.order_by("-requested_at").values_list("destination", "requested_at")[:200])
    contacts += (
        RingingAlert.objects.filter(agent=agent, answered_at__isnull=False)
        .exclude(caller_number="")
        .order_by("-answered_at")
        .values_list("caller_number", "answered_at")[:200]
    )
    recent = list(dict.fromkeys(number for number, _ in sorted(contacts, key=lambda c: c[1], reverse=True)))[:10]
    # Not yet final (unknown included: the agent must see it); bounded by age, since a call whose
    # events were lost would otherwise stay "current" for ever.
    live = (
        mine.filter(held_by(agent))
        .exclude(status__in=FINAL_STATUSES)
        .filter(requested_at__gte=timezone.now() - timedelta(hours=4))
        .first()
    )
    asked = None
    if inbound.isascii() and inbound.isdigit() and len(inbound) <= 18:  # a bigint at most
        answered_here = RingingAlert.objects.filter(agent=agent, answered_at__isnull=False)
        asked = answered_here.filter(pk=int(inbound)).select_related(*INBOUND_RELATED).first()
    if asked is not None:
        live, live_inbound = None, asked
    else:
        live_inbound = _on_inbound_calls(agent).select_related(*INBOUND_RELATED).first() if live is None else None
    return Workspace(
        agent=agent, today=today, missed=missed, recent_customers=recent, live=live, live_inbound=live_inbound
    )


def inbound_call_get_for_user(*, user, pk: int) -> RingingAlert:
    """An inbound call the user's agent answered; 404 otherwise (not rung at them, not answered)."""
    agent = agent_for_user(user)
    answered = RingingAlert.objects.filter(agent=agent, answered_at__isnull=False).select_related(*INBOUND_RELATED)
    call = answered.filter(pk=pk).first() if agent is not None else None
    if call is None:
        raise Http404("No such call.")
    return call


def transfer_targets_for(call: OutboundCall) -> QuerySet[Agent]:
    """Whom `call` can be transferred to: active colleagues, not the agent on it now."""
    return transfer_targets(exclude=call.transferred_to or call.agent)


def transfer_targets(*, exclude: Agent | None = None) -> QuerySet[Agent]:
    agents = Agent.objects.filter(is_active=True, blocked=False)
    if exclude is not None:
        agents = agents.exclude(pk=exclude.pk)
    return agents


def live_calls_snapshot() -> tuple[list[LiveCall], float]:
    """Smartflo's live calls and when they were fetched, shared by every open board.

    At most one request to Smartflo per LIVE_CALLS_CACHE_SECONDS: the first board to find the
    cache empty takes a short lock and polls; the others wait briefly for its answer.

    A hang-up or transfer sent through us changes Smartflo's live calls (a new agent on the
    call): it changes the token at LIVE_CALLS_CHANGED_KEY, and a snapshot is served only with
    the token it was polled under. So the board answering the action, and every board after it,
    polls again at once, and never gets the answer of a poll that was under way before the change.
    """
    deadline = time.monotonic() + 5
    while True:
        # Read again on every turn: a change while this board waits moves it to the new token
        # (its snapshot, or its poll), instead of waiting for an answer that will never be stored.
        version = cache.get(LIVE_CALLS_CHANGED_KEY, "")
        cached = cache.get(LIVE_CACHE_KEY)
        if isinstance(cached, tuple) and len(cached) == 3 and cached[2] == version:
            return cached[0], cached[1]
        # The lock outlives the slowest poll (one try, interactive timeout), so only one board
        # polls; one lock per token, so a poll that began before a change does not hold up the next.
        lock = f"{LIVE_LOCK_KEY}:{version}"
        if cache.add(lock, 1, timeout=int(settings.SMARTFLO_INTERACTIVE_TIMEOUT) + 5):
            try:
                with interactive_client() as smartflo:
                    calls = [c for c in smartflo.live_calls() if c.call_id]  # a call without an id can't be acted on
                snapshot = (calls, time.time())
                if cache.get(LIVE_CALLS_CHANGED_KEY, "") == version:  # else a newer poll's answer may be there
                    cache.set(LIVE_CACHE_KEY, (*snapshot, version), timeout=settings.LIVE_CALLS_CACHE_SECONDS)
                cache.set(LIVE_LOADED_KEY, snapshot[1], timeout=LIVE_LOADED_SECONDS)
                return snapshot
            except SmartfloError as exc:
                raise provider_error(exc) from exc
            finally:
                cache.delete(lock)
        if time.monotonic() >= deadline:
            raise ApplicationError(
                "Smartflo's live calls are taking long to load; retrying.", code="live_calls_busy", status_code=503
            )
        time.sleep(0.05)


def live_calls_loaded_at() -> float | None:
    """When Smartflo's live calls were last fetched successfully (by any board), if recently."""
    return cache.get(LIVE_LOADED_KEY)


@dataclass(frozen=True)
class BoardRow:
    live: LiveCall
    call: OutboundCall | None
    targets: tuple[Agent, ...] = ()  # whom the call can be transferred to: not the agent on it

    @property
    def state_label(self) -> str:
        return (self.live.state or "live").replace("_", " ").capitalize()

    @property
    def transferable(self) -> bool:
        """Not while Smartflo says the call is still being set up (the agent's or the customer's
        phone ringing): a transfer needs the customer on the line, as the agent's panel says."""
        return self.live.state not in PRE_ANSWER


def live_board(*, user) -> tuple[list[BoardRow], float]:
    """Smartflo's live calls merged with our calls, each with its transfer targets (two queries
    for all of them: our calls, and the agents)."""
    calls, fetched_at = live_calls_snapshot()
    identifiers = [c.custom_identifier for c in calls if _is_uuid(c.custom_identifier)]
    call_ids = [c.call_id for c in calls if c.call_id]
    local = OutboundCall.objects.filter(Q(call_id__in=call_ids) | Q(custom_identifier__in=identifiers)).select_related(
        "agent", "requested_by"
    )
    by_call_id = {c.call_id: c for c in local if c.call_id}
    by_identifier = {str(c.custom_identifier): c for c in local}
    agents = list(transfer_targets()) if calls else []
    rows = []
    for live in calls:
        call = by_call_id.get(live.call_id) or by_identifier.get(live.custom_identifier)
        current = _current_agent_id(live, call, agents)
        rows.append(BoardRow(live=live, call=call, targets=tuple(a for a in agents if a.pk != current)))
    return rows, fetched_at


def _current_agent_id(live: LiveCall, call: OutboundCall | None, agents: list[Agent]) -> int | None:
    """The local agent on a live call: Smartflo's word first (its agent id, then the agent's
    number, then the agent's name when one agent has it: `agent_name` is the field Smartflo
    documents, the other two may be absent), else whom our call row says has it."""
    for agent in agents:
        if live.agent_id and agent.smartflo_id == live.agent_id:
            return agent.pk
    try:
        number = to_e164(live.agent_number, strict=False) if live.agent_number else ""
    except InvalidPhoneNumber:
        number = ""
    for agent in agents:
        if number and agent.follow_me_number == number:
            return agent.pk
    name = live.agent_name.strip().casefold()
    named = [agent.pk for agent in agents if name and agent.name.strip().casefold() == name]
    if len(named) == 1:
        return named[0]
    if call is not None:
        return call.transferred_to_id or call.agent_id
    return None


def agent_alerts(*, user) -> tuple[list[RingingAlert], list[RingingAlert]]:
    """What every page an agent has open shows, polled: the calls ringing at them (the pop-up),
    and the inbound calls they answered that have not ended (a lost hang-up event stops counting
    after 4 hours). The agent is looked up once for both."""
    agent = agent_for_user(user)
    if agent is None:
        return [], []
    now = timezone.now()
    alerts = RingingAlert.objects.filter(agent=agent)
    ringing = alerts.filter(cleared_at__isnull=True, started_at__gte=now - timedelta(minutes=2))
    return list(ringing[:3]), list(_on_inbound_calls(agent)[:3])


def _on_inbound_calls(agent: Agent) -> QuerySet[RingingAlert]:
    """The inbound calls `agent` answered that have not ended, newest first (see `is_live`)."""
    since = timezone.now() - INBOUND_ON_CALL_LIMIT
    return RingingAlert.objects.filter(agent=agent, answered_at__gte=since, ended_at__isnull=True).order_by(
        "-answered_at"
    )
