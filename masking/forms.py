"""Forms of the masking admin: rules and numbers, CSV import, and the two call tools."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from contactcenter.phones import InvalidPhoneNumber, to_e164
from masking.models import MaskingNumber, MaskingRule
from masking.selectors import masking_route_clash
from masking.services import masking_number_clean, masking_rule_clean


class PhoneField(forms.CharField):
    """Accepts what people type (`98765 43210`, `+91-98765-43210`, `098...`); cleans to E.164."""

    def __init__(self, *, indian: bool = False, **kwargs: Any) -> None:
        self.indian = indian
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        if not text:
            return text
        try:
            number = to_e164(text, strict=self.indian)  # a caller id is what the network sends
        except InvalidPhoneNumber as exc:
            raise ValidationError(str(exc)) from exc
        if self.indian and not number.startswith("+91"):
            raise ValidationError("An Indian number is needed here.")
        return number


class MaskingNumberAdminForm(forms.ModelForm):
    number = PhoneField(indian=True, help_text="As you like: +91 80690 00111, 08069000111...")

    class Meta:
        model = MaskingNumber
        fields = ["number", "label", "active", "pooled"]

    def clean_number(self) -> str:
        number = self.cleaned_data["number"]
        if self.instance._state.adding:  # a new one (its key, the number, is never empty): the service's checks
            try:
                return masking_number_clean(number=number)
            except ValidationError as exc:
                raise ValidationError(exc.message_dict["number"]) from None
        return number


class MaskingRuleAdminForm(forms.ModelForm):
    """The rule's fields, with the masking number typed (a new one is registered).

    Validation is the service's (`masking_rule_clean`) plus a preview of clashes; the save goes
    through `masking_rule_create` / `masking_rule_update`, which re-check under a lock.
    """

    masking_number = forms.CharField(
        max_length=32, help_text="The DID callers dial. A number not yet listed is added (outside the pool)."
    )

    class Meta:
        model = MaskingRule
        fields = ["party_a", "party_b", "two_way", "valid_from", "valid_until", "active", "reference"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["masking_number"] = self.instance.masking_number.number

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        needed = ("masking_number", "party_a", "party_b")
        if any(name in self.errors for name in needed):
            return data
        try:
            cleaned = masking_rule_clean(
                masking_number=data.get("masking_number"),
                party_a=data.get("party_a"),
                party_b=data.get("party_b"),
                two_way=data.get("two_way", False),
                valid_from=data.get("valid_from"),
                valid_until=data.get("valid_until"),
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
            return data
        data.update(cleaned)
        if data.get("active"):
            callers = [cleaned["party_a"]] + ([cleaned["party_b"]] if cleaned["two_way"] else [])
            clash = masking_route_clash(
                masking_number=cleaned["masking_number"],
                callers=callers,
                at=timezone.now(),
                exclude_rule_id=self.instance.pk,
            )
            if clash is not None:
                name = "party_a" if clash.caller == cleaned["party_a"] else "party_b"
                self.add_error(
                    name,
                    f"{clash.caller} dialling this number already reaches {clash.callee} "
                    f"(rule #{clash.rule_id}): deactivate that rule first.",
                )
        return data

    def rule_values(self) -> dict[str, Any]:
        """What the services take."""
        names = ("masking_number", "party_a", "party_b", "two_way", "valid_from", "valid_until", "active", "reference")
        return {name: self.cleaned_data.get(name) for name in names}


class CsvImportForm(forms.Form):
    file = forms.FileField(
        help_text="UTF-8 CSV with a header: masking_number, party_a, party_b and optionally two_way, "
        "valid_from, valid_until, active, reference."
    )


class CallCheckForm(forms.Form):
    caller = forms.CharField(
        max_length=32, required=False, help_text="The caller id as Smartflo would send it; blank = withheld."
    )
    masking_number = PhoneField(help_text="The masking number dialled.")
    at = forms.DateTimeField(
        required=False, help_text="When (YYYY-MM-DD HH:MM, your time zone); blank = now.", label="At"
    )

    def clean_caller(self) -> str | None:
        text = self.cleaned_data["caller"].strip()
        if not text:
            return None
        try:
            return to_e164(text, strict=False)  # as Smartflo would send it
        except InvalidPhoneNumber as exc:
            raise ValidationError(str(exc)) from exc


class SimulatedCallForm(forms.Form):
    caller = PhoneField(help_text="Who calls (any number; the sandbox sends it as +91XXXXXXXXXX).")
    masking_number = PhoneField(indian=True, help_text="The masking number they dial.")
