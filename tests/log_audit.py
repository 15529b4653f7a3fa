"""Log audit: no log line the test suite makes the application write may carry a phone number,
a secret, a token or an OTP code. A pytest plugin, loaded from tests/conftest.py.

What it audits is what the application would really write, not the raw records:

* An audit handler sits next to every handler configured in settings.LOGGING, on each logger
  that holds one: the root logger, and loggers that do not propagate (`django`, `django.server`,
  and any added later). For each record it renders a copy exactly as the real handler would:
  the real handler's level, its own filters (the RedactingFilter), then its formatter. The
  original record is left untouched. Rendered lines are kept per test in a bounded buffer and
  scanned when the test ends (or whenever the buffer fills).
* Log files written by processes the tests start (Celery workers log with `-f` into the test's
  `tmp_path`) are scanned when the test ends; any other `*.log` under pytest's base temporary
  directory when the session ends. (The sandbox runs in-process, so its lines are audited like
  the app's; the sandbox CLI tests read its stderr through pipes, which are not log files.)

What counts as a leak in a line:

* a 10-digit Indian mobile number, bare or with a `+91`, `91`, `0` or `%2B91` prefix, and with
  the usual spaces or dashes (`98765 43210`, `987-654-3210`); masked forms (`+91******3210`) are not;
* a configured secret (SECRET_KEY, SMARTFLO_API_TOKEN, SMARTFLO_WEBHOOK_TOKEN, MASKING_API_TOKEN,
  OTP_C2C_API_KEY, OTP_HASH_KEY, as set when the line was written) or the sandbox's token;
* a token the suite generated: every DRF API key (`Token.generate_key`) and session key;
* an OTP code the suite generated (every value `otp.codes.generate_code` returned), as a whole
  number, in the lines of the test that generated it. Codes are matched within their own test
  only: over a whole run, a random 6-digit code would sooner or later equal some unrelated
  number another test prints.

Generated values are recorded by wrapping their generators for the session. caplog is not
output: a test may assert on raw records. At the end of the session every leak is reported
(test id, logger or file, the line with the leaked value masked) and the run fails.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

OUTSIDE_TESTS = "(outside any test)"
SECRET_SETTINGS = (
    "SECRET_KEY",
    "SMARTFLO_API_TOKEN",
    "SMARTFLO_WEBHOOK_TOKEN",
    "MASKING_API_TOKEN",
    "OTP_C2C_API_KEY",
    "OTP_HASH_KEY",
)
MIN_SECRET_LENGTH = 6  # shorter configured values are placeholders that words would match
BUFFER_LINES = 5_000  # lines held before an early scan; a test's lines are scanned at its end anyway
MAX_REPORTED = 200  # leaks kept for the report (all of them are counted)
MAX_FILE_BYTES = 20_000_000  # a log file is scanned up to this size

# A 10-digit Indian mobile number (it starts with 6-9), typed in any of the usual ways. It must
# stand alone: not inside a longer run of letters or digits (hashes, ids), and not glued to a
# dot and digits (Smartflo call ids look like 1715235734.129662; decimals).
_PREFIX = r"(?:(?:\+|%2[bB])91[ \-]?|91[ \-]?|0)?"
_MOBILE = r"(?:[6-9]\d{9}|[6-9]\d{4}[ \-]\d{5}|[6-9]\d{2}[ \-]\d{3}[ \-]\d{4})"
PHONE = re.compile(rf"(?<![0-9A-Za-z])(?<!\d\.){_PREFIX}{_MOBILE}(?![0-9A-Za-z]|\.\d)")
# Generated tokens (DRF keys: 40 hex digits; session keys: 32 letters and digits) are words:
# a line is split into candidate words, each looked up, so thousands of tokens cost nothing.
_WORD = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{16,64}(?![0-9A-Za-z])")


@dataclass(frozen=True)
class Leak:
    test: str
    source: str  # the logger's name, or the log file
    kinds: tuple[str, ...]
    line: str  # with the leaked values masked


@dataclass(frozen=True)
class Finding:
    kind: str  # "phone number", "secret SMARTFLO_API_TOKEN", "OTP code", "DRF token", ...
    value: str
    mask: str


@dataclass
class Rules:
    """What must not appear: {secret value: label}, OTP codes, {generated token: label}."""

    secrets: Mapping[str, str] = field(default_factory=dict)
    codes: Iterable[str] = ()
    tokens: Mapping[str, str] = field(default_factory=dict)


# --- Detection --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _standalone(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![0-9A-Za-z])(?<!\d\.){re.escape(value)}(?![0-9A-Za-z]|\.\d)")


def _mask_phone(value: str) -> str:
    digits = sum(ch.isdigit() for ch in value)
    seen, out = 0, []
    for ch in value:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - 2 else "*")
        else:
            out.append(ch)
    return "".join(out)


def find_leaks(text: str, rules: Rules | None = None) -> list[Finding]:
    """Everything in `text` that must never reach a log."""
    rules = rules or Rules()
    found = [Finding("phone number", m.group(0), _mask_phone(m.group(0))) for m in PHONE.finditer(text)]
    for value, label in rules.secrets.items():
        if value and len(value) >= MIN_SECRET_LENGTH and value in text and _standalone(value).search(text):
            found.append(Finding(f"secret {label}", value, f"<{label}>"))
    for code in rules.codes:
        if code in text and _standalone(code).search(text):
            found.append(Finding("OTP code", code, "<OTP code>"))
    if rules.tokens:
        for word in _WORD.findall(text):
            if word in rules.tokens:
                found.append(Finding(rules.tokens[word], word, f"<{rules.tokens[word]}>"))
    return found


def masked(text: str, findings: Iterable[Finding]) -> str:
    """`text` with every leaked value replaced by its mask (longest values first)."""
    for finding in sorted(findings, key=lambda f: -len(f.value)):
        text = text.replace(finding.value, finding.mask)
    return text


# --- The auditor ---------------------------------------------------------------------------------


@dataclass
class _Entry:
    test: str
    source: str
    text: str
    secrets: dict[str, str]  # configured when the line was written (one shared dict while unchanged)


class AuditHandler(logging.Handler):
    """Attached to a logger next to its real handlers: renders each record as each real handler
    would (level, filters, formatter), on a copy, and hands the line to the auditor."""

    def __init__(self, auditor: LogAuditor, logger: logging.Logger) -> None:
        super().__init__(level=logging.NOTSET)
        self.auditor = auditor
        self.logger = logger

    def emit(self, record: logging.LogRecord) -> None:
        for real in list(self.logger.handlers):
            if real is self or real.get_name() not in self.auditor.handler_names or record.levelno < real.level:
                continue
            rendered = copy.copy(record)
            try:
                kept = real.filter(rendered)
                if not kept:
                    continue
                if isinstance(kept, logging.LogRecord):  # Python 3.12+: a filter may return a new record
                    rendered = kept
                line = (real.formatter or logging.Formatter()).format(rendered)
            except Exception as exc:  # the real handler would print an error instead: note it
                line = f"(log audit: cannot render a {record.name} record: {exc!r})"
            self.auditor.collect(record.name, line)


@dataclass
class LogAuditor:
    """Collects rendered log lines per test and scans them. `handler_names` name the real
    handlers (the keys of settings.LOGGING["handlers"]); `secret_source` returns the secrets
    configured at the moment ({value: label}). A line is checked for the secrets configured when
    it was written (a test may set a token to a common word for a while) and for `baseline_secrets`
    (those of the session); a log file, for every secret its test configured."""

    handler_names: frozenset[str] = frozenset()
    secret_source: Callable[[], dict[str, str]] = dict
    baseline_secrets: dict[str, str] = field(default_factory=dict)
    buffer_lines: int = BUFFER_LINES
    current_test: str = OUTSIDE_TESTS
    leaks: list[Leak] = field(default_factory=list)
    leak_count: int = 0
    lines_seen: int = 0
    files_scanned: int = 0
    codes: dict[str, set[str]] = field(default_factory=dict)  # test -> the OTP codes generated in it
    tokens: dict[str, str] = field(default_factory=dict)  # generated token -> its label
    _buffer: list[_Entry] = field(default_factory=list)
    _secrets: dict[str, dict[str, str]] = field(default_factory=dict)  # test -> every {value: label} it had
    _last_secrets: dict[str, str] = field(default_factory=dict)
    _handlers: dict[int, AuditHandler] = field(default_factory=dict)  # id(logger) -> its audit handler
    _scanned_files: set[Path] = field(default_factory=set)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # Wiring.
    def attach(self) -> None:
        """An audit handler on every logger that holds a real handler. Idempotent: it runs again
        before every test, in case a test reconfigured logging."""
        loggers = [logging.getLogger()] + [
            logger for logger in list(logging.Logger.manager.loggerDict.values()) if isinstance(logger, logging.Logger)
        ]
        for logger in loggers:
            if not any(handler.get_name() in self.handler_names for handler in logger.handlers):
                continue
            audit = self._handlers.get(id(logger))
            if audit is None or audit.logger is not logger:
                audit = self._handlers[id(logger)] = AuditHandler(self, logger)
            if audit not in logger.handlers:
                logger.addHandler(audit)

    def detach(self) -> None:
        for audit in self._handlers.values():
            audit.logger.removeHandler(audit)
        self._handlers.clear()

    def record_code(self, code: str) -> None:
        with self._lock:
            self.codes.setdefault(self.current_test, set()).add(code)

    def token_recorder(self, label: str) -> Callable[[str], None]:
        def record(token: str) -> None:
            with self._lock:
                self.tokens[token] = label

        return record

    # Collection.
    def collect(self, source: str, text: str) -> None:
        secrets = self.secret_source()
        with self._lock:
            self.lines_seen += 1
            if secrets != self._last_secrets:
                self._last_secrets = secrets
                self._secrets.setdefault(self.current_test, {}).update(secrets)
            self._buffer.append(_Entry(self.current_test, source, text, self._last_secrets))
            if len(self._buffer) >= self.buffer_lines:
                self.flush()

    def pending_lines(self, test: str) -> list[str]:
        """The lines of `test` collected and not yet scanned (a test can look at its own)."""
        with self._lock:
            return [entry.text for entry in self._buffer if entry.test == test]

    def start_test(self, test: str) -> None:
        with self._lock:
            self.flush()
            self.current_test = test
            self._secrets[test] = dict(self._last_secrets)

    def end_test(self) -> None:
        with self._lock:
            self.flush()
            self._secrets.clear()
            self.current_test = OUTSIDE_TESTS

    # Scanning.
    def rules(self, test: str, *, secrets: dict[str, str] | None = None, all_codes: bool = False) -> Rules:
        """What lines of `test` must not contain; `secrets`: those configured when the line was
        written (default: every one the test configured)."""
        with self._lock:
            secrets = {**self.baseline_secrets, **(self._secrets.get(test, {}) if secrets is None else secrets)}
            if all_codes:
                codes = set().union(*self.codes.values())
            else:
                codes = self.codes.get(test, set()) | self.codes.get(OUTSIDE_TESTS, set())
            return Rules(secrets=secrets, codes=codes, tokens=dict(self.tokens))

    def flush(self) -> None:
        with self._lock:
            entries, self._buffer = self._buffer, []
            rules: dict[tuple[str, int], Rules] = {}
            for entry in entries:
                key = (entry.test, id(entry.secrets))
                if key not in rules:
                    rules[key] = self.rules(entry.test, secrets=entry.secrets)
                self.scan_text(entry.test, entry.source, entry.text, rules[key])

    def scan_text(self, test: str, source: str, text: str, rules: Rules) -> None:
        for line in text.splitlines():
            findings = find_leaks(line, rules)
            if findings:
                kinds = tuple(dict.fromkeys(finding.kind for finding in findings))
                self.add_leak(Leak(test, source, kinds, masked(line, findings)))

    def add_leak(self, leak: Leak) -> None:
        with self._lock:
            self.leak_count += 1
            if len(self.leaks) < MAX_REPORTED:
                self.leaks.append(leak)

    def scan_files(self, test: str, paths: Iterable[Path], *, all_codes: bool = False) -> None:
        """Scan log files written by processes the tests started (each file once)."""
        rules = self.rules(test, all_codes=all_codes)
        for path in paths:
            resolved = path.resolve()
            if resolved in self._scanned_files or not resolved.is_file():
                continue
            self._scanned_files.add(resolved)
            self.files_scanned += 1
            with resolved.open("rb") as handle:
                text = handle.read(MAX_FILE_BYTES).decode("utf-8", "replace")
            self.scan_text(test, str(path), text, rules)

    def report(self) -> Iterator[str]:
        yield (
            f"{self.leak_count} log line(s) carry a phone number, a secret, a token or an OTP code "
            f"({self.lines_seen} log lines and {self.files_scanned} log files audited; values masked here):"
        )
        for leak in self.leaks:
            yield f"{leak.test}  [{leak.source}]  {', '.join(leak.kinds)}"
            yield f"    {leak.line}"
        if self.leak_count > len(self.leaks):
            yield f"... and {self.leak_count - len(self.leaks)} more"


# --- Recording what the suite generates ----------------------------------------------------------


def _recording(function: Callable[..., str], sink: Callable[[str], None]) -> Callable[..., str]:
    @functools.wraps(function)
    def recording(*args: Any, **kwargs: Any) -> str:
        value = function(*args, **kwargs)
        sink(value)
        return value

    return recording


class Recorders:
    """Wraps the generators of codes and tokens for the session, and puts them back after."""

    def __init__(self, auditor: LogAuditor) -> None:
        self.auditor = auditor
        self._undo: list[Callable[[], None]] = []

    def install(self) -> None:
        from django.contrib.sessions.backends.base import SessionBase
        from rest_framework.authtoken.models import Token

        import otp.codes

        # `from otp.codes import generate_code` may already have run: patch every reference.
        original = otp.codes.generate_code
        wrapped = _recording(original, self.auditor.record_code)
        holders = [m for m in list(sys.modules.values()) if getattr(m, "generate_code", None) is original]
        for module in holders:
            module.generate_code = wrapped
        self._undo.append(lambda: [setattr(m, "generate_code", original) for m in holders])

        key_method = Token.__dict__["generate_key"]  # a classmethod
        Token.generate_key = classmethod(_recording(key_method.__func__, self.auditor.token_recorder("DRF token")))
        self._undo.append(lambda: setattr(Token, "generate_key", key_method))

        session_method = SessionBase.__dict__["_get_new_session_key"]
        SessionBase._get_new_session_key = _recording(session_method, self.auditor.token_recorder("session key"))
        self._undo.append(lambda: setattr(SessionBase, "_get_new_session_key", session_method))

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()


# --- The pytest plugin ---------------------------------------------------------------------------


def settings_secrets() -> dict[str, str]:
    """The secrets as configured at this moment (tests change them), and the sandbox's token."""
    from django.conf import settings

    from sandbox.config import DEFAULT_TOKEN

    values = {DEFAULT_TOKEN: "sandbox token"}
    for name in SECRET_SETTINGS:
        value = str(getattr(settings, name, "") or "")
        if value:
            values[value] = name
            if " " in value.strip():  # "Bearer <jwt>": the bare <jwt> may be what gets written
                values[value.split(None, 1)[1]] = name
    for name in ("SECRET_KEY_FALLBACKS", "OTP_HASH_KEY_FALLBACKS"):  # old keys are still keys
        values.update((str(value), name) for value in getattr(settings, name, None) or () if value)
    return values


