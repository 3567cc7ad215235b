"""Reads of the care of placed persons: the site staff's day (arrivals, checks due and
missing, tests due, releases due, open alerts), alerts, the community's home list, a
release certificate. Each takes the acting user and answers only what they may see:
site staff their own site (`User.place`), command its jurisdiction, a community worker
the persons of its own community at home."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    prefetch_related_objects,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import has_capability, require, scope_q
from fangkong.accounts.roles import Capability
from fangkong.core.deadlines import OverdueItem, OwnerKind
from fangkong.core.errors import NotFound
from fangkong.core.pagination import keyset_page
from fangkong.people.rules import mask_name
from fangkong.people.services import person_identities
from fangkong.quarantine.choices import (
    AlertState,
    CheckSlot,
    Measure,
    PlacementStatus,
    TestKind,
    TestResult,
    TransferKind,
    TransferStatus,
)
from fangkong.quarantine.models import (
    HealthAlert,
    HealthCheck,
    HomeCheckIn,
    Placement,
    PlacementTest,
    Site,
    Transfer,
)
from fangkong.quarantine.selectors.scope import placement_scope_q, site_bound
from fangkong.quarantine.services import care as care_services

if TYPE_CHECKING:
    from fangkong.accounts.models import User

ALERT_ORDER = ("-raised_at", "-pk")
HOME_ORDER = ("pk",)
# The day page shows each section's first rows; the rest is a paged list of it.
SECTION_ROWS = 20


def _not_found(what: str) -> NotFound:
    return NotFound("not_found", _("未找到或不在您的辖区内"), object=what)


def own_site_or_none(*, user: User) -> Site | None:
    """The site a site staff account works at (its place), None when its place is no
    site (yet)."""
    require(user, Capability.PLACEMENT_CARE)
    place_id = getattr(user, "place_id", None)
    if not place_id:
        return None
    return Site.objects.select_related("place").filter(place_id=place_id).first()


def own_site(*, user: User) -> Site:
    """The site a site staff account works at (its place), or 404."""
    site = own_site_or_none(user=user)
    if site is None:
        raise _not_found("site")
    return site


def person_label(person: Any) -> str:
    """A person as site lists show them: masked name (the stored mask of the ID)."""
    return mask_name(person.name)


@dataclass
class CheckRow:
    placement: Placement
    name: str
    done: dict[str, Any] = field(default_factory=dict)
    due_now: bool = False
    missing: list[str] = field(default_factory=list)
    open_slots: list[str] = field(default_factory=list)

    @property
    def marks(self) -> list[CheckMark]:
        """The recorded checks of the day as the page shows them: a fever (≥ 37.3 ℃)
        or any symptom is a warning, not ok."""
        out = []
        for slot in (CheckSlot.MORNING.value, CheckSlot.AFTERNOON.value):
            check = self.done.get(slot)
            if check is not None:
                fever = check.temperature >= care_services.FEVER_FROM
                out.append(CheckMark(slot, check, fever, bool(check.symptoms)))
        return out


@dataclass
class CheckMark:
    slot: str
    check: HealthCheck
    fever: bool
    symptoms: bool

    @property
    def warn(self) -> bool:
        return self.fever or self.symptoms


@dataclass
class ReleaseRow:
    placement: Placement
    name: str
    ok: bool
    code: str
    reason: str


@dataclass
class SiteDay:
    site: Site
    today: dt.date
    slot: str
    slots: list[str]
    arrivals: list[tuple[Placement, str, Transfer | None]]
    checks: list[CheckRow]
    # (test, masked name, days overdue: 0 when due today)
    tests: list[tuple[PlacementTest, str, int]]
    releases: list[ReleaseRow]
    alerts: list[tuple[HealthAlert, str]]
    hospital: list[tuple[Transfer, str]]
    tubes_waiting: int
    alerts_open: int = 0

    @property
    def checks_due(self) -> list[CheckRow]:
        """The persons whose check of this slot is still due (not yet recorded); an
        earlier slot missed is shown on the row, not counted here."""
        return [r for r in self.checks if r.due_now]


def check_slots(placement_or_ruleset: Any) -> list[str]:
    """The slots of a day's checks under the rule set (`health_checks_per_day`)."""
    ruleset = getattr(placement_or_ruleset, "ruleset", placement_or_ruleset)
    n = max(1, min(2, int(getattr(ruleset, "health_checks_per_day", 2) or 2)))
    return [CheckSlot.MORNING.value, CheckSlot.AFTERNOON.value][:n]


