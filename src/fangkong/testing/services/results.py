"""Services of labs' results (by file or API) and their corrections: rows checked
against the tubes a lab received, results stored, tube states moved, and what a positive
pool sets off handed to `rechecks`.

The path is set-based: tubes are fetched by barcode in chunks, results inserted with
COPY or bulk_create, tube states moved with one UPDATE per chunk, holds and rechecks
created in bulk; a 100,000-row file is a few dozen statements, never a query per row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record, audit_record_many
from fangkong.areas import selectors as area_selectors
from fangkong.core.errors import Conflict, DomainError
from fangkong.core.jobs import Progress
from fangkong.testing.models import (
    Recheck,
    ResultImport,
    ResultValue,
    Round,
    RoundPurpose,
    TransportBox,
    Tube,
    TubeResult,
    TubeResultCorrection,
    TubeState,
)
from fangkong.testing.rules import labs as rules
from fangkong.testing.services import notifications
from fangkong.testing.services.actors import lab_of
from fangkong.testing.services.rechecks import hold_positive_pools, resolve_rechecks
from fangkong.testing.services.result_files import (
    MAX_IMPORT_ROWS,
    ResultImportReport,
    ResultRow,
    RowErrors,
    read_results_file,
    row_from_cells,
)
from fangkong.testing.services.zone_screenings import zone_screenings_record
from fangkong.testing.signals import tube_results_stored

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.areas.models import Place


@dataclass
class _TubeFacts:
    pk: int
    round_id: int
    state: str
    lab_id: int | None
    path: str
    pool_size: int
    received_at: dt.datetime | None


TUBE_FACTS_SQL = (
    "SELECT t.id, t.barcode, t.round_id, t.state, b.lab_id, t.jurisdiction_path, t.pool_size, "  # noqa: S608 - table names of our models
    "b.received_at "
    f"FROM {Tube._meta.db_table} t LEFT JOIN {TransportBox._meta.db_table} b ON b.id = t.box_id "
    "WHERE t.barcode = ANY(%s)"
)


def _tube_facts(barcodes: list[str]) -> Iterator[tuple[Any, ...]]:
    """(pk, barcode, round, state, lab of its box, path, pool size, box received at) of
    these barcodes.
    On PostgreSQL one array parameter per 20,000 barcodes (`= ANY`), elsewhere IN lists."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for chunk in rules.chunks(barcodes, 20_000):
                cursor.execute(TUBE_FACTS_SQL, [list(chunk)])
                yield from cursor.fetchall()
        return
    for chunk in rules.chunks(barcodes):
        yield from Tube.objects.filter(barcode__in=chunk).values_list(
            "pk",
            "barcode",
            "round_id",
            "state",
            "box__lab_id",
            "jurisdiction_path",
            "pool_size",
            "box__received_at",
        )


def _check_rows(rows: list[ResultRow], lab: Place, errors: RowErrors) -> dict[str, _TubeFacts]:
    """Every row's tube was received by this lab (else `tube_not_received`, whether the
    barcode exists or not), is once in the file, and was tested no earlier than its box
    was received (`tested_before_received`; a time in the future is refused when the row
    is read, `tested_at_future`)."""
    seen: dict[str, int] = {}
    barcodes: list[str] = []
    for row in rows:
        if row.barcode in seen:
            errors.add(
                row.line,
                "row_duplicate",
                _("与第 %(line)d 行的试管条码重复") % {"line": seen[row.barcode]},
                row.barcode,
            )
            continue
        seen[row.barcode] = row.line
        barcodes.append(row.barcode)
    tubes = {f[1]: _TubeFacts(f[0], *f[2:]) for f in _tube_facts(barcodes)}
    for row in rows:
        if seen.get(row.barcode) != row.line:
            continue
        tube = tubes.get(row.barcode)
        # An unknown barcode and another lab's tube get the same answer: a lab must not
        # learn from an import which barcodes exist elsewhere.
        if (
            tube is None
            or tube.lab_id != lab.pk
            or tube.state not in (TubeState.RECEIVED, TubeState.RESULTED)
        ):
            errors.add(
                row.line, "tube_not_received", _("试管条码不存在或未被本机构接收"), row.barcode
            )
            continue
        received = _aware(tube.received_at)
        if received is not None and row.tested_at < received:
            # A result before its box reached the lab is a typing or clock error: it
            # would show a negative turnaround. Refused with the receipt time to compare.
            errors.add(
                row.line,
                "tested_before_received",
                _("检测时间 %(tested)s 早于转运箱接收时间 %(received)s")
                % {
                    "tested": f"{timezone.localtime(row.tested_at):%Y-%m-%d %H:%M:%S}",
                    "received": f"{timezone.localtime(received):%Y-%m-%d %H:%M:%S}",
                },
                row.barcode,
            )
    return tubes


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """A raw cursor's timestamp as an aware datetime (SQLite's come back naive UTC)."""
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment, dt.UTC)


