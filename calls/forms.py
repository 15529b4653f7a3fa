from django import forms

from calls.models import Disposition


class DialForm(forms.Form):
    destination_number = forms.CharField(
        label="Customer number",
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "98765 43210", "inputmode": "tel", "autocomplete": "off"}),
    )


class WrapUpForm(forms.Form):
    disposition = forms.ModelChoiceField(queryset=Disposition.objects.filter(active=True), required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)


class TransferForm(forms.Form):
    agent = forms.IntegerField()
