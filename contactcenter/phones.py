"""Phone numbers at the boundary: accept what people type, store E.164, send what Smartflo wants.

Indian numbers are the default region: `98765 43210`, `098765-43210`, `+91 98765 43210` and
`919876543210` all mean `+919876543210`. Foreign numbers need their `+` and country code.
"""

from __future__ import annotations

import re

import phonenumbers

DEFAULT_REGION = "IN"
_SEPARATORS = re.compile(r"[\s\-().]")


class InvalidPhoneNumber(ValueError):
    """The input is not a phone number we can dial."""


def _digits_only(raw: str) -> str:
    return _SEPARATORS.sub("", raw)


def to_e164(raw: str | int, *, strict: bool = True) -> str:
    """Normalise a typed phone number to E.164 (`+919876543210`) or raise InvalidPhoneNumber.

    `strict` (what people type: numbers we will dial or store) also refuses numbers that cannot
    exist in their country's numbering plan (`0000000000`, `5555555555`), so nothing is sent to
    Smartflo that it would only refuse. Without it, any number of a possible length passes: for
    caller ids that arrive from the telephone network, which are what they are.
    """
    text = _digits_only(str(raw).strip())
    if not text:
        raise InvalidPhoneNumber("A phone number is required.")
    if not re.fullmatch(r"\+?\d+", text):
        raise InvalidPhoneNumber("A phone number may hold only digits, spaces, dashes and a leading +.")
    if text.startswith("+"):
        candidate = text
    elif text.startswith("00") and len(text) > 11:  # India's international prefix: 0091 98765 43210
        candidate = "+" + text[2:]
    elif len(text) == 12 and text.startswith("91"):
        candidate = "+" + text
    elif len(text) == 11 and text.startswith("0"):
        candidate = "+91" + text[1:]
    elif len(text) == 10:
        candidate = "+91" + text
    else:
        raise InvalidPhoneNumber(
            "Enter a 10-digit Indian number (optionally with +91, 0091 or 0), or +<country code><number>."
        )
    digits = candidate[1:]
    if not 10 <= len(digits) <= 15:
        raise InvalidPhoneNumber("A phone number must have 10 to 15 digits.")
    try:
        parsed = phonenumbers.parse(candidate, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"Not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber("That number has the wrong length for its country.")
    if strict and not phonenumbers.is_valid_number(parsed):
        where = "India" if parsed.country_code == 91 else f"country code +{parsed.country_code}"
        raise InvalidPhoneNumber(f"No such number in {where}: check the digits.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def to_national(raw: str | int) -> str:
    """The number as Smartflo's "10-digit" fields want it.

    Indian numbers become their 10-digit national significant number; a foreign number keeps
    its country code (digits only), which is what Smartflo accepts for international dialling.
    """
    e164 = to_e164(raw, strict=False)  # stored numbers were checked when they were entered
    if e164.startswith("+91"):
        return e164[3:]
    return e164[1:]


def mask(number: str) -> str:
    """`+919876543210` -> `+91******3210`: enough to recognise a number, not to dial it."""
    text = str(number)
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    if len(digits) <= 4:
        return "*" * len(text)
    keep_head = 2 if text.startswith("+") else 0
    hidden = set(digits[keep_head : len(digits) - 4])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(text))
