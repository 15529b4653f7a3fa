"""The masking admin: numbers, rules (CSV import, "test a call", simulated calls), sessions and
the resolution log. Every write goes through `masking.services`."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from contactcenter.core.exceptions import ApplicationError
from contactcenter.phones import InvalidPhoneNumber, to_e164
from masking.demo import masking_simulated_call_place, sandbox_control_url
from masking.forms import (
    CallCheckForm,
    CsvImportForm,
    MaskingNumberAdminForm,
    MaskingRuleAdminForm,
    SimulatedCallForm,
)
from masking.models import MaskingNumber, MaskingRule, MaskingSession, ResolutionLog
from masking.selectors import masking_resolve, masking_rules_for_caller
from masking.services import (
    CsvFileError,
    masking_number_create,
    masking_number_update,
    masking_numbers_update,
    masking_rule_create,
    masking_rule_update,
    masking_rules_import_csv,
    masking_rules_set_active,
    masking_session_close,
)


class PhoneSearchMixin:
    """Search also finds a number typed in any form (`98765 43210` finds `+919876543210`)."""

    phone_search_fields: tuple[str, ...] = ()

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)  # type: ignore[misc]
        try:
            number = to_e164(search_term, strict=False)
        except (InvalidPhoneNumber, ValueError):
            return results, may_have_duplicates
        exact = Q()
        for name in self.phone_search_fields:
            exact |= Q(**{name: number})
        return results | queryset.filter(exact), may_have_duplicates


# --- Numbers ---------------------------------------------------------------------------------


@admin.register(MaskingNumber)
class MaskingNumberAdmin(PhoneSearchMixin, admin.ModelAdmin):
    form = MaskingNumberAdminForm
    list_display = ("number", "label", "active", "pooled", "live_rules", "last_allocated_at")
    list_filter = ("active", "pooled")
    search_fields = ("number", "label")
    phone_search_fields = ("number",)
    readonly_fields = ("last_allocated_at", "created_at", "updated_at")
    actions = ("activate", "deactivate", "add_to_pool", "remove_from_pool")

    def get_queryset(self, request: HttpRequest) -> QuerySet[MaskingNumber]:
        return super().get_queryset(request).annotate(live_rule_count=Count("rules", filter=Q(rules__active=True)))

    @admin.display(description="active rules", ordering="live_rule_count")
    def live_rules(self, number: MaskingNumber) -> int:
        return number.live_rule_count

    def get_readonly_fields(self, request: HttpRequest, obj: MaskingNumber | None = None) -> tuple[str, ...]:
        # The number is the key: a different DID is a new masking number.
        return (*self.readonly_fields, "number") if obj is not None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: MaskingNumber, form: Any, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in ("label", "active", "pooled")}
        if change:
            masking_number_update(number=obj, data=values)
        else:
            obj.pk = masking_number_create(number=form.cleaned_data["number"], **values).pk

    def _update(self, request: HttpRequest, queryset: QuerySet, message: str, **values: bool) -> None:
        count = masking_numbers_update(numbers=queryset.values_list("pk", flat=True), **values)
        self.message_user(request, f"{count} number(s) {message}.", messages.SUCCESS)

    @admin.action(description="Activate selected numbers", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._update(request, queryset, "activated", active=True)

    @admin.action(description="Deactivate selected numbers (they route nobody)", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._update(request, queryset, "deactivated", active=False)

    @admin.action(description="Add selected numbers to the session pool", permissions=["change"])
    def add_to_pool(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._update(request, queryset, "added to the pool", pooled=True)

    @admin.action(description="Remove selected numbers from the session pool", permissions=["change"])
    def remove_from_pool(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._update(request, queryset, "removed from the pool", pooled=False)


# --- Rules -----------------------------------------------------------------------------------


class RuleStateFilter(admin.SimpleListFilter):
    title = "state now"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("live", "live"), ("scheduled", "scheduled"), ("expired", "expired"), ("inactive", "inactive")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        started = Q(valid_from__isnull=True) | Q(valid_from__lte=now)
        not_ended = Q(valid_until__isnull=True) | Q(valid_until__gt=now)
        conditions = {
            "live": Q(active=True) & started & not_ended,
            "scheduled": Q(active=True, valid_from__gt=now) & not_ended,
            "expired": Q(active=True, valid_until__lte=now),
            "inactive": Q(active=False),
        }
        condition = conditions.get(self.value() or "")
        return queryset.filter(condition) if condition is not None else queryset


class SessionRuleFilter(admin.SimpleListFilter):
    title = "made by"
    parameter_name = "origin"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("rule", "a person (rule)"), ("session", "a session")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "rule":
            return queryset.filter(session__isnull=True)
        if self.value() == "session":
            return queryset.filter(session__isnull=False)
        return queryset


def _session_of(rule: MaskingRule) -> MaskingSession | None:
    return getattr(rule, "session", None)


@admin.register(MaskingRule)
class MaskingRuleAdmin(PhoneSearchMixin, admin.ModelAdmin):
    form = MaskingRuleAdminForm
    list_display = (
        "id",
        "masking_number",
        "party_a",
        "direction",
        "party_b",
        "state",
        "valid_from",
        "valid_until",
        "reference",
        "session_link",
        "created_by",
    )
    list_display_links = ("id", "masking_number")
    list_select_related = ("masking_number", "created_by", "session")
    list_filter = (RuleStateFilter, "active", "two_way", SessionRuleFilter, "masking_number")
    search_fields = ("party_a", "party_b", "masking_number__number", "reference")
    phone_search_fields = ("party_a", "party_b", "masking_number__number")
    fieldsets = (
        (None, {"fields": ("masking_number", "party_a", "party_b", "two_way")}),
        ("When", {"fields": ("active", "valid_from", "valid_until")}),
        (None, {"fields": ("reference",)}),
        ("Record", {"fields": ("session_link", "created_by", "created_at", "updated_at", "ended_at")}),
    )
    readonly_fields = ("session_link", "created_by", "created_at", "updated_at", "ended_at")
    actions = ("activate", "deactivate")
    change_list_template = "admin/masking/maskingrule/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[MaskingRule]:
        return super().get_queryset(request).select_related("masking_number", "created_by", "session")

    # Display ---------------------------------------------------------------------------------

    @admin.display(description="")
    def direction(self, rule: MaskingRule) -> str:
        return "⇄" if rule.two_way else "→"

    @admin.display(description="state now")
    def state(self, rule: MaskingRule) -> str:
        return rule.state_at(timezone.now())

    @admin.display(description="session")
    def session_link(self, rule: MaskingRule) -> str:
        session = _session_of(rule)
        if session is None:
            return "–"
        url = reverse("admin:masking_maskingsession_change", args=[session.pk])
        return format_html('<a href="{}">#{} ({})</a>', url, session.pk, session.status)

    # Session rules are the session's business -------------------------------------------------

    def has_change_permission(self, request: HttpRequest, obj: MaskingRule | None = None) -> bool:
        if obj is not None and _session_of(obj) is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: MaskingRule | None = None) -> bool:
        if obj is not None and _session_of(obj) is not None:
            return False
        return super().has_delete_permission(request, obj)

    # Saving through the services ------------------------------------------------------------

    def get_form(self, request: HttpRequest, obj: MaskingRule | None = None, change: bool = False, **kwargs: Any):
        # `masking_number` is typed text on the form, not the model's foreign key: keep it out of
        # the model fields the ModelForm would copy onto the instance.
        fields = kwargs.pop("fields", None) or flatten_fieldsets(self.get_fieldsets(request, obj))
        kwargs["fields"] = [name for name in fields if name != "masking_number"]
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: MaskingRule, form: MaskingRuleAdminForm, change: bool) -> None:
        values = form.rule_values()
        if change:
            rule = masking_rule_update(rule=MaskingRule.objects.get(pk=obj.pk), data=values)
        else:
            rule = masking_rule_create(**values, created_by=request.user)
        for model_field in MaskingRule._meta.concrete_fields:
            setattr(obj, model_field.attname, getattr(rule, model_field.attname))

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ApplicationError, ValidationError) as exc:
            # A clash that appeared between the form's check and the locked save.
            text = exc.message if isinstance(exc, ApplicationError) else "; ".join(exc.messages)
            self.message_user(request, f"Not saved: {text}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # Bulk actions ----------------------------------------------------------------------------

    def _set_active(self, request: HttpRequest, queryset: QuerySet, active: bool) -> None:
        result = masking_rules_set_active(rules=queryset.select_related("masking_number", "session"), active=active)
        verb = "activated" if active else "deactivated"
        self.message_user(
            request, f"{result.changed} rule(s) {verb}, {result.unchanged} already {verb}.", messages.SUCCESS
        )
        for error in result.errors:
            self.message_user(request, error, messages.ERROR)

    @admin.action(description="Activate selected rules", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_active(request, queryset, True)

    @admin.action(description="Deactivate selected rules (a session's rule closes its session)", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_active(request, queryset, False)

    # Tools: CSV import, test a call, simulated call -----------------------------------------

    def get_urls(self) -> list[URLPattern]:
        tools = [
            path("import/", self.admin_site.admin_view(self.import_view), name="masking_maskingrule_import"),
            path("test-call/", self.admin_site.admin_view(self.test_call_view), name="masking_maskingrule_test_call"),
            path(
                "simulate-call/",
                self.admin_site.admin_view(self.simulate_call_view),
                name="masking_maskingrule_simulate_call",
            ),
        ]
        return tools + super().get_urls()

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "sandbox_in_use": sandbox_control_url() is not None}
        return super().changelist_view(request, extra_context)

    def _tool_context(self, request: HttpRequest, title: str, **context: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "sandbox_in_use": sandbox_control_url() is not None,
            "time_zone": settings.TIME_ZONE,
            **context,
        }

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        report = None
        form = CsvImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                report = masking_rules_import_csv(file=form.cleaned_data["file"], created_by=request.user)
            except CsvFileError as exc:
                form.add_error("file", str(exc))
            else:
                level = messages.SUCCESS if not report.errors else messages.WARNING
                self.message_user(
                    request,
                    f"{len(report.created)} rule(s) imported, {len(report.errors)} row(s) refused.",
                    level,
                )
        context = self._tool_context(request, "Import masking rules from CSV", form=form, report=report)
        return TemplateResponse(request, "admin/masking/maskingrule/import_csv.html", context)

    def test_call_view(self, request: HttpRequest) -> HttpResponse:
        """Whom a caller dialling a masking number reaches, by the endpoint's own selector."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = CallCheckForm(request.GET if "masking_number" in request.GET else None)
        result: dict[str, Any] | None = None
        if form.is_valid():
            caller = form.cleaned_data["caller"]
            at = form.cleaned_data["at"] or timezone.now()
            resolution = masking_resolve(caller=caller, masking_number=form.cleaned_data["masking_number"], at=at)
            rules = (
                list(masking_rules_for_caller(caller=caller, masking_number=form.cleaned_data["masking_number"])[:20])
                if caller
                else []
            )
            result = {
                "resolution": resolution,
                "outcome_label": ResolutionLog.Outcome(resolution.outcome).label,
                "at": at,
                "rules": [(rule, rule.state_at(at)) for rule in rules],
            }
        context = self._tool_context(request, "Test a call", form=form, result=result)
        return TemplateResponse(request, "admin/masking/maskingrule/test_call.html", context)

    @staticmethod
    def _resolutions_of(call_id: str, wait: float = 1.0) -> list[ResolutionLog]:
        """Our endpoint's log rows for the call. They are written just after its answer went out,
        so one may land a moment after the sandbox reported back: look again briefly."""
        deadline = time.monotonic() + wait
        while True:
            rows = list(ResolutionLog.objects.filter(call_id=call_id).order_by("pk")[:5])
            if rows or time.monotonic() >= deadline:
                return rows
            time.sleep(0.05)

    def simulate_call_view(self, request: HttpRequest) -> HttpResponse:
        """Place a simulated masked call through the sandbox and show whom it reached."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if sandbox_control_url() is None:
            self.message_user(request, "Simulated calls are available only with the Smartflo sandbox.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:masking_maskingrule_changelist"))
        # Prefilled with the first active rule, so a first try connects (seed_demo makes one).
        example = MaskingRule.objects.filter(active=True).order_by("pk").first()
        initial = {"caller": example.party_a, "masking_number": example.masking_number_id} if example else {}
        form = SimulatedCallForm(request.POST or None, initial=initial)
        call = None
        answers: list[ResolutionLog] = []
        if request.method == "POST" and form.is_valid():
            try:
                call = masking_simulated_call_place(
                    caller=form.cleaned_data["caller"], masking_number=form.cleaned_data["masking_number"]
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                if call.call_id:
                    answers = self._resolutions_of(call.call_id)
        context = self._tool_context(request, "Place a simulated masked call", form=form, call=call, answers=answers)
        return TemplateResponse(request, "admin/masking/maskingrule/simulate_call.html", context)


# --- Sessions --------------------------------------------------------------------------------


@admin.register(MaskingSession)
class MaskingSessionAdmin(PhoneSearchMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "masking_number",
        "party_a",
        "party_b",
        "status_now",
        "expires_at",
        "closed_at",
        "reference",
        "created_by",
    )
    list_select_related = ("masking_number", "created_by")
    list_filter = ("status",)
    search_fields = ("party_a", "party_b", "masking_number__number", "reference")
    phone_search_fields = ("party_a", "party_b", "masking_number__number")
    readonly_fields = (
        "masking_number",
        "party_a",
        "party_b",
        "status",
        "expires_at",
        "closed_at",
        "close_reason",
        "reference",
        "rule",
        "created_by",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields
    actions = ("close",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sessions are allocated by the API (POST /api/v1/masking/sessions/)

    @admin.display(description="status", ordering="status")
    def status_now(self, session: MaskingSession) -> str:
        return session.status_at(timezone.now())

    @admin.action(description="Close selected sessions now", permissions=["change"])
    def close(self, request: HttpRequest, queryset: QuerySet) -> None:
        closed = 0
        for session in queryset.filter(status=MaskingSession.Status.ACTIVE):
            try:
                masking_session_close(session=session, reason=f"closed by {request.user.get_username()} (admin)")
            except ApplicationError as exc:
                self.message_user(request, f"Session #{session.pk}: {exc.message}", messages.ERROR)
            else:
                closed += 1
        self.message_user(request, f"{closed} session(s) closed.", messages.SUCCESS)


# --- Resolution log --------------------------------------------------------------------------


@admin.register(ResolutionLog)
class ResolutionLogAdmin(PhoneSearchMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "outcome",
        "caller",
        "dialled_number",
        "answer",
        "fallback",
        "status_code",
        "rule_link",
        "latency_ms",
        "call_id",
    )
    list_filter = ("outcome", "fallback", "status_code", "method")
    search_fields = ("=call_id", "=uuid", "caller", "dialled_number")
    phone_search_fields = ("caller", "dialled_number")
    show_full_result_count = False  # the log is large: no second COUNT(*) per page

    @admin.display(description="rule", ordering="matched_rule_id")
    def rule_link(self, entry: ResolutionLog) -> str:
        if entry.matched_rule_id is None:
            return "–"
        url = reverse("admin:masking_maskingrule_change", args=[entry.matched_rule_id])
        return format_html('<a href="{}">#{}</a>', url, entry.matched_rule_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ResolutionLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ResolutionLog | None = None) -> bool:
        return False  # an audit trail: rows leave by retention (MASKING_RESOLUTION_LOG_DAYS) or erasure
