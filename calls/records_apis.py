"""`GET /api/v1/call-records/`: synced call records for API clients (DESIGN.md contract).

Agents get their own records, supervisors every record. Filters: `from`, `to` (inclusive;
`YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` in the display time zone, or ISO 8601 with an offset),
`agent` (local agent id), `direction`, `status` (answered | missed), `min_duration` (seconds),
and `outcome` (a disposition id, or `none`: no agent noted one). Paginated with `count`, `next`,
`previous`, `results`; each record carries its `outcome`, the label of the disposition the agent
who had the call noted (null if none).
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from calls.models import CallDirection, CallRecord, CallRecordStatus
from calls.records_selectors import (
    NO_OUTCOME,
    RecordFilters,
    RecordScope,
    call_record_get,
    call_records_filter,
    call_records_visible_to,
    parse_bound,
)
from contactcenter.core.converters import MAX_ID
from contactcenter.core.pagination import PageNumberPagination
from contactcenter.core.schema import error_responses


class CallRecordOutputSerializer(serializers.Serializer):
    call_id = serializers.CharField()
    direction = serializers.CharField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    call_duration = serializers.IntegerField(help_text="Seconds, ringing included.")
    answered_seconds = serializers.IntegerField(help_text="Talk time in seconds.")
    minutes_consumed = serializers.IntegerField()
    agent = serializers.IntegerField(source="agent_id", allow_null=True, help_text="Local agent id.")
    agent_name = serializers.CharField()
    agent_number = serializers.CharField()
    client_number = serializers.CharField()
    did_number = serializers.CharField()
    destination = serializers.CharField()
    hangup_cause = serializers.CharField()
    dtmf_input = serializers.CharField()
    broadcast_id = serializers.CharField()
    services = serializers.SerializerMethodField()
    department = serializers.SerializerMethodField()
    missed_agents = serializers.JSONField(allow_null=True)
    custom_identifier = serializers.CharField()
    outbound_call = serializers.IntegerField(source="outbound_call_id", allow_null=True)
    outcome = serializers.CharField(
        source="disposition.label",
        allow_null=True,
        help_text="The disposition the agent who had the call noted (their wrap-up), or null.",
    )
    outcome_id = serializers.IntegerField(
        source="disposition_id", allow_null=True, help_text="That disposition's id: the `outcome` filter takes it."
    )
    recording = serializers.SerializerMethodField(help_text="Our authenticated recording proxy, or null.")
    synced_at = serializers.DateTimeField()

    def get_services(self, record: CallRecord) -> list[str]:
        return [s.strip() for s in record.services.split(",") if s.strip()]

    def get_department(self, record: CallRecord) -> list[str]:
        return [d.strip() for d in record.department.split(",") if d.strip()]

    def get_recording(self, record: CallRecord) -> str | None:
        if not record.recording_url:
            return None
        path = reverse("calls:record-recording", args=[record.call_id])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class CallRecordPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class CallRecordListApi(APIView):
    """Synced call records, newest first."""

    pagination_class = CallRecordPagination

    class FilterSerializer(serializers.Serializer):
        agent = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Local agent id.")
        direction = serializers.ChoiceField(required=False, choices=CallDirection.values)
        status = serializers.ChoiceField(required=False, choices=CallRecordStatus.values)
        min_duration = serializers.IntegerField(required=False, min_value=0, help_text="Seconds (call_duration).")
        outcome = serializers.RegexField(
            r"^(none|[1-9][0-9]{0,17})$",  # an id (18 digits at most), as `<id:pk>` in addresses
            required=False,
            help_text="A disposition id, or `none`.",
            error_messages={"invalid": "A disposition id, or `none`."},
        )

        def get_fields(self):
            fields = super().get_fields()
            # "from" is a Python keyword: declared by name
            fields["from"] = serializers.CharField(required=False, help_text="Start, inclusive.")
            fields["to"] = serializers.CharField(required=False, help_text="End, inclusive (a date: the whole day).")
            return fields

        def validate(self, attrs):
            for name, end in (("from", False), ("to", True)):
                if attrs.get(name):
                    try:
                        attrs[name] = parse_bound(attrs[name], end=end)
                    except ValueError:
                        raise serializers.ValidationError(
                            {name: "Use YYYY-MM-DD, YYYY-MM-DD HH:MM:SS or ISO 8601."}
                        ) from None
            if attrs.get("outcome") not in (None, NO_OUTCOME):
                attrs["outcome"] = int(attrs["outcome"])
            if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
                raise serializers.ValidationError({"to": "Must not be before `from`."})
            return attrs

        def filters(self) -> RecordFilters:
            data = self.validated_data
            minimum = data.get("min_duration")
            return RecordFilters(
                start=data.get("from") or None,
                end=data.get("to") or None,
                agent=data.get("agent"),
                direction=data.get("direction", ""),
                status=data.get("status", ""),
                duration_op=">=" if minimum is not None else "",
                duration=minimum,
                outcome=data.get("outcome"),
            )

    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, description="Start, inclusive: YYYY-MM-DD[ HH:MM:SS] or ISO 8601."),
            OpenApiParameter("to", str, description="End, inclusive (a date alone: the whole day)."),
            OpenApiParameter("agent", int, description="Local agent id."),
            OpenApiParameter("direction", str, enum=CallDirection.values),
            OpenApiParameter("status", str, enum=CallRecordStatus.values),
            OpenApiParameter("min_duration", int, description="Seconds."),
            OpenApiParameter("outcome", str, description="A disposition id, or `none` (no outcome noted)."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="Up to 500."),
        ],
        responses={200: CallRecordOutputSerializer(many=True), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        scope = RecordScope.for_user(request.user)
        records = call_records_filter(call_records_visible_to(scope), query.filters())
        records = records.defer("raw").select_related("disposition").order_by("-started_at", "-id")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(records, request, view=self)
        data = CallRecordOutputSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)


class CallRecordDetailApi(APIView):
    """One call record by Smartflo call id (404 unless it is yours, or you supervise)."""

    @extend_schema(responses={200: CallRecordOutputSerializer})
    def get(self, request: Request, call_id: str) -> Response:
        record = call_record_get(scope=RecordScope.for_user(request.user), call_id=call_id)
        return Response(CallRecordOutputSerializer(record, context={"request": request}).data)
