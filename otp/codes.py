"""Codes: generation, keyed hashing, and sealing a code for the lead step.

Two keys are derived from `OTP_HASH_KEY` (empty: from SECRET_KEY), one per purpose:

* the **hash key** makes `code_hash = HMAC-SHA256(hash_key, "<challenge id>:<code>")`. Binding
  the challenge id means a digest is useless for any other challenge; without the key, a copy
  of the database does not reveal codes.
* the **seal key** makes a per-challenge keystream `HMAC-SHA256(seal_key, challenge id)`;
  the code XOR that keystream is `code_sealed`. Challenge ids are random UUIDs, so no keystream
  is ever used twice (a one-time pad from a PRF). Unsealing is checked against `code_hash`, so a
  tampered column or a changed key is detected instead of sending a wrong code.

The sealed code exists only so that the Celery task can get the code without it travelling in
the broker message; it is wiped as soon as the lead step is over (see docs/otp.md).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from django.conf import settings

CODE_LENGTH = 6


class SealBroken(ValueError):
    """The sealed code is missing or does not match the code's hash (key changed or tampered)."""


def generate_code() -> str:
    """A uniformly random 6-digit code from the OS's CSPRNG."""
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


def _master_key() -> bytes:
    configured = settings.OTP_HASH_KEY
    if configured:
        return configured.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"contactcenter.otp.hash-key", hashlib.sha256).digest()


def _subkey(purpose: bytes) -> bytes:
    return hmac.new(_master_key(), b"contactcenter.otp." + purpose, hashlib.sha256).digest()


def _as_uuid(challenge_id: uuid.UUID | str) -> uuid.UUID:
    return challenge_id if isinstance(challenge_id, uuid.UUID) else uuid.UUID(str(challenge_id))


def hash_code(challenge_id: uuid.UUID | str, code: str) -> str:
    message = f"{_as_uuid(challenge_id)}:{code}".encode()
    return hmac.new(_subkey(b"code-hash.v1"), message, hashlib.sha256).hexdigest()


def code_matches(*, challenge_id: uuid.UUID | str, code_hash: str, code: str) -> bool:
    """Constant-time comparison of a candidate code with a stored digest."""
    return hmac.compare_digest(hash_code(challenge_id, code), code_hash)


def _keystream(challenge_id: uuid.UUID | str) -> bytes:
    return hmac.new(_subkey(b"code-seal.v1"), _as_uuid(challenge_id).bytes, hashlib.sha256).digest()


def seal_code(challenge_id: uuid.UUID | str, code: str) -> str:
    data = code.encode()
    return bytes(a ^ b for a, b in zip(data, _keystream(challenge_id), strict=False)).hex()


def unseal_code(*, challenge_id: uuid.UUID | str, code_sealed: str, code_hash: str) -> str:
    """The code back from its sealed form; raises SealBroken rather than return a wrong code."""
    try:
        data = bytes.fromhex(code_sealed)
    except ValueError:
        raise SealBroken("the sealed code is not readable") from None
    if len(data) != CODE_LENGTH:
        raise SealBroken("there is no sealed code to send")
    try:
        code = bytes(a ^ b for a, b in zip(data, _keystream(challenge_id), strict=False)).decode("ascii")
    except UnicodeDecodeError:
        raise SealBroken("the sealed code does not decode") from None
    if not code.isdigit() or not code_matches(challenge_id=challenge_id, code_hash=code_hash, code=code):
        raise SealBroken("the sealed code does not match its hash (was OTP_HASH_KEY changed?)")
    return code
