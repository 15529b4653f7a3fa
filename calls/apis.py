from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.models import Agent
from calls.selectors import agent_for_user, call_get_for_user, refuse_if_passed_on
from calls.services import call_event_ingest, call_hangup, call_place, call_transfer
from calls.services.idempotency import idempotent_call, request_fingerprint
from contactcenter.core.converters import MAX_ID
from contactcenter.core.exceptions import ApplicationError
from contactcenter.core.roles import is_supervisor
from contactcenter.core.schema import SMARTFLO_ERRORS, error_response, error_responses
from contactcenter.core.tokens import authenticate_shared_secret


class CallOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    custom_identifier = serializers.UUIDField()
    status = serializers.CharField()
    call_id = serializers.CharField(allow_null=True)
    agent = serializers.IntegerField(source="agent_id")
    destination = serializers.CharField()
    provider_message = serializers.CharField()
    requested_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    transferred_to = serializers.IntegerField(source="transferred_to_id", allow_null=True)


def _validation(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


def _error_body(exc: ApplicationError) -> tuple[int, dict]:
    return exc.status_code, exc.body()


class ClickToCallApi(APIView):
    """Ring the agent's phone, then the customer's. Agents dial from their own number only."""

    class ClickToCallInputSerializer(serializers.Serializer):
        destination_number = serializers.CharField(max_length=32)
        agent = serializers.IntegerField(
            required=False, min_value=1, max_value=MAX_ID, help_text="Local agent id (supervisors only)."
        )
        caller_id = serializers.CharField(max_length=32, required=False, allow_blank=True)

    @extend_schema(
        request=ClickToCallInputSerializer,
        responses={
            201: CallOutputSerializer,
            **error_responses(409, 422, *SMARTFLO_ERRORS),
            403: error_response(403, "An agent dialling from another agent's number, or a sign-in with no agent."),
        },
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    def post(self, request: Request) -> Response:
        data = self.ClickToCallInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agent = self._agent(request, data.validated_data.get("agent"))

        def run() -> tuple[int, dict]:
            try:
                call = call_place(
                    requested_by=request.user,
                    agent=agent,
                    destination=data.validated_data["destination_number"],
                    caller_id=data.validated_data.get("caller_id") or None,
                )
            except ApplicationError as exc:
                return _error_body(exc)
            return status.HTTP_201_CREATED, CallOutputSerializer(call).data

        try:
            code, body = idempotent_call(
                user=request.user,
                key=request.headers.get("Idempotency-Key"),
                fingerprint=request_fingerprint({**data.validated_data, "agent": agent.pk}),
                run=run,
            )
        except DjangoValidationError as exc:
            raise _validation(exc) from exc
        return Response(body, status=code)

    @staticmethod
    def _agent(request: Request, agent_id: int | None) -> Agent:
        own = agent_for_user(request.user)
        if is_supervisor(request.user):
            if agent_id is None:
                if own is None:
                    raise serializers.ValidationError({"agent": ["Choose the agent whose phone should ring."]})
                return own
            agent = Agent.objects.filter(pk=agent_id).first()
            if agent is None:
                raise serializers.ValidationError({"agent": ["No such agent."]})
            return agent
        if own is None:
            raise PermissionDenied("Your sign-in is not linked to an agent, so there is no phone to ring.")
        if agent_id is not None and agent_id != own.pk:
            raise PermissionDenied("Agents can only dial from their own number.")
        return own


class CallHangupApi(APIView):
    """Hang up a live call: the call's agent, or a supervisor (any Smartflo call id)."""

    class HangupRequestedSerializer(serializers.Serializer):
        """A supervisor hung up a live call this application did not place."""

        call_id = serializers.CharField()
        status = serializers.ChoiceField(choices=["hangup_requested"])

    @extend_schema(
        request=None,
        responses={
            200: PolymorphicProxySerializer(
                component_name="CallHangupResult",
                serializers=[CallOutputSerializer, HangupRequestedSerializer],
                resource_type_field_name=None,
            ),
            **error_responses(409, *SMARTFLO_ERRORS),
        },
    )
    def post(self, request: Request, call_id: str) -> Response:
        try:
            call = call_get_for_user(user=request.user, reference=call_id)
        except Http404:
            if not is_supervisor(request.user):
                raise
            call_hangup(call_id=call_id)  # a live call we did not place (e.g. inbound)
            return Response({"call_id": call_id, "status": "hangup_requested"})
        refuse_if_passed_on(call, request.user)
        call = call_hangup(call=call)
        return Response(CallOutputSerializer(call).data)


class CallTransferApi(APIView):
    """Transfer a live call to another agent (by local agent id): the call's agent, or a
    supervisor (any Smartflo call id, as on the live board)."""

    class CallTransferInputSerializer(serializers.Serializer):
        agent = serializers.IntegerField(min_value=1, max_value=MAX_ID)

    class TransferRequestedSerializer(serializers.Serializer):
        """A supervisor transferred a live call this application did not place."""

        call_id = serializers.CharField()
        status = serializers.ChoiceField(choices=["transfer_requested"])
        transferred_to = serializers.IntegerField()

    @extend_schema(
        request=CallTransferInputSerializer,
        responses={
            200: PolymorphicProxySerializer(
                component_name="CallTransferResult",
                serializers=[CallOutputSerializer, TransferRequestedSerializer],
                resource_type_field_name=None,
            ),
            **error_responses(409, *SMARTFLO_ERRORS),
        },
    )
    def post(self, request: Request, call_id: str) -> Response:
        data = self.CallTransferInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            call = call_get_for_user(user=request.user, reference=call_id)
        except Http404:
            if not is_supervisor(request.user):
                raise
            call = None  # a live call we did not place (e.g. inbound): by Smartflo's call id
        if call is not None:
            refuse_if_passed_on(call, request.user)
        target = Agent.objects.filter(pk=data.validated_data["agent"]).first()
        if target is None:
            raise serializers.ValidationError({"agent": ["No such agent."]})
        try:  # by Smartflo's id when not ours (ours after all if its entry carries our identifier)
            call = call_transfer(call=call, call_id=None if call else call_id, to_agent=target)
        except DjangoValidationError as exc:
            raise _validation(exc) from exc
        if call is None:
            return Response({"call_id": call_id, "status": "transfer_requested", "transferred_to": target.pk})
        return Response(CallOutputSerializer(call).data)


class CallDetailApi(APIView):
    """One call as it stands now (for polling from the enterprise's backend)."""

    @extend_schema(responses={200: CallOutputSerializer})
    def get(self, request: Request, call_id: str) -> Response:
        return Response(CallOutputSerializer(call_get_for_user(user=request.user, reference=call_id)).data)


class SmartfloWebhookApi(APIView):
    """Call events from Smartflo: JSON or form, GET or POST, with the shared token as
    `?token=` or `X-Webhook-Token`."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    class WebhookOutputSerializer(serializers.Serializer):
        ok = serializers.BooleanField()
        event = serializers.IntegerField()
        outcome = serializers.CharField()

    def _authorized(self, request: Request) -> bool:
        """SMARTFLO_WEBHOOK_TOKEN, or during a rotation SMARTFLO_WEBHOOK_TOKEN_PREVIOUS."""
        given = request.headers.get("X-Webhook-Token") or request.query_params.get("token") or ""
        return authenticate_shared_secret(
            [given],
            setting="SMARTFLO_WEBHOOK_TOKEN",
            current=settings.SMARTFLO_WEBHOOK_TOKEN,
            previous=getattr(settings, "SMARTFLO_WEBHOOK_TOKEN_PREVIOUS", ""),
        )

    def _handle(self, request: Request, payload) -> Response:
        if not self._authorized(request):
            raise ApplicationError("Missing or wrong webhook token.", code="not_authenticated", status_code=401)
        event = call_event_ingest(payload=payload)
        return Response({"ok": True, "event": event.pk, "outcome": event.outcome})

    TOKEN_PARAMETERS = [
        OpenApiParameter("X-Webhook-Token", str, OpenApiParameter.HEADER, description="SMARTFLO_WEBHOOK_TOKEN."),
        OpenApiParameter("token", str, description="SMARTFLO_WEBHOOK_TOKEN, where a header cannot be set."),
    ]
    ERRORS = {
        **error_responses(400),
        401: error_response(401, "Missing or wrong webhook token."),
    }

    @extend_schema(
        request=None,
        parameters=TOKEN_PARAMETERS,
        description="The event's variables as query parameters.",
        responses={200: WebhookOutputSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        payload = {k: v for k, v in request.query_params.items() if k != "token"}
        return self._handle(request, payload)

    @extend_schema(
        request={"application/json": dict, "application/x-www-form-urlencoded": dict},
        parameters=TOKEN_PARAMETERS,
        responses={200: WebhookOutputSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        if not self._authorized(request):  # before the body is even parsed
            raise ApplicationError("Missing or wrong webhook token.", code="not_authenticated", status_code=401)
        data = request.data
        payload = data.dict() if hasattr(data, "dict") else data
        return self._handle(request, payload)
