"""Framework-free request/response types and a tiny path router."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from sandbox.errors import BadRequest


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)  # from the route pattern
    repeat_rows: float = 0.0  # set by the fault layer for `GET /call/records`

    def arg(self, name: str) -> str | None:
        """The last value of query parameter `name`."""
        values = self.query.get(name)
        return values[-1] if values else None

    def json_body(self) -> Any:
        """The parsed body (JSON, or a form); None if empty; BadRequest if malformed."""
        if not self.body.strip():
            return None
        if self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}
        try:
            return json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BadRequest("Malformed JSON body") from None

    def json_object(self, *, required: bool = True) -> dict[str, Any]:
        """The body as a JSON object; an empty body is `{}` unless `required`."""
        data = self.json_body()
        if data is None and not required:
            return {}
        if not isinstance(data, dict):
            raise BadRequest("Request body must be a JSON object")
        return data

    def logged_body(self) -> tuple[Any, str | None]:
        """(parsed JSON or None, raw text when the body is not JSON) for the request log."""
        if not self.body:
            return None, None
        try:
            return json.loads(self.body), None
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None, self.body.decode("utf-8", "replace")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status=status, body=json.dumps(data).encode(), headers=headers or {})


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"success": False, "message": message}, status, headers)


Handler = Callable[[Request], Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    name: str


class Router:
    """Routes `(method, path)` to handlers. `{name}` in a pattern captures one path segment."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler, name: str = "") -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern.rstrip("/") or "/")
        self._routes.append(Route(method, re.compile(f"{regex}/?"), handler, name))

    def resolve(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path params, whether the path exists for some other method)."""
        other_method = False
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if match is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, match.groupdict(), False
            other_method = True
        return None, {}, other_method

    def name_of(self, method: str, path: str) -> str | None:
        route, _, _ = self.resolve(method, path)
        return route.name if route else None
