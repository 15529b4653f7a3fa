"""A logging filter that keeps personal data and secrets out of every log line.

It is attached to every handler in settings.LOGGING, so it also covers third-party loggers:
phone numbers are masked (`+91******3210`), configured secrets and anything that looks like a
credential (`Authorization: ...`, `token=...`, OTP codes in key/value form, API token and
session keys) become `<redacted>`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import unquote_plus

# A run of digits, optionally with a leading + and groups of 3+ digits split by a space or dash
# (`+91 98765 43210`, `098765-43210`); masked when it holds 10-15 digits. Dates split into short
# groups are not phone numbers, and neither are Smartflo call ids (`1715235734.129662`): a digit
# run glued to a dot is left alone.
_PHONE = re.compile(r"(?<![\w.+])\+?\d+(?:[ \-]\d{3,})*(?![\w]|\.\d)")
_CREDENTIAL = re.compile(
    r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer\s+|token\s+)?|"
    r"(?:token|api_key|apikey|password|secret|x-api-key|x-webhook-token)[\"']?\s*[:=]\s*[\"']?)"
    r"([^\s\"'&,;}]+)"
)
_OTP = re.compile(r"(?i)((?:otp|code|field_5)[\"']?\s*[:=]\s*[\"']?)(\d{4,8})")
# Keys Django and DRF generate, wherever they show up (SQL debug lines quote them bare): an API
# token key is 40 hex digits; a session key 32 lowercase letters and digits, never all hex
# (that would be a UUID's hex form, which stays readable).
_GENERATED_KEY = re.compile(r"(?<![0-9A-Za-z])(?:[0-9a-f]{40}|(?=[0-9a-f]{0,31}[g-z])[0-9a-z]{32})(?![0-9A-Za-z])")


# A query-string value of a parameter that carries a phone number (`?party=`, `&number=`,
# `caller_id_number=`, `destination_number=`, and the searches `q=` and `search=`, which match
# numbers too): masked whatever its form, since the app accepts
# numbers written with brackets, dots, dashes between pairs of digits, percent-encoded or in other
# scripts' digits, which the pattern above cannot tell from dates and ids in free text.
_PHONE_PARAMETER = re.compile(
    r"(?i)((?:^|[?&;\s])(?!page_)(?:q|search|number|phone|mobile|msisdn|dial|party(?:_[ab])?|caller|callee|"
    r"destination|[a-z_]*_number|[a-z_]*_phone)=)([^&\s\"';]+)"
)


def _mask_parameter(match: re.Match[str]) -> str:
    value = unquote_plus(match.group(2))
    digits = [str(unicodedata.digit(ch)) for ch in value if unicodedata.digit(ch, None) is not None]
    if len(digits) < 6:  # not a phone number: an id, a page, a filter of a few digits
        return match.group(0)
    return match.group(1) + "*" * (len(digits) - 4) + "".join(digits[-4:])


def mask_phone_numbers(text: str) -> str:
    def _mask(match: re.Match[str]) -> str:
        value = match.group(0)
        digits = sum(ch.isdigit() for ch in value)
        if not 10 <= digits <= 15:
            return value
        keep_head = 2 if value.startswith("+") else 0
        seen = 0
        out = []
        for ch in value:
            if ch.isdigit():
                seen += 1
                hidden = keep_head < seen <= digits - 4
                out.append("*" if hidden else ch)
            else:
                out.append(ch)
        return "".join(out)

    return _PHONE.sub(_mask, text)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    text = _PHONE_PARAMETER.sub(_mask_parameter, text)
    # URL-encoded numbers and separators (`caller=%2B919876543210`) are numbers too.
    text = re.sub(r"%2[bB](?=\d)", "+", text)
    text = re.sub(r"(?<=\d)%20(?=\d)", " ", text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "<redacted>")
    text = _CREDENTIAL.sub(lambda m: m.group(1) + "<redacted>", text)
    text = _OTP.sub(lambda m: m.group(1) + "<redacted>", text)
    text = _GENERATED_KEY.sub("<redacted>", text)
    return mask_phone_numbers(text)


def _configured_secrets() -> list[str]:
    try:
        from django.conf import settings

        names = (
            "SMARTFLO_API_TOKEN",
            "MASKING_API_TOKEN",
            "MASKING_API_TOKEN_PREVIOUS",
            "SMARTFLO_WEBHOOK_TOKEN",
            "SMARTFLO_WEBHOOK_TOKEN_PREVIOUS",
            "OTP_C2C_API_KEY",
            "OTP_HASH_KEY",
            "ERASURE_HASH_KEY",
            "SECRET_KEY",
        )
        values = [str(getattr(settings, name, "") or "") for name in names]
        # Old keys kept during a rotation are as secret as the current ones.
        for name in ("SECRET_KEY_FALLBACKS", "OTP_HASH_KEY_FALLBACKS"):
            values += [str(key) for key in getattr(settings, name, None) or () if key]
    except Exception:  # settings not configured (e.g. the sandbox process)
        return []
    # "Bearer <jwt>" is configured, but the bare <jwt> may be what reaches a message.
    return values + [value.split(None, 1)[1] for value in values if " " in value.strip()]


class RedactingFilter(logging.Filter):
    """Rewrites the record's message (and traceback) with phones masked and secrets removed."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _configured_secrets()
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the line
            message = str(record.msg)
        record.msg = redact(message, secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets)
        return True
