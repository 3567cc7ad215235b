"""Case pages: list (scoped, filters, overdue badge, keyset), create, case page, actions."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.models import AuditEvent
from fangkong.core.crypto import decrypt
from fangkong.testkit import people, tracing
from fangkong.testkit.clock import on
from fangkong.tracing.models import Case, CaseStatus, ItineraryStop

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_list_is_scoped_and_masked(
    investigator: Any, town_a_user: Any, person_a: Any, person_b: Any
) -> None:
    case_a = tracing.reported_case(person_a, actor=investigator)
    case_b = tracing.reported_case(person_b, actor=investigator)

    page = as_user(town_a_user).get(reverse("tracing:case_list")).content.decode()

    assert case_a.number in page and case_b.number not in page
    assert "张*" in page and "张三" not in page
    everything = as_user(investigator).get(reverse("tracing:case_list")).content.decode()
    assert case_a.number in everything and case_b.number in everything


def test_list_refuses_roles_without_case_view(lab_user: Any) -> None:
    assert as_user(lab_user).get(reverse("tracing:case_list")).status_code == 403


def test_overdue_filter_and_badge(investigator: Any, person_a: Any, person_b: Any) -> None:
    late = tracing.reported_case(
        person_a, actor=investigator, reported_at=timezone.now() - dt.timedelta(hours=5)
    )
    fresh = tracing.reported_case(person_b, actor=investigator)
    client = as_user(investigator)

    overdue = client.get(reverse("tracing:case_list"), {"overdue": "1"}, **HX).content.decode()

    assert late.number in overdue and fresh.number not in overdue
    assert 'data-testid="overdue-badge"' in overdue
    assert "badge-sealed" in overdue
    fresh_page = client.get(reverse("tracing:case_list"), {"overdue": "0"}).content.decode()
    assert fresh.number in fresh_page and "剩余" in fresh_page


def test_list_filters_and_next_page(investigator: Any, tree: Any) -> None:
    cases = [
        tracing.reported_case(
            people.person(tree.community_a, actor=investigator), actor=investigator
        )
        for _ in range(3)
    ]
    tracing.reported_case(people.person(tree.community_b, actor=investigator), actor=investigator)
    client = as_user(investigator)

    first = client.get(reverse("tracing:case_list"), {"town": tree.town_a.pk}, **HX)
    body = first.content.decode()
    assert all(c.number in body for c in cases)
    assert first.context["page"].next_cursor is None
    bad = client.get(reverse("tracing:case_list"), {"since": "not-a-date"})
    assert bad.status_code == 400
    assert (
        client.get(reverse("tracing:case_list"), {"status": "investigating"}).context["rows"] == []
    )


def test_list_filters_by_kind_and_source(investigator: Any, tree: Any) -> None:
    """The dashboard's links: cases by kind (confirmed / asymptomatic) and by source
    (known / unknown); a filter the list does not know is a 400, not a 500."""
    confirmed = tracing.reported_case(
        people.person(tree.community_a, actor=investigator), actor=investigator, kind="confirmed"
    )
    from fangkong.tracing.services.chains import case_set_source_unknown

    unknown = tracing.reported_case(
        people.person(tree.community_a, actor=investigator), actor=investigator
    )
    case_set_source_unknown(actor=investigator, case=unknown, unknown=True)
    client = as_user(investigator)

    def numbers(**query: str) -> set[str]:
        return {
            c.number for c in client.get(reverse("tracing:case_list"), query).context["page"].items
        }

    assert numbers(kind="confirmed") == {confirmed.number}
    assert numbers(kind="asymptomatic") == {unknown.number}
    assert numbers(source="unknown") == {unknown.number}
    assert numbers(source="known") == {confirmed.number}
    assert client.get(reverse("tracing:case_list"), {"kind": "nonsense"}).status_code == 400
    assert client.get(reverse("tracing:case_list"), {"source": "maybe"}).status_code == 400


def test_list_keyset_link(investigator: Any, tree: Any, settings: Any, monkeypatch: Any) -> None:
    from fangkong.tracing.selectors import cases as selectors

    original = selectors.cases
    monkeypatch.setattr(
        "fangkong.tracing.views.cases.selectors.cases",
        lambda **kw: original(**{**kw, "size": 2}),
    )
    made = [
        tracing.reported_case(
            people.person(tree.community_a, actor=investigator), actor=investigator
        )
        for _ in range(3)
    ]
    client = as_user(investigator)
    first = client.get(reverse("tracing:case_list"))
    assert 'data-testid="next-page"' in first.content.decode()
    cursor = first.context["page"].next_cursor
    second = client.get(reverse("tracing:case_list"), {"cursor": cursor}, **HX)
    assert [r["case"].pk for r in second.context["rows"]] == [made[0].pk]


def test_case_person_search_takes_a_full_id_number_only_by_post(
    investigator: Any, person_a: Any
) -> None:
    """A full ID number is people's audited lookup: refused in a URL, run by POST."""
    number = decrypt(person_a.id_cipher, purpose="id_number")
    client = as_user(investigator)
    url = reverse("tracing:case_person_search")

    by_get = client.get(url, {"q": number}, **HX)
    by_post = client.post(url, {"q": number}, **HX)

    assert by_get.status_code == 400 and 'name="person"' not in by_get.content.decode()
    assert f'value="{person_a.pk}"' in by_post.content.decode()
    event = AuditEvent.objects.get(action="person.lookup")
    assert (event.actor, event.detail["outcome"]) == (investigator, "hit")
    assert number not in str(event.detail)
    page = client.get(reverse("tracing:case_create")).content.decode()
    assert 'hx-post="' + url + '"' in page and 'hx-get="' + url + '"' not in page


