"""Writes of sampling (采样): the sync of a batch of tubes and samples from a sampler's
phone, and closing a tube by hand.

The sync is idempotent and answers per item. A phone generates each sample's
`client_uuid` (UNIQUE) and sends tubes by barcode (UNIQUE): a retried batch, or a batch
whose first half was stored before the connection dropped, stores each sample exactly
once and answers `duplicate` for what was already there. It is set-based: a batch of
any size costs a fixed number of statements (tubes, persons, stored samples of tubes
stored before, targets, the samples by INSERT ... ON CONFLICT DO NOTHING, the tubes that
close), never a query per sample. On PostgreSQL these are fixed, prepared statements
whose rows travel as one JSON parameter (docs/decisions/0009).

Item codes (stable): tube_barcode_taken, round_not_found, round_not_open,
pool_size_invalid, barcode_invalid, tube_time_invalid, tube_closed, tube_full,
already_in_tube, person_not_found, lookup_suspended, lookup_budget_exhausted,
sampled_at_invalid, and people's validation codes (id_bad_checksum, id_wrong_length, ...).
A stored sample of a person the round sampled before, in another tube, is answered `ok`
with the code `retest` (flagged to the sampler, not refused).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require
from fangkong.accounts.roles import Capability
from fangkong.core.errors import Conflict, DomainError
from fangkong.core.sql import json_param as _json
from fangkong.core.sql import pg_any as _pg_any
from fangkong.core.sql import statement_cursor as _statement_cursor
from fangkong.people import rules as people_rules
from fangkong.people import selectors as people_selectors
from fangkong.people.lookups import (
    LookupAsked,
    LookupHit,
    lookup_answer_many,
    lookup_record_hits,
)
from fangkong.people.services import PersonEntry, id_lookup_hash, person_bulk_get_or_create
from fangkong.testing.models import (
    Round,
    RoundStatus,
    RoundTarget,
    Sample,
    SamplingPoint,
    Tube,
    TubeState,
)
from fangkong.testing.rules import sampling as rules
from fangkong.testing.selectors import sampling as selectors

if TYPE_CHECKING:
    from fangkong.accounts.models import User

OK = "ok"
DUPLICATE = "duplicate"
ERROR = "error"
BARCODE_MAX = 64
INSERT_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class SampleIn:
    """One person's swab as the phone recorded it."""

    client_uuid: uuid.UUID
    id_number: str
    sampled_at: dt.datetime
    id_kind: str = "ric"
    # A walk-in unknown to the registry is registered with these (name and phone).
    name: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class TubeIn:
    """One tube as the phone recorded it: opened, filled, maybe closed."""

    barcode: str
    round_id: int
    pool_size: int
    opened_at: dt.datetime
    closed_at: dt.datetime | None = None
    samples: tuple[SampleIn, ...] = ()


@dataclass(slots=True)
class ItemResult:
    key: str
    status: str = OK
    code: str = ""
    message: str = ""

    def refuse(self, code: str, message: str) -> None:
        self.status, self.code, self.message = ERROR, code, message


@dataclass(slots=True)
class TubeResult(ItemResult):
    state: str = ""
    samples: int = 0


@dataclass
class SyncResult:
    tubes: list[TubeResult] = field(default_factory=list)
    samples: list[ItemResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for s in self.samples if s.status == status)


@dataclass(slots=True)
class _Pending:
    """A sample on its way through the sync: its answer and what was resolved."""

    position: int
    tube_position: int
    sample: SampleIn
    result: ItemResult
    id_kind: str = ""
    number: str = ""
    id_hmac: str = ""
    person_id: int | None = None
    person_path: str = ""


def _refuse_all(pending: list[_Pending], code: str, message: str) -> None:
    for p in pending:
        if p.result.status == OK:
            p.result.refuse(code, message)


def _check_batch_size(tubes: Sequence[TubeIn]) -> None:
    samples = sum(len(t.samples) for t in tubes)
    if len(tubes) > rules.MAX_TUBES_PER_SYNC or samples > rules.MAX_SAMPLES_PER_SYNC:
        raise DomainError(
            "batch_too_large",
            _("一次上传的试管或采样记录过多，请分批上传"),
            max_tubes=rules.MAX_TUBES_PER_SYNC,
            max_samples=rules.MAX_SAMPLES_PER_SYNC,
        )


