"""The resolve endpoint (Smartflo's API Dialplan) in the OpenAPI schema.

`masking_resolve_api` is a plain Django view on purpose (the hot path of every masked call), so
drf-spectacular cannot see it; this post-processing hook documents it by hand, next to the
generated operations. Keep it in step with masking/dialplan.py.
"""

from __future__ import annotations

from typing import Any

PATH = "/api/v1/masking/resolve/"
ERROR = {"$ref": "#/components/schemas/Error"}

_VARIABLES = {
    "uuid": "Smartflo's id of this leg.",
    "call_id": "Smartflo's call id (`1715235734.129662`).",
    "call_to_number": "The masking number the caller dialled (`+91-8069000111`, any Indian form).",
    "caller_id_number": "The caller's number; `anonymous`, `private`, `unknown` ... when withheld.",
    "start_stamp": "When the call started (`YYYY-MM-DD HH:MM:SS`, IST).",
}
_REQUIRED = ["call_to_number", "caller_id_number"]

_SECURITY_SCHEMES = {
    "maskingBearer": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <MASKING_API_TOKEN>`"},
    "maskingApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "MASKING_API_TOKEN"},
    "maskingQueryToken": {"type": "apiKey", "in": "query", "name": "token", "description": "MASKING_API_TOKEN"},
}

_TRANSFER = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": {
        "type": "object",
        "required": ["transfer"],
        "properties": {
            "transfer": {
                "type": "object",
                "required": ["type", "data"],
                "properties": {
                    "type": {"type": "string", "enum": ["number"]},
                    "data": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 1,
                        "items": {"type": "string", "description": "The 10-digit number to connect."},
                    },
                },
            }
        },
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _responses() -> dict[str, Any]:
    return {
        "200": {"description": "Connect the caller to this number.", "content": _json(_TRANSFER)},
        "400": {
            "description": "Not an API Dialplan request (`code` `invalid`; `extra.fields` says what is wrong).",
            "content": _json(ERROR),
        },
        "401": {
            "description": "Missing or wrong MASKING_API_TOKEN.",
            "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
            "content": _json(ERROR),
        },
        "404": {
            "description": "No rule routes this call and no MASKING_FALLBACK_NUMBER is set (`code` `no_route`): "
            "Smartflo runs the number's failover destination.",
            "content": _json(ERROR),
        },
    }


def _operation(method: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": f"masking_resolve_{method}",
        "summary": "Whom a call to a masking number goes to (Smartflo's API Dialplan)",
        "description": "Smartflo asks during a live inbound call. Any answer other than 200 makes Smartflo "
        "run the dialled number's failover destination.",
        "tags": ["masking"],
        "security": [{name: []} for name in _SECURITY_SCHEMES],
        "responses": _responses(),
    }
    if method == "get":
        operation["parameters"] = [
            {
                "name": name,
                "in": "query",
                "required": name in _REQUIRED,
                "description": description,
                "schema": {"type": "string"},
            }
            for name, description in _VARIABLES.items()
        ]
    else:
        body = {
            "type": "object",
            "required": _REQUIRED,
            "properties": {
                name: {"type": "string", "description": description, "nullable": name == "caller_id_number"}
                for name, description in _VARIABLES.items()
            },
        }
        operation["requestBody"] = {
            "required": True,
            "content": {media: {"schema": body} for media in ("application/json", "application/x-www-form-urlencoded")},
        }
    return operation


def document_masking_resolve(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry: add the resolve endpoint to the schema."""
    result.setdefault("paths", {})[PATH] = {"get": _operation("get"), "post": _operation("post")}
    components = result.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(_SECURITY_SCHEMES)
    return result
