"""Encryption at rest and keyed lookup hashes for personal data.

ID numbers and phone numbers are stored three ways: AES-GCM ciphertext (to reveal, by
an audited action), an HMAC-SHA256 under a separate key (to find and to enforce
uniqueness without decrypting), and a masked form for display.
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


def _decode_key(value: str, name: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise ValueError(f"{name} must be base64") from exc
    if len(key) < 32:
        raise ValueError(f"{name} must decode to at least 32 bytes")
    return key


@lru_cache(maxsize=4)
def _aead(key_b64: str) -> AESGCM:
    return AESGCM(_decode_key(key_b64, "FANGKONG_DATA_KEY")[:32])


@lru_cache(maxsize=4)
def _hmac_key(key_b64: str) -> bytes:
    return _decode_key(key_b64, "FANGKONG_HMAC_KEY")


def encrypt(plaintext: str, *, purpose: str) -> bytes:
    """AES-GCM encrypt; `purpose` is bound as associated data (an ID cannot pose as a phone)."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _aead(settings.FANGKONG_DATA_KEY).encrypt(
        nonce, plaintext.encode("utf-8"), purpose.encode()
    )
    return _VERSION + nonce + sealed


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