def _check_rounds(
    tubes: Sequence[TubeIn], results: list[TubeResult], point: SamplingPoint
) -> dict[int, Round]:
    """Refuse tubes whose round is unknown, elsewhere or not sampling, or whose pool
    size the round does not allow. One query."""
    round_ids = {t.round_id for t in tubes}
    rounds = {r.pk: r for r in Round.objects.select_related("ruleset").filter(pk__in=round_ids)}
    for tube, result in zip(tubes, results, strict=True):
        if result.status == ERROR:
            continue
        rnd = rounds.get(tube.round_id)
        if rnd is None or not selectors.round_covers_point(rnd, point):
            result.refuse("round_not_found", _("未找到该轮次或该轮次不包含本采样点"))
        elif rnd.status == RoundStatus.PLANNED:
            result.refuse("round_not_open", _("该轮次尚未开始采样"))
        elif tube.pool_size not in selectors.pool_sizes_for(rnd):
            result.refuse("pool_size_invalid", _("该轮次不允许此混采数"))
    return rounds


def _check_tube_times(
    tubes: Sequence[TubeIn], results: list[TubeResult], rounds: dict[int, Round], now: dt.datetime
) -> None:
    """Refuse tubes whose opening or closing time is implausible for their round and the
    server's clock (`tube_time_invalid`), with their samples; in Python, on the batch,
    before any statement."""
    for tube, result in zip(tubes, results, strict=True):
        if result.status == ERROR:
            continue
        rnd = rounds[tube.round_id]
        if not rules.tube_times_valid(
            opened_at=tube.opened_at,
            closed_at=tube.closed_at,
            round_starts_at=rnd.starts_at,
            round_closed_at=rnd.closed_at if rnd.status == RoundStatus.CLOSED else None,
            now=now,
        ):
            result.refuse("tube_time_invalid", _("试管开管或封管时间不合理"))


def _merge_same_barcode(tubes: Sequence[TubeIn]) -> list[TubeIn]:
    """A phone may send one tube twice in a batch (filled, then closed): merge them."""
    merged: dict[str, TubeIn] = {}
    order: list[str] = []
    for t in tubes:
        key = (t.barcode or "").strip().upper()
        if key in merged:
            first = merged[key]
            merged[key] = TubeIn(
                barcode=first.barcode,
                round_id=first.round_id,
                pool_size=first.pool_size,
                opened_at=first.opened_at,
                closed_at=first.closed_at or t.closed_at,
                samples=first.samples + t.samples,
            )
        else:
            merged[key] = TubeIn(
                barcode=key,
                round_id=t.round_id,
                pool_size=t.pool_size,
                opened_at=t.opened_at,
                closed_at=t.closed_at,
                samples=tuple(t.samples),
            )
            order.append(key)
    return [merged[k] for k in order]


@dataclass(frozen=True, slots=True)
class _StoredTube:
    """A tube row as the sync reads it, locked for the rest of the transaction."""

    pk: int
    round_id: int
    point_id: int
    pool_size: int
    state: str
    created: bool  # inserted by this sync


