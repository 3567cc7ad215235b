"""Tracing services: a case's itinerary (行程) — stops proposed from the person's venue
scans within the look-back window, added, edited, deleted and confirmed by the case's
investigator. Keyword-only, atomic, validated, audited; an edit unconfirms the itinerary.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import has_capability
from fangkong.accounts.roles import Capability
from fangkong.areas import selectors as area_selectors
from fangkong.core.errors import Conflict, NotFound
from fangkong.core.paths import city_of, is_under
from fangkong.scans.selectors import person_scans
from fangkong.tracing.models import (
    Case,
    Investigation,
    ItineraryStop,
    StopSource,
)
from fangkong.tracing.rules import cases as rules
from fangkong.tracing.services import contacts as contact_services
from fangkong.tracing.services.cases import (
    audit_case,
    clean_text,
    locked_case,
    open_investigation,
    require_case_manage,
)

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.areas.models import Place

DEFAULT_STOP_DWELL_MINUTES = 60


def stop_dwell() -> dt.timedelta:
    return dt.timedelta(
        minutes=int(getattr(settings, "FANGKONG_STOP_DWELL_MINUTES", DEFAULT_STOP_DWELL_MINUTES))
    )


def stop_merge_gap() -> dt.timedelta:
    minutes = getattr(settings, "FANGKONG_STOP_MERGE_GAP_MINUTES", None)
    return stop_dwell() if minutes is None else dt.timedelta(minutes=int(minutes))


def lookback_window(case: Case) -> tuple[dt.datetime, dt.datetime]:
    """[look-back start 00:00 Asia/Shanghai, reported_at]: where the case's stops lie."""
    start = dt.datetime.combine(case.lookback_start, dt.time.min)
    return timezone.make_aware(start, timezone.get_default_timezone()), case.reported_at


def _check_place(actor: User, place: Place | None) -> None:
    """A stop's place lies in the city the actor works for (elsewhere: a free address)."""
    if place is None:
        return
    city = city_of(str(getattr(actor, "scope_path", "")))
    if not city or not is_under(place.jurisdiction_path, city):
        raise NotFound("not_found", _("未找到该场所"), object="place")


def _unconfirm(investigation: Investigation) -> None:
    if investigation.itinerary_confirmed_at is not None:
        investigation.itinerary_confirmed_at = None
        investigation.save(update_fields=["itinerary_confirmed_at"])


def _stop_detail(stop: ItineraryStop) -> dict[str, Any]:
    return {
        "stop": stop.pk,
        "place": stop.place_id,
        "start": stop.start.isoformat(),
        "end": stop.end.isoformat(),
    }


@transaction.atomic
def itinerary_propose_from_scans(*, actor: User, case: Case, ip: str = "") -> list[ItineraryStop]:
    """Propose the itinerary from the person's own venue scans in the look-back window.

    Unconfirmed scan-sourced stops are replaced; confirmed stops and stops entered by
    hand stay, and a proposal at the same place overlapping one of them is left out.
    """
    require_case_manage(actor, case)
    case, investigation = open_investigation(actor, case, ip)
    since, until = lookback_window(case)
    scans = person_scans(person_id=case.person_id, since=since, until=until)
    proposals = rules.stops_from_scans(
        ((s.place_id, s.scanned_at) for s in scans),
        dwell=stop_dwell(),
        gap=stop_merge_gap(),
        until=until,
    )
    known_places = area_selectors.place_ids_existing(pks=(p.place_id for p in proposals))
    replaced, _kinds = ItineraryStop.objects.filter(
        investigation=investigation, source=StopSource.SCAN, confirmed=False
    ).delete()
    kept = list(ItineraryStop.objects.filter(investigation=investigation, place__isnull=False))
    new_stops = [
        ItineraryStop(
            investigation=investigation,
            place_id=p.place_id,
            start=p.start,
            end=p.end,
            source=StopSource.SCAN,
            note=rules.scan_note(p.scans),
        )
        for p in proposals
        if p.place_id in known_places
        and not any(
            k.place_id == p.place_id and rules.spans_overlap(k.start, k.end, p.start, p.end)
            for k in kept
        )
    ]
    created = ItineraryStop.objects.bulk_create(new_stops)
    if created or replaced:
        _unconfirm(investigation)
    audit_case(
        actor,
        "itinerary.propose",
        case,
        detail={"scans": len(scans), "proposed": len(created), "replaced": replaced},
        ip=ip,
    )
    return sorted(created, key=lambda s: s.start)


