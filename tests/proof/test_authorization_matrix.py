"""The authorization matrix: every URL pattern of the project, five principals, one expected outcome each.

Principals: `anonymous`; `agent` (Asha, who owns the fixture objects); `other_agent` (Vikram, a
colleague who must never see them); `supervisor` (the Supervisors group, not staff); `superuser`.

Each row names the URL pattern it exercises (as `django.urls.get_resolver()` spells it), the method,
a concrete path built from the fixture objects and the outcome per principal:

- a status (`200`, `400`, `403`, `404`, `405`, `409`...), exact, never "anything but";
- `LOGIN`: a redirect to `/accounts/login/?next=...` (pages refuse anonymous users so);
- `ADMIN_LOGIN`: a redirect to the admin's sign-in (admin views and `staff_member_required`);
- `Outcome(...)` for more: a redirect target, the API's stable error `code`, or whether the row's
  `secret` (text only the owner and supervisors may read) is in the answer.

A refusal never carries the secret, and an API refusal is always JSON with a `code`.
`test_every_url_pattern_has_a_row` fails for a new endpoint without a row, and for a stale row.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from tests.conftest import login

pytestmark = pytest.mark.django_db

ANON, AGENT, OTHER, SUP, SU = "anonymous", "agent", "other_agent", "supervisor", "superuser"
PRINCIPALS = (ANON, AGENT, OTHER, SUP, SU)

WEBHOOK_TOKEN = "test-webhook-token"  # tests/settings.py
MASKING_TOKEN = "test-masking-token"  # tests/settings.py
OTP_CODE = "123456"


@dataclass(frozen=True)
class Outcome:
    status: int
    location: str = ""  # redirects: the start of the Location (or HX-Redirect) header
    code: str = ""  # JSON answers: the stable error code
    shows: bool | None = None  # whether the row's secret is in the body (None: not checked)

    def __str__(self) -> str:
        text = str(self.status)
        if self.location:
            text += f" -> {self.location}"
        if self.code:
            text += f" code={self.code}"
        if self.shows is not None:
            text += " with the data" if self.shows else " without the data"
        return text


LOGIN = Outcome(302, location="/accounts/login/?next=")
# A signed-out HTMX request: a 401 whose HX-Redirect sends the page to sign in (never the
# sign-in form swapped into the part that asked).
HX_LOGIN = Outcome(401, location="/accounts/login/?next=")
ADMIN_LOGIN = Outcome(302, location="/admin/login/?next=")
DENIALS = (401, 403, 404, 405)


def outcome(value: int | Outcome) -> Outcome:
    return value if isinstance(value, Outcome) else Outcome(value)


@dataclass(frozen=True)
class Row:
    route: str  # the URL pattern, as the resolver walk spells it
    method: str
    path: str  # format string over the world: "/calls/{call.pk}/panel/"
    expect: dict[str, int | Outcome]
    variant: str = ""  # tells rows of one route and method apart ("no token")
    body: dict | None = None
    form: bool = False  # send `body` form-encoded instead of JSON
    headers: dict[str, str] = field(default_factory=dict)  # format strings over the world
    secret: str = ""  # format string over the world: text a refused principal must never get
    signs_out: bool = False  # the request ends the session: sign in again afterwards

    @property
    def label(self) -> str:
        return f"{self.method} /{self.route}" + (f" [{self.variant}]" if self.variant else "")


# --- Who gets what: the usual shapes --------------------------------------------------------------


def everyone(ok: int | Outcome) -> dict[str, int | Outcome]:
    return dict.fromkeys(PRINCIPALS, ok)


def signed_in(ok: int | Outcome, *, anonymous: int | Outcome = LOGIN) -> dict[str, int | Outcome]:
    """Any signed-in user; anonymous users go to sign-in (pages) or get a 401 (API)."""
    return {ANON: anonymous, AGENT: ok, OTHER: ok, SUP: ok, SU: ok}


def supervisors(ok: int | Outcome, *, anonymous: int | Outcome = LOGIN) -> dict[str, int | Outcome]:
    """Supervisors and superusers; agents are refused with 403."""
    return {ANON: anonymous, AGENT: 403, OTHER: 403, SUP: ok, SU: ok}


def owner(
    ok: int | Outcome, *, other: int | Outcome = 404, anonymous: int | Outcome = LOGIN
) -> dict[str, int | Outcome]:
    """An object of Asha's: Asha and supervisors act on it, her colleague gets a 404 (never the data)."""
    return {ANON: anonymous, AGENT: ok, OTHER: other, SUP: ok, SU: ok}


def staff(ok: int | Outcome) -> dict[str, int | Outcome]:
    """Admin views: only staff (here: the superuser) get in; everyone else goes to the admin sign-in."""
    return {ANON: ADMIN_LOGIN, AGENT: ADMIN_LOGIN, OTHER: ADMIN_LOGIN, SUP: ADMIN_LOGIN, SU: ok}


API_ANON = Outcome(401, code="not_authenticated")
API_DENIED = Outcome(403, code="permission_denied")
API_NOT_FOUND = Outcome(404, code="not_found")
SHOWN, HIDDEN = Outcome(200, shows=True), Outcome(200, shows=False)
HTMX = {"HX-Request": "true"}


def api_signed_in(ok: int | Outcome) -> dict[str, int | Outcome]:
    return signed_in(ok, anonymous=API_ANON)


def api_supervisors(ok: int | Outcome) -> dict[str, int | Outcome]:
    return {ANON: API_ANON, AGENT: API_DENIED, OTHER: API_DENIED, SUP: ok, SU: ok}


def api_owner(ok: int | Outcome) -> dict[str, int | Outcome]:
    return owner(ok, other=API_NOT_FOUND, anonymous=API_ANON)


# --- The matrix: pages ----------------------------------------------------------------------------

