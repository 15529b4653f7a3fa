"""OTP reads. Nothing here loads a code's hash or sealed form."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from otp.models import OtpChallenge, OtpProviderRequest

_SECRET_FIELDS = ("code_hash", "code_sealed")


def _provider_request_count() -> Coalesce:
    """A correlated subquery rather than a JOIN + GROUP BY, so the paginator's COUNT stays plain."""
    per_challenge = (
        OtpProviderRequest.objects.filter(challenge=OuterRef("pk"))
        .order_by()
        .values("challenge")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(per_challenge, output_field=IntegerField()), Value(0))


def otp_challenge_list(*, state: str = "", phone: str = "") -> QuerySet[OtpChallenge]:
    """Challenges newest first, with their client and provider request count, for the log page.

    `phone` is an E.164 number (exact match); `state` one of OtpState's values.
    """
    challenges = (
        OtpChallenge.objects.defer(*_SECRET_FIELDS)
        .select_related("requested_by")
        .annotate(provider_request_count=_provider_request_count())
        .order_by("-created_at", "-pk")
    )
    if state:
        challenges = challenges.filter(state=state)
    if phone:
        challenges = challenges.filter(phone=phone)
    return challenges


def otp_challenge_get(*, challenge_id: str) -> OtpChallenge | None:
    """One challenge with its provider requests (oldest first) prefetched."""
    return (
        OtpChallenge.objects.defer(*_SECRET_FIELDS)
        .select_related("requested_by")
        .prefetch_related("provider_requests")
        .filter(pk=challenge_id)
        .first()
    )
