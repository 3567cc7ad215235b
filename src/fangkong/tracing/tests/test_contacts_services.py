"""Contact finding: household, workplace, co-presence; dedupe; dates; secondary; upgrade."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from fangkong.people.models import Person
from fangkong.people.rules import mask_name
from fangkong.testkit import areas, people, tracing
from fangkong.testkit.clock import at
from fangkong.tracing.models import Contact, Exposure
from fangkong.tracing.selectors.contacts import contacts_of_case
from fangkong.tracing.services import contacts as services

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(tree: Any) -> dict[str, Any]:
    """A case in town A with a household member, a co-worker and people at a venue."""
    home = people.household(tree.community_a)
    work = areas.place(tree.community_a, kind="workplace", name="宾馆")
    venue = areas.place(tree.community_a, venue_kind="restaurant")
    case_person = people.person(tree.community_a, "王芳", household=home, workplace=work)
    spouse = people.person(tree.community_a, "李强", household=home)
    coworker = people.person(tree.community_b, "赵敏", workplace=work)
    long_stay = people.person(tree.community_b, "钱多")
    short_stay = people.person(tree.community_a, "孙立")
    stranger = people.person(tree.community_a, "周末")
    case = tracing.case(case_person)
    tracing.stop(case, venue, at(4, 10), at(4, 11), confirmed=True)
    tracing.scan(case_person, venue, at(4, 10))
    tracing.scan(long_stay, venue, at(4, 10, 15))  # 30 min → close
    tracing.scan(short_stay, venue, at(4, 11, 5))  # 10 min (tolerance 15) → co-presence contact
    tracing.scan(stranger, venue, at(4, 15))
    return {
        "case": case,
        "venue": venue,
        "work": work,
        "case_person": case_person,
        "spouse": spouse,
        "coworker": coworker,
        "long": long_stay,
        "short": short_stay,
        "stranger": stranger,
    }


def contact_of(person: Person) -> Contact:
    return Contact.objects.get(person=person)


def test_find_for_case_classifies_every_source(investigator: Any, scene: dict) -> None:
    result = services.contacts_find_for_case(actor=investigator, case=scene["case"])
    assert result.created == 4
    assert result.by_class == {"close": 3, "co_presence": 1}
    assert contact_of(scene["spouse"]).classification == "close"
    assert contact_of(scene["coworker"]).classification == "close"
    assert contact_of(scene["long"]).classification == "close"
    short = contact_of(scene["short"])
    assert short.classification == "co_presence"
    # a co-presence risk person: home health monitoring and "3 days 2 tests"
    assert short.quarantine_end_on is None
    assert short.monitoring_end_on == dt.date(2022, 7, 7)
    assert [d["rule"] for d in short.test_dates] == ["risk_person.test.1", "risk_person.test.3"]
    assert not Contact.objects.filter(person=scene["stranger"]).exists()
    assert not Contact.objects.filter(person=scene["case_person"]).exists()
    exposure = Exposure.objects.get(contact__person=scene["long"])
    assert exposure.kind == "co_presence"
    assert exposure.overlap_minutes == 30
    assert exposure.place_id == scene["venue"].pk
    assert exposure.evidence["stops"][0]["overlap_minutes"] == 30
    assert exposure.exposed_on == dt.date(2022, 7, 4)
    # v9 close contact exposed on 4 July: 7 days + 3 days home monitoring
    long = contact_of(scene["long"])
    assert long.quarantine_end_on == dt.date(2022, 7, 11)
    assert long.monitoring_end_on == dt.date(2022, 7, 14)
    assert long.ruleset.version == "v9"
    assert AuditEvent.objects.filter(action="contacts.find", object_id=str(scene["case"].pk))


def test_rerun_updates_instead_of_duplicating(investigator: Any, scene: dict) -> None:
    services.contacts_find_for_case(actor=investigator, case=scene["case"])
    again = services.contacts_find_for_case(actor=investigator, case=scene["case"])
    assert again.created == 0 and again.exposures_created == 0
    assert Contact.objects.count() == 4
    assert Exposure.objects.count() == 4


def test_threshold_is_the_rule_sets(investigator: Any, tree: Any, admin_user: Any) -> None:
    """A local override of the small venues' minutes classifies the next finding by it."""
    from fangkong.protocol.models import RuleSet
    from fangkong.protocol.services import ruleset_create_override

    ruleset_create_override(
        actor=admin_user,
        based_on=RuleSet.objects.get(version="v9"),
        version="v9-local",
        name="本地调整",
        region=tree.city.path,
        effective_from=dt.date(2022, 7, 1),
        changes={"small_venue_close_minutes": 5},
    )
    venue = areas.place(tree.community_a, venue_kind="restaurant")
    case = tracing.case(people.person(tree.community_a), version="v9-local")
    tracing.stop(case, venue, at(4, 10), at(4, 11), confirmed=True)
    short = people.person(tree.community_a)
    tracing.scan(short, venue, at(4, 11, 5))  # 10 minutes: close under 5, not under 15
    services.contacts_find_for_case(actor=investigator, case=case)
    assert contact_of(short).classification == "close"


