"""Services of labs (检测机构): transport boxes (转运箱), results (by file or API), their
corrections, and what a positive pool sets off — holds (原地管控) and single-tube
rechecks (单管复核) — down to the case a positive recheck makes in tracing.

Every write is here: keyword-only, atomic, validated before anything is written, audited.
The results path is set-based: tubes are fetched by barcode in chunks, results inserted
with bulk_create, tube states moved with one UPDATE per chunk, holds and rechecks created
in bulk; a 100,000-row file is a few dozen statements, never a query per row.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.accounts.permissions import require, require_in_scope
from fangkong.accounts.roles import Capability, Role
from fangkong.accounts.services import audit_record, audit_record_many
from fangkong.areas.models import Jurisdiction, Place
from fangkong.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from fangkong.core.jobs import Progress, counting
from fangkong.core.spreadsheet import csv_rows, formula_unescape, import_too_large, xlsx_rows
from fangkong.protocol.rules import Protocol, deadline_after
from fangkong.testing.models import (
    BoxState,
    Hold,
    HoldState,
    Recheck,
    RecheckStatus,
    ResultImport,
    ResultValue,
    Round,
    RoundTarget,
    Sample,
    SamplingPoint,
    TransportBox,
    Tube,
    TubeResult,
    TubeResultCorrection,
    TubeState,
)
from fangkong.testing.rules import labs as rules

CHUNK = 5000
BARCODE_MAX = 64
MAX_IMPORT_BYTES = 64 * 1024 * 1024
MAX_IMPORT_ROWS = 500_000
MAX_BLANK_ROWS = 10_000
MAX_IMPORT_COLUMNS = 100
HEADER_ROWS_ALLOWED = 10  # non-empty rows above the data: the header, a title or two
# An .xlsx is a zip of XML parts (see core.spreadsheet.xlsx_rows). All parts unpacked:
# 500,000 rows of five columns as openpyxl writes them unpack to 99 MB (almost all of it
# the sheet, which is parsed one row at a time); 160 MB leaves room for longer cells.
# The parts read whole when the workbook opens (shared strings, styles, theme): a file
# of 500,000 unique barcodes holds about 15 MB of shared strings; 32 MB of them cost at
# most a few hundred MB of memory.
MAX_XLSX_UNPACKED_BYTES = 160 * 1024 * 1024
MAX_XLSX_READ_WHOLE_BYTES = 32 * 1024 * 1024
MAX_ERRORS_REPORTED = 1000
RECHECK_BOX_PREFIX = "RC-"
SYSTEM_USERNAME_PREFIX = "system-"
CITY_PATH_WIDTH = 6


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _barcode(value: str, field: str = "barcode") -> str:
    clean = (value or "").strip()
    if not clean or len(clean) > BARCODE_MAX:
        raise DomainError("barcode_invalid", _("条码为空或过长"), field=field)
    return clean


# --- who acts where --------------------------------------------------------------------


def point_of(actor: Any) -> SamplingPoint:
    """The sampling point a sampler works at (User.place), or 403."""
    place_id = getattr(actor, "place_id", None)
    point = SamplingPoint.objects.filter(place_id=place_id).first() if place_id else None
    if point is None:
        raise PermissionDenied("no_sampling_point", _("您的账号未绑定采样点"))
    return point


def lab_of(actor: Any) -> Place:
    """The lab a lab user works for (User.place, of kind lab), or 403."""
    place_id = getattr(actor, "place_id", None)
    lab = Place.objects.filter(pk=place_id, kind="lab").first() if place_id else None
    if lab is None:
        raise PermissionDenied("no_lab", _("您的账号未绑定检测机构"))
    return lab


# --- transport boxes --------------------------------------------------------------------


def _box_audit(actor: Any, action: str, box: TransportBox, **detail: Any) -> None:
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


def _own_box(actor: Any, box: TransportBox) -> SamplingPoint:
    require(actor, Capability.BOX_MANAGE)
    point = point_of(actor)
    if box.point_id != point.pk:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="transport_box")
    return point


@transaction.atomic
def box_create(*, actor: Any, barcode: str, lab: Place, ip: str = "") -> TransportBox:
    """A new box at the sampler's point, to be carried to `lab`."""
    require(actor, Capability.BOX_MANAGE)
    point = point_of(actor)
    code = _barcode(barcode)
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


