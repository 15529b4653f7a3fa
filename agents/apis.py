from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.selectors import agent_list
from agents.services import agent_create, agent_sync
from contactcenter.core.pagination import PageNumberPagination
from contactcenter.core.permissions import IsSupervisor
from contactcenter.core.schema import SMARTFLO_ERRORS, error_responses


class AgentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    smartflo_id = serializers.CharField(allow_null=True)
    eid = serializers.CharField()
    name = serializers.CharField()
    follow_me_number = serializers.CharField()
    intercom = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    blocked = serializers.BooleanField()
    is_active = serializers.BooleanField()
    calls_answered = serializers.IntegerField()
    calls_missed = serializers.IntegerField()
    last_synced_at = serializers.DateTimeField(allow_null=True)
    username = serializers.CharField(source="user.username", allow_null=True, default=None)


class AgentListCreateApi(APIView):
    """Supervisors list agents, and add one in Smartflo and here in one request."""

    permission_classes = [IsSupervisor]
    pagination_class = PageNumberPagination

    class AgentCreateInputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=150)
        follow_me_number = serializers.CharField(max_length=32)
        intercom = serializers.CharField(max_length=8, required=False, allow_blank=True, allow_null=True)
        username = serializers.CharField(max_length=150, required=False, allow_blank=True, allow_null=True)
        password = serializers.CharField(required=False, allow_blank=True, allow_null=True, write_only=True)

    @extend_schema(
        parameters=[OpenApiParameter("search", str, description="Part of a name, number or intercom.")],
        responses=AgentOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(agent_list(search=request.query_params.get("search", "")), request, self)
        return paginator.get_paginated_response(AgentOutputSerializer(page, many=True).data)

    @extend_schema(
        request=AgentCreateInputSerializer,
        responses={201: AgentOutputSerializer, **error_responses(409, *SMARTFLO_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.AgentCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            agent = agent_create(**serializer.validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return Response(AgentOutputSerializer(agent).data, status=status.HTTP_201_CREATED)


class AgentSyncApi(APIView):
    """Pull Smartflo's agent list into the local table now."""

    permission_classes = [IsSupervisor]

    class AgentSyncOutputSerializer(serializers.Serializer):
        created = serializers.IntegerField()
        updated = serializers.IntegerField()
        unchanged = serializers.IntegerField()
        deactivated = serializers.IntegerField()

    @extend_schema(request=None, responses={200: AgentSyncOutputSerializer, **error_responses(*SMARTFLO_ERRORS)})
    def post(self, request: Request) -> Response:
        return Response(self.AgentSyncOutputSerializer(agent_sync()).data)