PAGE_ROWS = [
    Row("", "GET", "/", signed_in(200)),
    Row("healthz", "GET", "/healthz", everyone(200)),
    Row("healthz", "POST", "/healthz", everyone(405)),
    Row("favicon.ico", "GET", "/favicon.ico", everyone(Outcome(302, location="/static/favicon.svg"))),
    Row("favicon.ico", "POST", "/favicon.ico", everyone(405)),
    # Signed in already: on to the landing page (or `next`), not a second sign-in over the session.
    Row("accounts/login/", "GET", "/accounts/login/", signed_in(Outcome(302, location="/"), anonymous=200)),
    Row(
        "accounts/login/",
        "POST",
        "/accounts/login/",
        signed_in(Outcome(302, location="/"), anonymous=200),
        variant="no credentials",
        form=True,
        body={},
    ),
    # A GET signs nobody out: it shows the "Sign out" button (a POST); the POST signs out.
    Row("accounts/logout/", "GET", "/accounts/logout/", everyone(200)),
    Row(
        "accounts/logout/",
        "POST",
        "/accounts/logout/",
        everyone(Outcome(302, location="/accounts/login/")),
        form=True,
        body={},
        signs_out=True,
    ),
    # Agents (supervisors only)
    Row("agents/", "GET", "/agents/", supervisors(200)),
    Row("agents/new/", "GET", "/agents/new/", supervisors(200)),
    Row(
        "agents/new/",
        "POST",
        "/agents/new/",
        supervisors(400),
        variant="invalid form",
        form=True,
        body={"name": "", "follow_me_number": "12"},
    ),
    Row("agents/sync/", "POST", "/agents/sync/", supervisors(Outcome(302, location="/agents/")), form=True, body={}),
    Row("agents/sync/", "GET", "/agents/sync/", supervisors(405)),
    # The agent workspace and its HTMX partials: every signed-in user, each sees only their own calls
    Row("calls/", "GET", "/calls/", signed_in(200)),
    Row(
        "calls/place/",
        "POST",
        "/calls/place/",
        signed_in(200, anonymous=HX_LOGIN),
        variant="no number",
        form=True,
        headers=HTMX,
    ),
    Row("calls/place/", "GET", "/calls/place/", signed_in(405)),
    Row(
        "calls/history/",
        "GET",
        "/calls/history/?number={call.destination}",
        {ANON: LOGIN, AGENT: SHOWN, OTHER: HIDDEN, SUP: SHOWN, SU: SHOWN},
        variant="Asha's customer",
        secret="{call.note}",
    ),
    Row(
        "calls/alerts/",
        "GET",
        "/calls/alerts/",
        {ANON: LOGIN, AGENT: SHOWN, OTHER: HIDDEN, SUP: HIDDEN, SU: HIDDEN},
        secret="{alert.caller_number}",
    ),
    # An alert is the pop-up on its agent's own pages: nobody else dismisses it.
    Row(
        "calls/alerts/<id:pk>/dismiss/",
        "POST",
        "/calls/alerts/{alert.pk}/dismiss/",
        {ANON: HX_LOGIN, AGENT: 200, OTHER: 404, SUP: 404, SU: 404},
        form=True,
        headers=HTMX,
    ),
    Row("calls/alerts/<id:pk>/dismiss/", "GET", "/calls/alerts/{alert.pk}/dismiss/", signed_in(405)),
    Row("calls/<id:pk>/panel/", "GET", "/calls/{call.pk}/panel/", owner(SHOWN), secret="{call.note}"),
    Row(
        "calls/<id:pk>/panel/",
        "GET",
        "/calls/{transferred.pk}/panel/",
        owner(SHOWN),
        variant="transferred to Asha",
        secret="{transferred.note}",
    ),
    Row("calls/<id:pk>/panel/", "GET", "/calls/{missing_pk}/panel/", signed_in(404), variant="no such call"),
    # The call has ended: the owner's hang-up and transfer are refused by the call's state
    # (shown in the panel), so nothing reaches Smartflo; a colleague's are refused by a 404.
    Row(
        "calls/<id:pk>/hangup/",
        "POST",
        "/calls/{call.pk}/hangup/",
        owner(SHOWN, anonymous=HX_LOGIN),
        form=True,
        headers=HTMX,
        secret="{call.note}",
    ),
    Row("calls/<id:pk>/hangup/", "GET", "/calls/{call.pk}/hangup/", signed_in(405)),
    Row(
        "calls/<id:pk>/transfer/",
        "POST",
        "/calls/{call.pk}/transfer/",
        owner(SHOWN, anonymous=HX_LOGIN),
        form=True,
        body={"agent": "{meera.pk}"},
        headers=HTMX,
        secret="{call.note}",
    ),
    Row("calls/<id:pk>/transfer/", "GET", "/calls/{call.pk}/transfer/", signed_in(405)),
    Row(
        "calls/<id:pk>/wrap-up/",
        "POST",
        "/calls/{call.pk}/wrap-up/",
        owner(200, anonymous=HX_LOGIN),
        form=True,
        body={"note": "Rewritten"},
        headers=HTMX,
        secret="{call.note}",
    ),
    Row("calls/<id:pk>/wrap-up/", "GET", "/calls/{call.pk}/wrap-up/", signed_in(405)),
    # An inbound call Asha answered: its panel and note are hers alone (it rang at her phone).
    Row(
        "calls/history/",
        "GET",
        "/calls/history/?number={call.destination}",
        {ANON: LOGIN, AGENT: SHOWN, OTHER: HIDDEN, SUP: SHOWN, SU: SHOWN},
        variant="Asha's inbound call's note",
        secret="{inbound.note}",
    ),
    Row(
        "calls/inbound/<id:pk>/panel/",
        "GET",
        "/calls/inbound/{inbound.pk}/panel/",
        {ANON: LOGIN, AGENT: SHOWN, OTHER: 404, SUP: 404, SU: 404},
        secret="{inbound.note}",
    ),
    Row(
        "calls/inbound/<id:pk>/panel/",
        "GET",
        "/calls/inbound/{alert.pk}/panel/",
        {ANON: LOGIN, AGENT: 404, OTHER: 404, SUP: 404, SU: 404},
        variant="rang, not answered",
    ),
    Row(
        "calls/inbound/<id:pk>/wrap-up/",
        "POST",
        "/calls/inbound/{inbound.pk}/wrap-up/",
        {ANON: HX_LOGIN, AGENT: 200, OTHER: 404, SUP: 404, SU: 404},
        form=True,
        body={"note": "Rewritten"},
        headers=HTMX,
        secret="{inbound.note}",
    ),
    Row("calls/inbound/<id:pk>/wrap-up/", "GET", "/calls/inbound/{inbound.pk}/wrap-up/", signed_in(405)),
    # The call has ended: Asha's hang-up and transfer are refused by its state (said in the
    # answer), so nothing reaches Smartflo; anyone else's by a 404.
    Row(
        "calls/inbound/<id:pk>/hangup/",
        "POST",
        "/calls/inbound/{inbound.pk}/hangup/",
        {ANON: HX_LOGIN, AGENT: 200, OTHER: 404, SUP: 404, SU: 404},
        form=True,
        headers=HTMX,
    ),
    Row("calls/inbound/<id:pk>/hangup/", "GET", "/calls/inbound/{inbound.pk}/hangup/", signed_in(405)),
    Row(
        "calls/inbound/<id:pk>/transfer/",
        "POST",
        "/calls/inbound/{inbound.pk}/transfer/",
        {ANON: HX_LOGIN, AGENT: 200, OTHER: 404, SUP: 404, SU: 404},
        form=True,
        body={"agent": "{meera.pk}"},
        headers=HTMX,
    ),
    Row("calls/inbound/<id:pk>/transfer/", "GET", "/calls/inbound/{inbound.pk}/transfer/", signed_in(405)),
    # The live board (supervisors only). Monitoring needs the supervisor's own Smartflo agent:
    # these supervisors have none, so the board says so and nothing reaches Smartflo.
    Row("calls/live/", "GET", "/calls/live/", supervisors(200)),
    Row("calls/live/board/", "GET", "/calls/live/board/", supervisors(200)),
    Row(
        "calls/live/<str:call_id>/<str:action>/",
        "POST",
        "/calls/live/{call.call_id}/monitor/",
        supervisors(200, anonymous=HX_LOGIN),
        form=True,
        headers=HTMX,
    ),
    Row(
        "calls/live/<str:call_id>/<str:action>/",
        "POST",
        "/calls/live/{call.call_id}/explode/",
        supervisors(404),
        variant="unknown action",
        form=True,
    ),
    Row("calls/live/<str:call_id>/<str:action>/", "GET", "/calls/live/{call.call_id}/hangup/", supervisors(405)),
    # Call records: supervisors see all, an agent their own
    Row(
        "calls/records/",
        "GET",
        "/calls/records/",
        {ANON: LOGIN, AGENT: SHOWN, OTHER: HIDDEN, SUP: SHOWN, SU: SHOWN},
        secret="{record.call_id}",
    ),
    Row(
        "calls/records/charts/",
        "GET",
        "/calls/records/charts/",
        {ANON: LOGIN, AGENT: SHOWN, OTHER: HIDDEN, SUP: SHOWN, SU: SHOWN},
        secret="{asha.name}",
    ),
    Row("calls/records/sync/", "GET", "/calls/records/sync/", signed_in(200, anonymous=HX_LOGIN), headers=HTMX),
    Row(
        "calls/records/sync/",
        "GET",
        "/calls/records/sync/",
        signed_in(Outcome(302, location="/calls/records/")),
        variant="typed in",
    ),
    Row(
        "calls/records/sync/",
        "POST",
        "/calls/records/sync/",
        supervisors(200, anonymous=HX_LOGIN),
        form=True,
        body={},
        headers=HTMX,
    ),
    Row("calls/records/sync/", "PUT", "/calls/records/sync/", signed_in(405), variant="other methods"),
    Row(
        "calls/records/export.csv",
        "GET",
        "/calls/records/export.csv",
        {ANON: LOGIN, AGENT: SHOWN, OTHER: HIDDEN, SUP: SHOWN, SU: SHOWN},
        secret="{record.call_id}",
    ),
    Row("calls/records/<str:call_id>/recording", "GET", "/calls/records/{record.call_id}/recording", owner(200)),
    Row(
        "calls/records/<str:call_id>/recording",
        "GET",
        "/calls/records/{vikram_record.call_id}/recording",
        {ANON: LOGIN, AGENT: 404, OTHER: 200, SUP: 200, SU: 200},
        variant="Vikram's record",
    ),
    # Masking is managed in the admin: staff only
    Row("masking/", "GET", "/masking/", staff(Outcome(302, location="/admin/masking/maskingrule/"))),
    # The OTP log (supervisors only): masked numbers, never codes
    Row("otp/", "GET", "/otp/", supervisors(200)),
    Row("otp/<uuid:challenge_id>/", "GET", "/otp/{challenge.pk}/", supervisors(200)),
    Row("otp/<uuid:challenge_id>/", "GET", "/otp/{missing_uuid}/", supervisors(404), variant="no such challenge"),
]