def _index_access_only() -> None:
    """Every lookup of the sync probes an index for a batch's keys. The planner can
    believe otherwise while a table is young: the samples of a first round start from an
    empty table whose statistics say so, and a prepared statement keeps the plan it made
    then (a sequential scan) while the table grows by thousands of rows a second, until
    autovacuum's ANALYZE a minute later. Measured: a storm on an emptied table fell from
    6,000 to 3,100 samples/s with a p99 of 33 s. So sequential scans are off for the
    sync's transaction (SET LOCAL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")


def _index_access_only_end() -> None:
    """Inside a caller's transaction (the drill, a test) the setting would outlive the
    sync: put it back. (A sync that fails is rolled back, and the setting with it.)"""
    if connection.vendor == "postgresql" and connection.savepoint_ids:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan TO DEFAULT")


TUBE_COLUMNS = (
    "barcode",
    "round_id",
    "point_id",
    "jurisdiction_path",
    "pool_size",
    "state",
    "sampler_id",
    "opened_at",
)

# One statement creates the new tubes and locks every tube of the batch, new or not:
# ON CONFLICT DO UPDATE (a no-op update) returns and locks the row stored before, even
# one a concurrent sync committed a moment ago. Tubes stored before are taken first, in
# id order, as the labs' services lock them (packing a box updates its tubes by id), so
# a phone resending closed tubes while they are packed cannot deadlock; then the new
# ones in barcode order, the same for two syncs of the same tubes. `xmax = 0` holds for
# a row this statement inserted, not for one it locked.
PG_TUBE_UPSERT = (
    "INSERT INTO testing_tube (barcode, round_id, point_id, jurisdiction_path, pool_size, "
    "state, sampler_id, opened_at) "
    "SELECT x.barcode, x.round_id, %s, %s, x.pool_size, %s, %s, x.opened_at "
    "FROM jsonb_to_recordset(%s::jsonb) AS x(barcode varchar, round_id bigint, "
    "pool_size smallint, opened_at timestamptz) "
    "ORDER BY (SELECT s.id FROM testing_tube AS s WHERE s.barcode = x.barcode) NULLS LAST, "
    "x.barcode "
    "ON CONFLICT (barcode) DO UPDATE SET barcode = EXCLUDED.barcode "
    "RETURNING id, barcode, round_id, point_id, pool_size, state, xmax = 0"
)


def _adapt_datetime(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _upsert_tubes_pg(
    *, actor: User, point: SamplingPoint, tubes: Sequence[TubeIn]
) -> dict[str, _StoredTube]:
    rows = [
        {
            "barcode": t.barcode,
            "round_id": t.round_id,
            "pool_size": t.pool_size,
            "opened_at": t.opened_at.isoformat(),
        }
        for t in tubes
    ]
    with _statement_cursor() as cursor:
        cursor.execute(
            PG_TUBE_UPSERT,
            [
                point.pk,
                point.jurisdiction_path,
                TubeState.OPEN,
                getattr(actor, "pk", None),
                _json(rows),
            ],
        )
        return {
            barcode: _StoredTube(pk, round_id, point_id, pool_size, state, created)
            for pk, barcode, round_id, point_id, pool_size, state, created in cursor.fetchall()
        }


def _insert_tubes(*, actor: User, point: SamplingPoint, tubes: Sequence[TubeIn]) -> set[str]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING barcode: the barcodes this batch
    created (one statement; a barcode stored before, or concurrently, is left alone)."""
    q = connection.ops.quote_name
    names = ", ".join(q(c) for c in TUBE_COLUMNS)
    marks = "(" + ", ".join(["%s"] * len(TUBE_COLUMNS)) + ")"
    params: list[Any] = []
    for t in tubes:
        params += [
            t.barcode,
            t.round_id,
            point.pk,
            point.jurisdiction_path,
            t.pool_size,
            TubeState.OPEN,
            getattr(actor, "pk", None),
            _adapt_datetime(t.opened_at),
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {q(Tube._meta.db_table)} ({names}) VALUES "  # noqa: S608
            + ", ".join([marks] * len(tubes))
            + f" ON CONFLICT DO NOTHING RETURNING {q('barcode')}",
            params,
        )
        return {row[0] for row in cursor.fetchall()}


def _upsert_tubes_sqlite(
    *, actor: User, point: SamplingPoint, tubes: Sequence[TubeIn]
) -> dict[str, _StoredTube]:
    """SQLite has one writer at a time: insert the new tubes, then read them all."""
    created = _insert_tubes(actor=actor, point=point, tubes=tubes)
    rows = Tube.objects.filter(barcode__in=[t.barcode for t in tubes]).values_list(
        "pk", "barcode", "round_id", "point_id", "pool_size", "state"
    )
    return {
        barcode: _StoredTube(pk, round_id, point_id, pool_size, state, barcode in created)
        for pk, barcode, round_id, point_id, pool_size, state in rows
    }


