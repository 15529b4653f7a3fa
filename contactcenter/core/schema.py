"""The OpenAPI schema documents every answer an operation can give, errors included.

Every API error leaves as `{"code", "message", "extra"}` (contactcenter.core.exceptions), so the
schema documents them in that one shape. The errors any operation of a kind can answer with are
added here (ApiAutoSchema); those that depend on what an operation does (409 on a state
conflict, 429, 502/503/504 when it asks Smartflo) are declared on the view with
`error_responses(...)`.
"""

from __future__ import annotations

import uritemplate
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API."""

    code = serializers.CharField(help_text="Stable and machine-readable: branch on this.")
    message = serializers.CharField(help_text="For people; the wording may change.")
    extra = serializers.DictField(
        help_text="Details: `fields` (field name -> messages) for invalid input, `retry_after` when throttled, "
        "`provider_message` when Smartflo refused ..."
    )


ERROR_DESCRIPTIONS = {
    400: "Invalid input (`code` `invalid`; `extra.fields` names each field and what is wrong).",
    401: "Not authenticated: send `Authorization: Token <key>` or sign in.",
    403: "Not allowed for this sign-in (or a signed-in browser request without its CSRF token).",
    404: "No such object, or not one this sign-in may see (also a page number past the last page).",
    409: "Conflicts with the object's current state; `code` says how.",
    415: "The request body's content type is not JSON, a form or multipart.",
    422: "The Idempotency-Key was already used for a different request.",
    429: "Throttled: `Retry-After` (and `extra.retry_after`) says how many seconds to wait.",
    502: "Smartflo refused the request (`extra.provider_message` has its words) or our credentials.",
    503: "Smartflo is unreachable or overloaded: try again shortly.",
    504: (
        "The request may have reached Smartflo but no usable answer came back (no answer in time, a server"
        " error, a broken connection), so the outcome is unknown: check before trying again."
    ),
}

#: What an operation that asks Smartflo while the client waits can answer when Smartflo fails.
SMARTFLO_ERRORS = (502, 503, 504)


def error_response(status: int, description: str | None = None) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description or ERROR_DESCRIPTIONS[status])


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """`{status: error response}` for `@extend_schema(responses={200: ..., **error_responses(409)})`."""
    return {status: error_response(status) for status in statuses}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus the error answers implied by how an operation is
    reached: its input (400, 415), its permissions (401, 403), its path parameters or
    pagination (400 for a bad page number, 404 past the last). A view's own declaration of a
    status wins."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in self._implied_error_statuses():
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    error_response(status), str(status), direction=direction
                )
        return dict(sorted(responses.items()))

    def _implied_error_statuses(self) -> list[int]:
        statuses = []
        if self.method not in SAFE_METHODS and self.get_request_serializer() is not None:
            statuses += [400, 415]  # unparsable or invalid body, unsupported content type
        permissions = self.view.get_permissions()
        if any(not isinstance(p, AllowAny) for p in permissions):
            statuses.append(401)
            session = any(isinstance(a, SessionAuthentication) for a in self.view.get_authenticators())
            # A tuple, not `AllowAny | IsAuthenticated`: DRF overloads `|` on permission classes.
            beyond_sign_in = any(not isinstance(p, (AllowAny, IsAuthenticated)) for p in permissions)
            if beyond_sign_in or (session and self.method not in SAFE_METHODS):  # a role, or CSRF
                statuses.append(403)
        paginated = self._is_list_view() and self._get_paginator() is not None
        if paginated and 400 not in statuses:
            statuses.append(400)  # `page` or `page_size` that is not a positive whole number
        if uritemplate.variables(self.path) or paginated:
            statuses.append(404)
        return sorted(statuses)
