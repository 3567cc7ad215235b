"""Services of transport boxes (转运箱): a sampler packs tubes in a box at the point,
hands it over, and the lab receives it. Keyword-only, atomic, validated, audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.core.errors import Conflict, DomainError, NotFound
from fangkong.testing.models import (
    BoxState,
    SamplingPoint,
    TransportBox,
    Tube,
    TubeState,
)
from fangkong.testing.rules import labs as rules
from fangkong.testing.services.actors import lab_of, point_of

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.areas.models import Place


def clean_barcode(value: str, field: str = "barcode") -> str:
    """A tube or box barcode stripped, or 400 if it is empty or too long."""
    clean = (value or "").strip()
    if not clean or len(clean) > rules.BARCODE_MAX:
        raise DomainError("barcode_invalid", _("条码为空或过长"), field=field)
    return clean


def _box_audit(actor: User, action: str, box: TransportBox, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="transport_box",
        object_id=box.pk,
        object_label=box.barcode,
        jurisdiction_path=box.jurisdiction_path,
        detail=detail,
        ip=str(detail.pop("ip", "") or ""),
    )


def _own_box(actor: User, box: TransportBox) -> SamplingPoint:
    require(actor, Capability.BOX_MANAGE)
    point = point_of(actor)
    if box.point_id != point.pk:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="transport_box")
    return point


@transaction.atomic
def box_create(*, actor: User, barcode: str, lab: Place, ip: str = "") -> TransportBox:
    """A new box at the sampler's point, to be carried to `lab`."""
    require(actor, Capability.BOX_MANAGE)
    point = point_of(actor)
    code = scanned_barcode(barcode)
    if lab.kind != "lab":
        raise DomainError("lab_invalid", _("请选择检测机构"), lab=lab.pk)
    if TransportBox.objects.filter(barcode=code).exists():
        raise Conflict("box_barcode_taken", _("该转运箱条码已被使用"), barcode=code)
    box = TransportBox(
        barcode=code,
        point=point,
        jurisdiction_path=point.jurisdiction_path,
        lab=lab,
        state=BoxState.PACKING,
        packed_by=actor,
        created_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            box.save(force_insert=True)
    except IntegrityError:
        raise Conflict("box_barcode_taken", _("该转运箱条码已被使用"), barcode=code) from None
    _box_audit(actor, "box.create", box, lab=lab.pk, ip=ip)
    return box


def scanned_barcode(value: str, field: str = "barcode") -> str:
    """A scanned box or tube barcode as the phone stores it: trimmed and upper-cased
    (a scanner in lower-case mode, or a typed barcode, finds the same tube)."""
    return clean_barcode(value, field).upper()


@dataclass(frozen=True)
class RejectedTube:
    """A scanned barcode not packed, with a stable code and the reason in words."""

    barcode: str
    code: str
    message: str


@dataclass
class BoxAddReport:
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[RejectedTube] = field(default_factory=list)


def _rejection(tube: Tube | None, box: TransportBox, barcode: str) -> RejectedTube | None:
    """Why this scanned tube cannot go into the box, or None if it can."""
    if tube is None or tube.point_id != box.point_id:
        return RejectedTube(barcode, "tube_not_found", _("试管不存在或不属于本采样点"))
    if tube.box_id is not None and tube.box_id != box.pk:
        return RejectedTube(barcode, "tube_in_other_box", _("该试管已装入其他转运箱"))
    if tube.box_id is None and tube.state != TubeState.CLOSED:
        return RejectedTube(barcode, "tube_not_closed", _("试管未封管，不能装箱"))
    return None


_REJECTION_ERRORS: dict[str, type[DomainError]] = {
    "tube_not_found": NotFound,
    "tube_in_other_box": Conflict,
    "tube_not_closed": Conflict,
}


@transaction.atomic
def box_add_tubes(
    *, actor: User, box: TransportBox, barcodes: Iterable[str], ip: str = ""
) -> BoxAddReport:
    """Pack the scanned closed tubes of the box's point into it.

    Barcodes are trimmed and upper-cased. A tube already in this box is unchanged. A
    barcode that cannot be packed (unknown or of another point: `tube_not_found`; in
    another box: `tube_in_other_box`; still open: `tube_not_closed`) is listed in
    `rejected` with its code and reason, and the other tubes are packed: one mistyped
    barcode does not make the sampler scan a whole box again. When no scanned tube can
    be packed, nothing is written and the first rejection is raised (its own code and
    status) with every rejection in `detail["rejected"]`."""
    _own_box(actor, box)
    box = TransportBox.objects.select_for_update().get(pk=box.pk)
    if box.state != BoxState.PACKING:
        raise Conflict("box_not_packing", _("转运箱已交接，不能再装管"), state=box.state)
    codes = list(dict.fromkeys(scanned_barcode(b, "barcodes") for b in barcodes))
    if not codes:
        raise DomainError("barcode_invalid", _("条码为空或过长"), field="barcodes")
    tubes = {t.barcode: t for t in Tube.objects.filter(barcode__in=codes)}
    report = BoxAddReport()
    to_pack: list[int] = []
    for code in codes:
        tube = tubes.get(code)
        rejected = _rejection(tube, box, code)
        if rejected is not None:
            report.rejected.append(rejected)
        elif tube is not None and tube.box_id == box.pk:
            report.unchanged.append(code)
        elif tube is not None:
            to_pack.append(tube.pk)
            report.added.append(code)
    if report.rejected and not (report.added or report.unchanged):
        first = report.rejected[0]
        raise _REJECTION_ERRORS[first.code](
            first.code,
            first.message,
            barcode=first.barcode,
            rejected=[
                {"barcode": r.barcode, "code": r.code, "message": str(r.message)}
                for r in report.rejected
            ],
        )
    if to_pack:
        moved = Tube.objects.filter(
            pk__in=to_pack, state=TubeState.CLOSED, box__isnull=True
        ).update(box=box, state=TubeState.PACKED)
        if moved != len(to_pack):  # a concurrent packing took one
            raise Conflict("tube_in_other_box", _("该试管已装入其他转运箱"))
        _box_audit(
            actor,
            "box.pack",
            box,
            tubes=report.added,
            rejected=[r.barcode for r in report.rejected],
            ip=ip,
        )
    return report


@transaction.atomic
def box_hand_over(
    *, actor: User, box: TransportBox, at: dt.datetime | None = None, ip: str = ""
) -> TransportBox:
    """The box leaves the point (交接): time and who."""
    _own_box(actor, box)
    box = TransportBox.objects.select_for_update().get(pk=box.pk)
    if box.state != BoxState.PACKING:
        raise Conflict("box_not_packing", _("转运箱已交接，不能再装管"), state=box.state)
    if not box.tubes.exists():
        raise Conflict("box_empty", _("转运箱内没有试管"))
    moment = at or timezone.now()
    if timezone.is_naive(moment):
        raise DomainError("naive_datetime", _("时间必须带时区"), field="at")
    box.state = BoxState.HANDED_OVER
    box.handed_over_at = moment
    box.handed_over_by = actor
    box.save(update_fields=["state", "handed_over_at", "handed_over_by"])
    _box_audit(actor, "box.hand_over", box, tubes=box.tubes.count(), ip=ip)
    return box


@transaction.atomic
def box_receive(
    *, actor: User, box: TransportBox, at: dt.datetime | None = None, ip: str = ""
) -> TransportBox:
    """The lab receives a handed-over box addressed to it; its tubes become received."""
    require(actor, Capability.BOX_RECEIVE)
    lab = lab_of(actor)
    if box.lab_id != lab.pk:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="transport_box")
    box = TransportBox.objects.select_for_update().get(pk=box.pk)
    if box.state == BoxState.RECEIVED:
        raise Conflict("box_already_received", _("该转运箱已接收"))
    if box.state != BoxState.HANDED_OVER:
        raise Conflict("box_not_handed_over", _("转运箱尚未交接"), state=box.state)
    moment = at or timezone.now()
    if timezone.is_naive(moment):
        raise DomainError("naive_datetime", _("时间必须带时区"), field="at")
    box.state = BoxState.RECEIVED
    box.received_at = moment
    box.received_by = actor
    box.save(update_fields=["state", "received_at", "received_by"])
    tubes = Tube.objects.filter(box=box, state=TubeState.PACKED).update(state=TubeState.RECEIVED)
    _box_audit(actor, "box.receive", box, tubes=tubes, ip=ip)
    return box
