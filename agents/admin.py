from django.contrib import admin

from agents.models import Agent


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "follow_me_number",
        "intercom",
        "smartflo_id",
        "blocked",
        "is_active",
        "calls_answered",
        "calls_missed",
        "last_synced_at",
    )
    list_filter = ("is_active", "blocked")
    search_fields = ("name", "follow_me_number", "intercom", "smartflo_id", "eid", "user__username")
    readonly_fields = (
        "smartflo_id",
        "eid",
        "calls_answered",
        "calls_missed",
        "last_synced_at",
        "created_at",
        "updated_at",
    )
    raw_id_fields = ("user",)
    list_select_related = ("user",)
