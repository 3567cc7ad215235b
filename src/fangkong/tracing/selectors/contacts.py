"""Tracing selectors: contacts.

Every read is scoped by the contact's `jurisdiction_path` (the person's): a town's staff
see the contacts who live in their town, whatever case they were exposed to; a city-wide
investigator sees all. Names are masked for display (`name_masked` is set on each
person loaded here); revealing goes through the people app's audited reveal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case as SqlCase
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Value,
    When,
)
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, scope_q
from fangkong.accounts.roles import Capability
from fangkong.areas import selectors as area_selectors
from fangkong.core.errors import DomainError, NotFound
from fangkong.core.pagination import Page, keyset_page
from fangkong.people import selectors as people_selectors
from fangkong.people.rules import mask_name
from fangkong.tracing.models import (
    Case,
    Contact,
    ContactClass,
    ContactStatus,
    Exposure,
    ItineraryStop,
    PushItem,
)
from fangkong.tracing.rules import contacts as rules
from fangkong.tracing.selectors.figures import CONTROL_WITHIN, CONTROLLED_FEEDBACK

if TYPE_CHECKING:
    from fangkong.accounts.models import User

CASE_CONTACTS_MAX = 1000


def _mask(contacts: list[Contact]) -> list[Contact]:
    for c in contacts:
        c.person.name_masked = mask_name(c.person.name)  # type: ignore[attr-defined]
    return contacts


def _exposures_prefetch() -> Prefetch:
    return Prefetch(
        "exposures",
        queryset=Exposure.objects.select_related("source_case", "place").order_by(
            "-exposed_on", "pk"
        ),
    )


def exposures_basis(exposures: Sequence[Exposure]) -> None:
    """Set `basis` on each exposure: its evidence in words (places by name, local times,
    overlap minutes, household, companion). One query for the place names."""
    ids: set[int] = set()
    for e in exposures:
        ids |= rules.basis_place_ids(e.evidence)
    names = area_selectors.place_names(pks=ids)
    tz = ZoneInfo(settings.TIME_ZONE)
    for e in exposures:
        e.basis = rules.basis_lines(  # type: ignore[attr-defined]
            kind=e.kind,
            evidence=e.evidence,
            overlap_minutes=e.overlap_minutes,
            place_names=names,
            tz=tz,
        )


def _basis_of_case(contacts: Sequence[Contact], case: Case) -> None:
    """Each contact's exposures to `case` with their basis in words (`c.case_exposures`)."""
    pairs = [(c, [e for e in c.exposures.all() if e.source_case_id == case.pk]) for c in contacts]
    exposures_basis([e for _c, es in pairs for e in es])
    for c, es in pairs:
        c.case_exposures = es  # type: ignore[attr-defined]


def case_for_contacts(*, user: User, pk: int) -> Case:
    """A case whose contacts the user may look at (in the user's scope), else 404."""
    require(user, Capability.CONTACT_VIEW)
    case = Case.objects.filter(scope_q(user, "jurisdiction_path"), pk=pk).first()
    if case is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="case")
    return case


def case_for_contact_management(*, user: User, pk: int) -> Case:
    """The case to find or add contacts for (CONTACT_MANAGE and in scope), else 403/404."""
    require(user, Capability.CONTACT_MANAGE)
    return case_for_contacts(user=user, pk=pk)


# The strongest class first (close, secondary, then the others), then the latest
# exposure first; the primary key last (a unique order, for keyset pages).
CASE_CONTACT_ORDER = ("rank", "-last_exposure_on", "pk")


