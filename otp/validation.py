"""Input rules shared by the API serializers and the services."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from contactcenter.phones import InvalidPhoneNumber, to_e164
from otp.codes import CODE_LENGTH

_CODE = re.compile(rf"\d{{{CODE_LENGTH}}}")


def clean_phone(raw: object) -> str:
    """The E.164 form of a number a voice OTP can be sent to, or InvalidPhoneNumber.

    Smartflo's broadcast lead (`field_0`) and click-to-call support (`customer_number`) take a
    10-digit Indian number, so foreign numbers are refused here rather than by the provider.
    """
    e164 = to_e164(raw if isinstance(raw, str | int) else "")
    if not e164.startswith("+91") or len(e164) != 13:
        raise InvalidPhoneNumber("Voice OTP calls go to Indian numbers: enter 10 digits, optionally with +91 or 0.")
    return e164


def phone_or_validation_error(raw: object, field: str = "phone") -> str:
    try:
        return clean_phone(raw)
    except InvalidPhoneNumber as exc:
        raise ValidationError({field: [str(exc)]}) from None


def is_well_formed_code(code: object) -> bool:
    return isinstance(code, str) and _CODE.fullmatch(code) is not None
