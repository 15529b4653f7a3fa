"""`python -m sandbox`: run the Smartflo sandbox until Ctrl-C (or SIGTERM).

Every option can also come from an environment variable (SANDBOX_<OPTION>, e.g. SANDBOX_PORT).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sandbox.config import DEFAULT_TOKEN
from sandbox.errors import SandboxError
from sandbox.server import SandboxServer

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _env(name: str, default: Any = None, cast: Callable[[str], Any] = str) -> Any:
    value = os.environ.get(f"SANDBOX_{name}")
    return default if value in (None, "") else cast(value)


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Stateful Smartflo API sandbox.")
    add = parser.add_argument
    add("--host", default=_env("HOST", "127.0.0.1"), help="bind address (default loopback) [SANDBOX_HOST]")
    add("--port", type=int, default=_env("PORT", 8900, int), help="port, 0 = any free one [SANDBOX_PORT]")
    add("--token", default=_env("TOKEN", DEFAULT_TOKEN), help="API token [SANDBOX_TOKEN]")
    add("--webhook-url", default=_env("WEBHOOK_URL"), help="where call events are posted [SANDBOX_WEBHOOK_URL]")
    add("--webhook-token", default=_env("WEBHOOK_TOKEN"), help="sent as X-Webhook-Token [SANDBOX_WEBHOOK_TOKEN]")
    add("--dialplan-url", default=_env("DIALPLAN_URL"), help="API Dialplan endpoint [SANDBOX_DIALPLAN_URL]")
    add("--dialplan-token", default=_env("DIALPLAN_TOKEN"), help="sent as Bearer [SANDBOX_DIALPLAN_TOKEN]")
    add(
        "--dialplan-timeout",
        type=float,
        default=_env("DIALPLAN_TIMEOUT", 3.0, float),
        help="[SANDBOX_DIALPLAN_TIMEOUT]",
    )
    add("--c2c-api-key", default=_env("C2C_API_KEY", "sandbox-c2c-key"), help="[SANDBOX_C2C_API_KEY]")
    add("--otp-lead-id", default=_env("OTP_LEAD_ID", "sandbox-lead"), help="[SANDBOX_OTP_LEAD_ID]")
    add("--ring-seconds", type=float, default=_env("RING_SECONDS", 2.0, float), help="[SANDBOX_RING_SECONDS]")
    add("--talk-seconds", type=float, default=_env("TALK_SECONDS", 20.0, float), help="[SANDBOX_TALK_SECONDS]")
    add("--hang-seconds", type=float, default=_env("HANG_SECONDS", 30.0, float), help="[SANDBOX_HANG_SECONDS]")
    add("--seed", type=int, default=_env("SEED", 0, int), help="random seed [SANDBOX_SEED]")
    add("--faults", default=_env("FAULTS"), help="JSON list of fault objects [SANDBOX_FAULTS]")
    add("--records", type=int, default=_env("RECORDS", 0, int), help="generate N records over the last 7 days")
    add("--no-seed-agents", action="store_true", default=_env("NO_SEED_AGENTS", False, _flag))
    add("--verbose", "-v", action="store_true", default=_env("VERBOSE", False, _flag), help="log every request")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    if args.host not in LOOPBACK:
        print(f"warning: binding {args.host}: the sandbox has no real security", file=sys.stderr)
    server = SandboxServer(
        host=args.host,
        port=args.port,
        token=args.token,
        webhook_url=args.webhook_url,
        webhook_token=args.webhook_token,
        dialplan_url=args.dialplan_url,
        dialplan_token=args.dialplan_token,
        c2c_api_key=args.c2c_api_key,
        otp_lead_id=args.otp_lead_id,
        ring_seconds=args.ring_seconds,
        talk_seconds=args.talk_seconds,
        dialplan_timeout=args.dialplan_timeout,
        hang_seconds=args.hang_seconds,
        seed=args.seed,
        seed_agents=not args.no_seed_agents,
    )
    try:
        faults = json.loads(args.faults) if args.faults else []
        for fault in faults if isinstance(faults, list) else [faults]:
            server.add_fault(**fault)
    except (json.JSONDecodeError, TypeError, SandboxError) as exc:
        print(f"error: bad --faults: {exc}", file=sys.stderr)
        return 2
    try:
        server.start()
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    if args.records:  # once listening: the records' recording URLs carry the bound address
        try:
            server.generate_records(count=args.records, seed=args.seed)
        except SandboxError as exc:
            server.stop()
            print(f"error: bad --records: {exc}", file=sys.stderr)
            return 2
    print(f"Smartflo sandbox at {server.base_url} (control: {server.control_url}, token: {args.token})", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
