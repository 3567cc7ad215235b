"""Reads of labs' work: boxes (a sampler's point, a lab's incoming), results and their
corrections, imports, holds and rechecks (scoped to the community / town), turnaround.

Scoping: a sampler sees the boxes of their point; a lab user the boxes addressed to their
lab and the tubes it received; holds and rechecks need recheck.view and lie under the
user's jurisdiction (`scope_q` on the person's path); anything else is a 404.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import has_capability, in_scope, require, scope_q
from fangkong.accounts.roles import Capability
from fangkong.areas import selectors as area_selectors
from fangkong.areas.choices import PlaceKind
from fangkong.core.deadlines import OverdueItem, OwnerKind
from fangkong.core.errors import NotFound
from fangkong.core.pagination import Page, keyset_page
from fangkong.core.paths import city_of, town_of
from fangkong.testing.models import (
    BoxState,
    Hold,
    HoldState,
    Recheck,
    RecheckStatus,
    ResultImport,
    TransportBox,
    Tube,
    TubeResult,
    TubeResultCorrection,
)
from fangkong.testing.rules import labs as rules
from fangkong.testing.services.actors import lab_of, point_of

if TYPE_CHECKING:
    from fangkong.accounts.models import User


def _not_found(what: str) -> NotFound:
    return NotFound("not_found", _("未找到或不在您的辖区内"), object=what)


# --- boxes -------------------------------------------------------------------------------


def point_boxes(*, user: User) -> QuerySet[TransportBox]:
    """The boxes of the sampler's point, the newest first."""
    require(user, Capability.BOX_MANAGE)
    point = point_of(user)
    return TransportBox.objects.filter(point=point).select_related("lab").order_by("-pk")


def lab_boxes(*, user: User, state: str | None = None) -> QuerySet[TransportBox]:
    """The boxes handed over to the lab user's lab (or in `state`), the newest first."""
    require(user, Capability.BOX_RECEIVE)
    lab = lab_of(user)
    qs = TransportBox.objects.filter(lab=lab).select_related("point__place")
    qs = qs.filter(state=state) if state else qs.exclude(state=BoxState.PACKING)
    return qs.order_by("-pk")


def boxes_of_point(*, user: User, limit: int = 50) -> list[TransportBox]:
    return list(point_boxes(user=user)[:limit])


def boxes_for_lab(*, user: User, state: str | None = None, limit: int = 100) -> list[TransportBox]:
    return list(lab_boxes(user=user, state=state)[:limit])


def box_get(*, user: User, pk: int | None = None, barcode: str | None = None) -> TransportBox:
    """A box its sampler's point or its lab may see; anything else is a 404."""
    qs = TransportBox.objects.select_related("lab", "point__place")
    if pk is not None:
        box = qs.filter(pk=pk).first()
    else:  # as scanned: boxes are stored upper-cased (older ones as typed)
        typed = (barcode or "").strip()
        box = qs.filter(Q(barcode=typed.upper()) | Q(barcode=typed)).order_by("pk").first()
    if box is None:
        raise _not_found("transport_box")
    place = getattr(user, "place_id", None)
    if has_capability(user, Capability.BOX_MANAGE) and box.point.place_id == place:
        return box
    if has_capability(user, Capability.BOX_RECEIVE) and box.lab_id == place:
        return box
    raise _not_found("transport_box")


def box_tube_barcodes(*, box: TransportBox) -> list[str]:
    return list(box.tubes.order_by("barcode").values_list("barcode", flat=True))


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TubeResultView:
    tube: Tube
    result: TubeResult | None
    corrections: list[TubeResultCorrection]
    members: int
    sampled_to_resulted_minutes: float | None
    received_to_resulted_minutes: float | None


def _minutes(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60, 1)


