"""Jurisdictions, places and zones built through `fangkong.areas.services`.

community(town, "330483102002", "民合村")       -> Jurisdiction (jurisdiction_create)
place(jurisdiction, "venue", "超市")             -> Place (place_create; a venue gets a code)
zone(jurisdiction, "sealed", members=[...])     -> Zone (zone_create)
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from .actors import actor_or_admin

_serial = itertools.count(1)


def community(town: Any, code: str, name: str, *, actor: Any = None) -> Any:
    """A community under `town`, through `areas.services.jurisdiction_create`."""
    from fangkong.areas.services.areas import jurisdiction_create

    return jurisdiction_create(
        actor=actor_or_admin(actor), parent=town, level="community", name=name, code=code
    )


def place(
    jurisdiction: Any,
    kind: str = "venue",
    name: str | None = None,
    *,
    venue_code: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    address: str = "",
    venue_kind: str = "",
    actor: Any = None,
) -> Any:
    """A place through `areas.services.place_create`; a venue without a code gets one;
    `venue_kind` (VenueKind) is what the rule set classifies co-presence by."""
    from fangkong.areas.services.areas import place_create

    n = next(_serial)
    if venue_code is None and kind == "venue":
        venue_code = f"TK{n:08d}"
    return place_create(
        actor=actor_or_admin(actor),
        kind=kind,
        name=name or f"场所{n}",
        jurisdiction=jurisdiction,
        venue_code=venue_code,
        address=address,
        lat=lat,
        lon=lon,
        venue_kind=venue_kind,
    )


def zone(
    jurisdiction: Any,
    level: str,
    *,
    members: list[Any] | None = None,
    name: str | None = None,
    started_on: dt.date = dt.date(2022, 7, 1),
    reason: str = "测试",
    parent: Any = None,
    actor: Any = None,
) -> Any:
    """An active zone owned by `jurisdiction` over `members` (default: itself), inside
    `parent` if given."""
    from fangkong.areas.services.zones import zone_create

    return zone_create(
        actor=actor_or_admin(actor),
        name=name or f"{jurisdiction.name}{level}",
        level=level,
        jurisdiction=jurisdiction,
        started_on=started_on,
        reason=reason,
        member_jurisdictions=members if members is not None else [jurisdiction],
        parent=parent,
    )
