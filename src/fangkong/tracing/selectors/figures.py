"""Aggregate reads of tracing for command's figures: one grouped pass per table.

Each function groups its table by the first `width` digits of the row's jurisdiction
path (`core.paths.level_prefix_expr`, e.g. TOWN_WIDTH: every town at once) under the
city path `within`, and answers {prefix: {figure: n}}. The caller (command's figures job,
which runs for the whole city and keeps a summary row per jurisdiction) scopes what it
shows; nothing here returns a person, only counts and case numbers.

The definitions, written once here (command's README repeats them in words):

- a case's report day is `reported_at` in Asia/Shanghai; its onset day `onset_date`;
- contacts by class: `found` every contact of the class; `pushed` those on at least one
  pushed list; `controlled_24h` those whose town's feedback on a list put them under a
  measure (centralised, home, hospital) within 24 h of the list's creation; `placed` those
  whose status is controlled now; `released` those released;
- pushed lists, a partition: `open` not yet done; `on_time` done by their deadline;
  `late` done after it (open + on_time + late = every list); of the open ones,
  `open_overdue` those past their deadline at `now`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate

from fangkong.core.paths import level_prefix_expr, under
from fangkong.tracing.models import (
    Case,
    CaseKind,
    Contact,
    ContactClass,
    ContactStatus,
    PushItem,
    PushItemStatus,
    PushStatus,
    VerificationPush,
)

# The contact classes the figures count, by the figures' key.
CONTACT_CLASSES: dict[str, str] = {
    "close": ContactClass.CLOSE,
    "secondary": ContactClass.SECONDARY,
    "risk": ContactClass.CO_PRESENCE,
}
# A case's kind in words (for command's key events, which import no tracing model).
CASE_KIND_LABELS: dict[str, Any] = dict(CaseKind.choices)
# Feedback on a pushed list that puts the person under a measure.
CONTROLLED_FEEDBACK: tuple[str, ...] = (
    PushItemStatus.CENTRALISED,
    PushItemStatus.HOME,
    PushItemStatus.HOSPITAL,
)
CONTROL_WITHIN = dt.timedelta(hours=24)
PUSH_FIGURES = ("open", "open_overdue", "on_time", "late")

Grouped = dict[str, dict[str, int]]


def _local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _add(out: Grouped, key: str, figure: str, n: int) -> None:
    out.setdefault(key, {})
    out[key][figure] = out[key].get(figure, 0) + n


def case_figures_by_prefix(
    *, within: str, width: int, day_start: dt.datetime, day_end: dt.datetime
) -> Grouped:
    """{prefix: {new, total, new_confirmed, new_asymptomatic, total_confirmed,
    total_asymptomatic, source_known, source_unknown}}: cases reported before `day_end`
    (total), of them reported from `day_start` (new); source known/unknown over total."""
    rows = (
        Case.objects.filter(under("jurisdiction_path", within), reported_at__lt=day_end)
        .annotate(prefix=level_prefix_expr("jurisdiction_path", width))
        .values("prefix", "kind", "source_unknown")
        .annotate(
            total=Count("id"),
            new=Count("id", filter=Q(reported_at__gte=day_start)),
        )
        .order_by()
    )
    out: Grouped = {}
    for row in rows:
        key = row["prefix"]
        kind = "confirmed" if row["kind"] == CaseKind.CONFIRMED else "asymptomatic"
        _add(out, key, "total", row["total"])
        _add(out, key, "new", row["new"])
        _add(out, key, f"total_{kind}", row["total"])
        _add(out, key, f"new_{kind}", row["new"])
        _add(out, key, "source_unknown" if row["source_unknown"] else "source_known", row["total"])
    return out


def case_curve_by_prefix(
    *, within: str, width: int, day_end: dt.datetime
) -> dict[str, dict[str, dict[str, int]]]:
    """{prefix: {"onset": {iso date: n}, "report": {iso date: n}}} of the cases reported
    before `day_end`: by onset date (cases with one) and by report day (Asia/Shanghai)."""
    base = Case.objects.filter(
        under("jurisdiction_path", within), reported_at__lt=day_end
    ).annotate(prefix=level_prefix_expr("jurisdiction_path", width))
    out: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: {"onset": {}, "report": {}})
    onset: Any = (
        base.filter(onset_date__isnull=False)
        .values("prefix", "onset_date")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in onset:
        out[row["prefix"]]["onset"][row["onset_date"].isoformat()] = row["n"]
    report: Any = (
        base.annotate(day=TruncDate("reported_at", tzinfo=_local_tz()))
        .values("prefix", "day")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in report:
        out[row["prefix"]]["report"][row["day"].isoformat()] = row["n"]
    return dict(out)


def cases_reported_between(
    *, within: str, start: dt.datetime, end: dt.datetime, limit: int = 200
) -> list[dict[str, Any]]:
    """The cases reported in [start, end) under `within`, oldest first, de-identified:
    [{id, number, kind, path, reported_at, source_unknown}] (no person)."""
    rows: Any = (
        Case.objects.filter(
            under("jurisdiction_path", within), reported_at__gte=start, reported_at__lt=end
        )
        .order_by("reported_at", "id")
        .values("id", "number", "kind", "jurisdiction_path", "reported_at", "source_unknown")
    )
    return list(rows[:limit])


def contact_figures_by_prefix(*, within: str, width: int) -> dict[str, dict[str, dict[str, int]]]:
    """{prefix: {class key: {found, pushed, controlled_24h, placed, released}}} (the
    definitions in the module's docstring), in three grouped passes."""
    out: dict[str, dict[str, dict[str, int]]] = {}

    def at(prefix: str, classification: str) -> dict[str, int]:
        key = next(k for k, v in CONTACT_CLASSES.items() if v == classification)
        figures = out.setdefault(prefix, {}).setdefault(
            key, dict.fromkeys(("found", "pushed", "controlled_24h", "placed", "released"), 0)
        )
        return figures

    classes = list(CONTACT_CLASSES.values())
    for row in (
        Contact.objects.filter(under("jurisdiction_path", within), classification__in=classes)
        .annotate(prefix=level_prefix_expr("jurisdiction_path", width))
        .values("prefix", "classification")
        .annotate(
            found=Count("id"),
            placed=Count("id", filter=Q(status=ContactStatus.CONTROLLED)),
            released=Count("id", filter=Q(status=ContactStatus.RELEASED)),
        )
        .order_by()
    ):
        figures = at(row["prefix"], row["classification"])
        for name in ("found", "placed", "released"):
            figures[name] += row[name]
    items = PushItem.objects.filter(
        under("jurisdiction_path", within), contact__classification__in=classes
    ).annotate(prefix=level_prefix_expr("jurisdiction_path", width))
    in_time = Q(
        status__in=CONTROLLED_FEEDBACK,
        marked_at__isnull=False,
        marked_at__lte=F("push__created_at") + CONTROL_WITHIN,
    )
    pushed: Any = (
        items.values("prefix", "contact__classification")
        .annotate(
            pushed=Count("contact_id", distinct=True),
            controlled_24h=Count("contact_id", distinct=True, filter=in_time),
        )
        .order_by()
    )
    for row in pushed:
        figures = at(row["prefix"], row["contact__classification"])
        figures["pushed"] += row["pushed"]
        figures["controlled_24h"] += row["controlled_24h"]
    return out


def push_figures_by_prefix(*, within: str, width: int, now: dt.datetime) -> Grouped:
    """{prefix: {open, open_overdue, on_time, late}} of the pushed lists (the module's
    definitions),
    grouped by the town's path of each list."""
    done = Q(status=PushStatus.DONE)
    rows = (
        VerificationPush.objects.filter(under("jurisdiction_path", within))
        .annotate(prefix=level_prefix_expr("jurisdiction_path", width))
        .values("prefix")
        .annotate(
            open=Count("id", filter=Q(status=PushStatus.OPEN)),
            on_time=Count("id", filter=done & Q(completed_at__lte=F("deadline"))),
            late=Count("id", filter=done & Q(completed_at__gt=F("deadline"))),
            open_overdue=Count("id", filter=Q(status=PushStatus.OPEN, deadline__lt=now)),
        )
        .order_by()
    )
    return {
        row["prefix"]: {
            "open": row["open"],
            "open_overdue": row["open_overdue"],
            "on_time": row["on_time"],
            "late": row["late"],
        }
        for row in rows
    }


def pushes_late_between(
    *, within: str, start: dt.datetime, end: dt.datetime, limit: int = 100
) -> list[dict[str, Any]]:
    """Pushed lists whose deadline fell in [start, end) and that were not done by it:
    [{id, number, path, deadline}] (the day's late lists, for the key events)."""
    rows: Any = (
        VerificationPush.objects.filter(
            under("jurisdiction_path", within), deadline__gte=start, deadline__lt=end
        )
        .filter(Q(status=PushStatus.OPEN) | Q(completed_at__gt=F("deadline")))
        .order_by("deadline", "id")
        .values("id", "number", "jurisdiction_path", "deadline")
    )
    return list(rows[:limit])
