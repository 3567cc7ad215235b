"""Placements and transfers for the pages and the API, scoped (`selectors.scope`);
persons shown masked (the masks people stores, the masked name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require
from fangkong.accounts.roles import Capability
from fangkong.core.errors import InvalidInput, NotFound
from fangkong.core.pagination import Page, keyset_page
from fangkong.people.rules import mask_name
from fangkong.quarantine.choices import Measure, PlacementStatus, TransferStatus
from fangkong.quarantine.models import Placement, PlacementTest, Transfer
from fangkong.quarantine.selectors.scope import placement_scope_q, placements_visible

if TYPE_CHECKING:
    from fangkong.accounts.models import User


@dataclass(frozen=True)
class MaskedPerson:
    """A person as quarantine's pages show them: masked name, ID number and phone."""

    person_id: int
    name: str
    id_number: str
    phone: str

    @property
    def initial(self) -> str:
        return self.name[:1]


def masked(person: Any) -> MaskedPerson:
    return MaskedPerson(
        person.pk, mask_name(person.name), person.id_masked or "", person.phone_masked or ""
    )


def _with_masks(rows: list[Placement]) -> list[Placement]:
    for p in rows:
        p.who = masked(p.person)  # type: ignore[attr-defined]
    return rows


def placements_filtered(
    *,
    user: User,
    status: str | None = None,
    measure: str | None = None,
    site_id: int | None = None,
) -> QuerySet[Placement]:
    qs = placements_visible(user)
    if status == "open":
        qs = qs.filter(
            status__in=[PlacementStatus.PLANNED, PlacementStatus.IN_TRANSIT, PlacementStatus.ACTIVE]
        )
    elif status:
        if status not in PlacementStatus.values:
            raise InvalidInput("invalid_status", _("未知的状态"), value=status)
        qs = qs.filter(status=status)
    if measure:
        if measure not in Measure.values:
            raise InvalidInput("invalid_measure", _("未知的管控措施"), measure=measure)
        qs = qs.filter(measure=measure)
    if site_id:
        qs = qs.filter(site_id=site_id)
    return qs


def placements_page(
    *,
    user: User,
    status: str | None = None,
    measure: str | None = None,
    site_id: int | None = None,
    cursor: str | None = None,
    size: int = 50,
    with_total: bool = False,
) -> Page[Placement]:
    """A keyset page of the placements the user sees, newest first."""
    qs = placements_filtered(user=user, status=status, measure=measure, site_id=site_id)
    page = keyset_page(
        qs.select_related("person", "site", "room", "ruleset"),
        cursor=cursor,
        size=size,
        with_total=with_total,
    )
    _with_masks(page.items)
    return page


def placement_get(*, user: User, pk: int) -> Placement:
    """One placement with its person (masked), site, room, rule set, tests and
    transfers; 404 outside the user's scope."""
    placement = (
        placements_visible(user)
        .filter(pk=pk)
        .select_related("person", "site", "room", "ruleset", "contact", "companion_of")
        .prefetch_related(
            Prefetch("tests", queryset=PlacementTest.objects.order_by("due_on", "pk")),
            Prefetch("transfers", queryset=Transfer.objects.order_by("-pk")),
        )
        .first()
    )
    if placement is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="placement")
    _with_masks([placement])
    return placement


def placement_for_manage(*, user: User, pk: int) -> Placement:
    """A placement the user may manage (placement.manage and in scope), else 403/404."""
    require(user, Capability.PLACEMENT_MANAGE)
    return placement_get(user=user, pk=pk)


# --- transfers ------------------------------------------------------------------------------


def transfers_visible(user: User) -> QuerySet[Transfer]:
    """Transfers of the placements the user sees (a town: its residents')."""
    require(user, Capability.SITE_VIEW)
    return Transfer.objects.filter(placement_scope_q(user, "placement__"))


OVERDUE_WAIT_HOURS = 2


def transfers_page(
    *,
    user: User,
    status: str | None = None,
    cursor: str | None = None,
    size: int = 50,
    with_total: bool = False,
) -> Page[Transfer]:
    qs = transfers_visible(user)
    if status:
        if status not in TransferStatus.values:
            raise InvalidInput("invalid_status", _("未知的状态"), value=status)
        qs = qs.filter(status=status)
    page = keyset_page(
        qs.select_related("placement__person", "placement__site", "placement__room"),
        cursor=cursor,
        size=size,
        with_total=with_total,
    )
    now = timezone.now()
    for t in page.items:
        t.who = masked(t.placement.person)  # type: ignore[attr-defined]
        # A transfer still waiting more than OVERDUE_WAIT_HOURS after it was asked for
        # (or after its planned time, whichever is later) is flagged on the list.
        since = max(d for d in (t.created_at, t.planned_at) if d is not None)
        waited = (now - since).total_seconds()
        overdue = t.status == TransferStatus.WAITING and waited > OVERDUE_WAIT_HOURS * 3600
        t.waited_hours = int(waited // 3600) if overdue else None  # type: ignore[attr-defined]
    return page


def transfer_get(*, user: User, pk: int) -> Transfer:
    transfer = (
        transfers_visible(user)
        .filter(pk=pk)
        .select_related("placement__person", "placement__site")
        .first()
    )
    if transfer is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="transfer")
    transfer.who = masked(transfer.placement.person)  # type: ignore[attr-defined]
    return transfer


def transfer_for_manage(*, user: User, pk: int) -> Transfer:
    """A transfer the user may move on (placement.manage and in scope), else 403/404."""
    require(user, Capability.PLACEMENT_MANAGE)
    return transfer_get(user=user, pk=pk)
