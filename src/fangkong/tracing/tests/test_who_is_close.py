"""Who is close: contacts classified by the case's rule set (exposure kind, venue kind,
minutes), risk persons' dates, promotion and demotion with a reason, and the signal
that tells the apps above when a contact's classification or dates changed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.protocol.models import RuleSet
from fangkong.protocol.services import ruleset_create_override
from fangkong.testkit import areas, people, tracing
from fangkong.testkit.clock import at
from fangkong.tracing.models import Contact
from fangkong.tracing.services import contacts as services
from fangkong.tracing.signals import contact_dates_changed

pytestmark = pytest.mark.django_db


def contact_of(person: Any) -> Contact:
    return Contact.objects.select_related("ruleset").get(person=person)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def dates_changed() -> Any:
    """The contact ids of every contact_dates_changed sent during the test."""
    got: list[list[int]] = []

    def receiver(sender: Any, contact_ids: list[int], **kwargs: Any) -> None:
        got.append(list(contact_ids))

    contact_dates_changed.connect(receiver, weak=False)
    yield got
    contact_dates_changed.disconnect(receiver)


@pytest.fixture
def world(tree: Any) -> dict[str, Any]:
    """A case with a household member and a co-worker, and stops at a restaurant (small
    enclosed), a supermarket (large) and a shop (another venue), with people there."""
    home = people.household(tree.community_a)
    work = areas.place(tree.community_a, kind="workplace", name="宾馆")
    restaurant = areas.place(tree.community_a, name="面馆", venue_kind="restaurant")
    supermarket = areas.place(tree.community_a, name="超市", venue_kind="supermarket")
    shop = areas.place(tree.community_a, name="理发店", venue_kind="shop")
    case_person = people.person(tree.community_a, "王芳", household=home, workplace=work)
    p = {
        "spouse": people.person(tree.community_a, "李强", household=home),
        "coworker": people.person(tree.community_b, "赵敏", workplace=work),
        "diner_15": people.person(tree.community_a, "钱一"),
        "diner_14": people.person(tree.community_a, "孙二"),
        "shopper": people.person(tree.community_b, "周三"),
        "long_shop": people.person(tree.community_a, "吴四"),
        "short_shop": people.person(tree.community_a, "郑五"),
    }
    case = tracing.case(case_person)
    tracing.stop(case, restaurant, at(4, 10), at(4, 11), confirmed=True)
    tracing.stop(case, supermarket, at(4, 5), at(4, 9, 45), confirmed=True)
    tracing.stop(case, shop, at(4, 14), at(4, 19), confirmed=True)
    # widened by 15 minutes, a scan stands for 30: 11:00 → 15 minutes, 11:01 → 14
    tracing.scan(p["diner_15"], restaurant, at(4, 11, 0))
    tracing.scan(p["diner_14"], restaurant, at(4, 11, 1))
    # five hours in the supermarket: still a risk person, not a close contact
    tracing.scans(p["shopper"], [(supermarket, at(4, 5 + h // 2, 30 * (h % 2))) for h in range(10)])
    # 14:00-18:30 at the shop (270 summed minutes) and 14:00-16:30 (150)
    tracing.scans(p["long_shop"], [(shop, at(4, 14 + h // 2, 30 * (h % 2))) for h in range(9)])
    tracing.scans(p["short_shop"], [(shop, at(4, 14 + h // 2, 30 * (h % 2))) for h in range(5)])
    return {"case": case, "tree": tree, "restaurant": restaurant, **p}


def test_classification_by_exposure_and_venue_kind(investigator: Any, world: dict) -> None:
    services.contacts_find_for_case(actor=investigator, case=world["case"])
    keys = ["spouse", "coworker", "diner_15", "diner_14", "shopper", "long_shop", "short_shop"]
    got = {key: contact_of(world[key]).classification for key in keys}
    assert got == {
        "spouse": "close",  # household: whatever the minutes
        "coworker": "close",  # a shared room at work: whatever the minutes
        "diner_15": "close",  # small enclosed venue: from 15 minutes
        "diner_14": "co_presence",
        "shopper": "co_presence",  # large venue: a risk person whatever the minutes
        "long_shop": "close",  # another venue: from 240 summed minutes
        "short_shop": "co_presence",
    }
    shopper = contact_of(world["shopper"])
    assert shopper.exposures.get().overlap_minutes >= 240
    # the risk person's own measure: home health monitoring, "3 days 2 tests"
    assert shopper.quarantine_end_on is None
    assert shopper.monitoring_end_on == shopper.last_exposure_on + dt.timedelta(days=3)
    assert [d["rule"] for d in shopper.test_dates] == [
        "risk_person.test.1",
        "risk_person.test.3",
    ]
    basis = contact_of(world["diner_15"]).exposures.get().evidence
    assert basis["stops"][0]["venue_kind"] == "restaurant"
    assert basis["small_venue_close_minutes"] == 15 and basis["venue_close_minutes"] == 240


def test_a_vehicle_trip_added_by_hand_is_close_by_the_rule_set(
    investigator: Any, world: dict, tree: Any
) -> None:
    contact = services.contact_add_manual(
        actor=investigator,
        case=world["case"],
        name="冯六",
        id_kind="ric",
        id_number=people.ric(21),
        jurisdiction=tree.community_b,
        classification=None,
        kind="vehicle",
        exposed_on=dt.date(2022, 7, 3),
        note="同乘 K123 次大巴",
    )
    assert contact.classification == "close"
    exposure = contact.exposures.get()
    assert exposure.kind == "vehicle"
    assert exposure.get_kind_display() == "同乘交通工具"
    with pytest.raises(Exception) as exc:
        services.contact_add_manual(
            actor=investigator,
            case=world["case"],
            name="冯六",
            id_kind="ric",
            id_number=people.ric(21),
            jurisdiction=tree.community_b,
            kind="co_presence",
            exposed_on=dt.date(2022, 7, 3),
        )
    assert getattr(exc.value, "code", "") == "invalid_exposure_kind"


def _override(admin: Any, tree: Any, changes: dict[str, Any]) -> RuleSet:
    return ruleset_create_override(
        actor=admin,
        based_on=RuleSet.objects.get(version="v9"),
        version="v9-local",
        name="本地调整",
        region=tree.city.path,
        effective_from=dt.date(2022, 7, 1),
        changes=changes,
    )


def test_a_local_override_moving_a_venue_kind_changes_the_classification(
    investigator: Any, admin_user: Any, tree: Any
) -> None:
    v9 = RuleSet.objects.get(version="v9")
    _override(
        admin_user,
        tree,
        {
            "large_venue_kinds": [k for k in v9.large_venue_kinds if k != "supermarket"],
            "small_venue_kinds": [*v9.small_venue_kinds, "supermarket"],
        },
    )
    supermarket = areas.place(tree.community_a, name="超市", venue_kind="supermarket")
    case = tracing.case(people.person(tree.community_a), version="v9-local")
    tracing.stop(case, supermarket, at(4, 10), at(4, 11), confirmed=True)
    shopper = people.person(tree.community_a)
    tracing.scan(shopper, supermarket, at(4, 10, 30))
    services.contacts_find_for_case(actor=investigator, case=case)
    contact = contact_of(shopper)
    assert contact.classification == "close"  # a small venue here: 30 minutes make close
    assert contact.ruleset.version == "v9-local"


def _long_stay(person: Any, place: Any, day: int, hour: int) -> None:
    """Nine scans 30 minutes apart: four and a half hours at `place`."""
    tracing.scans(person, [(place, at(day, hour + h // 2, 30 * (h % 2))) for h in range(9)])


def test_secondary_contacts_need_long_copresence(investigator: Any, world: dict) -> None:
    """A close contact's own co-presence: a secondary contact only from the rule set's
    `secondary_copresence_minutes` (240) summed; 15 minutes at a small venue, which
    make a close contact of a case, make nothing; a large venue makes nothing."""
    tree = world["tree"]
    services.contacts_find_for_case(actor=investigator, case=world["case"])
    close = contact_of(world["diner_15"])
    mall = areas.place(tree.community_b, name="商场", venue_kind="mall")
    gym = areas.place(tree.community_b, name="健身房", venue_kind="gym")
    office = areas.place(tree.community_b, name="办公室", venue_kind="office")
    tracing.scans(world["diner_15"], [(mall, at(5, 9)), (gym, at(5, 12))])
    _long_stay(world["diner_15"], office, 5, 14)
    at_mall = people.person(tree.community_b)
    tracing.scans(at_mall, [(mall, at(5, 9)), (mall, at(5, 9, 10))])
    at_gym = people.person(tree.community_b)
    tracing.scan(at_gym, gym, at(5, 12, 10))
    colleague = people.person(tree.community_b)
    _long_stay(colleague, office, 5, 14)
    result = services.secondary_contacts_find(actor=investigator, contact=close)
    assert contact_of(colleague).classification == "secondary"
    assert not Contact.objects.filter(person=at_gym).exists()
    assert not Contact.objects.filter(person=at_mall).exists()
    # the 14-minute diner, 30 minutes with the close contact: stays a risk person
    assert contact_of(world["diner_14"]).classification == "co_presence"
    assert result.by_class == {"secondary": 1}


def test_a_local_override_lowering_the_secondary_minutes(
    investigator: Any, admin_user: Any, tree: Any
) -> None:
    _override(admin_user, tree, {"secondary_copresence_minutes": 15})
    restaurant = areas.place(tree.community_a, name="面馆", venue_kind="restaurant")
    case = tracing.case(people.person(tree.community_a), version="v9-local")
    tracing.stop(case, restaurant, at(4, 10), at(4, 11), confirmed=True)
    diner = people.person(tree.community_a)
    tracing.scan(diner, restaurant, at(4, 10, 30))
    services.contacts_find_for_case(actor=investigator, case=case)
    close = contact_of(diner)
    assert close.classification == "close" and close.ruleset.version == "v9-local"
    gym = areas.place(tree.community_b, name="健身房", venue_kind="gym")
    tracing.scan(diner, gym, at(5, 12))
    partner = people.person(tree.community_b)
    tracing.scan(partner, gym, at(5, 12, 10))  # 20 minutes with the close contact
    services.secondary_contacts_find(actor=investigator, contact=close)
    assert contact_of(partner).classification == "secondary"


# --- the signal to the apps above ---------------------------------------------------------


def test_a_new_exposure_on_existing_contacts_sends_their_ids(
    investigator: Any, world: dict, dates_changed: list
) -> None:
    services.contacts_find_for_case(actor=investigator, case=world["case"])
    assert dates_changed == []  # new contacts: nothing of theirs to recompute yet
    restaurant = world["restaurant"]
    tracing.stop(world["case"], restaurant, at(5, 10), at(5, 11), confirmed=True)
    tracing.scan(world["diner_14"], restaurant, at(5, 10, 30))
    services.contacts_find_for_case(actor=investigator, case=world["case"])
    diner = contact_of(world["diner_14"])
    assert diner.classification == "close" and diner.last_exposure_on == dt.date(2022, 7, 5)
    assert dates_changed == [[diner.pk]]


def test_upgrade_of_a_secondary_contact_sends_its_id(
    investigator: Any, world: dict, dates_changed: list
) -> None:
    tree = world["tree"]
    services.contacts_find_for_case(actor=investigator, case=world["case"])
    close = contact_of(world["diner_15"])
    gym = areas.place(tree.community_b, name="健身房", venue_kind="gym")
    _long_stay(world["diner_15"], gym, 5, 12)
    partner = people.person(tree.community_b)
    _long_stay(partner, gym, 5, 12)
    services.secondary_contacts_find(actor=investigator, contact=close)
    secondary = contact_of(partner)
    assert secondary.classification == "secondary"
    dates_changed.clear()
    new_case = tracing.case(world["diner_15"], sampled_on=dt.date(2022, 7, 6))
    services.contact_turned_positive(actor=investigator, contact=close, case=new_case)
    assert contact_of(partner).classification == "close"
    upgraded = sorted(
        Contact.objects.filter(upgrade_reason__contains=new_case.number).values_list(
            "pk", flat=True
        )
    )
    assert secondary.pk in upgraded
    assert dates_changed == [upgraded]


# --- promote or demote with a reason -------------------------------------------------------


@pytest.fixture
def found(investigator: Any, world: dict) -> dict[str, Any]:
    services.contacts_find_for_case(actor=investigator, case=world["case"])
    return world


def test_demote_and_promote_with_a_reason_recomputes_the_dates(
    investigator: Any, found: dict, dates_changed: list
) -> None:
    contact = contact_of(found["diner_15"])
    last = contact.last_exposure_on
    assert contact.quarantine_end_on == last + dt.timedelta(days=7)
    demoted = services.contact_reclassify(
        actor=investigator,
        contact=contact,
        classification="co_presence",
        reason="核实为隔壁桌，无交谈",
    )
    assert demoted.classification == "co_presence"
    assert demoted.quarantine_end_on is None
    assert demoted.monitoring_end_on == last + dt.timedelta(days=3)
    assert [d["rule"] for d in demoted.test_dates] == ["risk_person.test.1", "risk_person.test.3"]
    assert demoted.upgrade_reason == "核实为隔壁桌，无交谈" and demoted.upgraded_at is not None
    event = AuditEvent.objects.filter(action="contacts.reclassify").get()
    assert event.object_id == str(contact.pk) or event.object_id == contact.pk
    assert event.detail["before"]["classification"] == "close"
    assert event.detail["after"]["classification"] == "co_presence"
    assert event.detail["before"]["quarantine_end_on"] == (last + dt.timedelta(days=7)).isoformat()
    assert event.detail["after"]["quarantine_end_on"] is None
    assert event.detail["reason"] == "核实为隔壁桌，无交谈"
    assert dates_changed == [[contact.pk]]

    secondary = services.contact_reclassify(
        actor=investigator, contact=demoted, classification="secondary", reason="与密接同桌"
    )
    assert secondary.quarantine_end_on == last + dt.timedelta(days=7)  # v9: 7 days at home
    general = services.contact_reclassify(
        actor=investigator, contact=secondary, classification="general", reason="仅路过"
    )
    assert (general.quarantine_end_on, general.monitoring_end_on, general.test_dates) == (
        None,
        None,
        [],
    )
    close = services.contact_reclassify(
        actor=investigator, contact=general, classification="close", reason="补充流调：同桌"
    )
    assert close.quarantine_end_on == last + dt.timedelta(days=7)
    assert close.monitoring_end_on == last + dt.timedelta(days=10)
    assert len(dates_changed) == 4


def test_reclassify_refusals(investigator: Any, found: dict, dates_changed: list) -> None:
    contact = contact_of(found["diner_15"])
    with pytest.raises(InvalidInput) as exc:
        services.contact_reclassify(
            actor=investigator, contact=contact, classification="general", reason="  "
        )
    assert exc.value.code == "reason_required" and exc.value.status == 400
    with pytest.raises(InvalidInput) as exc:
        services.contact_reclassify(
            actor=investigator, contact=contact, classification="friend", reason="x"
        )
    assert exc.value.code == "invalid_classification"
    with pytest.raises(Conflict) as conflict:
        services.contact_reclassify(
            actor=investigator, contact=contact, classification="close", reason="x"
        )
    assert conflict.value.code == "classification_unchanged"
    assert contact_of(found["diner_15"]).classification == "close"
    assert dates_changed == []
    assert not AuditEvent.objects.filter(action="contacts.reclassify").exists()


def test_reclassify_wrong_role_403_out_of_scope_404(
    found: dict, town_a_user: Any, make_user: Any
) -> None:
    contact = contact_of(found["diner_15"])  # in community A
    with pytest.raises(PermissionDenied):
        services.contact_reclassify(
            actor=town_a_user, contact=contact, classification="general", reason="x"
        )
    town_b_investigator = make_user(Role.INVESTIGATOR, found["tree"].town_b, "inv-b")
    with pytest.raises(NotFound):
        services.contact_reclassify(
            actor=town_b_investigator, contact=contact, classification="general", reason="x"
        )
    assert contact_of(found["diner_15"]).classification == "close"


def test_reclassify_api(investigator: Any, found: dict, town_a_user: Any, make_user: Any) -> None:
    contact = contact_of(found["diner_15"])
    url = f"/api/tracing/contacts/{contact.pk}/reclassify"
    client = client_for(investigator)
    missing = client.post(url, {"classification": "general"}, content_type="application/json")
    assert missing.status_code == 400 and missing.json()["code"] == "reason_required"
    ok = client.post(
        url,
        {"classification": "co_presence", "reason": "核实为路过"},
        content_type="application/json",
    )
    assert ok.status_code == 200, ok.content
    body = ok.json()
    assert body["classification"] == "co_presence"
    assert body["upgrade_reason"] == "核实为路过" and body["reclassified"] is True
    assert body["quarantine_end_on"] is None and body["monitoring_end_on"]
    denied = client_for(town_a_user).post(
        url, {"classification": "close", "reason": "x"}, content_type="application/json"
    )
    assert denied.status_code == 403
    outside = make_user(Role.INVESTIGATOR, found["tree"].town_b, "inv-b-api")
    hidden = client_for(outside).post(
        url, {"classification": "close", "reason": "x"}, content_type="application/json"
    )
    assert hidden.status_code == 404


def test_reclassify_page_action(investigator: Any, found: dict, town_a_user: Any) -> None:
    contact = contact_of(found["diner_15"])
    client = client_for(investigator)
    page = client.get(reverse("tracing:contact_detail", args=[contact.pk])).content.decode()
    assert 'data-testid="reclassify-form"' in page
    url = reverse("tracing:contact_reclassify", args=[contact.pk])
    refused = client.post(url, {"classification": "general", "reason": ""})
    assert refused.status_code == 400
    assert 'data-code="reason_required"' in refused.content.decode()
    done = client.post(url, {"classification": "general", "reason": "仅同楼层"})
    assert done.status_code == 302
    shown = client.get(done["Location"]).content.decode()
    assert 'data-testid="reclassified"' in shown and "仅同楼层" in shown
    assert contact_of(found["diner_15"]).classification == "general"
    # a town's staff see the contact but cannot reclassify it
    town_page = client_for(town_a_user).get(reverse("tracing:contact_detail", args=[contact.pk]))
    assert 'data-testid="reclassify-form"' not in town_page.content.decode()
    assert (
        client_for(town_a_user).post(url, {"classification": "close", "reason": "x"}).status_code
        == 403
    )


def test_the_case_page_shows_risk_persons_as_their_own_category(
    investigator: Any, found: dict
) -> None:
    url = reverse("tracing:case_contacts", args=[found["case"].pk])
    body = client_for(investigator).get(url).content.decode()
    assert "时空伴随者（风险人员） 3" in body
    assert 'data-testid="monitoring-end"' in body and "监测至 2022-07-07" in body
    assert 'data-testid="add-contact-kind"' in body and "同乘交通工具" in body


def test_a_rerun_does_not_undo_a_demotion_but_a_later_exposure_may(
    investigator: Any, found: dict
) -> None:
    contact = contact_of(found["diner_15"])
    services.contact_reclassify(
        actor=investigator, contact=contact, classification="co_presence", reason="隔壁桌"
    )
    services.contacts_find_for_case(actor=investigator, case=found["case"])
    assert contact_of(found["diner_15"]).classification == "co_presence"
    # a later exposure, close by the rule set: the class rises again
    restaurant = found["restaurant"]
    tracing.stop(found["case"], restaurant, at(5, 10), at(5, 11), confirmed=True)
    tracing.scan(found["diner_15"], restaurant, at(5, 10, 30))
    services.contacts_find_for_case(actor=investigator, case=found["case"])
    again = contact_of(found["diner_15"])
    assert again.classification == "close"
    assert again.last_exposure_on == dt.date(2022, 7, 5)
    assert again.quarantine_end_on == dt.date(2022, 7, 12)


def test_api_manual_add_takes_the_way_of_contact(investigator: Any, world: dict) -> None:
    tree = world["tree"]
    response = client_for(investigator).post(
        f"/api/tracing/cases/{world['case'].pk}/contacts",
        {
            "name": "冯七",
            "id_kind": "ric",
            "id_number": people.ric(31),
            "jurisdiction_id": tree.community_b.pk,
            "kind": "vehicle",
            "exposed_on": "2022-07-03",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["classification"] == "close"
    assert [e["kind"] for e in body["exposures"]] == ["vehicle"]
    assert "同乘交通工具" in body["exposures"][0]["basis"]


def test_a_secondary_contact_set_by_hand_is_still_upgraded(investigator: Any, world: dict) -> None:
    """An investigator's decision does not block the upgrade when the close contact
    turns positive: that is new information."""
    tree = world["tree"]
    services.contacts_find_for_case(actor=investigator, case=world["case"])
    close = contact_of(world["diner_15"])
    gym = areas.place(tree.community_b, name="健身房", venue_kind="gym")
    _long_stay(world["diner_15"], gym, 5, 12)
    partner = people.person(tree.community_b)
    _long_stay(partner, gym, 5, 12)
    services.secondary_contacts_find(actor=investigator, contact=close)
    services.contact_reclassify(
        actor=investigator,
        contact=contact_of(partner),
        classification="general",
        reason="核实仅擦肩而过",
    )
    services.contact_reclassify(
        actor=investigator, contact=contact_of(partner), classification="secondary", reason="复核"
    )
    new_case = tracing.case(world["diner_15"], sampled_on=dt.date(2022, 7, 6))
    services.contact_turned_positive(actor=investigator, contact=close, case=new_case)
    assert contact_of(partner).classification == "close"
