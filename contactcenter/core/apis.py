from drf_spectacular.utils import extend_schema
from rest_framework import serializers
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
