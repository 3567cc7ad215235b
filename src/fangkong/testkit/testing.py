"""Mass-testing data built through `fangkong.testing.services`: sampling points, labs,
rounds (planned, opened: targets computed by the service), tubes and samples (as a
phone syncs them), boxes carried to a lab, results as a lab submits them.

    point(jurisdiction)                            -> SamplingPoint (place_create, point_register)
    lab(jurisdiction)                              -> Place of kind lab
    open_round(jurisdiction, starts_at=at(10, 6))  -> Round, open (round_create, round_open)
    tube(rnd, point, persons, sampled_at=...)      -> Tube with one sample per person
                                                      (sampling_sync; walk-ins as it says)
    tubes(rnd, point, [(persons, {...}), ...])     -> several tubes in one phone batch
    received_tube(rnd, point, persons, lab=...)      -> Tube packed, handed over and received
    result(tube, "negative", lab=...)                -> the tube's result (results_submit)
    results({tube: "negative", ...}, lab=...)       -> several, one box per point, one submission
    sampler(point), lab_user(lab)                    -> accounts bound to them
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Sequence
from typing import Any

from .actors import PASSWORD, actor_or_admin
from .areas import place as area_place
from .clock import at
from .people import id_number_of

_serial = itertools.count(1)


def point(jurisdiction: Any, name: str = "采样点", *, actor: Any = None, **kwargs: Any) -> Any:
    """A sampling point: a place of kind sampling_point registered by `point_register`."""
    from fangkong.testing.services.points import point_register

    who = actor_or_admin(actor)
    where = area_place(jurisdiction, "sampling_point", f"{name}{next(_serial)}", actor=who)
    return point_register(actor=who, place=where, **kwargs)


def lab(jurisdiction: Any, name: str = "检测机构", *, actor: Any = None) -> Any:
    """A lab (a place of kind lab)."""
    return area_place(jurisdiction, "lab", f"{name}{next(_serial)}", actor=actor)


def _bound_user(role: str, place: Any, prefix: str) -> Any:
    from fangkong.accounts.models import User
    from fangkong.accounts.services import user_create

    found = User.objects.filter(place=place, role=role).order_by("pk").first()
    if found is not None:
        return found
    return user_create(
        username=f"{prefix}-{place.pk}-{uuid.uuid4().hex[:6]}",
        password=PASSWORD,
        role=role,
        jurisdiction=place.jurisdiction,
        place=place,
    )


def sampler(point: Any) -> Any:
    """The sampler account of `point` (the first bound to its place, else a new one)."""
    from fangkong.accounts.roles import Role

    return _bound_user(Role.SAMPLER, point.place, "tk-sampler")


def lab_user(lab: Any) -> Any:
    """The account of `lab` (the first bound to it, else a new one)."""
    from fangkong.accounts.roles import Role

    return _bound_user(Role.LAB, lab, "tk-lab")


def planned_round(
    jurisdictions: Any,
    *,
    starts_at: dt.datetime | None = None,
    name: str = "测试轮次",
    zones: Sequence[Any] = (),
    actor: Any = None,
    **kwargs: Any,
) -> Any:
    """A planned round over a jurisdiction (or a list), through `round_create`."""
    from fangkong.testing.services.rounds import round_create

    scope = (
        list(jurisdictions)
        if isinstance(jurisdictions, list | tuple)
        else ([jurisdictions] if jurisdictions is not None else [])
    )
    return round_create(
        actor=actor_or_admin(actor),
        name=name,
        starts_at=starts_at or at(10, 6),
        jurisdictions=scope,
        zones=zones,
        **kwargs,
    )


def open_round(
    jurisdictions: Any,
    *,
    starts_at: dt.datetime | None = None,
    name: str = "测试轮次",
    actor: Any = None,
    **kwargs: Any,
) -> Any:
    """A round planned and opened at its start: its targets are whoever the service
    finds in scope at that moment (persons registered later are walk-ins)."""
    from fangkong.testing.services.rounds import round_open

    who = actor_or_admin(actor)
    rnd = planned_round(jurisdictions, starts_at=starts_at, name=name, actor=who, **kwargs)
    return round_open(actor=who, round=rnd, now=rnd.starts_at)


def tube(
    rnd: Any,
    point: Any,
    persons: Sequence[Any],
    *,
    barcode: str | None = None,
    pool_size: int | None = None,
    closed: bool = True,
    sampled_at: dt.datetime | None = None,
    actor: Any = None,
) -> Any:
    """A tube of `persons` (one sample each, scanned by the ID numbers the kit registered
    them with) synced through `sampling_sync` at `point`, closed unless `closed=False`."""
    spec = {"barcode": barcode, "pool_size": pool_size, "closed": closed, "sampled_at": sampled_at}
    return tubes(rnd, point, [(persons, spec)], actor=actor)[0]


def tubes(
    rnd: Any,
    point: Any,
    specs: Sequence[tuple[Sequence[Any], dict[str, Any]]],
    *,
    actor: Any = None,
) -> list[Any]:
    """Several tubes in one phone batch (one `sampling_sync`): each spec is (persons,
    {barcode, pool_size, closed, sampled_at}), the keys as `tube` takes them."""
    from fangkong.testing.models import Tube
    from fangkong.testing.selectors.sampling import pool_sizes_for
    from fangkong.testing.services.sampling import SampleIn, TubeIn, sampling_sync

    sizes = pool_sizes_for(rnd)
    payloads = []
    for persons, spec in specs:
        when = spec.get("sampled_at") or rnd.starts_at + dt.timedelta(hours=1)
        size = spec.get("pool_size") or min(
            (s for s in sizes if s >= len(persons)), default=max(sizes)
        )
        payloads.append(
            TubeIn(
                barcode=spec.get("barcode") or f"T{next(_serial):010d}",
                round_id=rnd.pk,
                pool_size=size,
                opened_at=when,
                closed_at=when if spec.get("closed", True) else None,
                samples=tuple(
                    SampleIn(client_uuid=uuid.uuid4(), id_number=id_number_of(p), sampled_at=when)
                    for p in persons
                ),
            )
        )
    report = sampling_sync(
        actor=actor_or_admin(actor),
        tubes=payloads,
        point_id=point.pk,
        now=max(t.opened_at for t in payloads) + dt.timedelta(minutes=1),
    )
    refused = [item for item in [*report.tubes, *report.samples] if item.status != "ok"]
    if refused:
        raise AssertionError(f"the kit's tubes were refused: {refused}")
    return [Tube.objects.get(round=rnd, barcode__iexact=t.barcode.strip()) for t in payloads]


def received_tube(
    rnd: Any,
    point: Any,
    persons: Sequence[Any],
    *,
    lab: Any,
    barcode: str | None = None,
    sampled_at: dt.datetime | None = None,
) -> Any:
    """A closed tube packed in its own box at `point`, handed over and received by `lab`
    (box_create, box_add_tubes, box_hand_over by the point's sampler; box_receive by the
    lab's account)."""
    made = tube(rnd, point, persons, barcode=barcode, sampled_at=sampled_at)
    receive([made], point=point, lab=lab, box_barcode=f"B-{made.barcode}")
    made.refresh_from_db()
    return made


def receive(tubes: Sequence[Any], *, point: Any, lab: Any, box_barcode: str | None = None) -> Any:
    """Carry closed tubes of `point` to `lab` in one box; returns the received box."""
    from fangkong.testing.services import boxes

    at_point = sampler(point)
    box = boxes.box_create(actor=at_point, barcode=box_barcode or f"B{next(_serial):08d}", lab=lab)
    boxes.box_add_tubes(actor=at_point, box=box, barcodes=[t.barcode for t in tubes])
    moment = max(t.closed_at or t.opened_at for t in tubes)
    boxes.box_hand_over(actor=at_point, box=box, at=moment)
    return boxes.box_receive(actor=lab_user(lab), box=box, at=moment)


def results(values: dict[Any, str], *, lab: Any, tested_at: dt.datetime | None = None) -> list[Any]:
    """Results of several tubes ({tube: "negative", ...}) in one lab submission; the tubes
    not yet received are first carried to `lab`, one box per point. Returns the results
    in the order given."""
    from fangkong.testing.models import TubeResult
    from fangkong.testing.services import results as result_services

    tubes = list(values)
    for t in tubes:
        t.refresh_from_db()
    unboxed: dict[int, list[Any]] = {}
    for t in tubes:
        if t.box_id is None:
            unboxed.setdefault(t.point_id, []).append(t)
    for group in unboxed.values():
        receive(group, point=group[0].point, lab=lab)
    rows = [
        {
            "barcode": t.barcode,
            "result": values[t],
            "tested_at": tested_at or (t.closed_at or t.opened_at) + dt.timedelta(hours=5),
        }
        for t in tubes
    ]
    report = result_services.results_submit(actor=lab_user(lab), results=rows)
    if report.errors:
        raise AssertionError(f"the kit's results were refused: {report.errors}")
    by_tube = {r.tube_id: r for r in TubeResult.objects.filter(tube__in=tubes)}
    return [by_tube[t.pk] for t in tubes]


def result(
    tube: Any,
    value: str,
    *,
    lab: Any,
    tested_at: dt.datetime | None = None,
    ct_orf1ab: float | None = None,
    ct_n: float | None = None,
) -> Any:
    """The tube's result as `lab` submits it (`results_submit`); a tube not yet received
    there is first carried to it from its point."""
    from fangkong.testing.models import TubeResult
    from fangkong.testing.services import results as result_services

    tube.refresh_from_db()
    if tube.box_id is None:
        receive([tube], point=tube.point, lab=lab)
    when = tested_at or (tube.closed_at or tube.opened_at) + dt.timedelta(hours=5)
    row: dict[str, Any] = {"barcode": tube.barcode, "result": value, "tested_at": when}
    if ct_orf1ab is not None:
        row["ct_orf1ab"] = ct_orf1ab
    if ct_n is not None:
        row["ct_n"] = ct_n
    report = result_services.results_submit(actor=lab_user(lab), results=[row])
    errors = getattr(report, "errors", None)
    if errors:
        raise AssertionError(f"the kit's result was refused: {errors}")
    return TubeResult.objects.get(tube=tube)