# --- The matrix: the API --------------------------------------------------------------------------

API_ROWS = [
    Row("api/v1/me/", "GET", "/api/v1/me/", api_signed_in(200)),
    Row("api/v1/me/", "POST", "/api/v1/me/", api_signed_in(Outcome(405, code="method_not_allowed"))),
    Row("api/v1/agents/", "GET", "/api/v1/agents/", api_supervisors(200)),
    Row("api/v1/agents/", "POST", "/api/v1/agents/", api_supervisors(Outcome(400, code="invalid")), body={}),
    Row("api/v1/agents/sync/", "POST", "/api/v1/agents/sync/", api_supervisors(200)),
    Row("api/v1/agents/sync/", "GET", "/api/v1/agents/sync/", api_supervisors(405)),
    # Click to call. An invalid number is refused after the permission check and before
    # anything is sent, so the matrix never dials.
    Row(
        "api/v1/calls/click-to-call/",
        "POST",
        "/api/v1/calls/click-to-call/",
        api_signed_in(Outcome(400, code="invalid")),
        variant="empty body",
        body={},
    ),
    Row(
        "api/v1/calls/click-to-call/",
        "POST",
        "/api/v1/calls/click-to-call/",
        owner(Outcome(400, code="invalid"), other=API_DENIED, anonymous=API_ANON),
        variant="from Asha's phone",
        body={"destination_number": "12345", "agent": "{asha.pk}"},
    ),
    Row("api/v1/calls/click-to-call/", "GET", "/api/v1/calls/click-to-call/", api_signed_in(405)),
    # One call, by our id, our custom identifier or Smartflo's call id
    Row(
        "api/v1/calls/<str:call_id>/",
        "GET",
        "/api/v1/calls/{call.call_id}/",
        api_owner(SHOWN),
        variant="by Smartflo call id",
        secret="{call.custom_identifier}",
    ),
    Row(
        "api/v1/calls/<str:call_id>/",
        "GET",
        "/api/v1/calls/{call.pk}/",
        api_owner(SHOWN),
        variant="by our id",
        secret="{call.custom_identifier}",
    ),
    Row(
        "api/v1/calls/<str:call_id>/",
        "GET",
        "/api/v1/calls/{call.custom_identifier}/",
        api_owner(SHOWN),
        variant="by custom identifier",
        secret="{call.destination}",
    ),
    Row(
        "api/v1/calls/<str:call_id>/",
        "GET",
        "/api/v1/calls/{transferred.call_id}/",
        api_owner(SHOWN),
        variant="transferred to Asha",
        secret="{transferred.custom_identifier}",
    ),
    Row("api/v1/calls/<str:call_id>/", "POST", "/api/v1/calls/{call.call_id}/", api_signed_in(405)),
    # Hang-up and transfer of an ended call: 409 for who may act on it (nothing reaches
    # Smartflo), 404 for a colleague.
    Row(
        "api/v1/calls/<str:call_id>/hangup/",
        "POST",
        "/api/v1/calls/{call.call_id}/hangup/",
        api_owner(Outcome(409, code="call_ended")),
    ),
    # A call we did not place (inbound, on the live board): only supervisors may hang it up. Agents
    # get our own 404 (nothing is sent); the supervisor's request reaches Smartflo, which has no
    # such live call (its own 404, `call_not_found`).
    Row(
        "api/v1/calls/<str:call_id>/hangup/",
        "POST",
        "/api/v1/calls/1716000000.555555/hangup/",
        {
            ANON: API_ANON,
            AGENT: API_NOT_FOUND,
            OTHER: API_NOT_FOUND,
            SUP: Outcome(404, code="call_not_found"),
            SU: Outcome(404, code="call_not_found"),
        },
        variant="a call we did not place",
    ),
    Row("api/v1/calls/<str:call_id>/hangup/", "GET", "/api/v1/calls/{call.call_id}/hangup/", api_signed_in(405)),
    Row(
        "api/v1/calls/<str:call_id>/transfer/",
        "POST",
        "/api/v1/calls/{call.call_id}/transfer/",
        api_owner(Outcome(409, code="call_not_live")),
        body={"agent": "{meera.pk}"},
    ),
    Row(
        "api/v1/calls/<str:call_id>/transfer/",
        "GET",
        "/api/v1/calls/{call.call_id}/transfer/",
        api_signed_in(405),
    ),
    # Call records
    Row(
        "api/v1/call-records/",
        "GET",
        "/api/v1/call-records/",
        {ANON: API_ANON, AGENT: SHOWN, OTHER: HIDDEN, SUP: SHOWN, SU: SHOWN},
        secret="{record.call_id}",
    ),
    Row("api/v1/call-records/", "POST", "/api/v1/call-records/", api_signed_in(405)),
    Row(
        "api/v1/call-records/<str:call_id>/",
        "GET",
        "/api/v1/call-records/{record.call_id}/",
        api_owner(SHOWN),
        secret="{record.client_number}",
    ),
    # Masking rules and sessions: staff and supervisors (superusers count)
    Row("api/v1/masking/rules/", "GET", "/api/v1/masking/rules/", api_supervisors(200)),
    Row("api/v1/masking/rules/", "POST", "/api/v1/masking/rules/", api_supervisors(400), body={}),
    Row(
        "api/v1/masking/rules/<id:pk>/",
        "GET",
        "/api/v1/masking/rules/{rule.pk}/",
        api_supervisors(SHOWN),
        secret="{rule.party_b}",
    ),
    Row("api/v1/masking/rules/<id:pk>/", "PATCH", "/api/v1/masking/rules/{rule.pk}/", api_supervisors(200), body={}),
    Row("api/v1/masking/rules/<id:pk>/", "DELETE", "/api/v1/masking/rules/{rule.pk}/", api_supervisors(405)),
    Row("api/v1/masking/sessions/", "GET", "/api/v1/masking/sessions/", api_supervisors(200)),
    Row("api/v1/masking/sessions/", "POST", "/api/v1/masking/sessions/", api_supervisors(400), body={}),
    Row(
        "api/v1/masking/sessions/<id:pk>/",
        "GET",
        "/api/v1/masking/sessions/{session.pk}/",
        api_supervisors(SHOWN),
        secret="{session.party_b}",
    ),
    Row(
        "api/v1/masking/sessions/<id:pk>/close/",
        "POST",
        "/api/v1/masking/sessions/{session.pk}/close/",
        api_supervisors(200),
    ),
    Row(
        "api/v1/masking/sessions/<id:pk>/close/",
        "GET",
        "/api/v1/masking/sessions/{session.pk}/close/",
        api_supervisors(405),
    ),
    # OTP: any API client; a code is checked against the challenges *that client* asked for,
    # so nobody else verifies Asha's code, supervisors included.
    Row("api/v1/otp/send/", "POST", "/api/v1/otp/send/", api_signed_in(Outcome(400, code="invalid")), body={}),
    Row("api/v1/otp/send/", "GET", "/api/v1/otp/send/", api_signed_in(405)),
    Row(
        "api/v1/otp/verify/",
        "POST",
        "/api/v1/otp/verify/",
        {
            ANON: API_ANON,
            AGENT: 200,
            OTHER: Outcome(400, code="otp_not_found"),
            SUP: Outcome(400, code="otp_not_found"),
            SU: Outcome(400, code="otp_not_found"),
        },
        variant="Asha's code",
        body={"phone": "{challenge.phone}", "code": OTP_CODE},
    ),
    Row("api/v1/otp/verify/", "GET", "/api/v1/otp/verify/", api_signed_in(405)),
    # The API's index (URLs only), the OpenAPI schema and docs: public
    Row("api/v1/", "GET", "/api/v1/", everyone(200)),
    Row("api/v1/", "POST", "/api/v1/", everyone(405)),
    Row("api/schema/", "GET", "/api/schema/", everyone(200)),
    Row("api/docs/", "GET", "/api/docs/", everyone(200)),
]