def _audit_events(actor: User, events: list[dict[str, Any]], ip: str) -> None:
    if events:
        audit_record_many(actor=actor, events=events, ip=ip)


RESULT_COLUMNS = (
    "tube_id",
    "round_id",
    "lab_id",
    "result",
    "ct_orf1ab",
    "ct_n",
    "tested_at",
    "stored_at",
    "source_id",
    "revision",
)


def _insert_results(rows: list[tuple[Any, ...]]) -> None:
    """Insert new results set-based: COPY on PostgreSQL, bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        table = TubeResult._meta.db_table
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY {table} ({', '.join(RESULT_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    TubeResult.objects.bulk_create(
        [TubeResult(**dict(zip(RESULT_COLUMNS, row, strict=True))) for row in rows],
        batch_size=2000,
    )


def _apply(
    *,
    actor: User,
    lab: Place,
    rows: list[ResultRow],
    tubes: dict[str, _TubeFacts],
    source: ResultImport,
    report: ResultImportReport,
    reason: str,
    ip: str,
) -> None:
    now = timezone.now()
    by_tube = {tubes[r.barcode].pk: r for r in rows}
    # A received tube has no result yet (storing one moves it to resulted in the same
    # transaction): only resulted tubes are looked up for a stored result.
    resulted = [tubes[r.barcode].pk for r in rows if tubes[r.barcode].state == TubeState.RESULTED]
    single = {tubes[r.barcode].pk for r in rows if tubes[r.barcode].pool_size == 1}
    existing: dict[int, TubeResult] = {}
    for chunk in rules.chunks(resulted):
        existing.update(
            (tr.tube_id, tr)
            for tr in TubeResult.objects.filter(tube_id__in=chunk).only(
                "pk", "tube_id", "result", "ct_orf1ab", "ct_n", "tested_at", "revision"
            )
        )
    new_results: list[tuple[Any, ...]] = []
    changed: list[TubeResult] = []
    corrections: list[TubeResultCorrection] = []
    events: list[dict[str, Any]] = []
    newly_positive: list[int] = []
    outcomes: dict[int, str] = {}  # tube → result, for tubes whose result is new or changed
    for tube_id, row in by_tube.items():
        old = existing.get(tube_id)
        if old is None:
            new_results.append(
                (
                    tube_id,
                    tubes[row.barcode].round_id,
                    lab.pk,
                    row.result,
                    row.ct_orf1ab,
                    row.ct_n,
                    row.tested_at,
                    now,
                    source.pk,
                    1,
                )
            )
            outcomes[tube_id] = row.result
            if row.result == ResultValue.POSITIVE:
                newly_positive.append(tube_id)
            continue
        if rules.same_result(
            (old.result, old.ct_orf1ab, old.ct_n), (row.result, row.ct_orf1ab, row.ct_n)
        ):
            report.unchanged += 1
            continue
        corrections.append(
            TubeResultCorrection(
                tube_result=old,
                old_result=old.result,
                new_result=row.result,
                old_ct_orf1ab=old.ct_orf1ab,
                old_ct_n=old.ct_n,
                new_ct_orf1ab=row.ct_orf1ab,
                new_ct_n=row.ct_n,
                reason=reason[:300],
                source=source,
                actor=actor,
                at=now,
            )
        )
        events.append(
            {
                "action": "result.correct",
                "object_type": "tube_result",
                "object_id": old.pk,
                "object_label": row.barcode,
                "jurisdiction_path": tubes[row.barcode].path,
                "detail": {
                    "old": old.result,
                    "new": row.result,
                    "old_ct": [old.ct_orf1ab, old.ct_n],
                    "new_ct": [row.ct_orf1ab, row.ct_n],
                    "revision": old.revision + 1,
                    "import": source.pk,
                },
            }
        )
        if row.result != old.result:
            outcomes[tube_id] = row.result
            if row.result == ResultValue.POSITIVE:
                newly_positive.append(tube_id)
        old.result = row.result
        old.ct_orf1ab = row.ct_orf1ab
        old.ct_n = row.ct_n
        old.tested_at = row.tested_at
        old.stored_at = now
        old.source = source
        old.revision += 1
        changed.append(old)
    _insert_results(new_results)
    TubeResult.objects.bulk_update(
        changed,
        ["result", "ct_orf1ab", "ct_n", "tested_at", "stored_at", "source", "revision"],
        batch_size=500,
    )
    TubeResultCorrection.objects.bulk_create(corrections, batch_size=1000)
    report.applied += len(new_results)
    report.corrected += len(changed)
    # One statement: every received tube this import stored a result for.
    Tube.objects.filter(
        pk__in=TubeResult.objects.filter(source=source).values("tube_id"),
        state=TubeState.RECEIVED,
    ).update(state=TubeState.RESULTED)
    report.positives = sum(1 for r in rows if r.result == ResultValue.POSITIVE)
    # Recheck tubes resolve their recheck; other positive tubes hold their pool.
    # Recheck tubes are single tubes: only those are looked up.
    recheck_tubes: set[int] = set()
    changed_ids = [t for t in outcomes if t in single]
    for chunk in rules.chunks(changed_ids):
        recheck_tubes.update(
            Recheck.objects.filter(recheck_tube_id__in=chunk).values_list(
                "recheck_tube_id", flat=True
            )
        )
    # A quarantine site's tube (a standing round of purpose quarantine) holds no pool:
    # quarantine lands it on the placement (the signal below) and makes the case.
    site_rounds = (
        set(
            Round.objects.filter(
                pk__in={tubes[by_tube[t].barcode].round_id for t in newly_positive},
                purpose=RoundPurpose.QUARANTINE,
            ).values_list("pk", flat=True)
        )
        if newly_positive
        else set()
    )
    pools = [
        t
        for t in newly_positive
        if t not in recheck_tubes and tubes[by_tube[t].barcode].round_id not in site_rounds
    ]
    events.extend(hold_positive_pools(pools, now, report))
    notifications.positive_pools(tube_ids=pools, import_id=source.pk)
    resolve_rechecks(actor, {t: outcomes[t] for t in recheck_tubes}, now, report, ip)
    _audit_events(actor, events, ip)
    if outcomes:
        tube_results_stored.send(sender=TubeResult, outcomes=outcomes, actor=actor, ip=ip)
        # The zones whose people's results are now all in (or positive) are screened.
        zone_screenings_record(
            actor=actor,
            round_ids={tubes[by_tube[t].barcode].round_id for t in outcomes},
            ip=ip,
        )


def _report_bad_rows(
    *, lab: Place, rows: list[ResultRow], report: ResultImportReport
) -> ResultImportReport:
    """Some rows are bad in themselves, so nothing will be written: the others are
    checked against the tubes too (reads only, no write transaction), so that the lab
    gets every bad line at once."""
    _check_rows(rows, lab, RowErrors(report))
    report.errors.sort(key=lambda e: e.line)
    return report


@transaction.atomic
def _import_rows(
    *,
    actor: User,
    rows: list[ResultRow],
    report: ResultImportReport,
    digest: str,
    filename: str,
    ip: str,
) -> ResultImportReport:
    """Apply rows read and checked in themselves: the write transaction starts here."""
    lab = lab_of(actor)
    # One import of a lab at a time: a lab's tubes are only ever resulted by that lab, so
    # this lock serialises every pair of imports that could touch the same tubes.
    area_selectors.place_lock(pk=lab.pk)
    previous = ResultImport.objects.filter(lab=lab, file_sha256=digest).first()
    if previous is not None:
        report.import_id = previous.pk
        report.duplicate = True
        report.errors.clear()
        return report
    errors = RowErrors(report)
    tubes = _check_rows(rows, lab, errors)
    if report.errors:
        report.errors.sort(key=lambda e: e.line)
        return report
    try:
        with transaction.atomic():
            source = ResultImport.objects.create(
                lab=lab,
                file_sha256=digest,
                filename=filename[:255],
                rows_total=report.rows,
                created_by=actor,
                created_at=timezone.now(),
            )
    except IntegrityError:  # the same file, imported concurrently
        previous = ResultImport.objects.get(lab=lab, file_sha256=digest)
        report.import_id = previous.pk
        report.duplicate = True
        return report
    try:
        with transaction.atomic():
            _apply(
                actor=actor,
                lab=lab,
                rows=rows,
                tubes=tubes,
                source=source,
                report=report,
                reason=_("检测机构重新报送：%(file)s") % {"file": filename[:200]},
                ip=ip,
            )
    except IntegrityError:  # a concurrent write of the same tubes (another process)
        raise Conflict("results_concurrent", _("结果正在被同时导入，请稍后重试")) from None
    source.rows_applied = report.applied
    source.rows_unchanged = report.unchanged
    source.rows_corrected = report.corrected
    source.positives = report.positives
    source.save(update_fields=["rows_applied", "rows_unchanged", "rows_corrected", "positives"])
    report.import_id = source.pk
    audit_record(
        actor=actor,
        action="result.import",
        object_type="result_import",
        object_id=source.pk,
        object_label=source.filename,
        detail={
            "rows": report.rows,
            "applied": report.applied,
            "unchanged": report.unchanged,
            "corrected": report.corrected,
            "positives": report.positives,
            "holds": report.holds,
            "rechecks": report.rechecks,
            "cases": report.cases,
        },
        ip=ip,
    )
    return report


def results_import_file(
    *,
    actor: User,
    data: bytes,
    filename: str = "",
    ip: str = "",
    progress: Progress | None = None,
) -> ResultImportReport:
    """Import a lab's results file (CSV or Excel): all rows or none.

    The same file again (same lab, same SHA-256) is a no-op reported as `duplicate`.
    Bad rows are reported by line number and nothing is written. A row that repeats the
    stored result is unchanged; a different result is an audited correction.

    Not atomic itself: the file is read, bounded and checked row by row first, outside
    any transaction, and only rows that passed are applied in one (`_import_rows`), so
    an upload never holds the database's write lock while it is parsed. Run as a job
    (testing.tasks_labs.RESULTS_IMPORT), `progress` shows the lines read, then the
    phase "apply" while the one write transaction runs."""
    require(actor, Capability.RESULT_IMPORT)
    lab = lab_of(actor)
    digest = hashlib.sha256(data).hexdigest()
    previous = ResultImport.objects.filter(lab=lab, file_sha256=digest).first()
    if previous is not None:  # the same file again: not even read
        return ResultImportReport(import_id=previous.pk, duplicate=True, rows=previous.rows_total)
    rows, report = read_results_file(data, filename, progress)
    if progress is not None:
        progress.rows_done = report.rows
        progress.total(report.rows)
    if report.errors:
        return _report_bad_rows(lab=lab, rows=rows, report=report)
    if progress is not None:
        progress.phase("apply")
    return _import_rows(
        actor=actor, rows=rows, report=report, digest=digest, filename=filename, ip=ip
    )


def results_submit(
    *, actor: User, results: Sequence[dict[str, Any]], batch_id: str = "", ip: str = ""
) -> ResultImportReport:
    """Results by API: a batch of {barcode, result, ct_orf1ab, ct_n, tested_at}; line
    numbers are 1-based positions in the batch. The batch's canonical JSON is hashed like a
    file, so a retried batch is a no-op. Rows are checked before the write transaction,
    as a file's are."""
    require(actor, Capability.RESULT_IMPORT)
    lab = lab_of(actor)
    if len(results) > MAX_IMPORT_ROWS:
        raise DomainError(
            "import_too_many_rows",
            _("文件行数过多（最多 %(max)d 行），请分批导入") % {"max": MAX_IMPORT_ROWS},
            max_rows=MAX_IMPORT_ROWS,
        )
    report = ResultImportReport()
    errors = RowErrors(report)
    now = timezone.now()
    rows: list[ResultRow] = []
    canonical: list[list[Any]] = []
    for line, item in enumerate(results, start=1):
        report.rows += 1
        row = row_from_cells(line, dict(item), errors, now)
        if row is not None:
            rows.append(row)
            canonical.append(
                [row.barcode, row.result, row.ct_orf1ab, row.ct_n, row.tested_at.isoformat()]
            )
    if report.rows == 0:
        raise DomainError("batch_empty", _("没有检测结果"))
    if report.errors:
        return _report_bad_rows(lab=lab, rows=rows, report=report)
    digest = hashlib.sha256(
        json.dumps(canonical, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()
    return _import_rows(
        actor=actor,
        rows=rows,
        report=report,
        digest=digest,
        filename=(batch_id or "api")[:255],
        ip=ip,
    )
