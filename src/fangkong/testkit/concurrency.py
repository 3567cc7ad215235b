"""Run jobs at the same moment in threads, each on its own database connection: the
PostgreSQL concurrency tests' race (a unique constraint or a row lock must hold)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def race(*jobs: Callable[[], Any], timeout: float = 60) -> tuple[list[Any], list[BaseException]]:
    """Start every job behind one barrier; returns the results and the exceptions raised."""
    barrier = threading.Barrier(len(jobs), timeout=10)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results.append(job())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results, errors
