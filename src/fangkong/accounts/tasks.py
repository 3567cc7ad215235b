"""Background jobs of the accounts domain: thin wrappers that call services."""

from __future__ import annotations

from django_tasks import task

from fangkong.accounts import services


@task()
def login_records_purge() -> int:
    """Delete the login lockout's records no lock reads any more (old failures, addresses
    not signed in from for FANGKONG_LOGIN_KNOWN_ADDRESS_DAYS).

    Enqueued by `fangkong periodic`; safe to run twice. Returns the rows deleted.
    """
    return sum(services.login_records_purge().values())