def _search_form_action(page: str) -> str:
    """The action of the person search form on the case-create page."""
    match = re.search(r'<form[^>]*action="([^"]+)"[^>]*data-testid="case-person-search-form"', page)
    assert match, "no person search form on the page"
    return match.group(1)


def test_search_form_without_htmx_answers_a_whole_page_with_the_results(
    investigator: Any, person_a: Any
) -> None:
    """Without JavaScript the search form posts to a page, not to the bare fragment."""
    client = as_user(investigator)
    action = _search_form_action(client.get(reverse("tracing:case_create")).content.decode())
    assert action == reverse("tracing:case_create")

    response = client.post(action, {"step": "search", "q": "张"})
    page = response.content.decode()

    assert response.status_code == 200
    assert page.lstrip().startswith("<!doctype html>") and 'data-testid="main-nav"' in page
    assert 'data-testid="case-person-results"' in page
    assert f'name="person" value="{person_a.pk}"' in page
    assert 'data-testid="case-form"' in page
    assert Case.objects.count() == 0


def test_search_page_without_htmx_runs_a_full_id_number_as_the_audited_lookup(
    investigator: Any, person_a: Any
) -> None:
    number = decrypt(person_a.id_cipher, purpose="id_number")

    response = as_user(investigator).post(
        reverse("tracing:case_create"), {"step": "search", "q": number}
    )

    page = response.content.decode()
    assert response.status_code == 200 and 'data-testid="main-nav"' in page
    assert f'name="person" value="{person_a.pk}"' in page
    event = AuditEvent.objects.get(action="person.lookup")
    assert (event.actor, event.detail["outcome"]) == (investigator, "hit")
    assert number not in str(event.detail)


def test_search_page_without_htmx_keeps_the_lookup_budget(
    investigator: Any, person_a: Any, settings: Any
) -> None:
    """The page path spends the same per-role budget: over it, a 429 page, no result."""
    settings.FANGKONG_LOOKUP_BUDGETS = {"investigator": 1}
    number = decrypt(person_a.id_cipher, purpose="id_number")
    client = as_user(investigator)
    url = reverse("tracing:case_create")

    first = client.post(url, {"step": "search", "q": number})
    second = client.post(url, {"step": "search", "q": number})

    assert first.status_code == 200
    page = second.content.decode()
    assert second.status_code == 429 and 'data-testid="main-nav"' in page
    assert 'data-testid="case-person-error"' in page and 'name="person"' not in page
    assert Case.objects.count() == 0


