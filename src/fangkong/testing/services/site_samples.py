"""Tests taken at a quarantine site (隔离点检测): each one a single-tube sample, so its
lab result arrives by the normal results import.

The smallest path through testing's own tables: the site's place gets a sampling point
of its own (kept out of the points lists), the city a standing round of purpose
quarantine (kept out of mass-testing lists and coverage; created closed on first use, so
no sampler's phone offers it), and a sample is a closed single tube at that point. The
site packs its closed tubes into a transport box handed to a lab
(`site_tubes_hand_over`); from there the lab receives the box and imports results as
for any tube (`boxes.box_receive`, `results`). A positive site tube opens no pool hold:
quarantine lands it on the placement (`signals.tube_results_stored`)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import Level, PlaceKind
from fangkong.core.errors import Conflict, DomainError, NotFound
from fangkong.core.paths import city_of
from fangkong.protocol.selectors import ruleset_for
from fangkong.testing.models import (
    BoxState,
    QueueStatus,
    Round,
    RoundPurpose,
    RoundStatus,
    Sample,
    SamplingPoint,
    TransportBox,
    Tube,
    TubeState,
)
from fangkong.testing.services.boxes import scanned_barcode

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.areas.models import Place
    from fangkong.people.models import Person


def _site_of(actor: User, site_place: Place) -> None:
    """Site staff record their own site's samples only (404 elsewhere)."""
    require(actor, Capability.PLACEMENT_CARE)
    if site_place.kind != PlaceKind.QUARANTINE_SITE or actor.place_id != site_place.pk:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="site")


def site_point(site_place: Place) -> SamplingPoint:
    """The site's own sampling point (created on first use; queue closed)."""
    point = SamplingPoint.objects.filter(place=site_place).first()
    if point is not None:
        return point
    try:
        with transaction.atomic():
            return SamplingPoint.objects.create(
                place=site_place,
                jurisdiction_path=site_place.jurisdiction_path,
                tables=1,
                samplers=1,
                queue_status=QueueStatus.CLOSED,
            )
    except IntegrityError:  # a concurrent first sample made it
        return SamplingPoint.objects.get(place=site_place)


def quarantine_round(*, path: str, now: dt.datetime) -> Round:
    """The city's standing round of purpose quarantine (created closed on first use)."""
    city_path = city_of(path)
    found = Round.objects.filter(purpose=RoundPurpose.QUARANTINE, jurisdiction_path=city_path)
    rnd = found.first()
    if rnd is not None:
        return rnd
    city = area_selectors.jurisdictions_at(paths=[city_path], level=Level.CITY).get(city_path)
    if city is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="jurisdiction")
    try:
        with transaction.atomic():
            return Round.objects.create(
                name=str(_("隔离点检测")),
                jurisdiction=city,
                jurisdiction_path=city_path,
                ruleset=ruleset_for(on_date=timezone.localdate(now), path=city_path),
                purpose=RoundPurpose.QUARANTINE,
                status=RoundStatus.CLOSED,
                starts_at=now,
                deadline_at=now + dt.timedelta(days=1),
                opened_at=now,
                closed_at=now,
            )
    except IntegrityError:
        return found.get()


@transaction.atomic
def site_sample_record(
    *,
    actor: User,
    site_place: Place,
    person: Person,
    barcode: str,
    sampled_at: dt.datetime | None = None,
    ip: str = "",
) -> Tube:
    """One person's sample at the site in a new single tube, closed at once (the
    barcode scanned or typed: trimmed and upper-cased; taken → 409
    `tube_barcode_taken`)."""
    _site_of(actor, site_place)
    code = scanned_barcode(barcode)
    now = timezone.now()
    moment = sampled_at or now
    if timezone.is_naive(moment):
        raise DomainError("naive_datetime", _("时间必须带时区"), field="sampled_at")
    if moment > now + dt.timedelta(minutes=5):
        raise DomainError("sampled_at_future", _("采样时间不能晚于当前时间"), field="sampled_at")
    point = site_point(site_place)
    rnd = quarantine_round(path=site_place.jurisdiction_path, now=moment)
    tube = Tube(
        barcode=code,
        round=rnd,
        point=point,
        jurisdiction_path=point.jurisdiction_path,
        pool_size=1,
        state=TubeState.CLOSED,
        sampler=actor,
        opened_at=moment,
        closed_at=moment,
    )
    try:
        with transaction.atomic():
            tube.save(force_insert=True)
    except IntegrityError:
        raise Conflict("tube_barcode_taken", _("该试管条码已被使用"), barcode=code) from None
    Sample.objects.create(
        client_uuid=uuid.uuid4(),
        round=rnd,
        tube=tube,
        person=person,
        jurisdiction_path=person.jurisdiction_path,
        walk_in=False,
        sampled_at=moment,
        synced_at=now,
        sampler=actor,
    )
    audit_record(
        actor=actor,
        action="sample.site_record",
        object_type="tube",
        object_id=tube.pk,
        object_label=tube.barcode,
        jurisdiction_path=point.jurisdiction_path,
        detail={"person": person.pk, "site": site_place.pk},
        ip=ip,
    )
    return tube


def site_tubes_waiting(*, actor: User, site_place: Place) -> list[Tube]:
    """The site's closed tubes not yet packed (to be handed to a lab)."""
    _site_of(actor, site_place)
    return list(
        Tube.objects.filter(
            point__place=site_place, state=TubeState.CLOSED, box__isnull=True
        ).order_by("closed_at", "pk")
    )


@transaction.atomic
def site_tubes_hand_over(
    *,
    actor: User,
    site_place: Place,
    lab: Place,
    box_barcode: str,
    at: dt.datetime | None = None,
    ip: str = "",
) -> TransportBox:
    """Every closed, unpacked tube of the site packed into a new box for `lab` and handed
    over (the box then goes the way of any box: the lab receives it and imports)."""
    _site_of(actor, site_place)
    if lab.kind != PlaceKind.LAB:
        raise DomainError("lab_invalid", _("请选择检测机构"), lab=lab.pk)
    code = scanned_barcode(box_barcode, "box_barcode")
    point = site_point(site_place)
    tubes = list(
        Tube.objects.select_for_update().filter(
            point=point, state=TubeState.CLOSED, box__isnull=True
        )
    )
    if not tubes:
        raise Conflict("box_empty", _("转运箱内没有试管"))
    moment = at or timezone.now()
    box = TransportBox(
        barcode=code,
        point=point,
        jurisdiction_path=point.jurisdiction_path,
        lab=lab,
        state=BoxState.HANDED_OVER,
        packed_by=actor,
        created_at=moment,
        handed_over_at=moment,
        handed_over_by=actor,
    )
    try:
        with transaction.atomic():
            box.save(force_insert=True)
    except IntegrityError:
        raise Conflict("box_barcode_taken", _("该转运箱条码已被使用"), barcode=code) from None
    Tube.objects.filter(pk__in=[t.pk for t in tubes]).update(box=box, state=TubeState.PACKED)
    audit_record(
        actor=actor,
        action="box.hand_over",
        object_type="transport_box",
        object_id=box.pk,
        object_label=box.barcode,
        jurisdiction_path=box.jurisdiction_path,
        detail={"tubes": len(tubes), "lab": lab.pk},
        ip=ip,
    )
    return box