def due_checks(placements: Sequence[Placement], *, today: dt.date, slot: str) -> list[CheckRow]:
    """Each active placement's checks today: done (by slot), due in this slot, and the
    earlier slots missed."""
    checks: dict[int, dict[str, HealthCheck]] = {}
    for check in HealthCheck.objects.filter(
        placement__in=[p.pk for p in placements], on_date=today
    ):
        checks.setdefault(check.placement_id, {})[check.slot] = check
    order: list[str] = [CheckSlot.MORNING.value, CheckSlot.AFTERNOON.value]
    rows = []
    for p in placements:
        slots = check_slots(p)
        done = checks.get(p.pk, {})
        current = slot if slot in slots else slots[-1]
        earlier = [s for s in slots if order.index(s) < order.index(current)]
        arrived = p.checked_in_at
        if arrived is not None and timezone.localdate(arrived) == today:
            # Slots before the person arrived today are not missed.
            first = care_services.slot_now(arrived)
            earlier = [s for s in earlier if order.index(s) >= order.index(first)]
        rows.append(
            CheckRow(
                placement=p,
                name=person_label(p.person),
                done=done,
                due_now=current not in done and slot in slots,
                missing=[s for s in earlier if s not in done],
                open_slots=[s for s in slots if s not in done],
            )
        )
    return rows


def _ends_by(placement: Placement, today: dt.date) -> bool:
    end = placement.quarantine_end_on or placement.monitoring_end_on
    return end is not None and end <= today


def site_day(*, user: User, now: dt.datetime | None = None) -> SiteDay:
    """The site staff's day at their own site."""
    site = own_site(user=user)
    moment = now or timezone.now()
    today = timezone.localdate(moment)
    slot = care_services.slot_now(moment)
    at_site = Placement.objects.filter(site=site).select_related(
        "person", "room", "ruleset", "site"
    )
    arriving = list(
        at_site.filter(status__in=[PlacementStatus.PLANNED, PlacementStatus.IN_TRANSIT])
        .prefetch_related(
            Prefetch(
                "transfers",
                queryset=Transfer.objects.filter(kind=TransferKind.TO_SITE).order_by("-pk"),
            )
        )
        .order_by("pk")[:2000]
    )
    # Only the tests still to take (not taken, or invalid) up to today are read for the
    # whole site; every test of a stay only for the stays ending by today (the release
    # check reads them): a busy site's stays hold thousands of tests to come.
    outstanding = (
        PlacementTest.objects.filter(due_on__lte=today)
        .filter(Q(tube__isnull=True) | Q(result=TestResult.INVALID))
        .order_by("due_on")
    )
    active = list(
        at_site.filter(status=PlacementStatus.ACTIVE)
        .prefetch_related(Prefetch("tests", queryset=outstanding, to_attr="tests_outstanding"))
        .order_by("room__building", "room__floor", "room__number", "pk")[:2000]
    )
    tests = [
        (t, person_label(p.person), (today - t.due_on).days)
        for p in active
        for t in p.tests_outstanding  # type: ignore[attr-defined]
    ]
    releases = []
    due = [p for p in active if _ends_by(p, today)]
    prefetch_related_objects(
        due, Prefetch("tests", queryset=PlacementTest.objects.order_by("due_on"))
    )
    close_results = care_services.close_contact_results_many(due)
    for p in due:
        verdict = care_services.release_check(p, today, close_results.get(p.pk))
        releases.append(
            ReleaseRow(
                p,
                person_label(p.person),
                verdict.ok,
                verdict.reason_code,
                "" if verdict.ok else care_services.release_reason(verdict.reason_code, p),
            )
        )
    alerts = [
        (a, person_label(a.placement.person))
        for a in HealthAlert.objects.filter(placement__site=site, state=AlertState.OPEN)
        .select_related("placement", "placement__person", "placement__room")
        .order_by(*ALERT_ORDER)[:SECTION_ROWS]
    ]
    alerts_open = HealthAlert.objects.filter(placement__site=site, state=AlertState.OPEN).count()
    hospital = [
        (t, person_label(t.placement.person))
        for t in Transfer.objects.filter(
            placement__site=site,
            kind=TransferKind.TO_HOSPITAL,
            status__in=[TransferStatus.WAITING, TransferStatus.EN_ROUTE],
        )
        .select_related("placement", "placement__person")
        .order_by("pk")[:100]
    ]
    # Sampled tubes not yet handed to a lab (testing's tube state "closed").
    waiting = PlacementTest.objects.filter(
        placement__site=site, tube__state="closed", tube__box__isnull=True
    ).count()
    return SiteDay(
        site=site,
        today=today,
        slot=slot,
        slots=[CheckSlot.MORNING, CheckSlot.AFTERNOON],
        arrivals=[
            (p, person_label(p.person), next(iter(p.transfers.all()), None)) for p in arriving
        ],
        checks=due_checks(active, today=today, slot=slot),
        tests=tests,
        releases=releases,
        alerts=alerts,
        hospital=hospital,
        tubes_waiting=waiting,
        alerts_open=alerts_open,
    )