def test_tolerance_argument_and_bad_tolerance(investigator: Any, scene: dict) -> None:
    with pytest.raises(DomainError) as err:
        services.contacts_find_for_case(
            actor=investigator, case=scene["case"], tolerance_minutes=-5
        )
    assert err.value.code == "invalid_tolerance"
    assert Contact.objects.count() == 0
    services.contacts_find_for_case(actor=investigator, case=scene["case"], tolerance_minutes=300)
    assert Contact.objects.filter(person=scene["stranger"]).exists()


def test_confirmed_stops_win_over_proposed(investigator: Any, scene: dict, tree: Any) -> None:
    other = areas.place(tree.community_a, venue_kind="restaurant")
    tracing.stop(scene["case"], other, at(4, 16), at(4, 17), confirmed=False)
    extra = people.person(tree.community_a)
    tracing.scan(extra, other, at(4, 16, 10))
    services.contacts_find_for_case(actor=investigator, case=scene["case"])
    assert not Contact.objects.filter(person=extra).exists()


def test_same_person_at_two_venues_counted_once(investigator: Any, scene: dict, tree: Any) -> None:
    cafe = areas.place(tree.community_a, venue_kind="restaurant")
    tracing.stop(scene["case"], cafe, at(4, 14), at(4, 15), confirmed=True)
    tracing.scan(scene["short"], cafe, at(4, 15, 5))  # another 10 minutes: 20 in all → close
    services.contacts_find_for_case(actor=investigator, case=scene["case"])
    short = contact_of(scene["short"])
    assert short.classification == "close"
    exposures = list(short.exposures.all())
    assert len(exposures) == 1
    assert exposures[0].overlap_minutes == 20
    assert len(exposures[0].evidence["stops"]) == 2


def test_dedupe_across_cases_and_latest_exposure_recomputes(
    investigator: Any, scene: dict, tree: Any
) -> None:
    """A person exposed to a v8 case, then later to a v9 case: one contact, two
    exposures, dates recounted from the later exposure with v9."""
    old_case_person = people.person(tree.community_a)
    venue = areas.place(tree.community_a, venue_kind="restaurant")
    old_case = tracing.case(old_case_person, version="v8", sampled_on=dt.date(2022, 6, 20))
    tracing.stop(old_case, venue, at(18, 9, month=6), at(18, 10, month=6), confirmed=True)
    tracing.scan(scene["long"], venue, at(18, 9, 10, month=6))
    services.contacts_find_for_case(actor=investigator, case=old_case)
    first = contact_of(scene["long"])
    assert first.ruleset.version == "v8"
    assert first.last_exposure_on == dt.date(2022, 6, 18)
    assert first.quarantine_end_on == dt.date(2022, 7, 2)  # v8: 14 days
    assert first.monitoring_end_on == dt.date(2022, 7, 9)
    assert [d["date"] for d in first.test_dates][:4] == [
        "2022-06-19",
        "2022-06-22",
        "2022-06-25",
        "2022-07-02",
    ]

    services.contacts_find_for_case(actor=investigator, case=scene["case"])
    again = contact_of(scene["long"])
    assert again.pk == first.pk
    assert again.exposures.count() == 2
    assert again.first_exposure_on == dt.date(2022, 6, 18)
    assert again.last_exposure_on == dt.date(2022, 7, 4)
    assert again.ruleset.version == "v9"
    assert again.quarantine_end_on == dt.date(2022, 7, 11)
    assert again.monitoring_end_on == dt.date(2022, 7, 14)

    # An earlier exposure found late changes nothing.
    services.contacts_find_for_case(actor=investigator, case=old_case)
    assert contact_of(scene["long"]).quarantine_end_on == dt.date(2022, 7, 11)