def _lock_tubes(
    *,
    actor: User,
    point: SamplingPoint,
    tubes: Sequence[TubeIn],
    results: list[TubeResult],
) -> dict[str, _StoredTube]:
    """The batch's tubes, created if new, locked so that two syncs of one tube fill it
    one after the other. A barcode already used in another round or at another point
    is refused (`tube_barcode_taken`)."""
    wanted = [t for t, r in zip(tubes, results, strict=True) if r.status != ERROR]
    if not wanted:
        return {}
    upsert = _upsert_tubes_pg if connection.vendor == "postgresql" else _upsert_tubes_sqlite
    by_barcode = upsert(actor=actor, point=point, tubes=wanted)
    for tube, result in zip(tubes, results, strict=True):
        if result.status == ERROR:
            continue
        stored = by_barcode.get(tube.barcode)
        if stored is None:  # pragma: no cover - inserted or found above
            result.refuse("tube_not_stored", _("试管未能登记"))
        elif stored.round_id != tube.round_id or stored.point_id != point.pk:
            result.refuse("tube_barcode_taken", _("该试管条码已在其他轮次或采样点使用"))
        elif stored.pool_size != tube.pool_size:
            result.refuse("pool_size_mismatch", _("该试管已按其他混采数登记"))
        elif not stored.created:
            result.status = DUPLICATE
    return by_barcode


def _resolve_identities(pending: list[_Pending]) -> None:
    """Validate each ID number with the people app's rules and hash it."""
    for p in pending:
        if p.result.status != OK:
            continue
        try:
            facts = people_rules.validate_identity(p.sample.id_kind, p.sample.id_number)
        except DomainError as exc:
            p.result.refuse(exc.code, exc.message)
            continue
        if not facts.number:
            p.result.refuse("id_required", _("请填写证件号码"))
            continue
        p.id_kind, p.number = facts.kind, facts.number
        p.id_hmac = id_lookup_hash(facts.kind, facts.number)


def _answer_lookups(*, actor: User, live: list[_Pending], known: set[str]) -> list[_Pending]:
    """An item with an ID number and no name asks whether that number is registered: a
    miss is answered `person_not_found` (the phone must then take the person as a
    walk-in), so each one is an exact lookup by full ID number, audited (hashed),
    budgeted and alerting (people.lookups.lookup_answer_many, in this transaction: two
    queries and one INSERT per batch). Once the sampler is suspended or the budget is
    spent, every further no-name item of the batch is refused, registered or not, and
    stores nothing. A hit needs no record: its sample says who sampled whom. Answers the
    hits let through, to record those that end with no sample (`_record_untraced_hits`).
    An item with a name asks nothing: it is stored either way (a walk-in registered or
    found)."""
    asking = [p for p in live if not p.sample.name.strip()]
    if not asking:
        return []
    answers = lookup_answer_many(
        actor=actor,
        asked=[
            LookupAsked(kind=p.id_kind, value_hash=p.id_hmac, hit=p.id_hmac in known)
            for p in asking
        ],
        via="sync",
    )
    hits: list[_Pending] = []
    for p, refusal in zip(asking, answers, strict=True):
        if refusal is not None:
            p.result.refuse(refusal.code, refusal.message)
        elif p.id_hmac not in known:
            p.result.refuse(
                "person_not_found", _("该证件号码未登记，请填写姓名和手机号按临时人员登记")
            )
        else:
            hits.append(p)
    return hits


def _resolve_persons(
    *, actor: User, point: SamplingPoint, pending: list[_Pending]
) -> list[_Pending]:
    """Find every person by keyed hash (one query); answer the no-name items as the
    lookups they are (`_answer_lookups`); register the unknown walk-ins that carry a
    name through the people service in bulk, deduplicated by ID. Answers the no-name
    hits (see `_answer_lookups`)."""
    live = [p for p in pending if p.result.status == OK]
    known = people_selectors.persons_by_id_hash(hashes=list({p.id_hmac for p in live}))
    hits = _answer_lookups(actor=actor, live=live, known=set(known))
    walk_ins = [p for p in live if p.id_hmac not in known and p.sample.name.strip()]
    if walk_ins:
        entries = [
            PersonEntry(
                name=p.sample.name,
                id_kind=p.id_kind,
                id_number=p.number,
                phone=p.sample.phone,
            )
            for p in walk_ins
        ]
        try:
            answers = person_bulk_get_or_create(
                actor=actor, entries=entries, jurisdiction=point.place.jurisdiction
            )
        except DomainError as exc:
            _refuse_all(walk_ins, exc.code, exc.message)
        else:
            for p, answer in zip(walk_ins, answers, strict=True):
                if isinstance(answer, DomainError):
                    p.result.refuse(answer.code, answer.message)
                else:
                    known[p.id_hmac] = answer
    for p in live:
        if p.result.status == OK and p.id_hmac in known:
            p.person_id, p.person_path = known[p.id_hmac]
    return hits


