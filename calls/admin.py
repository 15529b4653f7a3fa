from django.contrib import admin
from django.db import transaction

from calls.models import (
    CallEvent,
    CallRecord,
    CallRecordSyncRun,
    Disposition,
    OutboundCall,
    ProviderRequest,
    RingingAlert,
)
from calls.services.outcomes import record_outcome_copy_inbound, record_outcome_copy_outbound


class WrapUpCorrection:
    """Saving a corrected disposition updates the call's records too, as a wrap-up does: with
    the call's row locked FOR UPDATE, which a sync storing the record waits for
    (calls/services/outcomes.py)."""

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            type(obj).objects.select_for_update().filter(pk=obj.pk).exists()
            super().save_model(request, obj, form, change)
            if isinstance(obj, OutboundCall):
                record_outcome_copy_outbound(obj)
            else:
                record_outcome_copy_inbound(obj.call_id)


class ProviderRequestInline(admin.TabularInline):
    """What we asked Smartflo for the call: a record, read-only (no rows to add)."""

    model = ProviderRequest
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "operation", "method", "path", "attempt", "status_code", "duration_ms", "error")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OutboundCall)
class OutboundCallAdmin(WrapUpCorrection, admin.ModelAdmin):
    """Calls are placed from the workspace or the API (which reach Smartflo); here a supervisor
    can only correct a call's note and disposition."""

    list_display = ("pk", "agent", "destination", "status", "call_id", "requested_at", "disposition")
    list_filter = ("status", "disposition", "agent")
    search_fields = ("destination", "call_id", "custom_identifier", "agent__name")
    readonly_fields = [f.name for f in OutboundCall._meta.fields if f.name not in ("note", "disposition")]
    list_select_related = ("agent", "disposition")
    inlines = [ProviderRequestInline]

    def has_add_permission(self, request):
        return False


@admin.register(CallEvent)
class CallEventAdmin(admin.ModelAdmin):
    """Smartflo's webhook events as they arrived: a record of what happened, read-only."""

    list_display = ("received_at", "call_id", "event", "call_status", "applied", "duplicate", "outcome")
    list_filter = ("applied", "duplicate", "event", "call_status")
    search_fields = ("call_id", "custom_identifier")
    readonly_fields = [f.name for f in CallEvent._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Disposition)
class DispositionAdmin(admin.ModelAdmin):
    list_display = ("label", "position", "active")
    list_editable = ("position", "active")


@admin.register(RingingAlert)
class RingingAlertAdmin(WrapUpCorrection, admin.ModelAdmin):
    """Inbound calls offered to agents, raised, answered and ended by Smartflo's events: read-only,
    except the answering agent's note and disposition, which can be corrected (as a call's)."""

    list_display = ("agent", "call_id", "caller_number", "started_at", "answered_at", "ended_at", "disposition")
    list_filter = ("cleared_reason",)
    search_fields = ("caller_number", "call_id")
    readonly_fields = [f.name for f in RingingAlert._meta.fields if f.name not in ("note", "disposition")]

    def has_add_permission(self, request):
        return False


@admin.register(CallRecord)
class CallRecordAdmin(admin.ModelAdmin):
    """Synced from Smartflo: read-only here (the next sync would overwrite edits)."""

    list_display = ("call_id", "started_at", "direction", "status", "agent", "client_number", "call_duration")
    list_filter = ("direction", "status")
    search_fields = ("call_id", "client_number", "agent_name")
    date_hierarchy = "started_at"
    list_select_related = ("agent",)
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in CallRecord._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(CallRecordSyncRun)
class CallRecordSyncRunAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "kind",
        "trigger",
        "status",
        "pages",
        "records_stored",
        "window_from",
        "window_to",
        "error",
    )
    list_filter = ("status", "kind", "trigger")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in CallRecordSyncRun._meta.fields]

    def has_add_permission(self, request):
        return False