def test_close_is_never_downgraded(investigator: Any, scene: dict, tree: Any) -> None:
    services.contacts_find_for_case(actor=investigator, case=scene["case"])
    other_case = tracing.case(people.person(tree.community_a), sampled_on=dt.date(2022, 7, 6))
    tracing.stop(other_case, scene["venue"], at(5, 8), at(5, 9), confirmed=True)
    tracing.scan(scene["long"], scene["venue"], at(5, 8, 55))  # 5 minutes: co-presence only
    services.contacts_find_for_case(actor=investigator, case=other_case)
    long = contact_of(scene["long"])
    assert long.classification == "close"
    assert long.last_exposure_on == dt.date(2022, 7, 5)
    assert long.quarantine_end_on == dt.date(2022, 7, 12)


def test_other_cases_are_never_contacts(investigator: Any, scene: dict) -> None:
    tracing.case(scene["long"], sampled_on=dt.date(2022, 7, 5))
    services.contacts_find_for_case(actor=investigator, case=scene["case"])
    assert not Contact.objects.filter(person=scene["long"]).exists()


def test_permissions_and_scope(scene: dict, tree: Any, make_user: Any) -> None:
    town_staff = make_user(Role.TOWN_STAFF, tree.town_a)
    with pytest.raises(PermissionDenied):
        services.contacts_find_for_case(actor=town_staff, case=scene["case"])
    lab = make_user(Role.LAB, tree.city)
    with pytest.raises(PermissionDenied):
        services.contacts_find_for_case(actor=lab, case=scene["case"])
    assert Contact.objects.count() == 0


def test_find_is_set_based(investigator: Any, scene: dict, tree: Any) -> None:
    for i in range(30):
        tracing.scan(people.person(tree.community_a), scene["venue"], at(4, 10, i))
    with CaptureQueriesContext(connection) as small:
        services.contacts_find_for_case(actor=investigator, case=scene["case"])
    for _ in range(60):
        tracing.scan(people.person(tree.community_b), scene["venue"], at(4, 10, 30))
    with CaptureQueriesContext(connection) as large:
        services.contacts_find_for_case(actor=investigator, case=scene["case"])
    assert Contact.objects.count() == 94
    # The number of queries does not grow with the number of contacts (the second run
    # reads the known exposures and updates them; SQLite's limit of bound variables may
    # split one bulk insert in two).
    assert len(large.captured_queries) <= len(small.captured_queries) + 3
    assert len(large.captured_queries) < 30


# --- manual contacts ---------------------------------------------------------------------


def test_manual_contact_by_id_never_duplicates(investigator: Any, scene: dict, tree: Any) -> None:
    kwargs = {
        "actor": investigator,
        "case": scene["case"],
        "name": "冯七",
        "id_kind": "ric",
        "id_number": people.ric(11),
        "jurisdiction": tree.community_b,
        "exposed_on": dt.date(2022, 7, 3),
        "note": "同桌吃饭",
    }
    contact = services.contact_add_manual(**kwargs)
    assert contact.classification == "close"
    assert contact.jurisdiction_path == tree.community_b.path
    again = services.contact_add_manual(**{**kwargs, "classification": "general"})
    assert again.pk == contact.pk
    assert again.classification == "close"  # not downgraded
    assert Person.objects.filter(name="冯七").count() == 1
    exposure = again.exposures.get()
    assert exposure.kind == "manual" and exposure.evidence == {"note": "同桌吃饭"}