@dataclass
class BoxAddReport:
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@transaction.atomic
def box_add_tubes(
    *, actor: Any, box: TransportBox, barcodes: Iterable[str], ip: str = ""
) -> BoxAddReport:
    """Pack closed tubes of the box's point into it (all or none). A tube already in this
    box is unchanged; any other tube that is unknown, of another point, not closed or in
    another box refuses the whole scan."""
    _own_box(actor, box)
    box = TransportBox.objects.select_for_update().get(pk=box.pk)
    if box.state != BoxState.PACKING:
        raise Conflict("box_not_packing", _("转运箱已交接，不能再装管"), state=box.state)
    codes = list(dict.fromkeys(_barcode(b) for b in barcodes))
    if not codes:
        raise DomainError("barcode_invalid", _("条码为空或过长"), field="barcodes")
    tubes = {t.barcode: t for t in Tube.objects.filter(barcode__in=codes)}
    report = BoxAddReport()
    to_pack: list[int] = []
    for code in codes:
        tube = tubes.get(code)
        if tube is None or tube.point_id != box.point_id:
            raise NotFound("tube_not_found", _("试管不存在或不属于本采样点"), barcode=code)
        if tube.box_id == box.pk:
            report.unchanged.append(code)
            continue
        if tube.box_id is not None:
            raise Conflict("tube_in_other_box", _("该试管已装入其他转运箱"), barcode=code)
        if tube.state != TubeState.CLOSED:
            raise Conflict(
                "tube_not_closed", _("试管未封管，不能装箱"), barcode=code, state=tube.state
            )
        to_pack.append(tube.pk)
        report.added.append(code)
    if to_pack:
        moved = Tube.objects.filter(
            pk__in=to_pack, state=TubeState.CLOSED, box__isnull=True
        ).update(box=box, state=TubeState.PACKED)
        if moved != len(to_pack):  # a concurrent packing took one
            raise Conflict("tube_in_other_box", _("该试管已装入其他转运箱"))
        _box_audit(actor, "box.pack", box, tubes=report.added, ip=ip)
    return report