def test_search_page_without_htmx_needs_case_manage(town_a_user: Any, person_a: Any) -> None:
    number = decrypt(person_a.id_cipher, purpose="id_number")

    response = as_user(town_a_user).post(
        reverse("tracing:case_create"), {"step": "search", "q": number}
    )

    assert response.status_code == 403
    assert 'name="person"' not in response.content.decode()
    assert not AuditEvent.objects.filter(action="person.lookup").exists()


def test_create_page_finds_the_person_and_reports(investigator: Any, person_a: Any) -> None:
    client = as_user(investigator)
    search = client.get(reverse("tracing:case_person_search"), {"q": "张"}, **HX)
    assert 'name="person"' in search.content.decode()
    assert f'value="{person_a.pk}"' in search.content.decode()

    sampled = timezone.localdate() - dt.timedelta(days=1)
    response = client.post(
        reverse("tracing:case_create"),
        {
            "person": person_a.pk,
            "kind": "asymptomatic",
            "first_positive_sampled_on": sampled.isoformat(),
            "origin": "local",
            "reporting_unit": "桐乡市疾控中心",
        },
    )

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tracing:case_detail", args=[case.pk])
    assert case.lookback_start == sampled - dt.timedelta(days=4)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"person": ""}, "person_required"),
        ({"first_positive_sampled_on": "2999-01-01"}, "date_in_future"),
        ({"first_positive_sampled_on": "xx"}, "date_invalid"),
        ({"kind": "mild"}, "case_kind_invalid"),
    ],
)
def test_create_page_shows_errors_and_writes_nothing(
    investigator: Any, person_a: Any, change: dict, code: str
) -> None:
    form = {
        "person": person_a.pk,
        "kind": "confirmed",
        "first_positive_sampled_on": timezone.localdate().isoformat(),
        "origin": "local",
        **change,
    }
    response = as_user(investigator).post(reverse("tracing:case_create"), form)
    assert response.status_code == 400
    assert f'data-code="{code}"' in response.content.decode()
    assert Case.objects.count() == 0


def test_create_page_needs_case_manage(town_a_user: Any, person_a: Any) -> None:
    client = as_user(town_a_user)
    assert client.get(reverse("tracing:case_create")).status_code == 403
    response = client.post(
        reverse("tracing:case_create"),
        {"person": person_a.pk, "kind": "confirmed", "first_positive_sampled_on": "2022-07-01"},
    )
    assert response.status_code == 403
    assert Case.objects.count() == 0


def test_case_page_scoped(
    investigator: Any, town_a_user: Any, town_b_user: Any, lab_user: Any, person_a: Any
) -> None:
    case = tracing.reported_case(person_a, actor=investigator)
    url = reverse("tracing:case_detail", args=[case.pk])

    own = as_user(town_a_user).get(url)
    assert own.status_code == 200
    assert case.number in own.content.decode()
    assert 'data-testid="case-actions"' not in own.content.decode()  # no case.manage
    assert as_user(town_b_user).get(url).status_code == 404
    assert as_user(lab_user).get(url).status_code == 403
    assert (
        as_user(town_b_user)
        .post(reverse("tracing:case_start_investigation", args=[case.pk]))
        .status_code
        == 404
    )


def test_case_page_shows_header_person_link_and_timeline(investigator: Any, person_a: Any) -> None:
    case = tracing.reported_case(person_a, actor=investigator)
    page = (
        as_user(investigator).get(reverse("tracing:case_detail", args=[case.pk])).content.decode()
    )
    assert reverse("people:detail", args=[person_a.pk]) in page
    assert "张*" in page and "张三" not in page
    assert case.lookback_start.isoformat() in page
    assert 'data-testid="case-timeline"' in page
    assert 'data-testid="itinerary-propose"' in page


