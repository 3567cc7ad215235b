"""Pure rules of the accounts domain: what a login lockout counts, when it lifts, and
which addresses an account knows."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence

# The documented password of the demo accounts (`fangkong demo_users`); refused at login
# in production mode, whichever account it is tried on.
DEMO_PASSWORD = "fangkong-demo"  # noqa: S105 - public by design, refused in production

# An IPv6 client usually holds a whole /64 (SLAAC, privacy addresses): counting each of
# its addresses apart would give one attacker 2**64 fresh addresses.
IPV6_COUNTED_PREFIX = 64


def lockout_username(username: str) -> str:
    """The key failures of one account are counted under: usernames are unique regardless
    of case, so `Command` and `command` are one account to the lockout."""
    return username.strip().lower()


def lockout_address(address: str) -> str:
    """The key failures from one client are counted under: an IPv4 address as it is, an
    IPv6 address as its /64 network; anything else (a test client, a unix socket) as it is.

    >>> lockout_address("2001:db8:1:2:aaaa::1")
    '2001:db8:1:2::/64'
    >>> lockout_address("::ffff:203.0.113.7")
    '203.0.113.7'
    """
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_COUNTED_PREFIX), strict=False))
    return str(parsed)


def lock_lifts_at(
    failures: Sequence[dt.datetime], *, limit: int, window: dt.timedelta, now: dt.datetime
) -> dt.datetime | None:
    """When a lock on one key lifts, or None if the key is not locked at `now`.

    `failures` are the key's failure times. The key is locked while at least `limit`
    of them fall within the `window` before `now`; the lock lifts when the `limit`-th
    most recent of them leaves the window. Attempts refused during a lock are not
    failures, so they never extend it. A limit of 0 or less turns this lock off.
    """
    if limit <= 0:
        return None
    recent = sorted((at for at in failures if now - window < at <= now), reverse=True)
    if len(recent) < limit:
        return None
    return recent[limit - 1] + window


def address_is_known(
    last_success_at: dt.datetime | None, *, remember: dt.timedelta, now: dt.datetime
) -> bool:
    """Whether an account still knows an address it last signed in from at
    `last_success_at` (None: never): within `remember` before `now`. A pair the account
    knows is exempt from the account-wide lockout limit, so that a guess spread over many
    addresses locks the account only from addresses it has not used. `remember` of zero
    or less turns the exemption off."""
    if last_success_at is None or remember <= dt.timedelta(0):
        return False
    return last_success_at > now - remember
