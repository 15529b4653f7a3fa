from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcenter.core.roles import user_roles


class MeApi(APIView):
    """Who the caller is and which roles they hold."""

    class MeOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        roles = serializers.ListField(child=serializers.CharField())

    @extend_schema(responses=MeOutputSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        data = {"id": user.pk, "username": user.get_username(), "roles": user_roles(user)}
        return Response(self.MeOutputSerializer(data).data)


#: What the API's index lists: the URL name of each endpoint that takes no id (the schema has the rest).
API_INDEX = {
    "me": "api-me",
    "agents": "api-agents",
    "agents_sync": "api-agents-sync",
    "click_to_call": "api-click-to-call",
    "call_records": "api-call-records",
    "masking_rules": "api-masking-rules",
    "masking_sessions": "api-masking-sessions",
    "masking_resolve": "api-masking-resolve",
    "otp_send": "api-otp-send",
    "otp_verify": "api-otp-verify",
    "webhooks_smartflo": "api-webhook-smartflo",
}


class ApiRootApi(APIView):
    """Where this API's endpoints and its documentation are. Each endpoint asks for its own
    credentials; this index names URLs only, for anyone."""

    def get_view_name(self) -> str:  # the browsable API's heading
        return "Contact center API"

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response(
            {
                "docs": request.build_absolute_uri(reverse("api-docs")),
                "schema": request.build_absolute_uri(reverse("api-schema")),
                "endpoints": {key: request.build_absolute_uri(reverse(name)) for key, name in API_INDEX.items()},
            }
        )
