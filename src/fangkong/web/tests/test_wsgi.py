"""The WSGI entry point gunicorn preloads (README: Deploying on PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import fangkong


def test_the_wsgi_module_imports_the_urls_without_touching_the_database() -> None:
    """gunicorn --preload imports fangkong.wsgi in the master before it forks the
    workers: the URL configuration (the API and every view) must be imported there, so
    workers start warm, and no database connection may be opened, since a forked
    connection would be shared by every worker. Proven with a database that cannot
    answer (a closed port)."""
    src = str(Path(fangkong.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": src,
        "DJANGO_SETTINGS_MODULE": "fangkong.settings",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none",
    }
    code = (
        "import sys, fangkong.wsgi; "
        "from django.db import connection; "
        "assert connection.connection is None, 'connected'; "
        "print(sorted(m for m in sys.modules if m in ('fangkong.urls', 'fangkong.api', "
        "'fangkong.testing.api.sampling')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str(
        ["fangkong.api", "fangkong.testing.api.sampling", "fangkong.urls"]
    )