def placement_for_care(*, user: User, pk: int) -> Placement:
    """A placement the user may care for (site staff: at their site), or 404."""
    require(user, Capability.PLACEMENT_CARE)
    found = (
        Placement.objects.select_related("site", "person", "room", "ruleset").filter(pk=pk).first()
    )
    if found is None or not care_services.can_care(user, found):
        raise _not_found("placement")
    return found


def test_for_care(*, user: User, pk: int) -> PlacementTest:
    found = PlacementTest.objects.select_related("placement").filter(pk=pk).first()
    if found is None:
        raise _not_found("placement_test")
    placement_for_care(user=user, pk=found.placement_id)
    return found


def transfer_for_care(*, user: User, pk: int) -> Transfer:
    found = Transfer.objects.filter(pk=pk).first()
    if found is None:
        raise _not_found("transfer")
    placement_for_care(user=user, pk=found.placement_id)
    return found


def _alerts_q(user: User) -> Q:
    place_id = getattr(user, "place_id", None)
    if place_id is not None:
        return Q(placement__site__place_id=place_id)
    return scope_q(user, "placement__jurisdiction_path") | scope_q(
        user, "placement__site__jurisdiction_path"
    )


def alerts(
    *, user: User, state: str | None = None, cursor: str | None = None, size: int = 50
) -> Any:
    """Health alerts the user handles (site staff: their site; command: its
    jurisdiction), newest first, a keyset page."""
    require(user, Capability.PLACEMENT_CARE)
    qs: QuerySet[HealthAlert] = HealthAlert.objects.filter(_alerts_q(user)).select_related(
        "placement", "placement__person", "placement__site", "placement__room"
    )
    if state:
        qs = qs.filter(state=state)
    return keyset_page(qs, order=ALERT_ORDER, cursor=cursor, size=size, with_total=True)


def alert_get(*, user: User, pk: int) -> HealthAlert:
    require(user, Capability.PLACEMENT_CARE)
    found = HealthAlert.objects.filter(_alerts_q(user), pk=pk).first()
    if found is None:
        raise _not_found("alert")
    return found


@dataclass
class HomeRow:
    placement: Placement
    name: str
    end_on: dt.date | None
    checked_today: bool
    missed_days: int
    due_today: bool = True


def _home_qs(user: User, today: dt.date) -> QuerySet[Placement]:
    return (
        Placement.objects.filter(
            scope_q(user),
            measure__in=[Measure.HOME_QUARANTINE, Measure.HOME_MONITORING],
            status=PlacementStatus.ACTIVE,
        )
        .filter(
            Q(measure=Measure.HOME_MONITORING, monitoring_end_on__gte=today)
            | Q(measure=Measure.HOME_QUARANTINE, quarantine_end_on__gte=today)
        )
        .select_related("person")
        .annotate(
            checked_today=Exists(
                HomeCheckIn.objects.filter(placement=OuterRef("pk"), on_date=today)
            ),
            # Check-ins are due from the day after the placement starts (the day of
            # placement is not due): count those of the due days before today.
            checkins_before=Count(
                "home_checkins",
                filter=Q(
                    home_checkins__on_date__lt=today, home_checkins__on_date__gt=F("start_on")
                ),
            ),
        )
    )


def home_list(
    *,
    user: User,
    today: dt.date | None = None,
    cursor: str | None = None,
    missed_only: bool = False,
    size: int = 50,
) -> tuple[Any, list[HomeRow]]:
    """Persons at home (home quarantine, home health monitoring) of the user's
    community, until their end date: who is due today (not checked in yet) and who
    missed a day. Check-ins are due from the day after the start (the day of placement
    is not due, whatever the hour): missed days are the days from then to yesterday
    without a check-in."""
    require(user, Capability.HOME_MONITOR)
    day = today or timezone.localdate()
    page = keyset_page(
        _home_qs(user, day), order=HOME_ORDER, cursor=cursor, size=size, with_total=True
    )
    rows = []
    for p in page.items:
        # Due days before today: from the day after the start to yesterday.
        days = max(0, (day - p.start_on).days - 1)
        missed = max(0, days - int(getattr(p, "checkins_before", 0)))
        rows.append(
            HomeRow(
                p,
                person_label(p.person),
                care_services.home_end_on(p),
                bool(getattr(p, "checked_today", False)),
                missed,
                day > p.start_on,
            )
        )
    if missed_only:
        rows = [r for r in rows if r.missed_days]
    return page, rows