def _clean_stop(
    actor: User,
    case: Case,
    *,
    place: Place | None,
    address: str,
    start: dt.datetime,
    end: dt.datetime,
    companions: str,
    note: str,
) -> tuple[str, str, str]:
    """A stop's fields checked (inside the look-back window, a place or an address, the
    place in scope); returns the cleaned address, companions and note."""
    clean_address = clean_text(address, "address")
    window_start, window_end = lookback_window(case)
    rules.check_stop(
        has_place=place is not None,
        address=clean_address,
        start=start,
        end=end,
        window_start=window_start,
        window_end=window_end,
    )
    _check_place(actor, place)
    return clean_address, clean_text(companions, "companions", 2000), clean_text(note, "note")


@transaction.atomic
def itinerary_stop_add(
    *,
    actor: User,
    case: Case,
    place: Place | None = None,
    address: str = "",
    start: dt.datetime,
    end: dt.datetime,
    companions: str = "",
    note: str = "",
    ip: str = "",
) -> ItineraryStop:
    """A stop entered by the investigator, inside the look-back window."""
    require_case_manage(actor, case)
    clean_address, clean_companions, clean_note = _clean_stop(
        actor,
        case,
        place=place,
        address=address,
        start=start,
        end=end,
        companions=companions,
        note=note,
    )
    case, investigation = open_investigation(actor, case, ip)
    stop = ItineraryStop.objects.create(
        investigation=investigation,
        place=place,
        address=clean_address,
        start=start,
        end=end,
        companions=clean_companions,
        note=clean_note,
        source=StopSource.MANUAL,
    )
    _unconfirm(investigation)
    audit_case(actor, "itinerary.stop_add", case, detail=_stop_detail(stop), ip=ip)
    return stop


@transaction.atomic
def itinerary_stop_update(
    *,
    actor: User,
    stop: ItineraryStop,
    place: Place | None = None,
    address: str = "",
    start: dt.datetime,
    end: dt.datetime,
    companions: str = "",
    note: str = "",
    ip: str = "",
) -> ItineraryStop:
    """Change a stop; it becomes the investigator's own (a new proposal keeps it) and
    needs confirming again."""
    case = stop.investigation.case
    require_case_manage(actor, case)
    clean_address, clean_companions, clean_note = _clean_stop(
        actor,
        case,
        place=place,
        address=address,
        start=start,
        end=end,
        companions=companions,
        note=note,
    )
    case, investigation = open_investigation(actor, case, ip)
    stop.place = place
    stop.address = clean_address
    stop.start, stop.end = start, end
    stop.companions, stop.note = clean_companions, clean_note
    stop.source = StopSource.MANUAL
    stop.confirmed = False
    stop.save()
    _unconfirm(investigation)
    audit_case(actor, "itinerary.stop_update", case, detail=_stop_detail(stop), ip=ip)
    return stop


@transaction.atomic
def itinerary_stop_delete(*, actor: User, stop: ItineraryStop, ip: str = "") -> None:
    case = stop.investigation.case
    require_case_manage(actor, case)
    case, investigation = open_investigation(actor, case, ip)
    detail = _stop_detail(stop)
    stop.delete()
    _unconfirm(investigation)
    audit_case(actor, "itinerary.stop_delete", case, detail=detail, ip=ip)


@transaction.atomic
def itinerary_confirm(*, actor: User, case: Case, ip: str = "") -> Investigation:
    """The investigator confirms the itinerary: every stop, at least one."""
    require_case_manage(actor, case)
    case = locked_case(case)
    investigation = Investigation.objects.filter(case=case).first()
    if investigation is None or not investigation.stops.exists():
        raise Conflict("itinerary_empty", _("活动轨迹没有轨迹点"))
    if case.status not in rules.ITINERARY_OPEN_STATUSES:
        raise Conflict(
            "case_transition_invalid", _("病例当前状态不允许此操作"), case_status=case.status
        )
    now = timezone.now()
    count = investigation.stops.update(confirmed=True)
    investigation.itinerary_confirmed_at = now
    investigation.save(update_fields=["itinerary_confirmed_at"])
    audit_case(actor, "itinerary.confirm", case, detail={"stops": count}, ip=ip)
    if has_capability(actor, Capability.CONTACT_MANAGE):
        # The companions typed in the stops become close contacts (同行).
        contact_services.contacts_from_companions(actor=actor, case=case, ip=ip)
    return investigation
