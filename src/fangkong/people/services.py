"""Every write of the people domain: persons, households, reveals.

Personal data is stored three ways (see README.md): AES-GCM ciphertext, a keyed hash to
find and deduplicate, a masked form to display. Plaintext ID numbers and phones never
reach a column; revealing one is an audited action.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import in_scope, require, require_in_scope, scope_q
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record, audit_record_many
from fangkong.core.crypto import decrypt, encrypt, lookup_hash
from fangkong.core.errors import Conflict, DomainError, NotFound
from fangkong.core.paths import city_of, is_under
from fangkong.people import rules
from fangkong.people.lookups import lookup_run
from fangkong.people.models import Household, Person

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.areas.models import Jurisdiction, Place

ID_PURPOSE = "id_number"
PHONE_PURPOSE = "phone"
REVEALABLE_FIELDS = ("id_number", "phone")
PERSON_LEVELS = ("community", "grid")
ADDRESS_MAX = 300


def id_lookup_hash(kind: str, number: str) -> str:
    """The keyed hash stored in Person.id_hmac for a normalised document number."""
    return lookup_hash(f"{kind}:{number}", purpose=ID_PURPOSE)


def phone_lookup_hash(phone: str) -> str:
    return lookup_hash(phone, purpose=PHONE_PURPOSE)


def _check_person_jurisdiction(actor: User, jurisdiction: Jurisdiction) -> None:
    require_in_scope(actor, jurisdiction.path, what="jurisdiction")
    if jurisdiction.level not in PERSON_LEVELS:
        raise DomainError(
            "jurisdiction_level_invalid",
            _("人员须登记到村社或网格"),
            level=jurisdiction.level,
        )


def _check_household(actor: User, household: Household | None, jurisdiction_path: str) -> None:
    if household is None:
        return
    require_in_scope(actor, household.jurisdiction_path, what="household")
    if not is_under(jurisdiction_path, household.jurisdiction_path):
        raise DomainError("household_mismatch", _("人员与户不在同一村社"), household=household.pk)


def _check_workplace(actor: User, workplace: Place | None) -> None:
    if workplace is None:
        return
    # A workplace may lie in another town (people commute); it only has to lie in the
    # city the actor works for.
    city = city_of(str(getattr(actor, "scope_path", "")))
    if not city or not is_under(workplace.jurisdiction_path, city):
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="place")


def _phone_fields(phone: str) -> dict[str, Any]:
    if not (phone or "").strip():
        return {"phone_hmac": "", "phone_cipher": None, "phone_masked": ""}
    normalized = rules.normalize_phone(phone)
    return {
        "phone_hmac": phone_lookup_hash(normalized),
        "phone_cipher": encrypt(normalized, purpose=PHONE_PURPOSE),
        "phone_masked": rules.mask_phone(normalized),
    }


def _build_person(
    *,
    actor: User,
    name: str,
    id_kind: str,
    id_number: str,
    phone: str,
    jurisdiction: Jurisdiction,
    household: Household | None,
    workplace: Place | None,
) -> Person:
    """Validate everything and return an unsaved Person (nothing written yet)."""
    require(actor, Capability.PERSON_CREATE)
    clean_name = rules.validate_name(name)
    facts = rules.validate_identity(id_kind, id_number)
    phone_fields = _phone_fields(phone)
    _check_person_jurisdiction(actor, jurisdiction)
    _check_household(actor, household, jurisdiction.path)
    _check_workplace(actor, workplace)
    return Person(
        name=clean_name,
        name_initials=rules.name_initials(clean_name)[:32],
        id_kind=facts.kind,
        id_hmac=id_lookup_hash(facts.kind, facts.number) if facts.number else None,
        id_cipher=encrypt(facts.number, purpose=ID_PURPOSE) if facts.number else None,
        id_masked=facts.masked,
        id_tail=facts.tail,
        birth_year=facts.birth_year,
        sex=facts.sex,
        jurisdiction=jurisdiction,
        jurisdiction_path=jurisdiction.path,
        household=household,
        workplace=workplace,
        **phone_fields,
    )


def _person_exists(actor: User, existing: Person) -> Conflict:
    """The duplicate-ID refusal; the existing person's id only if the actor may see it."""
    detail: dict[str, Any] = {}
    if in_scope(actor, existing.jurisdiction_path):
        detail["person"] = existing.pk
    return Conflict("person_exists", _("该证件号码已登记"), **detail)