def _record_untraced_hits(*, actor: User, hits: list[_Pending]) -> None:
    """A no-name hit refused afterwards for its tube (closed, full, the person in it
    already) leaves no sample, yet its answer told a registered number from an
    unregistered one (`person_not_found`): record it as a lookup hit (one INSERT, only
    when there are such)."""
    untraced = [p for p in hits if p.result.status == ERROR and p.person_id is not None]
    lookup_record_hits(
        actor=actor,
        hits=[
            LookupHit(
                kind=p.id_kind,
                value_hash=p.id_hmac,
                person_id=int(p.person_id or 0),
                person_path=p.person_path,
            )
            for p in untraced
        ],
        via="sync",
    )


PG_STORED_SAMPLES = (
    "SELECT tube_id, person_id, client_uuid FROM testing_sample "  # noqa: S608
    f"WHERE tube_id = {_pg_any('bigint')} OR client_uuid = {_pg_any('uuid')}"
)


def _stored_samples(
    pending: list[_Pending], tube_ids: list[int]
) -> tuple[set[uuid.UUID], dict[int, set[int]]]:
    """Which of the batch's samples are stored already, and who is in each of its tubes
    (one query)."""
    uuids = [p.sample.client_uuid for p in pending]
    stored: set[uuid.UUID] = set()
    members: dict[int, set[int]] = defaultdict(set)
    if not uuids and not tube_ids:
        return stored, members
    wanted = set(uuids)
    tubes = set(tube_ids)
    rows: Any
    if connection.vendor == "postgresql":
        with _statement_cursor() as cursor:
            cursor.execute(PG_STORED_SAMPLES, [_json(tube_ids), _json([str(u) for u in uuids])])
            rows = cursor.fetchall()
    else:
        rows = Sample.objects.filter(
            Q(tube_id__in=tube_ids) | Q(client_uuid__in=uuids)
        ).values_list("tube_id", "person_id", "client_uuid")
    for tube_id, person_id, client_uuid in rows:
        if client_uuid in wanted:
            stored.add(client_uuid)
        if tube_id in tubes:
            members[tube_id].add(person_id)
    return stored, members


# The round's targets among the batch's persons, and which of them the round sampled
# before (in another tube: a retest, flagged to the sampler): one statement, two index
# probes per person (`roundtarget` unique (round, person), `sample_round_person`).
PG_TARGETS = (
    "SELECT round_id, person_id, true FROM testing_roundtarget "  # noqa: S608
    f"WHERE round_id = %s AND person_id = {_pg_any('bigint')} "
    "UNION ALL SELECT DISTINCT round_id, person_id, false FROM testing_sample "
    f"WHERE round_id = %s AND person_id = {_pg_any('bigint')}"
)


