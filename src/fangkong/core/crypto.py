"""Encryption at rest and keyed lookup hashes for personal data.

ID numbers and phone numbers are stored three ways: AES-GCM ciphertext (to reveal, by
an audited action), an HMAC-SHA256 under a separate key (to find and to enforce
uniqueness without decrypting), and a masked form for display.

The key rules (`data_key`, `hmac_key`) read no settings, and this module reads settings
only when called: settings.py imports them to refuse a bad key at start-up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_NONCE_BYTES = 12
_VERSION = b"\x01"


# Key sizes: AES-256-GCM takes exactly 32 bytes; HMAC-SHA256 at least its output's 32.
DATA_KEY_BYTES = 32
HMAC_KEY_MIN_BYTES = 32


def _decode_key(value: str, name: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise ValueError(f"{name} must be base64") from exc


def data_key(value: str) -> bytes:
    """FANGKONG_DATA_KEY's bytes: base64 of exactly 32 bytes, else ValueError.

    Pure (reads no settings), so that settings can refuse a bad key at start-up."""
    key = _decode_key(value, "FANGKONG_DATA_KEY")
    if len(key) != DATA_KEY_BYTES:
        raise ValueError(f"FANGKONG_DATA_KEY must decode to exactly {DATA_KEY_BYTES} bytes")
    return key


def hmac_key(value: str) -> bytes:
    """FANGKONG_HMAC_KEY's bytes: base64 of at least 32 bytes, else ValueError. Pure."""
    key = _decode_key(value, "FANGKONG_HMAC_KEY")
    if len(key) < HMAC_KEY_MIN_BYTES:
        raise ValueError(f"FANGKONG_HMAC_KEY must decode to at least {HMAC_KEY_MIN_BYTES} bytes")
    return key


@lru_cache(maxsize=4)
def _aead(key_b64: str) -> AESGCM:
    return AESGCM(data_key(key_b64))


@lru_cache(maxsize=4)
def _hmac_key(key_b64: str) -> bytes:
    return hmac_key(key_b64)


def encrypt(plaintext: str, *, purpose: str) -> bytes:
    """AES-GCM encrypt; `purpose` is bound as associated data (an ID cannot pose as a phone)."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _aead(settings.FANGKONG_DATA_KEY).encrypt(
        nonce, plaintext.encode("utf-8"), purpose.encode()
    )
    return _VERSION + nonce + sealed


def encrypt_bytes(plaintext: bytes, *, purpose: str) -> bytes:
    """AES-GCM encrypt bytes (a job's upload or export file) under the data key."""
    nonce = os.urandom(_NONCE_BYTES)
    return (
        _VERSION
        + nonce
        + _aead(settings.FANGKONG_DATA_KEY).encrypt(nonce, plaintext, purpose.encode())
    )


def decrypt_bytes(token: bytes | memoryview, *, purpose: str) -> bytes:
    raw = bytes(token)
    if raw[:1] != _VERSION:
        raise ValueError("unknown ciphertext version")
    nonce, sealed = raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :]
    return _aead(settings.FANGKONG_DATA_KEY).decrypt(nonce, sealed, purpose.encode())


def decrypt(token: bytes | memoryview, *, purpose: str) -> str:
    raw = bytes(token)
    if raw[:1] != _VERSION:
        raise ValueError("unknown ciphertext version")
    nonce, sealed = raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :]
    return _aead(settings.FANGKONG_DATA_KEY).decrypt(nonce, sealed, purpose.encode()).decode()


def lookup_hash(value: str, *, purpose: str) -> str:
    """Keyed hash (hex) used to find and to deduplicate without decrypting."""
    mac = hmac.new(_hmac_key(settings.FANGKONG_HMAC_KEY), digestmod=hashlib.sha256)
    mac.update(purpose.encode() + b"\x00" + value.encode("utf-8"))
    return mac.hexdigest()
