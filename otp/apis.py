"""The OTP API for the enterprise's backend: send a code by voice, verify what the user typed."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcenter.phones import InvalidPhoneNumber
from otp.codes import CODE_LENGTH
from otp.errors import OtpThrottled
from otp.services import otp_send, otp_verify
from otp.validation import clean_phone, is_well_formed_code


class PhoneField(serializers.CharField):
    """A phone number a voice OTP can go to, normalised to E.164."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> str:
        text = super().to_internal_value(data)
        try:
            return clean_phone(text)
        except InvalidPhoneNumber as exc:
            raise serializers.ValidationError(str(exc)) from None


class CodeField(serializers.CharField):
    """Exactly six digits. The error never repeats what was sent."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 16)
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> str:
        text = super().to_internal_value(data)
        if not is_well_formed_code(text):
            raise serializers.ValidationError(f"Enter the {CODE_LENGTH}-digit code.")
        return text


class OtpErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    extra = serializers.DictField()


class OtpSendApi(APIView):
    """Send a one-time code to a phone by a voice call (202: the call is placed in the background)."""

    class OtpSendInputSerializer(serializers.Serializer):
        phone = PhoneField()

    class OtpSendOutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        expires_at = serializers.DateTimeField()

    @extend_schema(
        operation_id="otp_send",
        request=OtpSendInputSerializer,
        responses={
            202: OtpSendOutputSerializer,
            400: OpenApiResponse(OtpErrorSerializer, description="Not a number a voice OTP can go to."),
            429: OpenApiResponse(OtpErrorSerializer, description="Throttled; `Retry-After` says for how long."),
            503: OpenApiResponse(OtpErrorSerializer, description="OTP is not configured (`otp_not_configured`)."),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.OtpSendInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        challenge = otp_send(phone=serializer.validated_data["phone"], requested_by=request.user)
        return Response(self.OtpSendOutputSerializer(challenge).data, status=status.HTTP_202_ACCEPTED)

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if isinstance(exc, OtpThrottled):
            response["Retry-After"] = str(exc.retry_after)
        return response


class OtpVerifyApi(APIView):
    """Check the code a user typed against the latest code this client sent to that phone."""

    class OtpVerifyInputSerializer(serializers.Serializer):
        phone = PhoneField()
        code = CodeField()

    class OtpVerifyOutputSerializer(serializers.Serializer):
        verified = serializers.BooleanField()

    class OtpVerifyFailureSerializer(OtpErrorSerializer):
        verified = serializers.BooleanField(default=False)

    @extend_schema(
        operation_id="otp_verify",
        request=OtpVerifyInputSerializer,
        responses={
            200: OtpVerifyOutputSerializer,
            400: OpenApiResponse(
                OtpVerifyFailureSerializer,
                description="`verified: false` with a `code`: invalid, otp_not_found, otp_invalid, otp_locked, "
                "otp_expired, otp_superseded, otp_already_used or otp_not_delivered.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.OtpVerifyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        otp_verify(**serializer.validated_data, requested_by=request.user)
        return Response(self.OtpVerifyOutputSerializer({"verified": True}).data)

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if response.status_code == status.HTTP_400_BAD_REQUEST and isinstance(response.data, dict):
            response.data = {"verified": False, **response.data}
        return response