def tube_result_get(*, user: User, barcode: str) -> TubeResultView:
    """A tube's result and correction history: for the lab that received it, or for
    staff with round.view whose jurisdiction holds the tube's point."""
    tube = Tube.objects.select_related("box", "round").filter(barcode=barcode).first()
    if tube is None:
        raise _not_found("tube")
    lab_user = has_capability(user, Capability.RESULT_IMPORT) and (
        tube.box is not None and tube.box.lab_id == getattr(user, "place_id", None)
    )
    staff = has_capability(user, Capability.ROUND_VIEW) and in_scope(user, tube.jurisdiction_path)
    if not (lab_user or staff):
        raise _not_found("tube")
    result = TubeResult.objects.filter(tube=tube).select_related("lab", "source").first()
    corrections = (
        list(result.corrections.select_related("actor", "source").order_by("at", "pk"))
        if result
        else []
    )
    received = tube.box.received_at if tube.box else None
    return TubeResultView(
        tube=tube,
        result=result,
        corrections=corrections,
        members=tube.samples.count(),
        sampled_to_resulted_minutes=_minutes(tube.closed_at, result.tested_at if result else None),
        received_to_resulted_minutes=_minutes(received, result.tested_at if result else None),
    )


def result_imports(*, user: User, limit: int = 20) -> list[ResultImport]:
    require(user, Capability.RESULT_IMPORT)
    lab = lab_of(user)
    return list(ResultImport.objects.filter(lab=lab).order_by("-pk")[:limit])


@dataclass(frozen=True)
class LabTurnaround:
    lab_id: int
    lab_name: str
    round_id: int
    round_name: str
    sampled_to_resulted: rules.Turnaround
    received_to_resulted: rules.Turnaround


def turnaround_by_lab(*, user: User, round_id: int | None = None) -> list[LabTurnaround]:
    """Median and p90 turnaround (sampled → resulted, received → resulted) per lab and
    round. A lab user sees their lab; staff with round.view the tubes sampled in their
    jurisdiction."""
    if has_capability(user, Capability.ROUND_VIEW):
        qs = TubeResult.objects.filter(scope_q(user, "tube__jurisdiction_path"))
    else:
        require(user, Capability.RESULT_IMPORT)
        qs = TubeResult.objects.filter(lab=lab_of(user))
    if round_id is not None:
        qs = qs.filter(round_id=round_id)
    sampled: dict[tuple[int, int], list[float]] = defaultdict(list)
    received: dict[tuple[int, int], list[float]] = defaultdict(list)
    names: dict[tuple[int, int], tuple[str, str]] = {}
    for lab_id, lab_name, rid, rname, tested, closed, got in qs.values_list(
        "lab_id",
        "lab__name",
        "round_id",
        "round__name",
        "tested_at",
        "tube__closed_at",
        "tube__box__received_at",
    ).iterator(chunk_size=5000):
        key = (lab_id, rid)
        names[key] = (lab_name, rname)
        if closed is not None:
            sampled[key].append((tested - closed).total_seconds() / 60)
        if got is not None:
            received[key].append((tested - got).total_seconds() / 60)
    return [
        LabTurnaround(
            lab_id=key[0],
            lab_name=names[key][0],
            round_id=key[1],
            round_name=names[key][1],
            sampled_to_resulted=rules.turnaround(sampled[key]),
            received_to_resulted=rules.turnaround(received[key]),
        )
        for key in sorted(names)
    ]


# --- holds and rechecks -----------------------------------------------------------------------


def _rechecks_qs(user: User) -> QuerySet[Recheck]:
    require(user, Capability.RECHECK_VIEW)
    return Recheck.objects.filter(scope_q(user)).select_related(
        "person", "round", "source_tube", "recheck_tube", "case"
    )


def recheck_overdue_q(now: dt.datetime) -> Q:
    return Q(status__in=[RecheckStatus.PENDING, RecheckStatus.SAMPLED], due_at__lt=now)


def rechecks(
    *,
    user: User,
    status: str | None = None,
    overdue: bool | None = None,
    cursor: str | None = None,
    size: int = 50,
) -> Page[Recheck]:
    qs = _rechecks_qs(user)
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(recheck_overdue_q(timezone.now()))
    return keyset_page(qs, cursor=cursor, size=size, descending=False)