def test_manual_contact_by_phone_matches_existing(
    investigator: Any, scene: dict, tree: Any
) -> None:
    from fangkong.people.services import person_create

    known = person_create(
        actor=investigator,
        name="陈八",
        id_kind="none",
        phone="13800138000",
        jurisdiction=tree.community_a,
    )
    contact = services.contact_add_manual(
        actor=investigator,
        case=scene["case"],
        name="陈八",
        id_kind="none",
        phone="138 0013 8000",
        jurisdiction=tree.community_a,
        exposed_on=dt.date(2022, 7, 4),
    )
    assert contact.person_id == known.pk


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"classification": "secondary"}, "invalid_classification"),
        ({"exposed_on": dt.date(2999, 1, 1)}, "invalid_exposure_date"),
        ({"id_number": "330483199001011234"}, "id_bad_checksum"),
        ({"id_kind": "none", "id_number": ""}, "contact_identity_required"),
    ],
)
def test_manual_contact_bad_input_writes_nothing(
    investigator: Any, scene: dict, tree: Any, changes: dict, code: str
) -> None:
    kwargs = {
        "actor": investigator,
        "case": scene["case"],
        "name": "冯七",
        "id_kind": "ric",
        "id_number": people.ric(12),
        "jurisdiction": tree.community_b,
        "exposed_on": dt.date(2022, 7, 3),
        **changes,
    }
    persons = Person.objects.count()
    with pytest.raises(DomainError) as err:
        services.contact_add_manual(**kwargs)
    assert err.value.code == code
    assert Person.objects.count() == persons
    assert Contact.objects.count() == 0


def test_manual_contact_cannot_be_the_case(investigator: Any, scene: dict, tree: Any) -> None:
    from fangkong.people.services import person_create

    ric = people.ric(13)
    person = person_create(
        actor=investigator, name="韩九", id_kind="ric", id_number=ric, jurisdiction=tree.community_a
    )
    tracing.case(person)
    with pytest.raises(Conflict):
        services.contact_add_manual(
            actor=investigator,
            case=scene["case"],
            name="韩九",
            id_number=ric,
            jurisdiction=tree.community_a,
            exposed_on=dt.date(2022, 7, 4),
        )
    assert Contact.objects.count() == 0


def test_a_refused_manual_contact_keeps_the_record_of_its_lookup(
    investigator: Any, scene: dict, tree: Any, settings: Any
) -> None:
    # Given an investigator with one lookup left in the window
    settings.FANGKONG_LOOKUP_BUDGETS = {"investigator": 1}
    kwargs = {
        "actor": investigator,
        "case": scene["case"],
        "name": "冯七",
        "id_kind": "ric",
        "jurisdiction": tree.community_b,
        "exposed_on": dt.date(2022, 7, 3),
    }
    from fangkong.people.services import person_create

    ric = people.ric(15)
    person_create(  # a new number: a registration, not a counted lookup
        actor=investigator, name="韩九", id_kind="ric", id_number=ric, jurisdiction=tree.community_a
    )
    services.contact_add_manual(**{**kwargs, "name": "韩九", "id_number": ric})

    # When the next manual contact meets an existing ID number over the budget
    with pytest.raises(DomainError) as err:
        services.contact_add_manual(**{**kwargs, "name": "韩九", "id_number": ric})

    # Then the refusal is answered and its record survives the refusal (it is also the
    # budget's counter): the lookup wrote it in its own transaction
    assert (err.value.status, err.value.code) == (429, "lookup_budget_exhausted")
    refused = AuditEvent.objects.filter(actor=investigator, action="person.lookup_refused")
    assert [r.detail["code"] for r in refused] == ["lookup_budget_exhausted"]
    assert AuditEvent.objects.filter(actor=investigator, action="person.lookup").count() == 1


