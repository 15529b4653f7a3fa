"""Errors raised by sandbox operations; the HTTP layer renders them as Smartflo error bodies."""

from __future__ import annotations


class SandboxError(Exception):
    """A refused request: rendered as `{"success": false, "message": ...}` with `status`."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class BadRequest(SandboxError):
    status = 400


class Unauthorized(SandboxError):
    status = 401


class NotFound(SandboxError):
    status = 404