# --- The matrix: machine endpoints (a shared secret, whatever the session) ------------------------

WEBHOOK = "api/v1/webhooks/smartflo/"
RESOLVE = "api/v1/masking/resolve/"
RESOLVE_NO_SLASH = "api/v1/masking/resolve"
WEBHOOK_401 = everyone(Outcome(401, code="not_authenticated"))
EVENT = {"call_id": "1716000000.999999", "call_status": "ringing", "direction": "outbound"}


def _dialplan_body() -> dict[str, str]:
    return {
        "uuid": "7611",
        "call_id": "1716000000.777777",
        "call_to_number": "+91-8069000111",
        "caller_id_number": "{rule.party_a}",
        "start_stamp": "2024-05-09 11:52:14",
    }


MACHINE_ROWS = [
    Row(WEBHOOK, "POST", "/api/v1/webhooks/smartflo/", WEBHOOK_401, variant="no token", body=EVENT),
    Row(WEBHOOK, "POST", "/api/v1/webhooks/smartflo/?token=wrong", WEBHOOK_401, variant="wrong ?token", body=EVENT),
    Row(
        WEBHOOK,
        "POST",
        "/api/v1/webhooks/smartflo/",
        WEBHOOK_401,
        variant="wrong X-Webhook-Token",
        body=EVENT,
        headers={"X-Webhook-Token": "wrong"},
    ),
    Row(WEBHOOK, "GET", "/api/v1/webhooks/smartflo/?call_id=1716000000.999999", WEBHOOK_401, variant="no token"),
    Row(
        WEBHOOK,
        "POST",
        "/api/v1/webhooks/smartflo/",
        everyone(200),
        variant="right X-Webhook-Token",
        body=EVENT,
        headers={"X-Webhook-Token": WEBHOOK_TOKEN},
    ),
    Row(
        WEBHOOK,
        "GET",
        f"/api/v1/webhooks/smartflo/?token={WEBHOOK_TOKEN}&call_id=1716000000.999999&call_status=ringing",
        everyone(200),
        variant="right ?token",
    ),
    Row(
        WEBHOOK,
        "POST",
        f"/api/v1/webhooks/smartflo/?token={WEBHOOK_TOKEN}",
        everyone(Outcome(400)),
        variant="right token, names no call",
        body={},
    ),
    Row(WEBHOOK, "PUT", f"/api/v1/webhooks/smartflo/?token={WEBHOOK_TOKEN}", everyone(405), body={}),
]
for _route, _path in ((RESOLVE, "/api/v1/masking/resolve/"), (RESOLVE_NO_SLASH, "/api/v1/masking/resolve")):
    MACHINE_ROWS += [
        Row(_route, "POST", _path, everyone(401), variant="no token", body=_dialplan_body()),
        Row(
            _route,
            "POST",
            _path,
            everyone(401),
            variant="wrong Bearer",
            body=_dialplan_body(),
            headers={"Authorization": "Bearer wrong"},
        ),
        Row(
            _route,
            "POST",
            _path,
            everyone(401),
            variant="wrong X-API-Key",
            body=_dialplan_body(),
            headers={"X-API-Key": "wrong"},
        ),
        Row(_route, "GET", _path + "?token=wrong", everyone(401), variant="wrong ?token"),
        Row(
            _route,
            "POST",
            _path,
            everyone(Outcome(200, shows=True)),
            variant="right Bearer",
            body=_dialplan_body(),
            headers={"Authorization": f"Bearer {MASKING_TOKEN}"},
            secret="{rule.party_b_national}",
        ),
        Row(
            _route,
            "GET",
            _path + f"?token={MASKING_TOKEN}&call_to_number=%2B918069000111&caller_id_number=%2B919812399999",
            everyone(404),
            variant="right ?token, unmatched caller",
        ),
        Row(_route, "PUT", _path, everyone(405), body={}),
    ]