def _contacts_of_case_qs(
    *, user: User, case: Case, classification: str | None = None
) -> QuerySet[Contact]:
    require(user, Capability.CONTACT_VIEW)
    qs = Contact.objects.filter(
        scope_q(user, "jurisdiction_path"),
        pk__in=Exposure.objects.filter(source_case=case).values("contact_id"),
    )
    if classification:
        qs = qs.filter(classification=_valid_class(classification))
    rank = SqlCase(
        When(classification=ContactClass.CLOSE, then=Value(0)),
        When(classification=ContactClass.SECONDARY, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        qs.annotate(rank=rank)
        .select_related("person", "ruleset")
        .prefetch_related(_exposures_prefetch())
    )


def contacts_of_case(
    *, user: User, case: Case, classification: str | None = None, limit: int = CASE_CONTACTS_MAX
) -> list[Contact]:
    """The case's contacts that the user may see, strongest class first, with their
    exposures (all sources), persons and rule sets: three queries whatever the size."""
    qs = _contacts_of_case_qs(user=user, case=case, classification=classification)
    rows = _mask(list(qs.order_by(*CASE_CONTACT_ORDER)[:limit]))
    _basis_of_case(rows, case)
    return rows


def contacts_of_case_page(
    *,
    user: User,
    case: Case,
    classification: str | None = None,
    cursor: str | None = None,
    size: int = 50,
) -> Page[Contact]:
    """A keyset page of `contacts_of_case`, in the same order."""
    qs = _contacts_of_case_qs(user=user, case=case, classification=classification)
    page = keyset_page(qs, cursor=cursor, size=size, order=CASE_CONTACT_ORDER)
    _mask(page.items)
    _basis_of_case(page.items, case)
    return page


def contact_counts_of_case(*, user: User, case: Case) -> dict[str, int]:
    """The case's visible contacts counted by class (one grouped query)."""
    require(user, Capability.CONTACT_VIEW)
    rows = (
        Contact.objects.filter(
            scope_q(user, "jurisdiction_path"),
            pk__in=Exposure.objects.filter(source_case=case).values("contact_id"),
        )
        .order_by()
        .values("classification")
        .annotate(n=Count("pk"))
    )
    return {r["classification"]: r["n"] for r in rows}


def _valid_class(classification: str) -> str:
    if classification not in ContactClass.values:
        raise DomainError("invalid_classification", _("未知的接触者判定"), value=classification)
    return classification


def _valid_status(status: str) -> str:
    if status not in ContactStatus.values:
        raise DomainError("invalid_status", _("未知的接触者状态"), value=status)
    return status


def contacts_in_scope(
    *,
    user: User,
    classification: str | None = None,
    status: str | None = None,
    pushed: bool = False,
    controlled_24h: bool = False,
) -> QuerySet[Contact]:
    """The contacts in the user's scope; `pushed` keeps those on at least one pushed
    list, `controlled_24h` those a town's feedback put under a measure within 24 h of a
    list's creation (command's figures of the same names, `selectors.figures`)."""
    require(user, Capability.CONTACT_VIEW)
    qs = Contact.objects.filter(scope_q(user, "jurisdiction_path"))
    if classification:
        qs = qs.filter(classification=_valid_class(classification))
    if status:
        qs = qs.filter(status=_valid_status(status))
    if pushed:
        qs = qs.filter(Exists(PushItem.objects.filter(contact_id=OuterRef("pk"))))
    if controlled_24h:
        in_time = PushItem.objects.filter(
            contact_id=OuterRef("pk"),
            status__in=CONTROLLED_FEEDBACK,
            marked_at__isnull=False,
            marked_at__lte=F("push__created_at") + CONTROL_WITHIN,
        )
        qs = qs.filter(Exists(in_time))
    return qs


def contacts(
    *,
    user: User,
    classification: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
    size: int = 50,
    with_total: bool = False,
    pushed: bool = False,
    controlled_24h: bool = False,
) -> Page[Contact]:
    """A keyset page of the contacts in the user's scope (newest first)."""
    qs = contacts_in_scope(
        user=user,
        classification=classification,
        status=status,
        pushed=pushed,
        controlled_24h=controlled_24h,
    )
    page = keyset_page(
        qs.select_related("person", "ruleset"), cursor=cursor, size=size, with_total=with_total
    )
    _mask(page.items)
    return page


def contact_get(*, user: User, pk: int) -> Contact:
    """One contact with its exposures (cases, source contacts, places); 404 outside the
    user's scope."""
    require(user, Capability.CONTACT_VIEW)
    contact = (
        Contact.objects.filter(scope_q(user, "jurisdiction_path"), pk=pk)
        .select_related("person", "person__jurisdiction", "ruleset")
        .prefetch_related(
            Prefetch(
                "exposures",
                queryset=Exposure.objects.select_related(
                    "source_case", "source_contact__person", "place"
                ).order_by("-exposed_on", "pk"),
            )
        )
        .first()
    )
    if contact is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="contact")
    _mask([contact])
    exposures_basis(list(contact.exposures.all()))
    for e in contact.exposures.all():
        if e.source_contact is not None:
            e.source_contact.person.name_masked = mask_name(  # type: ignore[attr-defined]
                e.source_contact.person.name
            )
    return contact