@transaction.atomic
def box_hand_over(
    *, actor: Any, box: TransportBox, at: dt.datetime | None = None, ip: str = ""
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
    *, actor: Any, box: TransportBox, at: dt.datetime | None = None, ip: str = ""
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


# --- results: rows -----------------------------------------------------------------------


@dataclass(frozen=True)
class ResultRow:
    """One result as a lab sends it, read but not yet checked against the database."""

    line: int
    barcode: str
    result: str
    ct_orf1ab: float | None
    ct_n: float | None
    tested_at: dt.datetime


@dataclass(frozen=True)
class ResultRowError:
    line: int  # the line (CSV) or row (Excel) number as the lab sees it; 0 = the file
    code: str
    message: str
    barcode: str = ""


@dataclass
class ResultImportReport:
    import_id: int | None = None
    duplicate: bool = False  # the same file (or batch) was imported before: nothing done
    rows: int = 0
    applied: int = 0
    unchanged: int = 0
    corrected: int = 0
    positives: int = 0
    holds: int = 0
    rechecks: int = 0
    rechecks_resolved: int = 0
    cases: list[int] = field(default_factory=list)
    errors: list[ResultRowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Errors:
    def __init__(self, report: ResultImportReport) -> None:
        self.report = report

    def add(self, line: int, code: str, message: str, barcode: str = "") -> None:
        if len(self.report.errors) < MAX_ERRORS_REPORTED:
            self.report.errors.append(ResultRowError(line, code, message, barcode))
        elif len(self.report.errors) == MAX_ERRORS_REPORTED:
            self.report.errors.append(ResultRowError(line, "too_many_errors", _("错误过多")))


def _row_from_cells(
    line: int,
    cells: dict[str, Any],
    errors: _Errors,
    now: dt.datetime,
    times: dict[str, dt.datetime] | None = None,
) -> ResultRow | None:
    """One row read and checked on its own; `times` caches parsed test times (a lab's
    file repeats the same few run times on thousands of rows)."""
    barcode = str(cells.get("barcode") or "").strip()
    if isinstance(cells.get("barcode"), float) and float(cells["barcode"]).is_integer():
        barcode = str(int(cells["barcode"]))
    if not barcode or len(barcode) > BARCODE_MAX:
        errors.add(line, "barcode_invalid", _("试管条码为空或过长"))
        return None
    result = rules.result_from_word(cells.get("result"))
    if result is None:
        errors.add(
            line,
            "result_invalid",
            _("检测结果无效：%(value)s") % {"value": str(cells.get("result") or "")[:20]},
            barcode,
        )
        return None
    try:
        ct_orf1ab = rules.parse_ct(cells.get("ct_orf1ab"))
        ct_n = rules.parse_ct(cells.get("ct_n"))
    except ValueError:
        errors.add(line, "ct_invalid", _("Ct值无效"), barcode)
        return None
    raw_time = cells.get("tested_at")
    try:
        if isinstance(raw_time, str) and times is not None:
            tested_at = times.get(raw_time) or times.setdefault(
                raw_time, rules.parse_tested_at(raw_time)
            )
        else:
            tested_at = rules.parse_tested_at(raw_time)
    except ValueError:
        errors.add(line, "tested_at_invalid", _("检测时间无效"), barcode)
        return None
    if tested_at > now + dt.timedelta(minutes=5):
        errors.add(line, "tested_at_future", _("检测时间晚于当前时间"), barcode)
        return None
    return ResultRow(line, barcode, result, ct_orf1ab, ct_n, tested_at)


def _columns(header: Sequence[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, heading in enumerate(header):
        name = rules.column_of(heading)
        if name and name not in found:
            found[name] = index
    missing = [c for c in rules.REQUIRED_COLUMNS if c not in found]
    if missing:
        raise DomainError(
            "import_header_missing",
            _("未找到表头（须含试管条码、检测结果、检测时间列）"),
            missing=missing,
        )
    return found


def _rows_from_table(
    table: Iterable[tuple[int, Sequence[Any]]], errors: _Errors, report: ResultImportReport
) -> list[ResultRow]:
    """Rows of a table read as the lab sees it (line numbers kept), bounded: more than
    MAX_IMPORT_ROWS data rows, MAX_BLANK_ROWS empty rows or MAX_IMPORT_COLUMNS cells in a
    row refuse the whole file at once (a file that compresses or declares millions of
    rows costs no more than the rows read until the limit)."""
    now = timezone.now()
    rows: list[ResultRow] = []
    times: dict[str, dt.datetime] = {}
    columns: dict[str, int] | None = None
    blank = 0
    for line, values in table:
        if len(values) > MAX_IMPORT_COLUMNS:
            raise DomainError(
                "import_too_many_columns",
                _("第 %(line)d 行的列数过多（最多 %(max)d 列）")
                % {"line": line, "max": MAX_IMPORT_COLUMNS},
                line=line,
                max_columns=MAX_IMPORT_COLUMNS,
            )
        if not any(v not in (None, "") for v in values):
            blank += 1
            if blank > MAX_BLANK_ROWS:
                raise DomainError(
                    "import_too_many_rows",
                    _("文件空行过多"),
                    line=line,
                    max_rows=MAX_IMPORT_ROWS,
                )
            continue
        if columns is None:
            columns = _columns(values)
            continue
        report.rows += 1
        if report.rows > MAX_IMPORT_ROWS:
            raise DomainError(
                "import_too_many_rows",
                _("文件行数过多（最多 %(max)d 行），请分批导入") % {"max": MAX_IMPORT_ROWS},
                line=line,
                max_rows=MAX_IMPORT_ROWS,
            )
        cells = {
            name: formula_unescape(values[index]) if index < len(values) else None
            for name, index in columns.items()
        }
        row = _row_from_cells(line, cells, errors, now, times)
        if row is not None:
            rows.append(row)
    if columns is None:
        raise DomainError(
            "import_header_missing", _("未找到表头（须含试管条码、检测结果、检测时间列）")
        )
    return rows


def _csv_table(data: bytes) -> Iterator[tuple[int, list[str]]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DomainError("import_file_invalid", _("无法读取该文件"))
    lines = io.StringIO(text, newline="")
    try:
        yield from csv_rows(lines)
    except csv.Error:
        raise DomainError("import_file_invalid", _("无法读取该文件")) from None


def _xlsx_table(data: bytes) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The workbook's non-empty rows, read by the one bounded reader
    (`core.spreadsheet.xlsx_rows`) with the bounds of a results file."""
    return xlsx_rows(
        data,
        max_bytes=MAX_IMPORT_BYTES,
        max_unpacked=MAX_XLSX_UNPACKED_BYTES,
        max_read_whole=MAX_XLSX_READ_WHOLE_BYTES,
        max_rows=MAX_IMPORT_ROWS + HEADER_ROWS_ALLOWED,
        max_columns=MAX_IMPORT_COLUMNS,
        max_empty_rows=MAX_BLANK_ROWS,
    )


def read_results_file(
    data: bytes, filename: str = "", progress: Progress | None = None
) -> tuple[list[ResultRow], ResultImportReport]:
    """Read a lab's CSV or Excel file into rows; bad rows are reported by line number.
    Bounded in bytes, rows and columns; it touches no table, so callers run it before
    their write transaction (SQLite takes its write lock when that begins). A job's
    `progress` advances by one per line read (its total estimated from a CSV's lines)."""
    if len(data) > MAX_IMPORT_BYTES:
        raise import_too_large(max_bytes=MAX_IMPORT_BYTES)
    report = ResultImportReport()
    errors = _Errors(report)
    is_xlsx = data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm"))
    table: Iterable[tuple[int, Sequence[Any]]] = _xlsx_table(data) if is_xlsx else _csv_table(data)
    if progress is not None:
        progress.phase("read")
        progress.total(None if is_xlsx else max(0, data.count(b"\n") - 1) or None)
    rows = _rows_from_table(counting(table, progress), errors, report)
    return rows, report


# --- results: applying ---------------------------------------------------------------------


@dataclass
class _TubeFacts:
    pk: int
    round_id: int
    state: str
    lab_id: int | None
    path: str
    pool_size: int


TUBE_FACTS_SQL = (
    "SELECT t.id, t.barcode, t.round_id, t.state, b.lab_id, t.jurisdiction_path, t.pool_size "  # noqa: S608 - table names of our models
    f"FROM {Tube._meta.db_table} t LEFT JOIN {TransportBox._meta.db_table} b ON b.id = t.box_id "
    "WHERE t.barcode = ANY(%s)"
)


def _tube_facts(barcodes: list[str]) -> Iterator[tuple[Any, ...]]:
    """(pk, barcode, round, state, lab of its box, path, pool size) of these barcodes.
    On PostgreSQL one array parameter per 20,000 barcodes (`= ANY`), elsewhere IN lists."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for chunk in _chunks(barcodes, 20_000):
                cursor.execute(TUBE_FACTS_SQL, [list(chunk)])
                yield from cursor.fetchall()
        return
    for chunk in _chunks(barcodes):
        yield from Tube.objects.filter(barcode__in=chunk).values_list(
            "pk",
            "barcode",
            "round_id",
            "state",
            "box__lab_id",
            "jurisdiction_path",
            "pool_size",
        )


def _check_rows(rows: list[ResultRow], lab: Place, errors: _Errors) -> dict[str, _TubeFacts]:
    """Every row's tube was received by this lab (else `tube_not_received`, whether the
    barcode exists or not) and is once in the file."""
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
    return tubes


def _audit_events(actor: Any, events: list[dict[str, Any]], ip: str) -> None:
    if events:
        audit_record_many(actor=actor, events=events, ip=ip)


def system_actor(*, city_path: str) -> Any:
    """The command centre's service account of a city (`system-<city code>`): role
    command, bound to the city, no usable password (it cannot log in). Automatic
    consequences that cross domains (a positive recheck reporting a case to tracing) are
    done in its name, so that tracing's own permission checks hold unchanged and the
    audit trail says the system did it. See docs/decisions/0008."""
    city = Jurisdiction.objects.filter(path=city_path[:CITY_PATH_WIDTH], level="city").first()
    if city is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="jurisdiction")
    username = f"{SYSTEM_USERNAME_PREFIX}{city.path}"
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    user = User(
        username=username,
        role=Role.COMMAND,
        jurisdiction=city,
        scope_path=city.path,
        display_name=_("系统（全员核酸）"),
    )
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError:  # a concurrent first use created it
        return User.objects.get(username=username)
    return user


def _recheck_deadlines(
    round_ids: Iterable[int], now: dt.datetime
) -> dict[int, tuple[dt.datetime, str]]:
    out: dict[int, tuple[dt.datetime, str]] = {}
    for rnd in Round.objects.filter(pk__in=list(round_ids)).select_related("ruleset"):
        deadline = deadline_after(Protocol.from_ruleset(rnd.ruleset), now, "recheck")
        out[rnd.pk] = (deadline.value, deadline.ruleset_version)
    return out


def _hold_positive_pools(
    tube_ids: list[int], now: dt.datetime, report: ResultImportReport
) -> list[dict[str, Any]]:
    """Every person in these positive tubes is held and gets one recheck task (set-based).
    A person already held in the same round (another positive tube) is not held again."""
    if not tube_ids:
        return []
    members: list[tuple[int, int, int, str]] = []
    for chunk in _chunks(tube_ids):
        members.extend(
            Sample.objects.filter(tube_id__in=chunk).values_list(
                "tube_id", "person_id", "round_id", "jurisdiction_path"
            )
        )
    persons = list({m[1] for m in members})
    rounds = {m[2] for m in members}
    held: set[tuple[int, int]] = set()
    for chunk in _chunks(persons):
        held.update(
            Hold.objects.filter(
                round_id__in=rounds, person_id__in=chunk, state=HoldState.HELD
            ).values_list("round_id", "person_id")
        )
    for chunk in _chunks(tube_ids):  # idempotent for a tube corrected to positive again
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


def _resolve_rechecks(
    actor: Any,
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
    actor: Any,
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
    for chunk in _chunks(resulted):
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
    for chunk in _chunks(changed_ids):
        recheck_tubes.update(
            Recheck.objects.filter(recheck_tube_id__in=chunk).values_list(
                "recheck_tube_id", flat=True
            )
        )
    pools = [t for t in newly_positive if t not in recheck_tubes]
    events.extend(_hold_positive_pools(pools, now, report))
    _resolve_rechecks(actor, {t: outcomes[t] for t in recheck_tubes}, now, report, ip)
    _audit_events(actor, events, ip)


def _report_bad_rows(
    *, lab: Place, rows: list[ResultRow], report: ResultImportReport
) -> ResultImportReport:
    """Some rows are bad in themselves, so nothing will be written: the others are
    checked against the tubes too (reads only, no write transaction), so that the lab
    gets every bad line at once."""
    _check_rows(rows, lab, _Errors(report))
    report.errors.sort(key=lambda e: e.line)
    return report


@transaction.atomic
def _import_rows(
    *,
    actor: Any,
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
    list(Place.objects.select_for_update().filter(pk=lab.pk).values_list("pk", flat=True))
    previous = ResultImport.objects.filter(lab=lab, file_sha256=digest).first()
    if previous is not None:
        report.import_id = previous.pk
        report.duplicate = True
        report.errors.clear()
        return report
    errors = _Errors(report)
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
    actor: Any,
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
    *, actor: Any, results: Sequence[dict[str, Any]], batch_id: str = "", ip: str = ""
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
    errors = _Errors(report)
    now = timezone.now()
    rows: list[ResultRow] = []
    canonical: list[list[Any]] = []
    for line, item in enumerate(results, start=1):
        report.rows += 1
        row = _row_from_cells(line, dict(item), errors, now)
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


# --- rechecks --------------------------------------------------------------------------------


@transaction.atomic
def recheck_record_sample(
    *,
    actor: Any,
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
    code = _barcode(barcode)
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
    _audit_events(
        None,
        [
            {
                "action": "recheck.escalate",
                "object_type": "recheck",
                "object_id": r.pk,
                "jurisdiction_path": r.jurisdiction_path,
                "detail": {"due_at": r.due_at.isoformat(), "status": r.status},
            }
            for r in overdue
        ],
        "",
    )
    for r in overdue:
        r.escalated_at = moment
    return overdue