# --- The matrix: the admin (staff only) -----------------------------------------------------------

#: Every model registered in the admin, with the superuser's outcomes that differ from 200.
#: The fixture world holds one object of each (`world.admin_objects`).
ADMIN_MODELS: dict[str, dict[str, int]] = {
    "auth/group": {},
    "auth/user": {},
    "authtoken/tokenproxy": {},
    "django_celery_beat/periodictask": {},
    "django_celery_beat/clockedschedule": {},
    "django_celery_beat/crontabschedule": {},
    "django_celery_beat/solarschedule": {},
    "django_celery_beat/intervalschedule": {},
    "axes/accessattempt": {"add": 403},  # written by the sign-in lockout
    "axes/accesslog": {"add": 403},
    "axes/accessfailurelog": {"add": 403},
    "agents/agent": {},
    "calls/outboundcall": {"add": 403},  # calls are placed through Smartflo, from the app
    "calls/callevent": {"add": 403},  # Smartflo's webhooks write these
    "calls/disposition": {},
    "calls/ringingalert": {"add": 403},
    "calls/callrecord": {"add": 403},  # records come from Smartflo
    "calls/callrecordsyncrun": {"add": 403},
    "masking/maskingnumber": {},
    "masking/maskingrule": {},
    "masking/maskingsession": {"add": 403},  # sessions are lent by the API
    "masking/resolutionlog": {"add": 403, "delete": 403},  # an audit trail
    "otp/otpchallenge": {"add": 403},
}
ADMIN_APPS = "auth|authtoken|django_celery_beat|axes|agents|calls|masking|otp"


def _admin_rows() -> list[Row]:
    rows = [
        Row("admin/", "GET", "/admin/", staff(200)),
        # The sign-in page itself is open; a signed-in superuser is sent on to the index.
        Row("admin/login/", "GET", "/admin/login/", {**everyone(200), SU: Outcome(302, location="/admin/")}),
        # Whoever is not staff is sent to the admin's index (and from there to its sign-in).
        Row("admin/logout/", "GET", "/admin/logout/", {**everyone(Outcome(302, location="/admin/")), SU: 405}),
        Row(
            "admin/logout/",
            "POST",
            "/admin/logout/",
            {**everyone(Outcome(302, location="/admin/")), SU: Outcome(302, location="/accounts/login/")},
            form=True,
            body={},
            signs_out=True,
        ),
        Row("admin/password_change/", "GET", "/admin/password_change/", staff(200)),
        Row("admin/password_change/done/", "GET", "/admin/password_change/done/", staff(200)),
        # No model offers autocomplete: without its parameters the view refuses.
        Row("admin/autocomplete/", "GET", "/admin/autocomplete/", staff(403)),
        Row("admin/jsi18n/", "GET", "/admin/jsi18n/", staff(200)),
        # No model has a "view on site" URL.
        Row(
            "admin/r/<path:content_type_id>/<path:object_id>/",
            "GET",
            "/admin/r/{agent_content_type}/{asha.pk}/",
            staff(404),
        ),
        Row(f"admin/(?P<app_label>{ADMIN_APPS})/$", "GET", "/admin/calls/", staff(200)),
        Row("admin/(?P<url>.*)$", "GET", "/admin/no-such-page/", staff(404)),
        Row("admin/auth/user/<id>/password/", "GET", "/admin/auth/user/{asha.user.pk}/password/", staff(200)),
        Row("admin/masking/maskingrule/import/", "GET", "/admin/masking/maskingrule/import/", staff(200)),
        Row(
            "admin/masking/maskingrule/import/",
            "POST",
            "/admin/masking/maskingrule/import/",
            staff(200),
            variant="no file",
            form=True,
            body={},
        ),
        Row("admin/masking/maskingrule/test-call/", "GET", "/admin/masking/maskingrule/test-call/", staff(200)),
        Row("admin/masking/maskingrule/simulate-call/", "GET", "/admin/masking/maskingrule/simulate-call/", staff(200)),
        # A session's rule is the session's business: shown read-only, never deleted here.
        Row(
            "admin/masking/maskingrule/<path:object_id>/delete/",
            "GET",
            "/admin/masking/maskingrule/{session.rule_id}/delete/",
            staff(403),
            variant="a session's rule",
        ),
        Row(
            "admin/masking/maskingrule/<path:object_id>/change/",
            "GET",
            "/admin/masking/maskingrule/{session.rule_id}/change/",
            staff(200),
            variant="a session's rule",
        ),
    ]
    for model, overrides in ADMIN_MODELS.items():
        base = f"/admin/{model}/"
        obj = base + "{admin_objects[" + model + "]}/"
        rows += [
            Row(f"admin/{model}/", "GET", base, staff(overrides.get("changelist", 200))),
            Row(f"admin/{model}/add/", "GET", base + "add/", staff(overrides.get("add", 200))),
            Row(f"admin/{model}/<path:object_id>/history/", "GET", obj + "history/", staff(200)),
            Row(f"admin/{model}/<path:object_id>/delete/", "GET", obj + "delete/", staff(overrides.get("delete", 200))),
            Row(f"admin/{model}/<path:object_id>/change/", "GET", obj + "change/", staff(200)),
            Row(
                f"admin/{model}/<path:object_id>/",
                "GET",
                obj,
                staff(Outcome(302, location=base)),
            ),
        ]
    # Writes go through the same gate; last, since the superuser's delete really deletes.
    rows.append(
        Row(
            "admin/calls/callrecordsyncrun/<path:object_id>/delete/",
            "POST",
            "/admin/calls/callrecordsyncrun/{admin_objects[calls/callrecordsyncrun]}/delete/",
            staff(Outcome(302, location="/admin/calls/callrecordsyncrun/")),
            variant="confirmed",
            form=True,
            body={"post": "yes"},
        )
    )
    return rows