def configured_handler_names() -> frozenset[str]:
    from django.conf import settings

    return frozenset((getattr(settings, "LOGGING", None) or {}).get("handlers", {}))


class LogAuditPlugin:
    def __init__(self) -> None:
        self.auditor = LogAuditor(secret_source=settings_secrets)
        self.recorders = Recorders(self.auditor)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.auditor.handler_names = configured_handler_names()
        self.auditor.baseline_secrets = settings_secrets()
        self.recorders.install()
        self.auditor.attach()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None):
        self.auditor.attach()
        self.auditor.start_test(item.nodeid)
        try:
            return (yield)
        finally:
            self.auditor.end_test()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None):
        try:
            return (yield)
        finally:  # the test's processes are gone by now; its tmp_path is still there
            tmp_path = (getattr(item, "funcargs", None) or {}).get("tmp_path")
            if isinstance(tmp_path, Path) and tmp_path.is_dir():
                self.auditor.scan_files(item.nodeid, sorted(tmp_path.rglob("*.log")))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        auditor = self.auditor
        auditor.end_test()
        basetemp = getattr(getattr(session.config, "_tmp_path_factory", None), "_basetemp", None)
        if basetemp is not None and Path(basetemp).is_dir():
            auditor.scan_files(OUTSIDE_TESTS, sorted(Path(basetemp).rglob("*.log")), all_codes=True)
        auditor.detach()
        self.recorders.uninstall()
        if auditor.leak_count and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        auditor = self.auditor
        if not auditor.leak_count:
            terminalreporter.write_line(
                f"log audit: {auditor.lines_seen} log lines and {auditor.files_scanned} log files, no leaks"
            )
            return
        terminalreporter.write_sep("=", "log audit: LEAKS (the run fails)", red=True, bold=True)
        for line in auditor.report():
            terminalreporter.write_line(line)


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("log_audit"):
        config.pluginmanager.register(LogAuditPlugin(), "log_audit")