def secondary_contacts_of(*, user: User, contact: Contact, limit: int = 500) -> list[Contact]:
    """Secondary contacts linked to a close contact (visible to the user)."""
    require(user, Capability.CONTACT_VIEW)
    rows = list(
        Contact.objects.filter(
            scope_q(user, "jurisdiction_path"),
            pk__in=Exposure.objects.filter(source_contact=contact).values("contact_id"),
        )
        .select_related("person")
        .order_by("pk")[:limit]
    )
    return _mask(rows)


def case_of_contact(*, user: User, contact: Contact) -> Case | None:
    """The case the contact became (its person's case), if the user may see it."""
    if contact.status != ContactStatus.BECAME_CASE:
        return None
    return Case.objects.filter(
        scope_q(user, "jurisdiction_path"), person_id=contact.person_id
    ).first()


def contact_for_new_case(*, user: User, pk: int) -> Contact:
    """A contact to report as a case (the new-case form prefilled with their person):
    case.manage, and the contact in the user's scope, else 403/404."""
    require(user, Capability.CASE_MANAGE)
    contact = contact_get(user=user, pk=pk)
    _source_cases_of(contact)
    return contact


def _source_cases_of(contact: Contact) -> None:
    """`contact.source_cases`: the cases the contact was exposed to (numbers for the form)."""
    seen: dict[int, Case] = {}
    for e in contact.exposures.all():
        if e.source_case is not None:
            seen.setdefault(e.source_case.pk, e.source_case)
    contact.source_cases = list(seen.values())  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CompanionMatch:
    """A companion typed in a stop and the person it was matched to: `person_id` None
    when no one in the registry has that name (`reason` "none") or several do and none
    is in the case's household or workplace (`reason` "several")."""

    stop: ItineraryStop
    name: str
    person_id: int | None
    reason: str = ""


def companions_of_case(
    *, user: User, case: Case, confirmed_only: bool = True
) -> list[CompanionMatch]:
    """The companions (同行人员) typed in the case's stops (the confirmed ones unless
    `confirmed_only` is False), each matched to a person the way contact finding finds
    them: a member of the case's household with that name first, then a co-worker or
    classmate, else the one person in the user's scope with that exact name. Two queries
    for the ties and one for the names, whatever the number of stops."""
    stops = [
        s
        for s in ItineraryStop.objects.filter(investigation__case=case)
        .exclude(companions="")
        .order_by("start", "pk")
        if s.confirmed or not confirmed_only
    ]
    typed = [(s, name) for s in stops for name in rules.companion_names(s.companions)]
    if not typed:
        return []
    household_id, workplace_id = people_selectors.person_ties(pk=case.person_id)
    household = (
        {pid for pid, _h in people_selectors.members_of_households(household_ids=[household_id])}
        if household_id is not None
        else set()
    )
    workplace = (
        set(people_selectors.workplace_members(workplace_id=workplace_id))
        if workplace_id is not None
        else set()
    )
    named = people_selectors.persons_named(user=user, names=[n for _s, n in typed])
    matches = []
    for stop, name in typed:
        ids = [pid for pid in named.get(name, []) if pid != case.person_id]
        near = [pid for pid in ids if pid in household] or [pid for pid in ids if pid in workplace]
        if len(near) == 1:
            matches.append(CompanionMatch(stop, name, near[0]))
        elif len(ids) == 1:
            matches.append(CompanionMatch(stop, name, ids[0]))
        else:
            matches.append(CompanionMatch(stop, name, None, "several" if ids else "none"))
    return matches
