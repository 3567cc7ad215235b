"""Production mode refuses to start behind a proxy whose forwarded address it does not
trust: every client would have the proxy's address in the audit log and the lockout.

Each case imports fangkong.settings in a fresh interpreter, as gunicorn would at start-up.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fangkong

SRC = str(Path(fangkong.__file__).resolve().parents[1])

PRODUCTION = {
    "FANGKONG_PRODUCTION": "1",
    "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none",
    "FANGKONG_SECRET_KEY": "k7Qm2vXr9LpZt4Wc8NbYh3Fs6Dj1Ga5Ue0Ri-Ko_Pw2Mx7Vn4Tb9Sy",
    "FANGKONG_DATA_KEY": base64.b64encode(bytes(range(32))).decode(),
    "FANGKONG_HMAC_KEY": base64.b64encode(bytes(range(100, 148))).decode(),
}


def _start(**overrides: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FANGKONG_", "DATABASE_URL", "DJANGO_"))
    }
    env.update({"PYTHONPATH": SRC, **PRODUCTION, **overrides})
    code = "import fangkong.settings as s; print('started', s.FANGKONG_TRUSTED_PROXY_COUNT)"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("count", [None, "0", "", "-1"])
def test_a_tls_proxy_without_trusted_proxies_is_refused(count: str | None) -> None:
    overrides = {"FANGKONG_TLS_PROXY": "1"}
    if count is not None:
        overrides["FANGKONG_TRUSTED_PROXY_COUNT"] = count
    done = _start(**overrides)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "FANGKONG_TRUSTED_PROXY_COUNT is 0" in done.stderr
    assert "started" not in done.stdout


def test_a_count_that_is_not_a_number_is_refused() -> None:
    done = _start(FANGKONG_TLS_PROXY="1", FANGKONG_TRUSTED_PROXY_COUNT="one")
    assert done.returncode != 0
    assert "FANGKONG_TRUSTED_PROXY_COUNT must be a whole number" in done.stderr


@pytest.mark.parametrize(
    ("overrides", "count"),
    [
        ({"FANGKONG_TLS_PROXY": "1", "FANGKONG_TRUSTED_PROXY_COUNT": "1"}, "1"),
        ({}, "0"),  # no proxy declared: clients connect directly
        ({"FANGKONG_PLAIN_HTTP": "1"}, "0"),
    ],
)
def test_a_trusted_proxy_or_no_proxy_starts(overrides: dict[str, str], count: str) -> None:
    done = _start(**overrides)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"started {count}"


def test_development_mode_is_not_checked() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FANGKONG_", "DATABASE_URL", "DJANGO_"))
    }
    env.update({"PYTHONPATH": SRC, "FANGKONG_TLS_PROXY": "1"})
    done = subprocess.run(
        [sys.executable, "-c", "import fangkong.settings"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