def test_a_manual_contact_by_phone_is_an_audited_budgeted_lookup(
    investigator: Any, scene: dict, tree: Any, settings: Any
) -> None:
    from fangkong.people.services import person_create, phone_lookup_hash

    known = person_create(
        actor=investigator,
        name="陈八",
        id_kind="none",
        phone="13800138000",
        jurisdiction=tree.community_a,
    )
    kwargs = {
        "actor": investigator,
        "case": scene["case"],
        "name": "陈八",
        "id_kind": "none",
        "phone": "13800138000",
        "jurisdiction": tree.community_a,
        "exposed_on": dt.date(2022, 7, 4),
    }
    contact = services.contact_add_manual(**kwargs)
    assert contact.person_id == known.pk
    row = AuditEvent.objects.get(actor=investigator, action="person.lookup")
    assert (row.detail["kind"], row.detail["outcome"], row.object_id) == (
        "phone",
        "hit",
        str(known.pk),
    )
    assert row.detail["hash"] == phone_lookup_hash("13800138000")
    assert "13800138000" not in str([e.detail for e in AuditEvent.objects.all()])
    # Budgeted: over the budget the phone is not matched, and the refusal is kept
    settings.FANGKONG_LOOKUP_BUDGETS = {"investigator": 1}
    with pytest.raises(DomainError) as err:
        services.contact_add_manual(**kwargs)
    assert err.value.code == "lookup_budget_exhausted"
    assert AuditEvent.objects.filter(action="person.lookup_refused").count() == 1


def test_a_manual_contact_refuses_to_run_inside_a_caller_s_transaction(
    investigator: Any, scene: dict, tree: Any
) -> None:
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        services.contact_add_manual(
            actor=investigator,
            case=scene["case"],
            name="冯七",
            id_number=people.ric(14),
            jurisdiction=tree.community_b,
            exposed_on=dt.date(2022, 7, 3),
        )
    assert Contact.objects.count() == 0


# --- secondary contacts and the upgrade -------------------------------------------------------


