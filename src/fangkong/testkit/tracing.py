"""Cases, itineraries, scans and contacts built through `fangkong.tracing.services` (and
`fangkong.scans.services` for scans).

    case(person, sampled_on=date)                    -> Case (case_create: number, rule set,
                                                        look-back and deadlines as reported)
    case_in(jurisdiction, "王小五")                  -> Case of a person registered there
    reported_case(person)                            -> Case reported now (sampled 3 days ago)
    stop(case, place, start, end)                    -> ItineraryStop (itinerary_stop_add)
    scan(person, place, moment) / scans(person, [(place, moment), ...])
    contact(person, case=c) / contact(person, source_contact=k, classification="secondary")
                                                     -> Contact (the contacts service's write)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from .actors import actor_or_admin
from .clock import TZ


def case(
    person: Any,
    *,
    kind: str = "asymptomatic",
    sampled_on: dt.date = dt.date(2022, 7, 5),
    reported_at: dt.datetime | None = None,
    onset_date: dt.date | None = None,
    version: str | None = None,
    actor: Any = None,
    **kwargs: Any,
) -> Any:
    """A case reported through `tracing.services.cases.case_create` (reported the evening
    of the sampling day unless `reported_at` says otherwise). The service picks the rule
    set in force; `version` checks it is the one the test means."""
    from fangkong.tracing.services.cases import case_create

    reported = reported_at or dt.datetime.combine(sampled_on, dt.time(20, 0), tzinfo=TZ)
    made = case_create(
        actor=actor_or_admin(actor),
        person=person,
        kind=kind,
        first_positive_sampled_on=sampled_on,
        onset_date=onset_date,
        reported_at=reported,
        **kwargs,
    )
    if version is not None and made.ruleset.version != version:
        raise AssertionError(f"case under {made.ruleset.version}, not {version}")
    return made


def reported_case(person: Any, *, actor: Any = None, **kwargs: Any) -> Any:
    """A case reported now through `case_create`, first positive three days ago unless
    the keywords (case_create's own) say otherwise."""
    from fangkong.tracing.services.cases import case_create

    values: dict[str, Any] = {
        "kind": "asymptomatic",
        "first_positive_sampled_on": timezone.localdate() - dt.timedelta(days=3),
    }
    values.update(kwargs)
    return case_create(actor=actor_or_admin(actor), person=person, **values)


def case_in(jurisdiction: Any, name: str = "王小五", **kwargs: Any) -> Any:
    """A case of a person newly registered in `jurisdiction` (keywords go to `case`)."""
    from .people import person

    return case(person(jurisdiction, name), **kwargs)


def stop(
    case: Any,
    place: Any,
    start: dt.datetime,
    end: dt.datetime | None = None,
    *,
    hours: int = 1,
    address: str = "",
    companions: str = "",
    confirmed: bool = False,
    actor: Any = None,
) -> Any:
    """An itinerary stop through `itinerary_stop_add` (a place, or an address without
    one; `companions` as typed); `confirmed` confirms the itinerary afterwards
    (`itinerary_confirm`)."""
    from fangkong.tracing.services.itinerary import itinerary_confirm, itinerary_stop_add

    who = actor_or_admin(actor)
    added = itinerary_stop_add(
        actor=who,
        case=case,
        place=place,
        address=address or ("" if place is not None else "某路1号"),
        start=start,
        end=end or start + dt.timedelta(hours=hours),
        companions=companions,
    )
    if confirmed:
        itinerary_confirm(actor=who, case=case)
        added.refresh_from_db()
    return added


def scans(person: Any, visits: Iterable[tuple[Any, dt.datetime]]) -> int:
    """Venue-code scans of `person`, through `scans.services.scans_bulk_insert`."""
    from fangkong.scans.services import scans_bulk_insert

    return scans_bulk_insert(
        (person.pk, place.pk, moment, timezone.localdate(moment), place.jurisdiction_path)
        for place, moment in visits
    )


def scan(person: Any, place: Any, moment: dt.datetime) -> None:
    scans(person, [(place, moment)])


def contact(
    person: Any,
    *,
    case: Any = None,
    source_contact: Any = None,
    classification: str = "close",
    kind: str | None = None,
    exposed_on: dt.date = dt.date(2022, 7, 3),
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    status: str | None = None,
    actor: Any = None,
) -> Any:
    """A contact of `case` (or, secondary, of `source_contact`) written by the contacts
    service's one write path (`_write_findings`, which every finder ends in): dates from
    the source's rule set, one Exposure per source and kind.

    `status` moves the contact on afterwards (the state a verification push would bring
    it to; the push itself is not built)."""
    from fangkong.tracing.models import Contact, ExposureKind
    from fangkong.tracing.services import contacts as contact_services

    if (case is None) == (source_contact is None):
        raise ValueError("a contact has one source: a case or a source contact")
    finding = contact_services.Finding(
        person_id=person.pk,
        kind=kind or (ExposureKind.MANUAL if case is not None else ExposureKind.CO_PRESENCE),
        classification=classification,
        exposed_on=exposed_on,
        start=start,
        end=end,
        source_contact_id=source_contact.pk if source_contact is not None else None,
    )
    contact_services._write_findings(
        actor=actor_or_admin(actor),
        findings=[finding],
        case=case,
        source_contacts={source_contact.pk: source_contact} if source_contact else None,
    )
    written = Contact.objects.select_related("person", "ruleset").get(person=person)
    if status is not None and written.status != status:
        Contact.objects.filter(pk=written.pk).update(status=status)
        written.status = status
    return written
