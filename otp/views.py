"""The supervisors' OTP broadcast log: masked numbers, states, timings, provider errors. Never codes."""

from __future__ import annotations

from uuid import UUID

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from contactcenter.core.permissions import supervisor_required
from contactcenter.phones import InvalidPhoneNumber, to_e164
from otp.models import OtpState
from otp.selectors import otp_challenge_get, otp_challenge_list

PAGE_SIZE = 50
#: States in which a code can still be entered until it expires.
OPEN_STATES = [OtpState.QUEUED, OtpState.LEAD_ADDED, OtpState.CALLING, OtpState.DELIVERED]


@supervisor_required
def otp_challenge_list_page(request: HttpRequest) -> HttpResponse:
    state, state_error = request.GET.get("state", ""), ""
    if state not in ("", *OtpState.values):  # an edited or stale link: say so, show every state
        state_error = f"There is no OTP state “{state[:40]}”: showing all states."
        state = ""
    phone_query = request.GET.get("phone", "").strip()
    phone, phone_error = "", ""
    if phone_query:
        try:
            phone = to_e164(phone_query, strict=False)
        except InvalidPhoneNumber as exc:
            phone_error = str(exc)
    challenges = otp_challenge_list(state=state, phone=phone)
    if phone_error:
        challenges = challenges.none()
    page = Paginator(challenges, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "states": OtpState.choices,
        "open_states": OPEN_STATES,
        "state": state,
        "phone_query": phone_query,
        "phone_error": phone_error,
        "state_error": state_error,
        "now": timezone.now(),
    }
    return render(request, "otp/list.html", context)


@supervisor_required
def otp_challenge_detail_page(request: HttpRequest, challenge_id: UUID) -> HttpResponse:
    challenge = otp_challenge_get(challenge_id=str(challenge_id))
    if challenge is None:
        raise Http404("No such OTP challenge.")
    return render(request, "otp/detail.html", {"challenge": challenge, "now": timezone.now()})
