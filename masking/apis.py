"""The masking API: the resolve endpoint Smartflo calls, and the staff rule and session APIs."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcenter.core.pagination import PageNumberPagination
from contactcenter.core.roles import is_supervisor
from contactcenter.core.schema import error_responses
from contactcenter.phones import InvalidPhoneNumber, to_e164
from masking.dialplan import (
    BadDialplanRequest,
    DialplanResponse,
    error_answer,
    interpret,
    is_authorised,
    read_variables,
    scalar_text,
    transfer_answer,
    unauthorised_answer,
)
from masking.models import MaskingRule, MaskingSession, ResolutionLog
from masking.selectors import Resolution, masking_resolve, masking_rule_list, masking_session_list, masking_unmatched
from masking.services import (
    masking_resolution_log_create,
    masking_rule_create,
    masking_rule_update,
    masking_session_close,
    masking_session_create,
)

logger = logging.getLogger(__name__)

# --- The resolve endpoint (API Dialplan) -------------------------------------------------------


def _answer_after_error() -> tuple[Resolution, DialplanResponse]:
    try:
        resolution = masking_unmatched(ResolutionLog.Outcome.ERROR)
        return resolution, transfer_answer(resolution)
    except Exception:
        resolution = Resolution(outcome=ResolutionLog.Outcome.ERROR)
        return resolution, error_answer(404, "no_route", "No route.")


@csrf_exempt
def masking_resolve_api(request: HttpRequest) -> HttpResponse:
    """Smartflo's API Dialplan asks whom a call to a masking number goes to.

    A plain Django view on purpose: it is the hot path of every masked call. It uses no session,
    CSRF, cache or Celery (so it keeps answering with Redis down), makes two queries (the route,
    and the log row, written once the answer is sent) and never answers 5xx: an unexpected error
    answers as "unmatched" (the fallback number, or 404 so Smartflo runs the failover
    destination) and is logged.
    """
    started = time.perf_counter()
    if request.method not in ("GET", "POST"):
        return error_answer(405, "method_not_allowed", "Use POST (or GET).", headers={"Allow": "GET, POST"})
    try:
        authorised = is_authorised(request)
    except Exception:
        logger.exception("masking resolve: authentication check failed")
        authorised = False
    if not authorised:
        return unauthorised_answer()
    return masking_resolve_answer(functools.partial(read_variables, request), method=request.method, started=started)


def masking_resolve_answer(read: Callable[[], Mapping[str, Any]], *, method: str, started: float) -> DialplanResponse:
    """The answer to an authorised API Dialplan request whose variables `read()` returns (or
    raises BadDialplanRequest for), with its resolution log row hung on the response's close.

    Shared by the view and the WSGI lane (masking/wsgi.py), so both answer alike.
    """
    at = timezone.now()
    entry = {"call_id": "", "uuid": "", "caller": "", "dialled_number": ""}
    try:
        variables = read()
        entry.update(
            call_id=scalar_text(variables.get("call_id")),
            uuid=scalar_text(variables.get("uuid")),
            caller=scalar_text(variables.get("caller_id_number"), 32),
            dialled_number=scalar_text(variables.get("call_to_number"), 32),
        )
        call = interpret(variables)
        entry.update(caller=call.caller or call.caller_raw, dialled_number=call.masking_number)
        resolution = masking_resolve(caller=call.caller, masking_number=call.masking_number, at=at)
        response = transfer_answer(resolution)
    except BadDialplanRequest as exc:
        resolution = Resolution(outcome=ResolutionLog.Outcome.INVALID)
        response = error_answer(400, "invalid", exc.message, {"fields": exc.fields})
    except Exception:
        logger.exception("masking resolve failed: answering as unmatched")
        resolution, response = _answer_after_error()

    # Written once the answer is on its way (see DialplanResponse); never raises.
    response.after_close = functools.partial(
        masking_resolution_log_create,
        at=at,
        method=method,
        **entry,
        outcome=resolution.outcome,
        answer=resolution.answer if response.status_code == 200 else None,
        fallback=resolution.fallback,
        status_code=response.status_code,
        rule_id=resolution.rule_id,
        latency_ms=(time.perf_counter() - started) * 1000,
    )
    logger.debug("masking resolve: %s -> %s", resolution.outcome, response.status_code)
    return response


# --- Permissions -------------------------------------------------------------------------------


class WindowDateTimeField(serializers.DateTimeField):
    """A rule's window bound: a time so close to year 1 or 9999 that it cannot be put in the
    time zone (DRF overflows, a 500) is invalid input like any other bad time."""

    def to_internal_value(self, value):
        try:
            return super().to_internal_value(value)
        except (OverflowError, ValueError):
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]")


class IsStaffOrSupervisor(BasePermission):
    """Staff (`is_staff`) or supervisors (superusers count) manage masking rules."""

    message = "Only staff and supervisors can manage number masking."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_staff or is_supervisor(user)))


class CanManageSessions(IsStaffOrSupervisor):
    """Staff and supervisors, or an API client holding `masking.add_maskingsession`.

    The enterprise backend's service account needs only that permission (and a DRF token), not
    access to the admin.
    """

    message = "Only staff, supervisors and API clients allowed to create masking sessions can do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if super().has_permission(request, view):
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("masking.add_maskingsession"))


# --- Serializers ---------------------------------------------------------------------------------


class PhoneFilterField(serializers.CharField):
    """A phone number in a query filter, normalised to E.164."""

    def to_internal_value(self, data: object) -> str:
        text = super().to_internal_value(data)
        try:
            return to_e164(text, strict=False)  # a filter finds what is stored
        except InvalidPhoneNumber as exc:
            raise serializers.ValidationError(str(exc)) from exc


class MaskingRuleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    masking_number = serializers.CharField(source="masking_number.number")
    party_a = serializers.CharField()
    party_b = serializers.CharField()
    two_way = serializers.BooleanField()
    valid_from = serializers.DateTimeField(allow_null=True)
    valid_until = serializers.DateTimeField(allow_null=True)
    active = serializers.BooleanField()
    reference = serializers.CharField()
    state = serializers.SerializerMethodField(help_text="live, scheduled, expired or inactive, right now")
    session = serializers.SerializerMethodField(help_text="The session this rule backs, if any")
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_state(self, rule: MaskingRule) -> str:
        return rule.state_at(timezone.now())

    def get_session(self, rule: MaskingRule) -> int | None:
        session = getattr(rule, "session", None)
        return session.pk if session is not None else None


class MaskingRuleCreateInputSerializer(serializers.Serializer):
    masking_number = serializers.CharField(max_length=32)
    party_a = serializers.CharField(max_length=32)
    party_b = serializers.CharField(max_length=32)
    two_way = serializers.BooleanField(required=False, default=False)
    valid_from = WindowDateTimeField(required=False, allow_null=True, default=None)
    valid_until = WindowDateTimeField(required=False, allow_null=True, default=None)
    active = serializers.BooleanField(required=False, default=True)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")


class MaskingRuleUpdateInputSerializer(serializers.Serializer):
    masking_number = serializers.CharField(max_length=32, required=False)
    party_a = serializers.CharField(max_length=32, required=False)
    party_b = serializers.CharField(max_length=32, required=False)
    two_way = serializers.BooleanField(required=False)
    valid_from = WindowDateTimeField(required=False, allow_null=True)
    valid_until = WindowDateTimeField(required=False, allow_null=True)
    active = serializers.BooleanField(required=False)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100)


class MaskingSessionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    masking_number = serializers.CharField(source="masking_number.number")
    party_a = serializers.CharField()
    party_b = serializers.CharField()
    status = serializers.SerializerMethodField(help_text="active, closed or expired, right now")
    expires_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    close_reason = serializers.CharField()
    reference = serializers.CharField()
    rule = serializers.IntegerField(source="rule_id")
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()

    def get_status(self, session: MaskingSession) -> str:
        return session.status_at(timezone.now())


# --- Rules ---------------------------------------------------------------------------------------


class MaskingRuleListCreateApi(APIView):
    """List masking rules (filters: masking_number, party, active), or create one."""

    permission_classes = [IsStaffOrSupervisor]
    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer):
        masking_number = PhoneFilterField(required=False)
        party = PhoneFilterField(required=False)
        active = serializers.BooleanField(required=False, allow_null=True, default=None)

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: MaskingRuleOutputSerializer(many=True), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(masking_rule_list(**filters.validated_data), request, self)
        return paginator.get_paginated_response(MaskingRuleOutputSerializer(page, many=True).data)

    @extend_schema(
        request=MaskingRuleCreateInputSerializer,
        responses={201: MaskingRuleOutputSerializer, **error_responses(409)},
    )
    def post(self, request: Request) -> Response:
        serializer = MaskingRuleCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = masking_rule_create(**serializer.validated_data, created_by=request.user)
        return Response(MaskingRuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)


class MaskingRuleDetailApi(APIView):
    """One rule; PATCH changes any of its fields (a session's rule is changed via its session)."""

    permission_classes = [IsStaffOrSupervisor]

    def _rule(self, pk: int) -> MaskingRule:
        return get_object_or_404(masking_rule_list(), pk=pk)

    @extend_schema(responses=MaskingRuleOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(MaskingRuleOutputSerializer(self._rule(pk)).data)

    @extend_schema(
        request=MaskingRuleUpdateInputSerializer,
        responses={200: MaskingRuleOutputSerializer, **error_responses(409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        serializer = MaskingRuleUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = masking_rule_update(rule=self._rule(pk), data=serializer.validated_data)
        return Response(MaskingRuleOutputSerializer(self._rule(rule.pk)).data)


# --- Sessions ------------------------------------------------------------------------------------


class MaskingSessionListCreateApi(APIView):
    """List sessions (filters: status, party), or lend a pool number to two parties.

    POST answers 201 with a new session, or 200 with the pair's active session (its expiry
    pushed out to now + ttl_seconds when that is later); 409 `no_number_available` when the pool
    has no number free for them.
    """

    permission_classes = [CanManageSessions]
    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=MaskingSession.Status.choices, required=False)
        party = PhoneFilterField(required=False)

    class CreateInputSerializer(serializers.Serializer):
        party_a = serializers.CharField(max_length=32)
        party_b = serializers.CharField(max_length=32)
        ttl_seconds = serializers.IntegerField()
        reference = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: MaskingSessionOutputSerializer(many=True), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(masking_session_list(**filters.validated_data), request, self)
        return paginator.get_paginated_response(MaskingSessionOutputSerializer(page, many=True).data)

    @extend_schema(
        request=CreateInputSerializer,
        responses={
            201: MaskingSessionOutputSerializer,
            200: MaskingSessionOutputSerializer,
            **error_responses(409),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.CreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session, created = masking_session_create(**serializer.validated_data, created_by=request.user)
        return Response(
            MaskingSessionOutputSerializer(session).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MaskingSessionDetailApi(APIView):
    permission_classes = [CanManageSessions]

    @extend_schema(responses=MaskingSessionOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        session = get_object_or_404(masking_session_list(), pk=pk)
        return Response(MaskingSessionOutputSerializer(session).data)


class MaskingSessionCloseApi(APIView):
    """Close a session now; 409 `invalid_transition` if it is closed or expired already."""

    permission_classes = [CanManageSessions]

    @extend_schema(request=None, responses={200: MaskingSessionOutputSerializer, **error_responses(409)})
    def post(self, request: Request, pk: int) -> Response:
        session = get_object_or_404(masking_session_list(), pk=pk)
        session = masking_session_close(session=session, reason=f"closed by {request.user.get_username()}")
        return Response(MaskingSessionOutputSerializer(session).data)