def _existing(actor: User, person: Person, ip: str) -> Person | None:
    """The person already registered with this person's ID number, as an audited,
    budgeted lookup (lookups.lookup_run, via "create"): a registration that meets an
    existing number tells the registrant that it exists, so it is counted like a search
    by full number (a registration that meets none is audited as person.create).

    A fast path: the UNIQUE constraint, not this read, prevents duplicates under
    concurrency."""
    id_hmac = str(person.id_hmac)
    found = lookup_run(
        actor=actor,
        kind=person.id_kind,
        value_hash=id_hmac,
        via="create",
        find=lambda: list(Person.objects.filter(id_hmac=id_hmac)[:1]),
        record_miss=False,
        ip=ip,
    )
    return found[0] if found else None


def _insert(person: Person) -> bool:
    """Insert in a savepoint; False when the ID is already registered (unique id_hmac)."""
    try:
        with transaction.atomic():
            person.save(force_insert=True)
    except IntegrityError:
        if person.id_hmac and Person.objects.filter(id_hmac=person.id_hmac).exists():
            person.pk = None
            return False
        raise
    return True


def _created_event(person: Person, **extra: Any) -> dict[str, Any]:
    """The `person.create` record: who registered whom where; never the ID number or
    phone (the actor and address are the caller's)."""
    return {
        "action": "person.create",
        "object_type": "person",
        "object_id": person.pk,
        "object_label": rules.mask_name(person.name),
        "jurisdiction_path": person.jurisdiction_path,
        "detail": {
            "id_kind": person.id_kind,
            "jurisdiction": person.jurisdiction_path,
            "household": person.household_id,
            **extra,
        },
    }


def _audit_created(actor: User, person: Person, ip: str) -> None:
    audit_record(actor=actor, ip=ip, **_created_event(person))


@transaction.atomic
def _store_new(actor: User, person: Person, ip: str) -> Person | None:
    """Insert a new person and audit it; None when a concurrent registration of the
    same ID number won the race (the UNIQUE id_hmac decides)."""
    if person.id_hmac:
        if not _insert(person):
            return None
    else:
        person.save(force_insert=True)
    _audit_created(actor, person, ip)
    return person


def person_create(
    *,
    actor: User,
    name: str,
    id_kind: str,
    id_number: str = "",
    phone: str = "",
    jurisdiction: Jurisdiction,
    household: Household | None = None,
    workplace: Place | None = None,
    ip: str = "",
) -> Person:
    """Register a person (audited `person.create`); a duplicate ID number is refused
    with Conflict `person_exists`, counted as a lookup (audited, budgeted).

    Not one transaction on purpose: the lookup's audit record is committed before the
    refusal; the insert and its audit record are one transaction.
    """
    person = _build_person(
        actor=actor,
        name=name,
        id_kind=id_kind,
        id_number=id_number,
        phone=phone,
        jurisdiction=jurisdiction,
        household=household,
        workplace=workplace,
    )
    if person.id_hmac:
        existing = _existing(actor, person, ip)
        if existing is not None:
            raise _person_exists(actor, existing)
    stored = _store_new(actor, person, ip)
    if stored is None:
        raise _person_exists(actor, Person.objects.get(id_hmac=person.id_hmac))
    return stored