def test_case_page_loads_the_sections_that_are_wired(
    investigator: Any, person_a: Any, monkeypatch: Any
) -> None:
    from fangkong.tracing.views import cases as views

    case = tracing.reported_case(person_a, actor=investigator)
    monkeypatch.setattr(
        views,
        "CASE_SECTIONS",
        (("tracing:case_timeline", "时间线"), ("tracing:no_such_section", "缺")),
    )
    page = (
        as_user(investigator).get(reverse("tracing:case_detail", args=[case.pk])).content.decode()
    )
    assert (
        f'hx-get="{reverse("tracing:case_timeline", args=[case.pk])}" hx-swap="innerHTML"' in page
    )
    assert 'hx-trigger="load"' in page
    assert "no_such_section" not in page


def test_itinerary_flow_through_the_page(investigator: Any, person_a: Any, places: Any) -> None:
    case = tracing.reported_case(person_a, actor=investigator)
    day = case.lookback_start + dt.timedelta(days=1)
    tracing.scans(person_a, [(places["hotel"], on(day, 8)), (places["market"], on(day, 12))])
    client = as_user(investigator)

    proposed = client.post(reverse("tracing:case_propose_itinerary", args=[case.pk]), **HX)
    assert proposed.status_code == 200
    assert proposed.content.decode().count('data-testid="itinerary-stop"') == 2
    assert proposed["HX-Trigger"] == "case-itinerary-changed"

    added = client.post(
        reverse("tracing:case_stop_add", args=[case.pk]),
        {
            "venue_code": "V0003",
            "start": f"{day}T15:00",
            "end": f"{day}T16:00",
            "companions": "同事",
        },
        **HX,
    )
    assert added.content.decode().count('data-testid="itinerary-stop"') == 3
    outside = client.post(
        reverse("tracing:case_stop_add", args=[case.pk]),
        {"address": "家中", "start": "2000-01-01T09:00", "end": "2000-01-01T10:00"},
        **HX,
    )
    assert outside.status_code == 400
    assert 'data-code="stop_outside_window"' in outside.content.decode()
    unknown = client.post(
        reverse("tracing:case_stop_add", args=[case.pk]),
        {"venue_code": "NOPE", "start": f"{day}T15:00", "end": f"{day}T16:00"},
        **HX,
    )
    assert 'data-code="unknown_place"' in unknown.content.decode()
    assert ItineraryStop.objects.count() == 3

    confirmed = client.post(reverse("tracing:case_confirm_itinerary", args=[case.pk]), **HX)
    assert 'data-testid="itinerary-confirmed"' in confirmed.content.decode()

    stop = ItineraryStop.objects.filter(place=places["shop"]).get()
    client.post(reverse("tracing:case_stop_delete", args=[case.pk, stop.pk]), **HX)
    assert ItineraryStop.objects.count() == 2


def test_lifecycle_buttons(investigator: Any, person_a: Any) -> None:
    case = tracing.reported_case(person_a, actor=investigator)
    client = as_user(investigator)

    started = client.post(reverse("tracing:case_start_investigation", args=[case.pk]))
    assert started.status_code == 302
    refused = client.post(reverse("tracing:case_complete_report", args=[case.pk]), follow=True)
    assert "活动轨迹尚未确认" in refused.content.decode()
    client.post(reverse("tracing:case_core_facts", args=[case.pk]), {"symptoms": "发热"})
    case.refresh_from_db()
    assert case.status == CaseStatus.INVESTIGATING and case.core_facts_done_at is not None
    closing = client.post(
        reverse("tracing:case_close", args=[case.pk]), {"reason": "x"}, follow=True
    )
    assert "病例当前状态不允许此操作" in closing.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.INVESTIGATING


def test_list_query_count(investigator: Any, tree: Any, django_assert_max_num_queries: Any) -> None:
    for _ in range(20):
        tracing.reported_case(
            people.person(tree.community_a, actor=investigator), actor=investigator
        )
    client = as_user(investigator)
    client.get(reverse("tracing:case_list"))  # warm the session
    with django_assert_max_num_queries(8):
        response = client.get(reverse("tracing:case_list"))
    assert len(response.context["rows"]) == 20
