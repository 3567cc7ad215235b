"""Case services: creation from the rule set, lifecycle, itinerary, escalation, scoping."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from fangkong.protocol.models import RuleSet
from fangkong.testkit import people, tracing
from fangkong.testkit.clock import on
from fangkong.testkit.concurrency import race
from fangkong.tracing.models import (
    Case,
    CaseStatus,
    Contact,
    ContactStatus,
    Investigation,
    ItineraryStop,
    StopSource,
)
from fangkong.tracing.selectors import cases as selectors
from fangkong.tracing.services import cases as services
from fangkong.tracing.services import itinerary as itinerary_services

pytestmark = pytest.mark.django_db

TODAY = dt.date.today


def audits(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


# --- creation ---------------------------------------------------------------------------


def test_create_computes_number_ruleset_lookback_and_deadlines(
    investigator: Any, person_a: Any
) -> None:
    sampled = timezone.localdate() - dt.timedelta(days=1)
    reported = timezone.now() - dt.timedelta(hours=1)

    case = tracing.reported_case(
        person_a, actor=investigator, first_positive_sampled_on=sampled, reported_at=reported
    )

    year = timezone.localtime(reported).year
    assert case.number == f"TX{year}-0001"
    assert case.status == CaseStatus.REPORTED
    assert case.jurisdiction_path == person_a.jurisdiction_path
    assert case.ruleset.version == "v9"
    assert case.lookback_start == sampled - dt.timedelta(days=4)
    assert case.core_facts_due_at == reported + dt.timedelta(hours=4)
    assert case.report_due_at == reported + dt.timedelta(hours=24)
    event = AuditEvent.objects.get(action="case.create")
    assert (event.object_id, event.detail["ruleset"]) == (str(case.pk), "v9")


def test_numbers_follow_a_yearly_city_sequence(investigator: Any, tree: Any, person_a: Any) -> None:
    first = tracing.reported_case(person_a, actor=investigator)
    second = tracing.reported_case(
        people.person(tree.community_b, actor=investigator), actor=investigator
    )
    year = timezone.localtime(first.reported_at).year
    assert (first.number, second.number) == (f"TX{year}-0001", f"TX{year}-0002")


def test_number_collision_is_retried(
    investigator: Any, tree: Any, person_a: Any, monkeypatch: Any
) -> None:
    first = tracing.reported_case(person_a, actor=investigator)
    sequences = iter([1, 2])
    monkeypatch.setattr(services, "_next_sequence", lambda prefix, year: next(sequences))

    second = tracing.reported_case(
        people.person(tree.community_b, actor=investigator), actor=investigator
    )

    assert first.number.endswith("-0001")
    assert second.number.endswith("-0002")


def test_v8_case_uses_version_8(investigator: Any, person_a: Any) -> None:
    case = tracing.reported_case(
        person_a,
        actor=investigator,
        kind="confirmed",
        onset_date=dt.date(2021, 8, 1),
        first_positive_sampled_on=dt.date(2021, 8, 2),
        reported_at=on(dt.date(2021, 8, 2), 10),
    )
    assert case.ruleset.version == "v8"
    assert case.lookback_start == dt.date(2021, 7, 28)
    assert case.number == "TX2021-0001"


def test_symptomatic_case_looks_back_from_onset(investigator: Any, person_a: Any) -> None:
    today = timezone.localdate()
    case = tracing.reported_case(
        person_a,
        actor=investigator,
        kind="confirmed",
        onset_date=today - dt.timedelta(days=3),
        first_positive_sampled_on=today - dt.timedelta(days=1),
    )
    assert case.lookback_start == today - dt.timedelta(days=7)


def test_local_rule_set_drives_lookback_and_deadlines(
    investigator: Any, tree: Any, person_a: Any, person_b: Any
) -> None:
    local = RuleSet.objects.get(version="v9")
    local.pk = None
    local.version, local.region = "wz-local", tree.town_a.path
    local.contact_lookback_days, local.case_core_facts_hours = 2, 2
    local.save()
    sampled = timezone.localdate() - dt.timedelta(days=1)

    in_a = tracing.reported_case(person_a, actor=investigator, first_positive_sampled_on=sampled)
    in_b = tracing.reported_case(person_b, actor=investigator, first_positive_sampled_on=sampled)

    assert (in_a.ruleset.version, in_b.ruleset.version) == ("wz-local", "v9")
    assert in_a.lookback_start == sampled - dt.timedelta(days=2)
    assert in_a.core_facts_due_at == in_a.reported_at + dt.timedelta(hours=2)


def test_one_case_per_person(investigator: Any, person_a: Any) -> None:
    first = tracing.reported_case(person_a, actor=investigator)
    with pytest.raises(Conflict) as exc:
        tracing.reported_case(person_a, actor=investigator)
    assert (exc.value.code, exc.value.detail["case"]) == ("case_exists", first.pk)
    assert (Case.objects.count(), audits("case.create")) == (1, 1)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"kind": "mild"}, "case_kind_invalid"),
        ({"origin": "mars"}, "case_origin_invalid"),
        ({"first_positive_sampled_on": dt.date(2999, 1, 1)}, "date_in_future"),
        ({"reported_at": timezone.now() + dt.timedelta(days=2)}, "date_in_future"),
        ({"kind": "confirmed", "onset_date": dt.date(2999, 1, 1)}, "date_in_future"),
        ({"kind": "asymptomatic", "onset_date": dt.date(2022, 7, 1)}, "asymptomatic_with_onset"),
        ({"reporting_unit": "x" * 201}, "value_too_long"),
    ],
)
def test_bad_input_writes_nothing(
    investigator: Any, person_a: Any, kwargs: dict, code: str
) -> None:
    with pytest.raises(DomainError) as exc:
        tracing.reported_case(person_a, actor=investigator, **kwargs)
    assert exc.value.code == code
    assert (Case.objects.count(), audits("case.create")) == (0, 0)


def test_onset_after_sample_refused(investigator: Any, person_a: Any) -> None:
    today = timezone.localdate()
    with pytest.raises(DomainError) as exc:
        tracing.reported_case(
            person_a,
            actor=investigator,
            kind="confirmed",
            onset_date=today,
            first_positive_sampled_on=today - dt.timedelta(days=1),
        )
    assert exc.value.code == "onset_after_sample"


def test_create_needs_case_manage_and_the_person_in_scope(
    tree: Any, make_user: Any, town_a_user: Any, lab_user: Any, person_a: Any
) -> None:
    with pytest.raises(PermissionDenied):
        tracing.reported_case(person_a, actor=town_a_user)
    with pytest.raises(PermissionDenied):
        tracing.reported_case(person_a, actor=lab_user)
    investigator_b = make_user(Role.INVESTIGATOR, tree.town_b, "inv-b")
    with pytest.raises(NotFound):
        tracing.reported_case(person_a, actor=investigator_b)
    assert Case.objects.count() == 0


def test_create_from_positive_returns_the_existing_case(investigator: Any, person_a: Any) -> None:
    sampled = timezone.localdate() - dt.timedelta(days=1)
    case = services.case_create_from_positive(
        actor=investigator, person=person_a, sampled_on=sampled, reporting_unit="桐乡市疾控"
    )
    again = services.case_create_from_positive(
        actor=investigator, person=person_a, sampled_on=sampled
    )
    assert (case.kind, case.reporting_unit, again.pk) == ("asymptomatic", "桐乡市疾控", case.pk)
    assert audits("case.create") == 1


def test_a_contact_who_turns_positive_becomes_the_case(
    investigator: Any, person_a: Any, monkeypatch: Any
) -> None:
    from fangkong.tracing.services import contacts as contact_services

    calls: list[tuple[Any, Any]] = []
    monkeypatch.setattr(
        contact_services,
        "contact_turned_positive",
        lambda *, actor, contact, case: calls.append((contact.pk, case.pk)),
        raising=False,
    )
    contact = Contact.objects.create(
        person=person_a,
        jurisdiction_path=person_a.jurisdiction_path,
        classification="close",
        first_exposure_on=timezone.localdate() - dt.timedelta(days=3),
        last_exposure_on=timezone.localdate() - dt.timedelta(days=3),
        ruleset=RuleSet.objects.get(version="v9"),
    )

    case = tracing.reported_case(person_a, actor=investigator)

    contact.refresh_from_db()
    assert (contact.status, case.from_contact_id) == (ContactStatus.BECAME_CASE, contact.pk)
    assert calls == [(contact.pk, case.pk)]


def test_contact_hook_is_optional(investigator: Any, person_a: Any, monkeypatch: Any) -> None:
    from fangkong.tracing.services import contacts as contact_services

    monkeypatch.delattr(contact_services, "contact_turned_positive", raising=False)
    Contact.objects.create(
        person=person_a,
        jurisdiction_path=person_a.jurisdiction_path,
        classification="secondary",
        first_exposure_on=timezone.localdate(),
        last_exposure_on=timezone.localdate(),
        ruleset=RuleSet.objects.get(version="v9"),
    )
    case = tracing.reported_case(person_a, actor=investigator)
    assert Contact.objects.get(person=person_a).status == ContactStatus.BECAME_CASE
    assert case.from_contact_id is not None


# --- lifecycle --------------------------------------------------------------------------


def _stop_in_window(case: Case) -> tuple[dt.datetime, dt.datetime]:
    start = on(case.lookback_start + dt.timedelta(days=1), 9)
    return start, start + dt.timedelta(hours=2)


def test_full_lifecycle(investigator: Any, person_a: Any) -> None:
    case = tracing.reported_case(person_a, actor=investigator)

    investigation = services.case_start_investigation(actor=investigator, case=case)
    case.refresh_from_db()
    assert (case.status, investigation.investigator) == (CaseStatus.INVESTIGATING, investigator)

    services.case_record_core_facts(actor=investigator, case=case, symptoms="无")
    start, end = _stop_in_window(case)
    itinerary_services.itinerary_stop_add(
        actor=investigator, case=case, address="家中", start=start, end=end
    )
    with pytest.raises(Conflict) as exc:
        services.case_complete_report(actor=investigator, case=case)
    assert exc.value.code == "itinerary_not_confirmed"

    itinerary_services.itinerary_confirm(actor=investigator, case=case)
    case = services.case_complete_report(actor=investigator, case=case, interview_notes="访谈")
    assert case.status == CaseStatus.INVESTIGATED
    assert case.report_done_at is not None and case.core_facts_done_at is not None
    assert Investigation.objects.get(case=case).interview_notes == "访谈"

    with pytest.raises(DomainError) as missing:
        services.case_close(actor=investigator, case=case, reason="  ")
    assert missing.value.code == "close_reason_required"
    case = services.case_close(actor=investigator, case=case, reason="治愈出院")
    assert case.status == CaseStatus.CLOSED
    assert AuditEvent.objects.get(action="case.close").detail == {"reason": "治愈出院"}


def test_illegal_transitions(investigator: Any, person_a: Any) -> None:
    case = tracing.reported_case(person_a, actor=investigator)
    for call in (
        lambda: services.case_complete_report(actor=investigator, case=case),
        lambda: services.case_close(actor=investigator, case=case, reason="误报"),
    ):
        with pytest.raises(Conflict) as exc:
            call()
        assert exc.value.code == "case_transition_invalid"
    services.case_start_investigation(actor=investigator, case=case)
    with pytest.raises(Conflict) as again:
        services.case_start_investigation(actor=investigator, case=case)
    assert again.value.code == "case_transition_invalid"
    assert Investigation.objects.filter(case=case).count() == 1
    assert audits("case.start_investigation") == 1


def test_core_facts_start_the_investigation(investigator: Any, person_a: Any) -> None:
    case = tracing.reported_case(person_a, actor=investigator)
    case = services.case_record_core_facts(actor=investigator, case=case, vaccination="3剂")
    first_done = case.core_facts_done_at
    case = services.case_record_core_facts(actor=investigator, case=case, symptoms="咳嗽")
    assert (case.status, case.core_facts_done_at) == (CaseStatus.INVESTIGATING, first_done)
    investigation = Investigation.objects.get(case=case)
    assert (investigation.vaccination, investigation.symptoms) == ("3剂", "咳嗽")


def test_lifecycle_needs_case_manage(investigator: Any, town_a_user: Any, person_a: Any) -> None:
    case = tracing.reported_case(person_a, actor=investigator)
    with pytest.raises(PermissionDenied):
        services.case_start_investigation(actor=town_a_user, case=case)
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORTED


# --- itinerary --------------------------------------------------------------------------


def test_confirm_needs_a_stop(investigator: Any, person_a: Any) -> None:
    case = tracing.reported_case(person_a, actor=investigator)
    with pytest.raises(Conflict) as exc:
        itinerary_services.itinerary_confirm(actor=investigator, case=case)
    assert exc.value.code == "itinerary_empty"
    services.case_start_investigation(actor=investigator, case=case)
    with pytest.raises(Conflict):
        itinerary_services.itinerary_confirm(actor=investigator, case=case)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"address": ""}, "stop_needs_place"),
        ({"end_delta": -3}, "stop_end_before_start"),
        ({"start_days": -2}, "stop_outside_window"),
        ({"start_days": 30}, "stop_outside_window"),
    ],
)
def test_stop_validation_writes_nothing(
    investigator: Any, person_a: Any, change: dict, code: str
) -> None:
    case = tracing.reported_case(person_a, actor=investigator)
    start = on(case.lookback_start + dt.timedelta(days=change.get("start_days", 1)), 9)
    end = start + dt.timedelta(hours=change.get("end_delta", 1))
    with pytest.raises(DomainError) as exc:
        itinerary_services.itinerary_stop_add(
            actor=investigator,
            case=case,
            address=change.get("address", "某路1号"),
            start=start,
            end=end,
        )
    assert exc.value.code == code
    assert ItineraryStop.objects.count() == 0
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORTED


def test_changing_stops_unconfirms_the_itinerary(
    investigator: Any, person_a: Any, places: Any
) -> None:
    case = tracing.reported_case(person_a, actor=investigator)
    start, end = _stop_in_window(case)
    stop = itinerary_services.itinerary_stop_add(
        actor=investigator, case=case, place=places["hotel"], start=start, end=end
    )
    itinerary_services.itinerary_confirm(actor=investigator, case=case)
    stop.refresh_from_db()
    assert stop.confirmed

    itinerary_services.itinerary_stop_update(
        actor=investigator, stop=stop, address="家中", start=start, end=end, companions="丈夫"
    )
    stop.refresh_from_db()
    assert (stop.place, stop.address, stop.confirmed) == (None, "家中", False)
    assert Investigation.objects.get(case=case).itinerary_confirmed_at is None

    itinerary_services.itinerary_confirm(actor=investigator, case=case)
    itinerary_services.itinerary_stop_delete(actor=investigator, stop=stop)
    assert ItineraryStop.objects.count() == 0
    assert Investigation.objects.get(case=case).itinerary_confirmed_at is None
    assert audits("itinerary.stop_delete") == 1


def test_proposal_from_scans(investigator: Any, person_a: Any, places: Any, settings: Any) -> None:
    settings.FANGKONG_STOP_DWELL_MINUTES = 30
    case = tracing.reported_case(person_a, actor=investigator)
    day = case.lookback_start + dt.timedelta(days=1)
    hotel, market = places["hotel"], places["market"]
    tracing.scans(
        person_a,
        [
            (hotel, on(case.lookback_start, 0, 0) - dt.timedelta(minutes=1)),  # before window
            (hotel, on(day, 8)),
            (hotel, on(day, 8, 20)),
            (market, on(day, 12)),
            (hotel, case.reported_at + dt.timedelta(minutes=1)),  # after the report
        ],
    )

    stops = itinerary_services.itinerary_propose_from_scans(actor=investigator, case=case)

    assert [(s.place_id, s.start, s.end, s.source) for s in stops] == [
        (hotel.pk, on(day, 8), on(day, 8, 50), StopSource.SCAN),
        (market.pk, on(day, 12), on(day, 12, 30), StopSource.SCAN),
    ]
    case.refresh_from_db()
    assert case.status == CaseStatus.INVESTIGATING
    assert AuditEvent.objects.get(action="itinerary.propose").detail["proposed"] == 2


def test_proposal_replaces_unconfirmed_scan_stops_only(
    investigator: Any, person_a: Any, places: Any
) -> None:
    case = tracing.reported_case(person_a, actor=investigator)
    day = case.lookback_start + dt.timedelta(days=1)
    hotel, market = places["hotel"], places["market"]
    tracing.scans(person_a, [(hotel, on(day, 8))])
    itinerary_services.itinerary_propose_from_scans(actor=investigator, case=case)
    itinerary_services.itinerary_confirm(actor=investigator, case=case)
    manual = itinerary_services.itinerary_stop_add(
        actor=investigator, case=case, address="家中", start=on(day, 20), end=on(day, 22)
    )
    tracing.scans(person_a, [(market, on(day, 15))])

    itinerary_services.itinerary_propose_from_scans(actor=investigator, case=case)
    itinerary_services.itinerary_propose_from_scans(actor=investigator, case=case)

    rows = [(s.place_id, s.source, s.confirmed) for s in selectors.case_stops(case)]
    assert rows == [
        (hotel.pk, "scan", True),  # confirmed: kept, not duplicated
        (market.pk, "scan", False),  # proposed once, replaced by the second proposal
        (None, "manual", False),
    ]
    assert manual.pk in {s.pk for s in selectors.case_stops(case)}


def test_itinerary_locked_after_the_report(investigator: Any, person_a: Any) -> None:
    case = tracing.reported_case(person_a, actor=investigator)
    start, end = _stop_in_window(case)
    stop = itinerary_services.itinerary_stop_add(
        actor=investigator, case=case, address="家中", start=start, end=end
    )
    itinerary_services.itinerary_confirm(actor=investigator, case=case)
    services.case_complete_report(actor=investigator, case=case)
    with pytest.raises(Conflict):
        itinerary_services.itinerary_stop_delete(actor=investigator, stop=stop)
    with pytest.raises(Conflict):
        itinerary_services.itinerary_propose_from_scans(actor=investigator, case=case)
    assert ItineraryStop.objects.filter(pk=stop.pk).exists()


# --- overdue and escalation ---------------------------------------------------------------


def test_escalation_happens_once(
    investigator: Any, tree: Any, person_a: Any, person_b: Any
) -> None:
    now = timezone.now()
    late = tracing.reported_case(
        person_a, actor=investigator, reported_at=now - dt.timedelta(hours=5)
    )
    fresh = tracing.reported_case(
        person_b, actor=investigator, reported_at=now - dt.timedelta(hours=1)
    )

    first = services.cases_escalate_overdue(now=now)
    second = services.cases_escalate_overdue(now=now + dt.timedelta(minutes=30))

    assert [c.pk for c in first] == [late.pk]
    assert second == []
    late.refresh_from_db()
    fresh.refresh_from_db()
    assert (late.escalated_at, fresh.escalated_at) == (now, None)
    event = AuditEvent.objects.get(action="case.escalate")
    assert (event.object_id, event.detail["missed"]) == (str(late.pk), ["core_facts"])


def test_core_facts_done_in_time_is_not_overdue(investigator: Any, person_a: Any) -> None:
    now = timezone.now()
    case = tracing.reported_case(
        person_a, actor=investigator, reported_at=now - dt.timedelta(hours=3)
    )
    services.case_record_core_facts(actor=investigator, case=case)
    later = now + dt.timedelta(hours=2)
    assert selectors.cases_overdue(user=investigator, now=later) == []
    assert services.cases_escalate_overdue(now=later) == []
    report_late = now + dt.timedelta(hours=22)
    assert [c.pk for c in selectors.cases_overdue(user=investigator, now=report_late)] == [case.pk]


def test_escalation_task_runs_the_service(investigator: Any, person_a: Any) -> None:
    from fangkong.tracing.tasks import cases_escalate_overdue

    tracing.reported_case(
        person_a, actor=investigator, reported_at=timezone.now() - dt.timedelta(hours=30)
    )
    result = cases_escalate_overdue.enqueue()
    assert result.return_value == 1
    assert Case.objects.filter(escalated_at__isnull=False).count() == 1


# --- selectors and scoping ------------------------------------------------------------------


def test_scoping_of_case_reads(
    investigator: Any,
    command_user: Any,
    town_a_user: Any,
    town_b_user: Any,
    lab_user: Any,
    person_a: Any,
    person_b: Any,
) -> None:
    case_a = tracing.reported_case(person_a, actor=investigator)
    case_b = tracing.reported_case(person_b, actor=investigator)

    assert [c.pk for c in selectors.cases(user=town_a_user).items] == [case_a.pk]
    assert {c.pk for c in selectors.cases(user=investigator).items} == {case_a.pk, case_b.pk}
    assert {c.pk for c in selectors.cases(user=command_user).items} == {case_a.pk, case_b.pk}
    assert selectors.case_get(user=town_a_user, pk=case_a.pk) == case_a
    with pytest.raises(NotFound):
        selectors.case_get(user=town_a_user, pk=case_b.pk)
    with pytest.raises(PermissionDenied):
        selectors.cases(user=lab_user)
    with pytest.raises(PermissionDenied):
        selectors.case_get(user=lab_user, pk=case_a.pk)


def test_case_list_filters(investigator: Any, tree: Any, person_a: Any, person_b: Any) -> None:
    now = timezone.now()
    old = tracing.reported_case(
        person_a, actor=investigator, reported_at=now - dt.timedelta(days=2)
    )
    new = tracing.reported_case(person_b, actor=investigator)
    services.case_start_investigation(actor=investigator, case=new)

    def ids(**kwargs: Any) -> list[int]:
        return [c.pk for c in selectors.cases(user=investigator, **kwargs).items]

    assert ids(status="investigating") == [new.pk]
    assert ids(town=tree.town_a) == [old.pk]
    assert ids(since=timezone.localdate()) == [new.pk]
    assert ids(until=timezone.localdate(now - dt.timedelta(days=1))) == [old.pk]
    assert ids(overdue=True) == [old.pk]
    assert ids(overdue=False) == [new.pk]
    with pytest.raises(DomainError):
        ids(status="bogus")


def test_case_list_keyset_pages(investigator: Any, tree: Any) -> None:
    made = [
        tracing.reported_case(
            people.person(tree.community_a, actor=investigator), actor=investigator
        )
        for _ in range(3)
    ]
    first = selectors.cases(user=investigator, size=2)
    second = selectors.cases(user=investigator, size=2, cursor=first.next_cursor)
    assert [c.pk for c in first.items] == [made[2].pk, made[1].pk]
    assert ([c.pk for c in second.items], second.next_cursor) == ([made[0].pk], None)


def test_timeline(investigator: Any, person_a: Any) -> None:
    now = timezone.now()
    case = tracing.reported_case(
        person_a, actor=investigator, reported_at=now - dt.timedelta(hours=6)
    )
    services.cases_escalate_overdue(now=now)
    services.case_record_core_facts(actor=investigator, case=case)
    start, end = _stop_in_window(case)
    itinerary_services.itinerary_stop_add(
        actor=investigator, case=case, address="家中", start=start, end=end
    )
    itinerary_services.itinerary_confirm(actor=investigator, case=case)
    case.refresh_from_db()

    kinds = [e.kind for e in selectors.case_timeline(case)]

    assert kinds[0] == "stop"  # the stop lies in the look-back window, before the report
    assert kinds[1] == "reported"
    assert {"investigation", "core_facts", "itinerary", "escalated"} <= set(kinds)
    assert kinds.index("escalated") < kinds.index("core_facts")


# --- concurrency (PostgreSQL) ---------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_get_distinct_numbers(tree: Any, make_user: Any) -> None:
    actor = make_user(Role.INVESTIGATOR, tree.city, "inv-race")
    persons = [people.person(tree.community_a, actor=actor) for _ in range(4)]

    results, errors = race(
        *[lambda p=p: tracing.reported_case(p, actor=actor) for p in persons],  # type: ignore[misc]
        timeout=30,
    )

    assert errors == []
    numbers = sorted(c.number for c in results)
    year = timezone.localtime(results[0].reported_at).year
    assert numbers == [f"TX{year}-000{i}" for i in range(1, 5)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_of_one_person_make_one_case(tree: Any, make_user: Any) -> None:
    actor = make_user(Role.INVESTIGATOR, tree.city, "inv-race")
    person = people.person(tree.community_a, actor=actor)

    results, errors = race(*[lambda: tracing.reported_case(person, actor=actor)] * 2, timeout=30)

    assert len(results) == 1
    assert [getattr(e, "code", repr(e)) for e in errors] == ["case_exists"]
    assert Case.objects.filter(person=person).count() == 1