def person_get_or_create(
    *,
    actor: User,
    name: str,
    id_kind: str,
    id_number: str = "",
    phone: str = "",
    jurisdiction: Jurisdiction,
    household: Household | None = None,
    workplace: Place | None = None,
    ip: str = "",
) -> tuple[Person, bool]:
    """The person with this ID, created if absent (audited `person.create`):
    (person, created).

    Race-safe: the insert runs in a savepoint and the UNIQUE id_hmac decides; the loser
    of a race fetches the winner's row, so two concurrent requests yield one person.
    Meeting an existing person is a lookup (audited, budgeted); one outside the actor's
    jurisdiction is refused (409 `person_exists`, without saying who or where).
    """
    person = _build_person(
        actor=actor,
        name=name,
        id_kind=id_kind,
        id_number=id_number,
        phone=phone,
        jurisdiction=jurisdiction,
        household=household,
        workplace=workplace,
    )
    existing = _existing(actor, person, ip) if person.id_hmac else None
    if existing is None:
        stored = _store_new(actor, person, ip)
        if stored is not None:
            return stored, True
        existing = Person.objects.get(id_hmac=person.id_hmac)
    if not in_scope(actor, existing.jurisdiction_path):
        raise _person_exists(actor, existing)
    return existing, False


def person_lookup(*, actor: User, query: str, ip: str = "", limit: int = 20) -> list[Person]:
    """The persons in the actor's jurisdiction with this full ID number, passport or
    other document number, or mobile number: an exact lookup, audited and budgeted per
    role (people.lookups; 429 `lookup_budget_exhausted` / `lookup_suspended`).

    Callers send the number in a POST body, never a URL. A person outside the scope is
    a miss like an absent one. Other entries (names, initials, tails) are refused with
    `lookup_not_exact`: they are searches (selectors.person_search).
    """
    require(actor, Capability.PERSON_VIEW)
    key = rules.search_key(query)
    if not key.exact:
        raise DomainError(
            "lookup_not_exact",
            _("请输入完整的身份证号码、证件号码或手机号码"),
            kind=key.kind,
        )
    if key.kind == "phone":
        hashes = [phone_lookup_hash(key.value)]
        match = Q(phone_hmac=hashes[0])
    elif key.kind == "ric":
        hashes = [id_lookup_hash("ric", key.value)]
        match = Q(id_hmac=hashes[0])
    else:
        raw = re.sub(r"\s", "", query or "")
        hashes = [
            id_lookup_hash("passport", key.value),
            id_lookup_hash("other", key.value),
            id_lookup_hash("other", raw),
        ]
        match = Q(id_hmac__in=hashes)
    rows = (
        Person.objects.filter(scope_q(actor, "jurisdiction_path"), match)
        .select_related("jurisdiction")
        .order_by("-pk")
    )
    return lookup_run(
        actor=actor,
        kind=key.kind,
        value_hash=hashes[0],
        via="search",
        find=lambda: list(rows[:limit]),
        ip=ip,
    )


def person_find_by_phone(*, actor: User, phone: str, ip: str = "") -> Person | None:
    """The one person in the actor's jurisdiction with this mobile number, or None (none
    there, or several): an exact lookup by phone, audited and budgeted like a
    registration's (lookups.lookup_run, via "create"; a caller that finds no one
    registers the person, audited as person.create, so a miss is not counted). A person
    outside the actor's scope is no one. Raises `phone_invalid`, and 429
    `lookup_budget_exhausted` / `lookup_suspended`. Never inside a caller's transaction
    (lookup_run)."""
    require(actor, Capability.PERSON_VIEW)
    value_hash = phone_lookup_hash(rules.normalize_phone(phone))
    rows = Person.objects.filter(scope_q(actor, "jurisdiction_path"), phone_hmac=value_hash)
    found = lookup_run(
        actor=actor,
        kind="phone",
        value_hash=value_hash,
        via="create",
        find=lambda: list(rows.order_by("pk")[:2]),
        record_miss=False,
        ip=ip,
    )
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True, slots=True)
class PersonEntry:
    """One person to find or register in bulk (a walk-in at a sampling point)."""

    name: str
    id_kind: str
    id_number: str
    phone: str = ""


