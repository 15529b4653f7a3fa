"""A stateful fake of the Tata Smartflo HTTP API, for local runs, demos and tests.

    from sandbox.server import SandboxServer
    srv = SandboxServer(port=0).start()   # srv.base_url -> "http://127.0.0.1:<port>/v1"

Standalone: Python's standard library and httpx only. See docs/sandbox.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.server import SandboxServer

__all__ = ["SandboxServer"]


def __getattr__(name: str) -> Any:
    # Lazy, so `python -m sandbox` and the pytest plugin import only what they use.
    if name == "SandboxServer":
        from sandbox.server import SandboxServer

        return SandboxServer
    raise AttributeError(name)
