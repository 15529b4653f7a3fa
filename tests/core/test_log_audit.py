"""The log audit (tests/log_audit.py) finds phone numbers, secrets, tokens and OTP codes in what
the application writes, and lets clean lines through."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from contactcenter.core.logging import RedactingFilter
from tests.log_audit import LogAuditor, Rules, find_leaks, masked

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "line",
    [
        "dialing 9876543210",
        "dialing +919876543210 now",
        "caller=919876543210&x=1",
        "to 09876543210.",
        "GET /api/v1/masking/resolve/?caller_id_number=%2B919876543210",
        "number 98765 43210",
        "number +91-98765-43210",
        "number 987-654-3210",
        '{"customer_number": "7012345678"}',
    ],
)
def test_mobile_numbers_are_found_however_typed(line):
    assert [finding.kind for finding in find_leaks(line)] == ["phone number"]


@pytest.mark.parametrize(
    "line",
    [
        "dialing +91******3210 (agent ******1234)",
        "call 1715235734.129662 synced at 2026-11-26 14:32:18,123",
        "epoch 1715235734, 120 ms, id 42, port 8900",
        "took 0.9876543210 s",
        "digest a9876543210b and 19876543210987",
        "landline-looking 1234567890, uuid 5b9be0f5-0a6d-4b53-a9fc-4e2631035bb1",
    ],
)
def test_masked_numbers_call_ids_and_other_digits_are_clean(line):
    assert find_leaks(line) == []


def test_secrets_tokens_and_codes_are_found_as_whole_words():
    rules = Rules(
        secrets={"test-masking-token": "MASKING_API_TOKEN", "short": "SMARTFLO_WEBHOOK_TOKEN"},
        codes={"004217"},
        tokens={"0123456789abcdef0123456789abcdef01234567": "DRF token"},
    )
    line = "sent test-masking-token, otp 004217, key 0123456789abcdef0123456789abcdef01234567"
    assert [f.kind for f in find_leaks(line, rules)] == ["secret MASKING_API_TOKEN", "OTP code", "DRF token"]
    clean = "a short word, call 1715235734.004217, 10042170, test-masking-tokens"
    assert find_leaks(clean, rules) == []


def test_the_report_masks_what_leaked():
    rules = Rules(secrets={"test-masking-token": "MASKING_API_TOKEN"}, codes={"004217"})
    line = "dialing 9876543210 with test-masking-token and code 004217"
    shown = masked(line, find_leaks(line, rules))
    assert shown == "dialing ********10 with <MASKING_API_TOKEN> and code <OTP code>"


@pytest.fixture
def demo_loggers():
    """Two loggers of their own (the session's audit never sees them): `filtered` is wired like
    settings.LOGGING (the RedactingFilter, a formatter); `raw` has a handler that forgot the filter."""
    loggers, streams = {}, {}
    for name in ("filtered", "raw"):
        logger = loggers[name] = logging.getLogger(f"log_audit_demo.{name}")
        logger.propagate, logger.level = False, logging.DEBUG
        handler = logging.StreamHandler(streams.setdefault(name, io.StringIO()))
        handler.set_name(f"audit-demo-{name}")
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        if name == "filtered":
            handler.addFilter(RedactingFilter())
        logger.addHandler(handler)
    yield loggers, streams
    for logger in loggers.values():
        logger.handlers.clear()


def audit(handler_names: set[str], **kwargs) -> LogAuditor:
    auditor = LogAuditor(handler_names=frozenset(handler_names), **kwargs)
    auditor.start_test("tests/demo.py::test_demo")
    auditor.attach()
    return auditor


def test_a_filtered_handler_passes_and_the_audited_line_is_what_it_wrote(demo_loggers):
    loggers, streams = demo_loggers
    logger = loggers["filtered"]
    auditor = audit({"audit-demo-filtered"})
    try:
        logger.info("dialing %s, Authorization: Bearer abc.def", "+919876543210")
        logger.debug("otp %s: lead added", "0a1b")
        assert auditor.pending_lines("tests/demo.py::test_demo") == streams["filtered"].getvalue().splitlines()
        auditor.end_test()
    finally:
        auditor.detach()
    assert auditor.lines_seen == 2 and auditor.leak_count == 0
    assert "+91******3210" in streams["filtered"].getvalue()


def test_a_handler_that_writes_a_number_a_secret_or_a_code_is_reported(demo_loggers):
    loggers, _ = demo_loggers
    auditor = audit({"audit-demo-filtered", "audit-demo-raw"}, secret_source=lambda: {"sandbox-token": "sandbox token"})
    try:
        auditor.record_code("004217")
        for logger in loggers.values():
            logger.info("dialing %s", "+919876543210")
            logger.info("Authorization: sandbox-token")
            logger.info("the code is %s", "004217")
            logger.info("agent %s created", 7)
        auditor.end_test()
    finally:
        auditor.detach()
    # The raw handler leaks all three. The filter stops the number and the token, but the
    # sentence around the code is not one it recognises: the audit still knows the code.
    assert [(leak.test, leak.source, leak.kinds) for leak in auditor.leaks] == [
        ("tests/demo.py::test_demo", "log_audit_demo.filtered", ("OTP code",)),
        ("tests/demo.py::test_demo", "log_audit_demo.raw", ("phone number",)),
        ("tests/demo.py::test_demo", "log_audit_demo.raw", ("secret sandbox token",)),
        ("tests/demo.py::test_demo", "log_audit_demo.raw", ("OTP code",)),
    ]
    assert [leak.line for leak in auditor.leaks] == [
        "INFO log_audit_demo.filtered the code is <OTP code>",
        "INFO log_audit_demo.raw dialing +**********10",
        "INFO log_audit_demo.raw Authorization: <sandbox token>",
        "INFO log_audit_demo.raw the code is <OTP code>",
    ]
    report = "\n".join(auditor.report())
    assert "9876543210" not in report and "sandbox-token" not in report and "004217" not in report


def test_a_code_is_a_leak_only_in_the_test_that_generated_it(demo_loggers):
    logger = demo_loggers[0]["raw"]
    auditor = audit({"audit-demo-raw"})
    try:
        auditor.record_code("004217")
        auditor.start_test("tests/demo.py::test_other")
        logger.info("row 004217 of the export")  # another test's number that happens to be equal
        auditor.end_test()
    finally:
        auditor.detach()
    assert auditor.leak_count == 0


def test_a_secret_counts_from_the_moment_it_is_configured(demo_loggers):
    """A test may set a token to a plain word: the word written before that is no leak."""
    logger = demo_loggers[0]["raw"]
    configured: dict[str, str] = {}
    auditor = audit({"audit-demo-raw"}, secret_source=lambda: dict(configured))
    try:
        logger.info("cleaned up 0 expired access attempts")
        configured["expired"] = "SMARTFLO_API_TOKEN"
        logger.info("sending Authorization: expired")
        auditor.end_test()
    finally:
        auditor.detach()
    assert [leak.line for leak in auditor.leaks] == [
        "INFO log_audit_demo.raw sending Authorization: <SMARTFLO_API_TOKEN>"
    ]


def test_log_files_of_started_processes_are_scanned(tmp_path):
    log_file = tmp_path / "worker-log.txt"  # not *.log: the session's own audit would scan it
    log_file.write_text("[INFO/MainProcess] otp 1: call placed to ******3210\n[INFO/MainProcess] to 9876543210\n")
    auditor = LogAuditor()
    auditor.scan_files("tests/demo.py::test_worker", [log_file, log_file])
    assert auditor.files_scanned == 1
    assert [(leak.source, leak.line) for leak in auditor.leaks] == [(str(log_file), "[INFO/MainProcess] to ********10")]


def test_the_session_audits_this_very_test(request):
    """The plugin is live: app loggers are audited through the real handler, and codes the app
    generates are recorded for this test."""
    from otp.codes import generate_code

    auditor = request.config.pluginmanager.get_plugin("log_audit").auditor
    logging.getLogger("calls.audit_probe").warning("dialing %s", "+919812300001")
    lines = [line for line in auditor.pending_lines(request.node.nodeid) if "calls.audit_probe" in line]
    assert len(lines) == 1 and lines[0].endswith("WARNING calls.audit_probe dialing +91******0001")
    assert generate_code() in auditor.codes[request.node.nodeid]
    django_logger = logging.getLogger("django")
    assert any(h.__class__.__name__ == "AuditHandler" for h in django_logger.handlers)


def test_a_session_with_a_leak_fails_and_says_where(tmp_path):
    """End to end, in a pytest of its own: with the redaction broken, the run fails and the
    report names the test and the logger, with the values masked; a clean test is not named."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_leaky.py").write_text(
        textwrap.dedent(
            """
            import logging

            import contactcenter.core.logging as redaction


            def test_clean():
                logging.getLogger("calls.clean").warning("dialing %s", "+919876543210")


            def test_leaky(monkeypatch):
                from otp.codes import generate_code

                monkeypatch.setattr(redaction, "redact", lambda text, secrets=(): text)
                logging.getLogger("calls.leaky").warning("dialing 9876543210, code %s", generate_code())
            """
        )
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "pytest", "-p", "tests.log_audit", "-p", "no:cacheprovider",
               "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path), "test_leaky.py"]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "2 passed" in output and "log audit: LEAKS" in output
    assert "test_leaky.py::test_leaky  [calls.leaky]  phone number, OTP code" in output
    assert "dialing ********10, code <OTP code>" in output
    assert "test_clean" not in output and "9876543210" not in output