@transaction.atomic
def person_bulk_get_or_create(
    *, actor: User, entries: Sequence[PersonEntry], jurisdiction: Jurisdiction, ip: str = ""
) -> list[tuple[int, str] | DomainError]:
    """Find or register many persons at once, deduplicated by ID number; answers per
    entry, in order: (person id, jurisdiction path), or the DomainError that refused it.

    The same checks as `person_create` (validation, role, jurisdiction; every entry
    needs an ID number), but set-based: one INSERT ... ON CONFLICT DO NOTHING on the
    UNIQUE id_hmac for the new persons (a concurrent registration of the same ID wins
    or loses, never duplicates), one SELECT to read back every id. An existing person
    is answered without being changed, wherever they live (a person may be sampled
    away from home); nothing about them is returned but their id and path.

    The persons this call inserted are audited (`person.create`, one INSERT for all of
    them, in this transaction). They are told from those that were already there (or
    that a concurrent registration inserted) by their ID ciphertext: its nonce is
    random, so only the row this call built carries the bytes this call encrypted.
    """
    require(actor, Capability.PERSON_CREATE)
    _check_person_jurisdiction(actor, jurisdiction)
    built: list[Person | DomainError] = []
    for entry in entries:
        try:
            if entry.id_kind == "none":
                raise DomainError("id_required", _("请填写证件号码"))
            built.append(
                _build_person(
                    actor=actor,
                    name=entry.name,
                    id_kind=entry.id_kind,
                    id_number=entry.id_number,
                    phone=entry.phone,
                    jurisdiction=jurisdiction,
                    household=None,
                    workplace=None,
                )
            )
        except DomainError as exc:
            built.append(exc)
    unique: dict[str, Person] = {}
    for item in built:
        if isinstance(item, Person) and item.id_hmac and item.id_hmac not in unique:
            unique[item.id_hmac] = item
    found: dict[str, tuple[int, str]] = {}
    inserted: list[Person] = []
    if unique:
        Person.objects.bulk_create(list(unique.values()), ignore_conflicts=True)
        rows = Person.objects.filter(id_hmac__in=list(unique)).values_list(
            "id_hmac", "pk", "jurisdiction_path", "id_cipher"
        )
        for h, pk, path, cipher in rows:
            found[str(h)] = (pk, path)
            ours = unique[str(h)]
            if cipher is not None and bytes(cipher) == bytes(ours.id_cipher or b""):
                ours.pk = pk
                inserted.append(ours)
    if inserted:
        audit_record_many(
            actor=actor,
            events=[_created_event(p, via="bulk") for p in inserted],
            ip=ip,
        )
    out: list[tuple[int, str] | DomainError] = []
    for item in built:
        if isinstance(item, DomainError):
            out.append(item)
        elif item.id_hmac and item.id_hmac in found:
            out.append(found[item.id_hmac])
        else:  # pragma: no cover - the row was inserted or already there
            out.append(DomainError("person_not_stored", _("人员未能登记")))
    return out