@pytest.fixture
def with_secondary(investigator: Any, scene: dict, tree: Any) -> dict[str, Any]:
    """`long` (a close contact) goes on to a restaurant for four and a half hours and
    lives with `partner`."""
    services.contacts_find_for_case(actor=investigator, case=scene["case"])
    long = contact_of(scene["long"])
    home = people.household(tree.community_b)
    Person.objects.filter(pk=scene["long"].pk).update(household=home)
    partner = people.person(tree.community_b, "吴一", household=home)
    restaurant = areas.place(tree.community_b, name="饭店", venue_kind="restaurant")
    evening = [(restaurant, at(4, 18 + h // 2, 30 * (h % 2))) for h in range(9)]
    tracing.scans(scene["long"], evening)
    diner = people.person(tree.community_b, "郑二")
    tracing.scans(diner, evening)  # the whole evening with the close contact
    passer = people.person(tree.community_b, "王三")
    tracing.scan(passer, restaurant, at(4, 18, 10))  # 20 minutes: too short, nobody
    before = people.person(tree.community_b, "李四")
    market = areas.place(tree.community_b, name="菜场")
    tracing.scan(before, market, at(4, 8))
    tracing.scan(scene["long"], market, at(4, 8))  # before the exposure: does not count
    return {
        **scene,
        "close": long,
        "partner": partner,
        "diner": diner,
        "passer": passer,
        "before": before,
        "evening": evening,
    }


def test_secondary_contacts_found_and_linked(investigator: Any, with_secondary: dict) -> None:
    s = with_secondary
    result = services.secondary_contacts_find(actor=investigator, contact=s["close"])
    assert result.by_class == {"secondary": 2}
    for key in ("partner", "diner"):
        c = contact_of(s[key])
        assert c.classification == "secondary"
        link = c.exposures.get()
        assert link.source_contact_id == s["close"].pk and link.source_case_id is None
    assert not Contact.objects.filter(person__in=[s["passer"], s["before"]]).exists()
    diner = contact_of(s["diner"])
    assert diner.quarantine_end_on == dt.date(2022, 7, 11)  # v9 secondary: 7 days
    assert diner.monitoring_end_on is None


def test_secondary_never_over_an_existing_close(investigator: Any, with_secondary: dict) -> None:
    s = with_secondary
    # The spouse (close contact of the case) shares the restaurant table.
    tracing.scans(s["spouse"], s["evening"])
    services.secondary_contacts_find_for_case(actor=investigator, case=s["case"])
    spouse = contact_of(s["spouse"])
    assert spouse.classification == "close"
    assert spouse.exposures.filter(source_contact=s["close"]).exists()
    assert contact_of(s["diner"]).classification == "secondary"


def test_secondary_needs_a_close_contact(investigator: Any, with_secondary: dict) -> None:
    short = contact_of(with_secondary["short"])
    with pytest.raises(Conflict) as err:
        services.secondary_contacts_find(actor=investigator, contact=short)
    assert err.value.code == "not_close_contact"


def test_secondary_for_case_covers_all_close_contacts(
    investigator: Any, with_secondary: dict
) -> None:
    result = services.secondary_contacts_find_for_case(
        actor=investigator, case=with_secondary["case"]
    )
    assert result.close_contacts == 3
    assert contact_of(with_secondary["diner"]).classification == "secondary"


def test_upgrade_when_close_contact_turns_positive(
    investigator: Any, with_secondary: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = with_secondary
    services.secondary_contacts_find(actor=investigator, contact=s["close"])
    # Reporting the contact's case (case_create) turns the contact positive: what that
    # call answered is what this test checks.
    answers: list[int] = []
    turned_positive = services.contact_turned_positive

    def spy(**kwargs: Any) -> int:
        answers.append(turned_positive(**kwargs))
        return answers[-1]

    monkeypatch.setattr(services, "contact_turned_positive", spy)
    new_case = tracing.case(s["long"], sampled_on=dt.date(2022, 7, 6), actor=investigator)
    assert len(answers) == 1
    upgraded = answers[0]
    assert upgraded == 2
    assert contact_of(s["long"]).status == "became_case"
    diner = contact_of(s["diner"])
    assert diner.classification == "close"
    assert diner.upgraded_at is not None
    assert new_case.number in diner.upgrade_reason
    # Counted as a close contact from the exposure to the now-case (v9: 7 + 3 days).
    assert diner.quarantine_end_on == dt.date(2022, 7, 11)
    assert diner.monitoring_end_on == dt.date(2022, 7, 14)
    assert diner.exposures.filter(source_case=new_case, classification="close").exists()
    event = AuditEvent.objects.get(action="contacts.became_case")
    # The object is the contact: its person (masked), not the new case's number alone.
    assert event.object_type == "contact" and event.object_id == str(contact_of(s["long"]).pk)
    assert event.object_label == f"{mask_name(s['long'].name)} → {new_case.number}"


def test_upgrade_refuses_another_persons_case(investigator: Any, with_secondary: dict) -> None:
    other = tracing.case(with_secondary["stranger"])
    with pytest.raises(DomainError) as err:
        services.contact_turned_positive(
            actor=investigator, contact=with_secondary["close"], case=other
        )
    assert err.value.code == "case_person_mismatch"


# --- selectors -------------------------------------------------------------------------------


def test_contacts_of_case_scoped_and_bounded(
    investigator: Any, scene: dict, tree: Any, make_user: Any
) -> None:
    services.contacts_find_for_case(actor=investigator, case=scene["case"])
    with CaptureQueriesContext(connection) as ctx:
        rows = contacts_of_case(user=investigator, case=scene["case"])
        names = [c.person.name_masked for c in rows]
        exposures = [e.kind for c in rows for e in c.exposures.all()]
    assert len(rows) == 4 and len(names) == 4 and len(exposures) == 4
    assert len(ctx.captured_queries) <= 3
    assert rows[-1].classification == "co_presence"
    town_b = make_user(Role.TOWN_STAFF, tree.town_b)
    visible = {c.person_id for c in contacts_of_case(user=town_b, case=scene["case"])}
    assert visible == {scene["coworker"].pk, scene["long"].pk}


def test_contact_get_outside_scope_is_404(
    investigator: Any, scene: dict, make_user: Any, tree: Any
) -> None:
    from fangkong.tracing.selectors.contacts import contact_get

    services.contacts_find_for_case(actor=investigator, case=scene["case"])
    spouse = contact_of(scene["spouse"])
    town_b = make_user(Role.TOWN_STAFF, tree.town_b)
    with pytest.raises(NotFound):
        contact_get(user=town_b, pk=spouse.pk)
    town_a = make_user(Role.TOWN_STAFF, tree.town_a)
    assert contact_get(user=town_a, pk=spouse.pk).pk == spouse.pk