def _targets(rows: list[tuple[int, int]]) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(round, person) pairs of the batch that are in the round's target population, and
    those the round has a stored sample of already."""
    found: set[tuple[int, int]] = set()
    sampled: set[tuple[int, int]] = set()
    if not rows:
        return found, sampled
    by_round: dict[int, set[int]] = defaultdict(set)
    for round_id, person_id in rows:
        by_round[round_id].add(person_id)
    for round_id, persons in by_round.items():
        ids = list(persons)
        if connection.vendor == "postgresql":
            with _statement_cursor() as cursor:
                ids_json = _json(ids)
                cursor.execute(PG_TARGETS, [round_id, ids_json, round_id, ids_json])
                for r_id, person_id, is_target in cursor.fetchall():
                    (found if is_target else sampled).add((r_id, person_id))
            continue
        for start in range(0, len(ids), INSERT_CHUNK):
            chunk = ids[start : start + INSERT_CHUNK]
            found.update(
                RoundTarget.objects.filter(round_id=round_id, person_id__in=chunk).values_list(
                    "round_id", "person_id"
                )
            )
            sampled.update(
                Sample.objects.filter(round_id=round_id, person_id__in=chunk).values_list(
                    "round_id", "person_id"
                )
            )
    return found, sampled


SAMPLE_COLUMNS = (
    "client_uuid",
    "round_id",
    "tube_id",
    "person_id",
    "jurisdiction_path",
    "walk_in",
    "sampled_at",
    "synced_at",
    "sampler_id",
)


# The samples and the tubes they close in one statement: a data-modifying WITH runs
# to completion whether or not the INSERT reads it.
PG_STORE = (
    "WITH closed AS (UPDATE testing_tube AS t SET state = %s, closed_at = c.at "
    "FROM jsonb_to_recordset(%s::jsonb) AS c(id bigint, at timestamptz) WHERE t.id = c.id) "
    "INSERT INTO testing_sample (client_uuid, round_id, tube_id, person_id, "
    "jurisdiction_path, walk_in, sampled_at, synced_at, sampler_id) "
    "SELECT x.client_uuid, x.round_id, x.tube_id, x.person_id, x.jurisdiction_path, "
    "x.walk_in, x.sampled_at, %s, %s FROM jsonb_to_recordset(%s::jsonb) AS x(client_uuid uuid, "
    "round_id bigint, tube_id bigint, person_id bigint, jurisdiction_path varchar, "
    "walk_in boolean, sampled_at timestamptz) "
    "ON CONFLICT DO NOTHING RETURNING client_uuid"
)


@dataclass(frozen=True, slots=True)
class _SampleRow:
    client_uuid: uuid.UUID
    round_id: int
    tube_id: int
    person_id: int
    jurisdiction_path: str
    walk_in: bool
    sampled_at: dt.datetime


def _store_pg(
    rows: list[_SampleRow],
    closing: dict[int, dt.datetime],
    *,
    synced_at: dt.datetime,
    sampler_id: int | None,
) -> set[uuid.UUID]:
    samples = [
        {
            "client_uuid": str(r.client_uuid),
            "round_id": r.round_id,
            "tube_id": r.tube_id,
            "person_id": r.person_id,
            "jurisdiction_path": r.jurisdiction_path,
            "walk_in": r.walk_in,
            "sampled_at": r.sampled_at.isoformat(),
        }
        for r in rows
    ]
    closed = [{"id": pk, "at": at.isoformat()} for pk, at in closing.items()]
    with _statement_cursor() as cursor:
        cursor.execute(
            PG_STORE,
            [TubeState.CLOSED, _json(closed), synced_at, sampler_id, _json(samples)],
        )
        return {value for (value,) in cursor.fetchall()}


def _store_sqlite(
    rows: list[_SampleRow],
    closing: dict[int, dt.datetime],
    *,
    synced_at: dt.datetime,
    sampler_id: int | None,
) -> set[uuid.UUID]:
    """Multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING in chunks, then one
    UPDATE of the tubes that close."""
    q = connection.ops.quote_name
    names = ", ".join(q(c) for c in SAMPLE_COLUMNS)
    table = q(Sample._meta.db_table)
    uuid_field = Sample._meta.get_field("client_uuid")
    adapt = connection.ops.adapt_datetimefield_value
    row_marks = "(" + ", ".join(["%s"] * len(SAMPLE_COLUMNS)) + ")"
    inserted: set[uuid.UUID] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            sql = (
                f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608
                + ", ".join([row_marks] * len(chunk))
                + f" ON CONFLICT DO NOTHING RETURNING {q('client_uuid')}"
            )
            params: list[Any] = []
            for r in chunk:
                params += [
                    uuid_field.get_db_prep_value(r.client_uuid, connection),
                    r.round_id,
                    r.tube_id,
                    r.person_id,
                    r.jurisdiction_path,
                    r.walk_in,
                    adapt(r.sampled_at),
                    adapt(synced_at),
                    sampler_id,
                ]
            cursor.execute(sql, params)
            for (value,) in cursor.fetchall():
                inserted.add(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    if closing:
        closed = [Tube(pk=pk, state=TubeState.CLOSED, closed_at=at) for pk, at in closing.items()]
        Tube.objects.bulk_update(closed, ["state", "closed_at"])
    return inserted


def _store(
    rows: list[_SampleRow],
    closing: dict[int, dt.datetime],
    *,
    synced_at: dt.datetime,
    sampler_id: int | None,
) -> set[uuid.UUID]:
    """Store the accepted samples (INSERT ... ON CONFLICT DO NOTHING: a concurrent or
    earlier copy is left alone) and close the tubes that filled up or were closed by
    hand; answer the client uuids this call stored. On PostgreSQL it is one statement
    whose text does not change with the batch."""
    if not rows and not closing:
        return set()
    store = _store_pg if connection.vendor == "postgresql" else _store_sqlite
    return store(rows, closing, synced_at=synced_at, sampler_id=sampler_id)


@transaction.atomic
def sampling_sync(
    *,
    actor: User,
    tubes: Sequence[TubeIn],
    point_id: int | None = None,
    now: dt.datetime | None = None,
) -> SyncResult:
    """Store a batch of tubes and samples from a sampler's phone; answer per item.

    Checks: the actor may register samples and works at the point (a sampler only at
    its own); each tube's round covers the point and is sampling (or was, for samples
    taken before it closed), its pool size is one the round allows, its barcode is not
    used in another round or at another point; each sample's ID number is valid, its
    person known (or a walk-in with a name, registered once however many tubes name
    them), its time plausible, its tube open and not full. A person already in the same
    tube is refused; in another tube of the round it is a retest (a second sample).
    """
    now = now or timezone.now()
    require(actor, Capability.SAMPLE_REGISTER)
    point = selectors.point_for_sampler(user=actor, point_id=point_id)
    _check_batch_size(tubes)
    _index_access_only()
    tubes = _merge_same_barcode(tubes)
    tube_results = [TubeResult(key=t.barcode) for t in tubes]
    for tube, result in zip(tubes, tube_results, strict=True):
        if not tube.barcode or len(tube.barcode) > BARCODE_MAX or not tube.barcode.isprintable():
            result.refuse("barcode_invalid", _("试管条码不合法"))
    rounds = _check_rounds(tubes, tube_results, point)
    _check_tube_times(tubes, tube_results, rounds, now)
    stored_tubes = _lock_tubes(actor=actor, point=point, tubes=tubes, results=tube_results)

    pending: list[_Pending] = []
    seen_uuids: set[uuid.UUID] = set()
    for t_pos, (tube, t_result) in enumerate(zip(tubes, tube_results, strict=True)):
        for sample in tube.samples:
            p = _Pending(
                position=len(pending),
                tube_position=t_pos,
                sample=sample,
                result=ItemResult(key=str(sample.client_uuid)),
            )
            pending.append(p)
            if sample.client_uuid in seen_uuids:
                p.result.status = DUPLICATE
                continue
            seen_uuids.add(sample.client_uuid)
            if t_result.status == ERROR:
                p.result.refuse(t_result.code, t_result.message)
    # Who is in a tube is read only for tubes stored before this sync (a retried batch,
    # a tube filled over several syncs): a tube this sync created holds no one yet.
    # Whether a sample is stored already is always read, whatever its tube: a phone
    # whose answer was lost may send a stored sample again in a new tube, and the
    # sample must not count towards that tube's fill.
    earlier_tube_ids = [
        stored_tubes[t.barcode].pk
        for t, r in zip(tubes, tube_results, strict=True)
        if r.status == DUPLICATE
    ]
    stored_uuids, members = _stored_samples(
        [p for p in pending if p.result.status == OK], earlier_tube_ids
    )
    for p in pending:
        if p.result.status == OK and p.sample.client_uuid in stored_uuids:
            p.result.status = DUPLICATE
    for p in pending:
        if p.result.status != OK:
            continue
        rnd = rounds[tubes[p.tube_position].round_id]
        if not rules.sampled_at_valid(
            p.sample.sampled_at,
            round_starts_at=rnd.starts_at,
            round_closed_at=rnd.closed_at if rnd.status == RoundStatus.CLOSED else None,
            now=now,
        ):
            p.result.refuse("sampled_at_invalid", _("采样时间不合理"))
    _resolve_identities(pending)
    no_name_hits = _resolve_persons(actor=actor, point=point, pending=pending)

    # Fill each tube in batch order: closed tubes take nothing, full ones refuse extras.
    by_tube: dict[int, list[_Pending]] = defaultdict(list)
    for p in pending:
        if p.result.status == OK:
            by_tube[p.tube_position].append(p)
    to_insert: list[_Pending] = []
    closing: dict[int, dt.datetime] = {}
    for t_pos, (tube, t_result) in enumerate(zip(tubes, tube_results, strict=True)):
        if t_result.status == ERROR:
            continue
        stored = stored_tubes[tube.barcode]
        in_tube = members[stored.pk]
        stored_count = len(in_tube)
        candidates: list[_Pending] = []
        for p in by_tube.get(t_pos, []):
            if p.person_id in in_tube:
                p.result.refuse("already_in_tube", _("此人已在该试管中"))
            else:
                in_tube.add(int(p.person_id or 0))
                candidates.append(p)
        if stored.state != TubeState.OPEN:
            _refuse_all(candidates, "tube_closed", _("该试管已封管"))
            t_result.state, t_result.samples = stored.state, stored_count
            continue
        fill = rules.tube_fill(
            pool_size=stored.pool_size,
            stored=stored_count,
            new=list(range(len(candidates))),
            closed_by_hand=tube.closed_at is not None,
        )
        for i in fill.refused:
            candidates[i].result.refuse("tube_full", _("该试管已满，请换新管"))
            members[stored.pk].discard(int(candidates[i].person_id or 0))
        accepted = [candidates[i] for i in fill.accepted]
        to_insert.extend(accepted)
        if fill.closes:
            last = max((p.sample.sampled_at for p in accepted), default=None)
            closing[stored.pk] = tube.closed_at or last or now
        t_result.state = TubeState.CLOSED if fill.closes else TubeState.OPEN
        t_result.samples = stored_count + len(accepted)

    targets, sampled_before = _targets(
        [(tubes[p.tube_position].round_id, int(p.person_id or 0)) for p in to_insert]
    )
    rows = []
    for p in to_insert:
        round_id = tubes[p.tube_position].round_id
        key = (round_id, int(p.person_id or 0))
        if key in sampled_before:
            # Stored, but the sampler should know: the same person twice in a round is
            # a retest, or someone registered by mistake.
            p.result.code, p.result.message = "retest", _("此人本轮已在其他试管采样（复检）")
        sampled_before.add(key)
        rows.append(
            _SampleRow(
                client_uuid=p.sample.client_uuid,
                round_id=round_id,
                tube_id=stored_tubes[tubes[p.tube_position].barcode].pk,
                person_id=int(p.person_id or 0),
                jurisdiction_path=p.person_path,
                walk_in=(round_id, p.person_id) not in targets,
                sampled_at=p.sample.sampled_at,
            )
        )
    inserted = _store(rows, closing, synced_at=now, sampler_id=getattr(actor, "pk", None))
    for p in to_insert:
        if p.sample.client_uuid not in inserted:
            p.result.status = DUPLICATE
    _record_untraced_hits(actor=actor, hits=no_name_hits)
    _index_access_only_end()
    return SyncResult(tubes=tube_results, samples=[p.result for p in pending])


@transaction.atomic
def tube_close(*, actor: User, barcode: str, point_id: int | None = None) -> Tube:
    """Close an open tube by hand (before it reaches its pool size)."""
    point = selectors.point_for_sampler(user=actor, point_id=point_id)
    tube = (
        Tube.objects.select_for_update()
        .filter(barcode=(barcode or "").strip().upper(), point=point)
        .first()
    )
    if tube is None:
        raise DomainError("tube_not_found", _("未找到该试管"), status=404)
    if tube.state != TubeState.OPEN:
        raise Conflict("tube_closed", _("该试管已封管"))
    tube.state = TubeState.CLOSED
    tube.closed_at = timezone.now()
    tube.save(update_fields=["state", "closed_at"])
    return tube