@transaction.atomic
def person_update(
    *,
    actor: User,
    person: Person,
    name: str | None = None,
    phone: str | None = None,
    household: Household | None = None,
    remove_household: bool = False,
    workplace: Place | None = None,
    jurisdiction: Jurisdiction | None = None,
    ip: str = "",
) -> Person:
    """Change a person's name, phone ("" clears it), household, workplace or jurisdiction.

    None leaves a field unchanged. Audited `person.update` with the names of the changed
    fields (never their values).
    """
    require(actor, Capability.PERSON_CREATE)
    require_in_scope(actor, person.jurisdiction_path, what="person")
    changed: list[str] = []  # columns to save
    audited: list[str] = []  # field names for the audit record (never values)
    if name is not None:
        clean = rules.validate_name(name)
        if clean != person.name:
            person.name = clean
            person.name_initials = rules.name_initials(clean)[:32]
            changed += ["name", "name_initials"]
            audited.append("name")
    if phone is not None:
        fields = _phone_fields(phone)
        if fields["phone_hmac"] != person.phone_hmac:
            for key, value in fields.items():
                setattr(person, key, value)
            changed += list(fields)
            audited.append("phone")
    if jurisdiction is not None and jurisdiction.pk != person.jurisdiction_id:
        _check_person_jurisdiction(actor, jurisdiction)
        person.jurisdiction = jurisdiction
        person.jurisdiction_path = jurisdiction.path
        changed += ["jurisdiction", "jurisdiction_path"]
        audited.append("jurisdiction")
        current = person.household
        if current is not None and household is None and not remove_household:
            _check_household(actor, current, jurisdiction.path)
    if remove_household and person.household_id is not None:
        person.household = None
        changed.append("household")
        audited.append("household")
    elif household is not None and household.pk != person.household_id:
        _check_household(actor, household, person.jurisdiction_path)
        person.household = household
        changed.append("household")
        audited.append("household")
    if workplace is not None and workplace.pk != person.workplace_id:
        _check_workplace(actor, workplace)
        person.workplace = workplace
        changed.append("workplace")
        audited.append("workplace")
    if not changed:
        return person
    person.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor,
        action="person.update",
        object_type="person",
        object_id=person.pk,
        object_label=rules.mask_name(person.name),
        jurisdiction_path=person.jurisdiction_path,
        detail={"fields": audited},
        ip=ip,
    )
    return person


@transaction.atomic
def person_reveal(*, actor: User, person: Person, field: str, ip: str = "") -> str:
    """The clear value of a person's ID number or phone; writes exactly one audit record."""
    require(actor, Capability.PERSON_REVEAL)
    require_in_scope(actor, person.jurisdiction_path, what="person")
    if field not in REVEALABLE_FIELDS:
        raise DomainError("reveal_field_invalid", _("不能显示该项"), field=field)
    token = person.id_cipher if field == "id_number" else person.phone_cipher
    if not token:
        raise DomainError("reveal_empty", _("该项没有登记内容"), field=field)
    value = decrypt(token, purpose=ID_PURPOSE if field == "id_number" else PHONE_PURPOSE)
    audit_record(
        actor=actor,
        action="person.reveal",
        object_type="person",
        object_id=person.pk,
        object_label=rules.mask_name(person.name),
        field=field,
        jurisdiction_path=person.jurisdiction_path,
        ip=ip,
    )
    return value


@dataclass(frozen=True, slots=True)
class PersonIdentity:
    """A person as a list shows them: masked (the stored masks, the masked name), or in
    clear (the full name, the decrypted ID number and phone) after an audited reveal."""

    person_id: int
    name: str
    id_number: str
    phone: str
    revealed: bool


@dataclass(frozen=True, slots=True)
class RevealRecord:
    """The caller's own audit record of a reveal of many persons (an export that records
    itself with its reveal flag and row count): `person_identities` writes it in place of
    its `person.reveal` record, so that one reveal leaves one record."""

    action: str
    object_type: str
    object_id: str | int = ""
    object_label: str = ""
    jurisdiction_path: str = ""
    detail: dict[str, Any] = dataclass_field(default_factory=dict)


def _identity(person: Person, reveal: bool) -> PersonIdentity:
    if not reveal:
        return PersonIdentity(
            person.pk, rules.mask_name(person.name), person.id_masked, person.phone_masked, False
        )
    id_number = (
        decrypt(person.id_cipher, purpose=ID_PURPOSE) if person.id_cipher else person.id_masked
    )
    phone = (
        decrypt(person.phone_cipher, purpose=PHONE_PURPOSE)
        if person.phone_cipher
        else person.phone_masked
    )
    return PersonIdentity(person.pk, person.name, id_number, phone, True)