def home_placement_get(*, user: User, pk: int) -> Placement:
    require(user, Capability.HOME_MONITOR)
    found = Placement.objects.filter(
        scope_q(user),
        pk=pk,
        measure__in=[Measure.HOME_QUARANTINE, Measure.HOME_MONITORING],
    ).first()
    if found is None:
        raise _not_found("placement")
    return found


@dataclass
class Certificate:
    placement: Placement
    name: str
    id_number: str
    tests: list[PlacementTest]


def certificate(*, user: User, pk: int) -> Certificate:
    """A release certificate (解除隔离证明): the released placement, visible to its
    site's staff and to whoever sees the site or the person (site.view, in scope)."""
    found = (
        Placement.objects.select_related("person", "site", "room", "ruleset")
        .filter(pk=pk, status=PlacementStatus.RELEASED)
        .exclude(certificate_number="")
        .first()
    )
    if found is None:
        raise _not_found("placement")
    allowed = (
        has_capability(user, Capability.PLACEMENT_CARE) and care_services.can_care(user, found)
    ) or (
        has_capability(user, Capability.SITE_VIEW)
        and getattr(user, "place_id", None) is None
        and Placement.objects.filter(scope_q(user), pk=found.pk).exists()
    )
    if not allowed:
        raise _not_found("placement")
    # Masked here (people's one way out); the page's service may show the name in clear.
    try:
        identity = person_identities(user, [found.person])[0]
        name, id_number = identity.name, identity.id_number
    except NotFound:  # a site's staff seeing a resident of another jurisdiction
        name, id_number = mask_name(found.person.name), found.person.id_masked
    tests = list(
        PlacementTest.objects.filter(placement=found)
        .exclude(kind=TestKind.URGENT, tube__isnull=True)
        .order_by("due_on", "pk")
    )
    return Certificate(found, name, id_number, tests)


# --- the overdue board (core.deadlines, kind "quarantine.test") -------------------------

PLACEMENT_TEST_DEADLINE_KIND = "quarantine.test"


def _tests_overdue_q(user: User, now: dt.datetime) -> QuerySet[PlacementTest]:
    """Tests of persons at a site not taken by the end of their day (a test is due on its
    day, Asia/Shanghai): index ptest_untaken_due on the untaken tests' day."""
    return PlacementTest.objects.filter(
        placement_scope_q(user, "placement__"),
        tube__isnull=True,
        due_on__lt=timezone.localdate(now),
        placement__status=PlacementStatus.ACTIVE,
        placement__site__isnull=False,
    )


def _day_end(day: dt.date) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min),
        timezone.get_default_timezone(),
    )


def tests_overdue_items(user: User, now: dt.datetime, limit: int) -> list[OverdueItem]:
    """The board's items: the stay's tests not taken by the end of their day, the oldest
    first, owned by the site where the person is."""
    require(user, Capability.PLACEMENT_CARE)
    rows = list(
        _tests_overdue_q(user, now)
        .select_related("placement__site", "placement__room")
        .order_by("due_on", "pk")[:limit]
    )
    # Site staff take the test on their site's day; anyone else opens the placement.
    at_site = site_bound(user)
    items = []
    for t in rows:
        placement = t.placement
        site = placement.site
        assert site is not None  # filtered above
        room = placement.room.number if placement.room else "—"
        items.append(
            OverdueItem(
                kind=PLACEMENT_TEST_DEADLINE_KIND,
                key=str(t.pk),
                title=_("隔离期检测（%(room)s 房间 · 第 %(placement)s 号隔离，应检 %(day)s）")
                % {"room": room, "placement": placement.pk, "day": t.due_on.strftime("%m-%d")},
                deadline=_day_end(t.due_on),
                owner_kind=OwnerKind.SITE,
                owner_key=str(site.pk),
                owner_label=site.name,
                url=reverse("quarantine:site_day_section", kwargs={"section": "tests"})
                if at_site
                else reverse("quarantine:placement_detail", kwargs={"pk": placement.pk}),
                path=placement.jurisdiction_path,
                detail=t.get_kind_display(),
            )
        )
    return items


def tests_overdue_count(user: User, now: dt.datetime) -> int:
    require(user, Capability.PLACEMENT_CARE)
    return _tests_overdue_q(user, now).count()
