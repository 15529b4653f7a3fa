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

Key rotation: new codes always use the current key; a code in flight is still verified (and
unsealed) under the old keys listed in `OTP_HASH_KEY_FALLBACKS` (or, while `OTP_HASH_KEY` is
empty, under keys derived from `SECRET_KEY_FALLBACKS`), so rotating a key voids no code.
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


def _derived_from_secret_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"contactcenter.otp.hash-key", hashlib.sha256).digest()


def _master_keys() -> list[bytes]:
    """The key new codes use, then the old keys codes in flight may have been made with."""
    configured = settings.OTP_HASH_KEY
    if configured:
        return [configured.encode()] + [key.encode() for key in getattr(settings, "OTP_HASH_KEY_FALLBACKS", []) if key]
    secret_keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [_derived_from_secret_key(key) for key in secret_keys if key]


def _subkey(purpose: bytes, master: bytes | None = None) -> bytes:
    if master is None:
        master = _master_keys()[0]
    return hmac.new(master, b"contactcenter.otp." + purpose, hashlib.sha256).digest()


def _as_uuid(challenge_id: uuid.UUID | str) -> uuid.UUID:
    return challenge_id if isinstance(challenge_id, uuid.UUID) else uuid.UUID(str(challenge_id))


def hash_code(challenge_id: uuid.UUID | str, code: str, *, master: bytes | None = None) -> str:
    """The digest stored for a new code (current key), or under `master` (an old key)."""
    message = f"{_as_uuid(challenge_id)}:{code}".encode()
    return hmac.new(_subkey(b"code-hash.v1", master), message, hashlib.sha256).hexdigest()


def code_matches(*, challenge_id: uuid.UUID | str, code_hash: str, code: str) -> bool:
    """Constant-time comparison of a candidate code with a stored digest, under the current key
    and every fallback key (all of them compared, whichever matched)."""
    matched = False
    for master in _master_keys():
        matched |= hmac.compare_digest(hash_code(challenge_id, code, master=master), code_hash)
    return matched


def _keystream(challenge_id: uuid.UUID | str, master: bytes | None = None) -> bytes:
    return hmac.new(_subkey(b"code-seal.v1", master), _as_uuid(challenge_id).bytes, hashlib.sha256).digest()


def seal_code(challenge_id: uuid.UUID | str, code: str) -> str:
    data = code.encode()
    return bytes(a ^ b for a, b in zip(data, _keystream(challenge_id), strict=False)).hex()


def unseal_code(*, challenge_id: uuid.UUID | str, code_sealed: str, code_hash: str) -> str:
    """The code back from its sealed form; raises SealBroken rather than return a wrong code.

    Tries the current key, then the fallback keys: a code sealed just before a rotation is
    still delivered by a worker that already runs with the new key.
    """
    try:
        data = bytes.fromhex(code_sealed)
    except ValueError:
        raise SealBroken("the sealed code is not readable") from None
    if len(data) != CODE_LENGTH:
        raise SealBroken("there is no sealed code to send")
    for master in _master_keys():
        plain = bytes(a ^ b for a, b in zip(data, _keystream(challenge_id, master), strict=False))
        try:
            code = plain.decode("ascii")
        except UnicodeDecodeError:
            continue
        if code.isdigit() and hmac.compare_digest(hash_code(challenge_id, code, master=master), code_hash):
            return code
    raise SealBroken("the sealed code does not match its hash (was OTP_HASH_KEY or SECRET_KEY changed?)")
