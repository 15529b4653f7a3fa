"""Admin: a read-only view of challenges and their provider requests. The code's hash and its
sealed form are never loaded, listed or rendered."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from otp.models import OtpChallenge, OtpProviderRequest

SECRET_FIELDS = ("code_hash", "code_sealed")


class ProviderRequestInline(admin.TabularInline):
    model = OtpProviderRequest
    fields = ("created_at", "step", "method", "path", "attempt", "status", "duration_ms", "outcome", "error_message")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: OtpChallenge | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OtpChallenge | None = None) -> bool:
        return False


@admin.register(OtpChallenge)
class OtpChallengeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "masked_phone", "requested_by", "state", "attempts", "failure_step", "failure_code")
    list_filter = ("state", "failure_step")
    search_fields = ("=phone", "=id")
    date_hierarchy = "created_at"
    list_select_related = ("requested_by",)
    fields = (
        "id",
        "masked_phone",
        "requested_by",
        "state",
        "attempts",
        "lead_tries",
        "created_at",
        "expires_at",
        "state_changed_at",
        "lead_added_at",
        "call_started_at",
        "delivered_at",
        "failed_at",
        "verified_at",
        "failure_step",
        "failure_code",
        "failure_message",
    )
    readonly_fields = fields
    exclude = SECRET_FIELDS
    inlines = [ProviderRequestInline]

    @admin.display(description="phone")
    def masked_phone(self, obj: OtpChallenge) -> str:
        return obj.masked_phone

    def get_queryset(self, request: HttpRequest) -> QuerySet[OtpChallenge]:
        return super().get_queryset(request).defer(*SECRET_FIELDS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OtpChallenge | None = None) -> bool:
        return False
