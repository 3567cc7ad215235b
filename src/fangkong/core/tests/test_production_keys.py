"""Production mode refuses broken keys at start-up, not at their first use.

Each case imports fangkong.settings in a fresh interpreter with FANGKONG_PRODUCTION=1
and the environment a deployment would set, as gunicorn would at start-up.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fangkong
from fangkong.core import crypto

SRC = str(Path(fangkong.__file__).resolve().parents[1])


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


GOOD = {
    "FANGKONG_SECRET_KEY": "k7Qm2vXr9LpZt4Wc8NbYh3Fs6Dj1Ga5Ue0Ri-Ko_Pw2Mx7Vn4Tb9Sy",
    "FANGKONG_DATA_KEY": _b64(bytes(range(32))),
    "FANGKONG_HMAC_KEY": _b64(bytes(range(100, 148))),
}


def _start(production: bool = True, **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FANGKONG_", "DATABASE_URL", "DJANGO_"))
    }
    env["PYTHONPATH"] = SRC
    if production:
        env.update(
            {
                "FANGKONG_PRODUCTION": "1",
                "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none",
                **GOOD,
            }
        )
    env.update(overrides)
    code = "import fangkong.settings as s; print('started', s.DEBUG)"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


def test_good_keys_start() -> None:
    done = _start()
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "started False"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"FANGKONG_DATA_KEY": "not base64 at all!"}, "FANGKONG_DATA_KEY must be base64"),
        ({"FANGKONG_DATA_KEY": _b64(b"\x01" * 16)}, "FANGKONG_DATA_KEY must decode to exactly 32"),
        ({"FANGKONG_DATA_KEY": _b64(b"\x01" * 48)}, "FANGKONG_DATA_KEY must decode to exactly 32"),
        ({"FANGKONG_HMAC_KEY": "%%%"}, "FANGKONG_HMAC_KEY must be base64"),
        ({"FANGKONG_HMAC_KEY": _b64(b"hello")}, "FANGKONG_HMAC_KEY must decode to at least 32"),
        ({"FANGKONG_HMAC_KEY": GOOD["FANGKONG_DATA_KEY"]}, "must differ"),
        ({"FANGKONG_SECRET_KEY": "short-secret"}, "FANGKONG_SECRET_KEY must be at least 50"),
        ({"FANGKONG_SECRET_KEY": "ab" * 40}, "FANGKONG_SECRET_KEY must be at least 50"),
        (
            {"FANGKONG_SECRET_KEY": "django-insecure-" + GOOD["FANGKONG_SECRET_KEY"]},
            "FANGKONG_SECRET_KEY must be at least 50",
        ),
        (
            {"FANGKONG_SECRET_KEY": "dev-only-insecure-secret-key-do-not-use-in-production"},
            "FANGKONG_SECRET_KEY must be set in production",
        ),
    ],
    ids=[
        "data-not-base64",
        "data-16-bytes",
        "data-48-bytes",
        "hmac-not-base64",
        "hmac-5-bytes",
        "same-key-for-both",
        "secret-short",
        "secret-2-characters",
        "secret-django-insecure",
        "secret-dev-default",
    ],
)
def test_broken_keys_are_refused_at_start_up(overrides: dict[str, str], message: str) -> None:
    done = _start(**overrides)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert message in done.stderr
    # the refusal names the variable, never the key itself
    for value in overrides.values():
        if len(value) > 8:
            assert value not in done.stderr


def test_development_mode_starts_with_the_development_keys(tmp_path: Path) -> None:
    done = _start(production=False, FANGKONG_VAR_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "started True"


def test_the_start_up_rules_are_the_ones_encryption_uses() -> None:
    """One rule, not two: a key refused at start-up is refused by the cipher too."""
    with pytest.raises(ValueError, match="exactly 32"):
        crypto.data_key(_b64(b"\x01" * 48))
    with pytest.raises(ValueError, match="at least 32"):
        crypto.hmac_key(_b64(b"hello"))
    assert crypto.data_key(GOOD["FANGKONG_DATA_KEY"]) == bytes(range(32))