def person_identities(
    actor: User,
    persons: Sequence[Person],
    reveal: bool = False,
    *,
    record: RevealRecord | None = None,
    ip: str = "",
) -> list[PersonIdentity]:
    """The identities (name, ID number, phone) of a list of persons, in order: the one
    way out of people for them. Masked by default (the masks people stores, the masked
    name); in clear with `reveal=True`, which needs person.reveal and writes one audit
    record for the call: `person.reveal` with the count (the person named when there is
    one), or the caller's `record` in its place.

    Every person must be in the actor's jurisdiction, or nothing is answered (NotFound
    `not_found`, as for one person: never a 403 that would confirm they exist).
    """
    if reveal:
        require(actor, Capability.PERSON_REVEAL)
    for person in persons:
        require_in_scope(actor, person.jurisdiction_path, what="person")
    identities = [_identity(person, reveal) for person in persons]
    if not reveal:
        return identities
    if record is not None:
        audit_record(
            actor=actor,
            action=record.action,
            object_type=record.object_type,
            object_id=record.object_id,
            object_label=record.object_label,
            jurisdiction_path=record.jurisdiction_path,
            detail=record.detail,
            ip=ip,
        )
    elif persons:
        one = persons[0] if len(persons) == 1 else None
        audit_record(
            actor=actor,
            action="person.reveal",
            object_type="person",
            object_id=one.pk if one is not None else "",
            object_label=rules.mask_name(one.name) if one is not None else "",
            field="identity",
            jurisdiction_path=one.jurisdiction_path if one is not None else _scope_path(actor),
            detail={"count": len(persons)},
            ip=ip,
        )
    return identities


def _scope_path(actor: User) -> str:
    return str(getattr(actor, "scope_path", "") or "")


def _clean_address(address: str) -> str:
    clean = (address or "").strip()
    if not clean:
        raise DomainError("address_required", _("地址不能为空"))
    if len(clean) > ADDRESS_MAX:
        raise DomainError(
            "address_too_long",
            _("地址不能超过%(max)d个字符") % {"max": ADDRESS_MAX},
            max=ADDRESS_MAX,
        )
    return clean


@transaction.atomic
def household_create(
    *, actor: User, address: str, community: Jurisdiction, ip: str = ""
) -> Household:
    """A household (户) at an address in a community."""
    require(actor, Capability.PERSON_CREATE)
    clean = _clean_address(address)
    require_in_scope(actor, community.path, what="jurisdiction")
    if community.level != "community":
        raise DomainError("jurisdiction_level_invalid", _("户须登记到村社"), level=community.level)
    household = Household.objects.create(
        address=clean, community=community, jurisdiction_path=community.path
    )
    audit_record(
        actor=actor,
        action="household.create",
        object_type="household",
        object_id=household.pk,
        object_label=community.name,
        jurisdiction_path=household.jurisdiction_path,
        detail={"jurisdiction": household.jurisdiction_path},
        ip=ip,
    )
    return household


@transaction.atomic
def household_add_member(
    *, actor: User, household: Household, person: Person, ip: str = ""
) -> Person:
    """Make a person a member of a household of the same community subtree."""
    require(actor, Capability.PERSON_CREATE)
    require_in_scope(actor, person.jurisdiction_path, what="person")
    _check_household(actor, household, person.jurisdiction_path)
    if person.household_id == household.pk:
        return person
    person.household = household
    person.save(update_fields=["household", "updated_at"])
    audit_record(
        actor=actor,
        action="person.update",
        object_type="person",
        object_id=person.pk,
        object_label=rules.mask_name(person.name),
        jurisdiction_path=person.jurisdiction_path,
        detail={"fields": ["household"]},
        ip=ip,
    )
    return person


def person_export_record(
    *, actor: User, filters: dict[str, Any], rows: int, truncated: bool, ip: str = ""
) -> None:
    """Audit an export of persons (`person.export`) with its filter and row count."""
    require(actor, Capability.PERSON_EXPORT)
    audit_record(
        actor=actor,
        action="person.export",
        object_type="person",
        object_label=_("人员导出"),
        jurisdiction_path=str(getattr(actor, "scope_path", "")),
        detail={"filters": filters, "rows": rows, "truncated": truncated},
        ip=ip,
    )
