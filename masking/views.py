"""Pages of the masking app. Masking is managed in the admin; /masking/ leads there."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse


@staff_member_required
def masking_home(request: HttpRequest) -> HttpResponseRedirect:
    """Staff land on the masking rules in the admin (with "Test a call" and the CSV import)."""
    return HttpResponseRedirect(reverse("admin:masking_maskingrule_changelist"))
