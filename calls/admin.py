from django.contrib import admin

from calls.models import CallEvent, Disposition, OutboundCall, ProviderRequest, RingingAlert


class ProviderRequestInline(admin.TabularInline):
    model = ProviderRequest
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "operation", "method", "path", "attempt", "status_code", "duration_ms", "error")


@admin.register(OutboundCall)
class OutboundCallAdmin(admin.ModelAdmin):
    list_display = ("pk", "agent", "destination", "status", "call_id", "requested_at", "disposition")
    list_filter = ("status", "disposition", "agent")
    search_fields = ("destination", "call_id", "custom_identifier", "agent__name")
    readonly_fields = [f.name for f in OutboundCall._meta.fields if f.name not in ("note", "disposition")]
    list_select_related = ("agent", "disposition")
    inlines = [ProviderRequestInline]


@admin.register(CallEvent)
class CallEventAdmin(admin.ModelAdmin):
    list_display = ("received_at", "call_id", "event", "call_status", "applied", "duplicate", "outcome")
    list_filter = ("applied", "duplicate", "event", "call_status")
    search_fields = ("call_id", "custom_identifier")
    readonly_fields = [f.name for f in CallEvent._meta.fields]


@admin.register(Disposition)
class DispositionAdmin(admin.ModelAdmin):
    list_display = ("label", "position", "active")
    list_editable = ("position", "active")


@admin.register(RingingAlert)
class RingingAlertAdmin(admin.ModelAdmin):
    list_display = ("agent", "call_id", "caller_number", "started_at", "cleared_at", "cleared_reason")
