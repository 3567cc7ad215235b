"""Services of what a positive pool sets off: holds (原地管控) of its people and their
single-tube rechecks (单管复核) — opened in bulk when a pool is positive, the recheck
sample recorded, its result resolving the hold or reporting a case to tracing, and
overdue rechecks escalated to command."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record, audit_record_many
from fangkong.core.errors import Conflict, DomainError
from fangkong.protocol.rules import Protocol, deadline_after
from fangkong.testing.models import (
    BoxState,
    Hold,
    HoldState,
    Recheck,
    RecheckStatus,
    ResultValue,
    Round,
    RoundTarget,
    Sample,
    TransportBox,
    Tube,
    TubeState,
)
from fangkong.testing.rules import labs as rules
from fangkong.testing.services import notifications
from fangkong.testing.services.actors import system_actor
from fangkong.testing.services.boxes import clean_barcode
from fangkong.testing.services.result_files import ResultImportReport

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.areas.models import Place

RECHECK_BOX_PREFIX = "RC-"


def _recheck_deadlines(
    round_ids: Iterable[int], now: dt.datetime
) -> dict[int, tuple[dt.datetime, str]]:
    out: dict[int, tuple[dt.datetime, str]] = {}
    for rnd in Round.objects.filter(pk__in=list(round_ids)).select_related("ruleset"):
        deadline = deadline_after(Protocol.from_ruleset(rnd.ruleset), now, "recheck")
        out[rnd.pk] = (deadline.value, deadline.ruleset_version)
    return out


def hold_positive_pools(
    tube_ids: list[int], now: dt.datetime, report: ResultImportReport
) -> list[dict[str, Any]]:
    """Every person in these positive tubes is held and gets one recheck task (set-based).
    A person already held in the same round (another positive tube) is not held again."""
    if not tube_ids:
        return []
    members: list[tuple[int, int, int, str]] = []
    for chunk in rules.chunks(tube_ids):
        members.extend(
            Sample.objects.filter(tube_id__in=chunk).values_list(
                "tube_id", "person_id", "round_id", "jurisdiction_path"
            )
        )
    persons = list({m[1] for m in members})
    rounds = {m[2] for m in members}
    held: set[tuple[int, int]] = set()
    for chunk in rules.chunks(persons):
        held.update(
            Hold.objects.filter(
                round_id__in=rounds, person_id__in=chunk, state=HoldState.HELD
            ).values_list("round_id", "person_id")
        )
    for chunk in rules.chunks(tube_ids):  # idempotent for a tube corrected to positive again
        held.update(Hold.objects.filter(tube_id__in=chunk).values_list("round_id", "person_id"))
    holds: list[Hold] = []
    for tube_id, person_id, round_id, path in members:
        if (round_id, person_id) in held:
            continue
        held.add((round_id, person_id))
        holds.append(
            Hold(
                person_id=person_id,
                round_id=round_id,
                tube_id=tube_id,
                jurisdiction_path=path,
                state=HoldState.HELD,
                started_at=now,
            )
        )
    created = Hold.objects.bulk_create(holds, batch_size=2000)
    deadlines = _recheck_deadlines(rounds, now)
    rechecks = Recheck.objects.bulk_create(
        [
            Recheck(
                hold=h,
                person_id=h.person_id,
                round_id=h.round_id,
                source_tube_id=h.tube_id,
                jurisdiction_path=h.jurisdiction_path,
                status=RecheckStatus.PENDING,
                due_at=deadlines[h.round_id][0],
                created_at=now,
            )
            for h in created
        ],
        batch_size=2000,
    )
    report.holds += len(created)
    report.rechecks += len(rechecks)
    by_tube: dict[int, list[Hold]] = {}
    for h in created:
        by_tube.setdefault(h.tube_id, []).append(h)
    return [
        {
            "action": "recheck.create",
            "object_type": "tube",
            "object_id": tube_id,
            "detail": {
                "holds": len(members_held),
                "recheck_due_at": deadlines[members_held[0].round_id][0].isoformat(),
                "ruleset": deadlines[members_held[0].round_id][1],
                "rule": "deadline.recheck",
            },
        }
        for tube_id, members_held in by_tube.items()
    ]


def resolve_rechecks(
    actor: User,
    outcomes: dict[int, str],
    now: dt.datetime,
    report: ResultImportReport,
    ip: str,
) -> None:
    """Results of recheck tubes: negative releases the hold, positive makes a case in
    tracing (in the system actor's name), invalid asks for a new sample."""
    if not outcomes:
        return
    rechecks = list(
        Recheck.objects.select_for_update()
        .filter(recheck_tube_id__in=list(outcomes))
        .select_related("person", "hold")
    )
    from fangkong.tracing.services.cases import case_create_from_positive

    for recheck in rechecks:
        outcome = outcomes[recheck.recheck_tube_id or 0]
        before = recheck.status
        if outcome == ResultValue.POSITIVE:
            system = system_actor(city_path=recheck.jurisdiction_path)
            sampled_at = recheck.sampled_at or now
            case = case_create_from_positive(
                actor=system,
                person=recheck.person,
                sampled_on=timezone.localdate(sampled_at),
                reporting_unit=_("单管复核阳性"),
                ip=ip,
            )
            recheck.status = RecheckStatus.POSITIVE
            recheck.case = case
            if recheck.hold.state != HoldState.HELD:
                Hold.objects.filter(pk=recheck.hold_id).update(
                    state=HoldState.HELD, released_at=None
                )
            report.cases.append(case.pk)
        elif outcome == ResultValue.NEGATIVE:
            if recheck.status == RecheckStatus.POSITIVE:
                # A case was reported from it; tracing decides about that case.
                audit_record(
                    actor=actor,
                    action="recheck.correction_after_case",
                    object_type="recheck",
                    object_id=recheck.pk,
                    jurisdiction_path=recheck.jurisdiction_path,
                    detail={"case": recheck.case_id},
                    ip=ip,
                )
                continue
            recheck.status = RecheckStatus.NEGATIVE
            Hold.objects.filter(pk=recheck.hold_id).update(
                state=HoldState.RELEASED, released_at=now
            )
        else:  # invalid: sample again
            if recheck.status == RecheckStatus.POSITIVE:
                continue
            recheck.status = RecheckStatus.PENDING
        recheck.resulted_at = now
        recheck.save(update_fields=["status", "case", "resulted_at"])
        report.rechecks_resolved += 1
        audit_record(
            actor=actor,
            action="recheck.result",
            object_type="recheck",
            object_id=recheck.pk,
            jurisdiction_path=recheck.jurisdiction_path,
            detail={"from": before, "to": recheck.status, "case": recheck.case_id},
            ip=ip,
        )


@transaction.atomic
def recheck_record_sample(
    *,
    actor: User,
    recheck: Recheck,
    barcode: str,
    lab: Place | None = None,
    sampled_at: dt.datetime | None = None,
    ip: str = "",
) -> Recheck:
    """Record the single-tube recheck sample of a held person (单管复核采样).

    The recheck tube is a Tube of pool size 1 in the same round, at the point of the
    positive pool, with the person's one sample; it travels in its own transport box
    (`RC-<tube barcode>`), handed over at once to `lab` (default: the lab that tested the
    positive pool), which receives it like any box and results it through the same import.
    """
    require(actor, Capability.RECHECK_MANAGE)
    require_in_scope(actor, recheck.jurisdiction_path, what="recheck")
    recheck = Recheck.objects.select_for_update().select_related("source_tube").get(pk=recheck.pk)
    if recheck.status != RecheckStatus.PENDING:
        raise Conflict(
            "recheck_not_pending",
            _("该复核任务已采样或已有结果"),
            recheck_status=recheck.status,
        )
    code = clean_barcode(barcode)
    now = timezone.now()
    moment = sampled_at or now
    if timezone.is_naive(moment):
        raise DomainError("naive_datetime", _("时间必须带时区"), field="sampled_at")
    if moment > now + dt.timedelta(minutes=5):
        raise DomainError("date_in_future", _("日期不能晚于今天"), field="sampled_at")
    source = recheck.source_tube
    if lab is None:
        box = TransportBox.objects.filter(pk=source.box_id).first() if source.box_id else None
        if box is None:
            raise DomainError("lab_invalid", _("请选择检测机构"))
        lab = box.lab
    if lab.kind != "lab":
        raise DomainError("lab_invalid", _("请选择检测机构"), lab=lab.pk)
    box_code = f"{RECHECK_BOX_PREFIX}{code}"
    if Tube.objects.filter(barcode=code).exists():
        raise Conflict("tube_barcode_taken", _("该试管条码已被使用"), barcode=code)
    if TransportBox.objects.filter(barcode=box_code).exists():
        raise Conflict("box_barcode_taken", _("该转运箱条码已被使用"), barcode=box_code)
    box = TransportBox.objects.create(
        barcode=box_code,
        point_id=source.point_id,
        jurisdiction_path=source.jurisdiction_path,
        lab=lab,
        state=BoxState.HANDED_OVER,
        packed_by=actor,
        created_at=moment,
        handed_over_at=moment,
        handed_over_by=actor,
    )
    try:
        with transaction.atomic():
            tube = Tube.objects.create(
                barcode=code,
                round_id=recheck.round_id,
                point_id=source.point_id,
                jurisdiction_path=source.jurisdiction_path,
                pool_size=1,
                state=TubeState.PACKED,
                sampler=actor,
                opened_at=moment,
                closed_at=moment,
                box=box,
            )
    except IntegrityError:
        raise Conflict("tube_barcode_taken", _("该试管条码已被使用"), barcode=code) from None
    target = RoundTarget.objects.filter(round_id=recheck.round_id, person_id=recheck.person_id)
    Sample.objects.create(
        client_uuid=uuid.uuid4(),
        round_id=recheck.round_id,
        tube=tube,
        person_id=recheck.person_id,
        jurisdiction_path=recheck.jurisdiction_path,
        walk_in=not target.exists(),
        sampled_at=moment,
        synced_at=now,
        sampler=actor,
    )
    recheck.recheck_tube = tube
    recheck.sampled_at = moment
    recheck.status = RecheckStatus.SAMPLED
    recheck.save(update_fields=["recheck_tube", "sampled_at", "status"])
    audit_record(
        actor=actor,
        action="recheck.sample",
        object_type="recheck",
        object_id=recheck.pk,
        object_label=code,
        jurisdiction_path=recheck.jurisdiction_path,
        detail={"tube": code, "box": box_code, "lab": lab.pk},
        ip=ip,
    )
    return recheck


@transaction.atomic
def rechecks_escalate_overdue(*, now: dt.datetime | None = None) -> list[Recheck]:
    """Escalate to command every recheck past its deadline without a result (pending or
    sampled), once each, audited `recheck.escalate`. Safe to run twice; run by the task
    `testing.tasks_labs.rechecks_escalate_overdue` every few minutes."""
    moment = now or timezone.now()
    overdue = list(
        Recheck.objects.filter(
            status__in=[RecheckStatus.PENDING, RecheckStatus.SAMPLED],
            due_at__lt=moment,
            escalated_at__isnull=True,
        ).order_by("pk")[:5000]
    )
    ids = [r.pk for r in overdue]
    Recheck.objects.filter(pk__in=ids, escalated_at__isnull=True).update(escalated_at=moment)
    events = [
        {
            "action": "recheck.escalate",
            "object_type": "recheck",
            "object_id": r.pk,
            "jurisdiction_path": r.jurisdiction_path,
            "detail": {"due_at": r.due_at.isoformat(), "status": r.status},
        }
        for r in overdue
    ]
    if events:
        audit_record_many(actor=None, events=events, ip="")
    for r in overdue:
        r.escalated_at = moment
    notifications.rechecks_escalated(overdue)
    return overdue