def recheck_get(*, user: User, pk: int) -> Recheck:
    recheck = _rechecks_qs(user).filter(pk=pk).first()
    if recheck is None:
        raise _not_found("recheck")
    return recheck


@dataclass(frozen=True)
class RecheckCounts:
    pending: int
    sampled: int
    negative: int
    positive: int
    overdue: int


def recheck_counts(*, user: User) -> RecheckCounts:
    qs = _rechecks_qs(user)
    counts: dict[str, int] = defaultdict(int)
    for row in qs.order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return RecheckCounts(
        pending=counts[RecheckStatus.PENDING],
        sampled=counts[RecheckStatus.SAMPLED],
        negative=counts[RecheckStatus.NEGATIVE],
        positive=counts[RecheckStatus.POSITIVE],
        overdue=qs.filter(recheck_overdue_q(timezone.now())).count(),
    )


def holds(
    *, user: User, state: str | None = HoldState.HELD, cursor: str | None = None, size: int = 50
) -> Page[Hold]:
    require(user, Capability.RECHECK_VIEW)
    qs = Hold.objects.filter(scope_q(user)).select_related("person", "round", "tube")
    if state:
        qs = qs.filter(state=state)
    return keyset_page(qs, cursor=cursor, size=size, descending=True)


def labs_available(*, user: User) -> list[Any]:
    """The labs of the user's city (a box's or a recheck tube's destination)."""
    city = city_of(str(getattr(user, "scope_path", "") or ""))
    if not city:
        return []
    return area_selectors.places_under(path=city, kind=PlaceKind.LAB)


def lab_get(*, user: User, pk: int) -> Any:
    for lab in labs_available(user=user):
        if lab.pk == pk:
            return lab
    raise _not_found("lab")


# --- the overdue board (core.deadlines, kind "testing.recheck") -------------------------

RECHECK_DEADLINE_KIND = "testing.recheck"


def _rechecks_overdue_q(user: User, now: dt.datetime) -> QuerySet[Recheck]:
    """Rechecks without a result past their deadline in the user's scope (index
    recheck_due on status and deadline)."""
    return Recheck.objects.filter(scope_q(user), recheck_overdue_q(now))


def rechecks_overdue_items(user: User, now: dt.datetime, limit: int) -> list[OverdueItem]:
    """The board's items: rechecks past their deadline without a result, the oldest
    deadline first. Who must act: the person's town while the recheck sample is still to
    take (pending); the lab the recheck tube was sent to once it is sampled."""
    require(user, Capability.RECHECK_VIEW)
    rows = list(
        _rechecks_overdue_q(user, now)
        .select_related("source_tube", "recheck_tube__box__lab")
        .order_by("due_at", "pk")[:limit]
    )
    towns = area_selectors.jurisdiction_names(paths={town_of(r.jurisdiction_path) for r in rows})
    url = reverse("testing:recheck_list") + "?overdue=1"
    items = []
    for r in rows:
        lab = r.recheck_tube.box.lab if r.recheck_tube and r.recheck_tube.box else None
        town = town_of(r.jurisdiction_path)
        if r.status == RecheckStatus.SAMPLED and lab is not None:
            owner = (OwnerKind.LAB, str(lab.pk), lab.name)
            detail = _("已复采，待检测机构出结果")
        else:
            owner = (OwnerKind.TOWN, town, towns.get(town, town))
            detail = _("待复核采样")
        items.append(
            OverdueItem(
                kind=RECHECK_DEADLINE_KIND,
                key=str(r.pk),
                title=_("单管复核（阳性混管 %(tube)s）") % {"tube": r.source_tube.barcode},
                deadline=r.due_at,
                owner_kind=owner[0],
                owner_key=owner[1],
                owner_label=owner[2],
                url=f"{url}#recheck-{r.pk}",
                path=r.jurisdiction_path,
                detail=detail,
                escalated_at=r.escalated_at,
            )
        )
    return items


def rechecks_overdue_count(user: User, now: dt.datetime) -> int:
    require(user, Capability.RECHECK_VIEW)
    return _rechecks_overdue_q(user, now).count()
