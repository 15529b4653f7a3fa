from django import forms


class AgentCreateForm(forms.Form):
    """Only shapes the input; every rule (required name, valid number, free intercom...) is
    checked by agents.services.agent_validate_new, so the form and the API report the same
    errors, all at once."""

    name = forms.CharField(max_length=150, required=False)
    follow_me_number = forms.CharField(
        label="Mobile number",
        max_length=32,
        required=False,
        help_text="The phone Smartflo rings, e.g. 98765 43210 or +91 98765 43210.",
    )
    intercom = forms.CharField(max_length=8, required=False, help_text="Optional unique 4-digit extension, e.g. 1004.")
    username = forms.CharField(
        max_length=150, required=False, help_text="Optional: give the agent a sign-in to this application."
    )
    password = forms.CharField(widget=forms.PasswordInput, required=False)