ADMIN_ROWS = _admin_rows()
ROWS = PAGE_ROWS + API_ROWS + MACHINE_ROWS + ADMIN_ROWS


# --- The URL patterns -----------------------------------------------------------------------------


def _join(prefix: str, route: str) -> str:
    """Join routes the way the resolver does for ResolverMatch.route (a regex's ^ dropped)."""
    return prefix + (route[1:] if prefix and route.startswith("^") else route)


def url_patterns(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[str]:
    """Every endpoint pattern of the project, includes walked recursively."""
    for entry in (resolver or get_resolver()).url_patterns:
        route = _join(prefix, str(entry.pattern))
        if isinstance(entry, URLResolver):
            yield from url_patterns(entry, route)
        else:
            assert isinstance(entry, URLPattern)
            yield route


def test_every_url_pattern_has_a_row():
    """A new endpoint must be added to the matrix, with who may use it; a removed one must leave it."""
    patterns = Counter(url_patterns())
    shadowed = sorted(route for route, count in patterns.items() if count > 1)
    assert not shadowed, f"URL patterns declared twice (the second is unreachable): {shadowed}"
    covered = {row.route for row in ROWS}
    missing = sorted(set(patterns) - covered)
    stale = sorted(covered - set(patterns))
    assert not missing, (
        f"{len(missing)} URL pattern(s) have no row in the authorization matrix "
        "(tests/proof/test_authorization_matrix.py); add one saying who may use each:\n  " + "\n  ".join(missing)
    )
    assert not stale, "Matrix rows for URL patterns that no longer exist:\n  " + "\n  ".join(stale)


def test_every_row_has_an_outcome_for_every_principal_and_is_unique():
    incomplete = [row.label for row in ROWS if set(row.expect) != set(PRINCIPALS)]
    assert not incomplete, f"rows without an outcome for each of {PRINCIPALS}: {incomplete}"
    duplicates = [label for label, n in Counter(row.label for row in ROWS).items() if n > 1]
    assert not duplicates, f"rows that differ only in their path (give each a variant): {duplicates}"


# --- The fixture world ----------------------------------------------------------------------------


@pytest.fixture
def world(settings, smartflo, sandbox_agents, asha, vikram, supervisor, make_user):
    """One object of each kind, owned by Asha (and one record of Vikram's), plus an object per
    admin model. Built once per test."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )
    from rest_framework.authtoken.models import Token

    from agents.models import Agent
    from calls.models import (
        CallEvent,
        CallRecord,
        CallRecordSyncRun,
        CallStatus,
        Disposition,
        OutboundCall,
        RingingAlert,
    )
    from contactcenter.phones import to_national
    from masking.models import ResolutionLog
    from masking.services import masking_number_create, masking_rule_create, masking_session_create
    from otp.codes import hash_code
    from otp.models import OtpChallenge, OtpState

    settings.RECORDING_ALLOWED_HOSTS = [urlsplit(smartflo.url).netloc]
    # A private cache: chart and live-call entries of other tests (keyed by ids that SQLite
    # hands out again after each rollback) must not answer for this one.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"matrix-{id(settings)}"}
    }
    root = make_user("root", role="superuser")
    meera = sandbox_agents["meera"]
    now = timezone.now()
    ended = {"status": CallStatus.COMPLETED, "answered_at": now - timedelta(minutes=9), "ended_at": now}
    call = OutboundCall.objects.create(
        requested_by=asha.user,
        agent=asha,
        destination="+919812345001",
        call_id="1716000000.100001",
        note="Private note 4711 by Asha",
        **ended,
    )
    transferred = OutboundCall.objects.create(
        requested_by=supervisor,
        agent=meera,
        transferred_to=asha,
        destination="+919812345002",
        call_id="1716000000.100002",
        note="Private note 4712 after the transfer",
        **ended,
    )
    alert = RingingAlert.objects.create(
        agent=asha, call_id="1716000000.100003", caller_number="+919812345003", direction="inbound"
    )
    inbound = RingingAlert.objects.create(  # an inbound call Asha answered, from her outbound call's customer
        agent=asha,
        call_id="1716000000.100004",
        caller_number=call.destination,
        direction="inbound",
        cleared_at=now - timedelta(minutes=30),
        cleared_reason="answered",
        answered_at=now - timedelta(minutes=30),
        ended_at=now - timedelta(minutes=25),
        note="Private inbound note 5123",
    )

    def record(agent: Agent, client_number: str) -> CallRecord:
        (call_id,) = smartflo.insert_records([{"agent_id": int(agent.smartflo_id)}])
        return CallRecord.objects.create(
            call_id=call_id,
            direction="outbound",
            status="answered",
            started_at=now - timedelta(hours=1),
            ended_at=now - timedelta(minutes=58),
            call_duration=90,
            answered_seconds=75,
            agent=agent,
            agent_name=agent.name,
            client_number=client_number,
            recording_url=f"{smartflo.url}/recordings/{call_id}.mp3",
            raw={},
            first_synced_at=now,
            synced_at=now,
        )

    asha_record = record(asha, "+919812345004")
    vikram_record = record(vikram, "+919812345006")

    challenge = OtpChallenge(
        phone="+919812345005",
        requested_by=asha.user,
        state=OtpState.DELIVERED,
        created_at=now,
        expires_at=now + timedelta(minutes=5),
    )
    challenge.code_hash = hash_code(challenge.pk, OTP_CODE)
    challenge.save()

    masking_number_create(number="+918069000111", label="Deliveries")
    rule = masking_rule_create(masking_number="+918069000111", party_a="+919845012345", party_b="+919876500009")
    rule.party_b_national = to_national(rule.party_b)
    masking_number_create(number="+918069000301", pooled=True)
    session, _ = masking_session_create(party_a="+919845012399", party_b="+919876500098", ttl_seconds=3600)

    schedule = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.SECONDS)
    attempt = AccessAttempt.objects.create(
        username="intruder",
        ip_address="10.0.0.9",
        user_agent="x",
        http_accept="*/*",
        path_info="/",
        failures_since_start=1,
    )
    admin_objects = {
        "auth/group": Group.objects.get(name="Agents").pk,
        "auth/user": asha.user.pk,
        "authtoken/tokenproxy": Token.objects.create(user=vikram.user).user_id,
        "django_celery_beat/periodictask": PeriodicTask.objects.create(
            name="matrix", task="calls.sync_call_records", interval=schedule
        ).pk,
        "django_celery_beat/clockedschedule": ClockedSchedule.objects.create(clocked_time=now).pk,
        "django_celery_beat/crontabschedule": CrontabSchedule.objects.create(minute="5").pk,
        "django_celery_beat/solarschedule": SolarSchedule.objects.create(
            event="sunrise", latitude=19.07, longitude=72.87
        ).pk,
        "django_celery_beat/intervalschedule": schedule.pk,
        "axes/accessattempt": attempt.pk,
        "axes/accesslog": AccessLog.objects.create(
            username="asha", ip_address="10.0.0.9", user_agent="x", http_accept="*/*", path_info="/"
        ).pk,
        "axes/accessfailurelog": AccessFailureLog.objects.create(
            username="intruder", ip_address="10.0.0.9", user_agent="x", http_accept="*/*", path_info="/"
        ).pk,
        "agents/agent": asha.pk,
        "calls/outboundcall": call.pk,
        "calls/callevent": CallEvent.objects.create(
            call_id=call.call_id, fingerprint="f" * 64, payload={"call_id": call.call_id}, outbound_call=call
        ).pk,
        "calls/disposition": Disposition.objects.first().pk,
        "calls/ringingalert": alert.pk,
        "calls/callrecord": asha_record.pk,
        "calls/callrecordsyncrun": CallRecordSyncRun.objects.create().pk,
        "masking/maskingnumber": rule.masking_number_id,
        "masking/maskingrule": rule.pk,
        "masking/maskingsession": session.pk,
        "masking/resolutionlog": ResolutionLog.objects.create(
            created_at=now, method="POST", outcome=ResolutionLog.Outcome.values[0], status_code=200, latency_ms=1.0
        ).pk,
        "otp/otpchallenge": challenge.pk,
    }
    return SimpleNamespace(
        sandbox=smartflo,
        users={AGENT: asha.user, OTHER: vikram.user, SUP: supervisor, SU: root},
        refs={
            "asha": asha,
            "vikram": vikram,
            "meera": meera,
            "call": call,
            "transferred": transferred,
            "alert": alert,
            "inbound": inbound,
            "record": asha_record,
            "vikram_record": vikram_record,
            "challenge": challenge,
            "rule": rule,
            "session": session,
            "admin_objects": admin_objects,
            "agent_content_type": ContentType.objects.get_for_model(Agent).pk,
            "missing_pk": 10**9,
            "missing_uuid": "00000000-0000-4000-8000-000000000000",
        },
    )


# --- Running a row --------------------------------------------------------------------------------


def _fill(value: Any, refs: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**refs)
    if isinstance(value, dict):
        return {k: _fill(v, refs) for k, v in value.items()}
    return value


def _client_for(principal: str, world) -> Client:
    return Client() if principal == ANON else login(world.users[principal])


def _send(client: Client, row: Row, refs: dict[str, Any]):
    path, headers = _fill(row.path, refs), _fill(row.headers, refs)
    if row.method == "GET":
        return client.get(path, headers=headers)
    body = _fill(row.body or {}, refs)
    if row.form:
        return client.post(path, data=body, headers=headers)
    return client.generic(row.method, path, json.dumps(body), content_type="application/json", headers=headers)


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _error_code(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data.get("code") if isinstance(data, dict) else None


def _check(row: Row, principal: str, response, refs: dict[str, Any]) -> str | None:
    """The mismatch, in words, or None."""
    want = outcome(row.expect[principal])
    body = _body(response)
    location = response.get("Location", "") or response.get("HX-Redirect", "")
    got = f"{response.status_code}" + (f" -> {location}" if location else "")
    failure = f"{row.label} as {principal}: expected {want} got {got}"
    if response.status_code != want.status:
        return failure + f" (path {_fill(row.path, refs)}; body {body[:200]!r})"
    if want.location and not location.startswith(want.location):
        return failure
    is_api = row.path.startswith("/api/v1/") and row.route not in (RESOLVE, RESOLVE_NO_SLASH)
    if is_api and response.status_code in DENIALS:
        # API refusals are JSON in the project's error shape, never a page.
        if not response.get("Content-Type", "").startswith("application/json"):
            return failure + f" (not JSON: {response.get('Content-Type')})"
        want_code = want.code or {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}.get(
            response.status_code, ""
        )
    else:
        want_code = want.code
    if want_code and _error_code(body) != want_code:
        return failure + f" (code {_error_code(body)!r}, expected {want_code!r})"
    if row.secret:
        secret = _fill(row.secret, refs).encode()
        refused = response.status_code in DENIALS or 300 <= response.status_code < 400
        if (refused or want.shows is False) and secret in body:
            return f"{row.label} as {principal}: LEAKED {secret.decode()!r} in a {response.status_code} answer"
        if want.shows and secret not in body:
            return f"{row.label} as {principal}: expected the data ({secret.decode()!r}) in the answer, not there"
    return None


def run_matrix(rows: list[Row], principal: str, world) -> list[str]:
    client = _client_for(principal, world)
    failures = []
    for row in rows:
        try:
            response = _send(client, row, world.refs)
        except Exception as exc:  # a 500 raised through the test client
            failures.append(f"{row.label} as {principal}: expected {outcome(row.expect[principal])} got {exc!r}")
            client = _client_for(principal, world)
            continue
        problem = _check(row, principal, response, world.refs)
        if problem:
            failures.append(problem)
        if row.signs_out:
            client = _client_for(principal, world)
    return failures


def _report(failures: list[str], total: int) -> str:
    return f"{len(failures)} of {total} authorization cases failed:\n  " + "\n  ".join(failures)


def _untouched(world) -> list[str]:
    """What a colleague's requests changed of Asha's objects (nothing, when all is well)."""
    from calls.models import OutboundCall, RingingAlert
    from otp.models import OtpChallenge, OtpState

    refs, changed = world.refs, []
    call = OutboundCall.objects.get(pk=refs["call"].pk)
    if (call.note, call.disposition_id, call.status) != (refs["call"].note, None, refs["call"].status):
        changed.append(f"Asha's call changed: note {call.note!r}, status {call.status}")
    if RingingAlert.objects.get(pk=refs["alert"].pk).cleared_at is not None:
        changed.append("Asha's ringing alert was dismissed")
    if RingingAlert.objects.get(pk=refs["inbound"].pk).note != refs["inbound"].note:
        changed.append("Asha's inbound call's note changed")
    if OtpChallenge.objects.get(pk=refs["challenge"].pk).state != OtpState.DELIVERED:
        changed.append("Asha's OTP challenge changed state")
    return [f"as {OTHER}: {text}" for text in changed]


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_pages_api_and_machine_endpoints(principal, world):
    rows = PAGE_ROWS + API_ROWS + MACHINE_ROWS
    failures = run_matrix(rows, principal, world)
    if principal == OTHER:
        failures += _untouched(world)
    if principal in (ANON, AGENT, OTHER):
        # Everything these principals may not do was refused before anything reached Smartflo
        # (and what Asha may do was refused by the ended call's state).
        for action in ("/v1/click_to_call", "/v1/call/hangup", "/v1/call/options"):
            if world.sandbox.requests(path=action):
                failures.append(f"as {principal}: a request reached Smartflo's {action}")
    elif not world.sandbox.requests(path="/v1/call/hangup"):
        # the control: a supervisor's hang-up of a call we did not place does reach Smartflo
        failures.append(f"as {principal}: the hang-up of a call we did not place never reached Smartflo")
    assert not failures, _report(failures, len(rows))


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_admin(principal, world):
    from calls.models import CallRecordSyncRun

    failures = run_matrix(ADMIN_ROWS, principal, world)
    run_id = world.refs["admin_objects"]["calls/callrecordsyncrun"]
    if principal != SU and not CallRecordSyncRun.objects.filter(pk=run_id).exists():
        failures.append(f"as {principal}: the admin deleted a sync run")
    assert not failures, _report(failures, len(ADMIN_ROWS))


def test_rows_exercise_their_own_pattern(world):
    """Each row's concrete path resolves to the pattern the row names (so a row cannot quietly
    test another endpoint)."""
    wrong = []
    for row in ROWS:
        path = urlsplit(_fill(row.path, world.refs)).path
        route = resolve(path).route
        if route != row.route:
            wrong.append(f"{row.label}: {path} resolves to {route!r}")
    assert not wrong, "\n".join(wrong)


# --- API tokens (the enterprise's backend) ----------------------------------------------------------

#: (token holder, method, path, body, expected status). `service` is a sign-in with no role and only
#: the `masking.add_maskingsession` permission (README: service accounts); `bogus` is a key nobody
#: holds, sent by a client that also carries the supervisor's session.
TOKEN_CASES = [
    ("asha", "GET", "/api/v1/calls/{call.call_id}/", None, 200),
    ("vikram", "GET", "/api/v1/calls/{call.call_id}/", None, 404),
    ("vikram", "POST", "/api/v1/calls/{call.call_id}/hangup/", {}, 404),
    ("vikram", "POST", "/api/v1/calls/click-to-call/", {"destination_number": "12345", "agent": "{asha.pk}"}, 403),
    ("asha", "GET", "/api/v1/call-records/{record.call_id}/", None, 200),
    ("vikram", "GET", "/api/v1/call-records/{record.call_id}/", None, 404),
    ("vikram", "GET", "/api/v1/masking/rules/", None, 403),
    ("vikram", "POST", "/api/v1/otp/verify/", {"phone": "{challenge.phone}", "code": OTP_CODE}, 400),
    ("service", "POST", "/api/v1/masking/sessions/", {}, 400),
    ("service", "GET", "/api/v1/masking/sessions/{session.pk}/", None, 200),
    ("service", "GET", "/api/v1/masking/rules/", None, 403),
    ("service", "GET", "/api/v1/agents/", None, 403),
    ("service", "GET", "/api/v1/calls/{call.call_id}/", None, 404),
    ("bogus", "GET", "/api/v1/me/", None, 401),
    ("bogus", "GET", "/api/v1/calls/{call.call_id}/", None, 401),
    ("bogus", "POST", "/api/v1/otp/send/", {}, 401),
]


def test_api_tokens(world, make_user):
    """`Authorization: Token <key>` acts as its user, with that user's rights; a wrong token is a
    401 even beside a valid session (the token is checked first)."""
    from django.contrib.auth.models import Permission
    from rest_framework.authtoken.models import Token

    service = make_user("backend")
    service.user_permissions.add(Permission.objects.get(codename="add_maskingsession"))
    holders = {"asha": world.users[AGENT], "vikram": world.users[OTHER], "service": service}
    keys = {name: Token.objects.get_or_create(user=user)[0].key for name, user in holders.items()}
    keys["bogus"] = "0" * 40
    failures = []
    for holder, method, path, body, expected in TOKEN_CASES:
        client = login(world.users[SUP]) if holder == "bogus" else Client()
        data = json.dumps(_fill(body or {}, world.refs))
        response = client.generic(
            method,
            _fill(path, world.refs),
            data,
            content_type="application/json",
            headers={"Authorization": f"Token {keys[holder]}"},
        )
        if response.status_code != expected or not response["Content-Type"].startswith("application/json"):
            failures.append(
                f"{method} {path} with {holder}'s token: expected {expected} got {response.status_code} "
                f"{response.content[:200]!r}"
            )
    assert not failures, "\n".join(failures)


def test_an_api_token_does_not_open_pages(world):
    from rest_framework.authtoken.models import Token

    key = Token.objects.create(user=world.users[AGENT]).key
    response = Client().get(f"/calls/{world.refs['call'].pk}/panel/", headers={"Authorization": f"Token {key}"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- CSRF: a signed-in browser's session cannot be ridden by another site -------------------------


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/calls/place/", 403),
        ("POST", "/calls/{call.pk}/wrap-up/", 403),
        ("POST", "/calls/{call.pk}/hangup/", 403),
        ("POST", "/calls/alerts/{alert.pk}/dismiss/", 403),
        ("POST", "/calls/inbound/{inbound.pk}/wrap-up/", 403),
        ("POST", "/calls/inbound/{inbound.pk}/hangup/", 403),
        ("POST", "/calls/inbound/{inbound.pk}/transfer/", 403),
        ("POST", "/calls/records/sync/", 403),
        ("POST", "/accounts/logout/", 403),
        ("POST", "/api/v1/calls/click-to-call/", 403),
        ("POST", "/api/v1/calls/{call.call_id}/hangup/", 403),
        ("POST", "/api/v1/otp/send/", 403),
        # machine endpoints answer to their token, not to cookies: no CSRF token needed
        ("POST", f"/api/v1/webhooks/smartflo/?token={WEBHOOK_TOKEN}", 200),
        ("POST", f"/api/v1/masking/resolve/?token={MASKING_TOKEN}", 200),
    ],
)
def test_session_writes_need_the_csrf_token(world, method, path, expected):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[AGENT])
    body = _dialplan_body() if "resolve" in path else EVENT
    response = client.generic(method, _fill(path, world.refs), json.dumps(_fill(body, world.refs)), "application/json")
    assert response.status_code == expected, response.content[:300]
    if expected == 403:
        assert b"CSRF" in response.content
