"""The case page's contacts (issue 11): the section order, keyset pages with counts and
class filters, a contact's basis in words, companions of a stop becoming contacts, and a
contact reported as a case (prefilled, linked to its source case; wrong role and wrong
jurisdiction refused)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.testkit import areas, people, tracing
from fangkong.testkit.actors import actor_or_admin
from fangkong.testkit.clock import at
from fangkong.tracing.models import CaseLink, Contact, ContactStatus, ExposureKind
from fangkong.tracing.rules import contacts as rules
from fangkong.tracing.views import contacts as contact_views

pytestmark = pytest.mark.django_db

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- pure rules ----------------------------------------------------------------------------


def test_companion_names_split_and_drop_asides() -> None:
    assert rules.companion_names("李四（同事）、王五, 赵六；李四 无") == ["李四", "王五", "赵六"]
    assert rules.companion_names("无") == []
    assert rules.companion_names("") == []


def test_basis_in_words_names_places_in_local_time_without_ids() -> None:
    lines = rules.basis_lines(
        kind="co_presence",
        evidence={
            "stops": [
                {
                    "stop": 7,
                    "place": 136,
                    "first_scan": "2022-07-04T07:09:08+00:00",
                    "overlap_minutes": 16,
                }
            ],
            "tolerance_minutes": 15,
        },
        overlap_minutes=16,
        place_names={136: "乌镇菜场"},
        tz=SHANGHAI,
    )
    assert lines == ["乌镇菜场，07-04 15:09 扫码，重叠 16 分钟"]
    household = rules.basis_lines(
        kind="household", evidence={"household": 42}, overlap_minutes=0, place_names={}, tz=SHANGHAI
    )
    assert household == ["同住家庭成员"]
    assert "42" not in "".join(household)


def test_basis_without_overlap_says_no_minutes() -> None:
    """A stop or a secondary's places with no overlap (household, workplace, companion
    exposures) read without "重叠 0 分钟"."""
    lines = rules.basis_lines(
        kind="household",
        evidence={"household": 1, "stops": [{"place": 3, "first_scan": None}], "places": [3]},
        overlap_minutes=0,
        place_names={3: "乌镇菜场"},
        tz=SHANGHAI,
    )
    assert lines[0] == "同住家庭成员"
    assert all("重叠" not in line for line in lines)
    assert "乌镇菜场，— 扫码" in lines and "与密接同在 乌镇菜场" in lines


def test_scan_note_is_stored_as_data_and_shown_in_the_readers_words() -> None:
    from django.utils import translation

    from fangkong.tracing.rules import cases as case_rules

    stored = case_rules.scan_note(3)
    assert stored == "扫码 3 次"
    with translation.override("en"):
        assert case_rules.note_words(stored) == "3 scans"
        assert case_rules.note_words(case_rules.scan_note(1)) == "1 scan"
        assert case_rules.note_words("扫码 3 次，同行 2 人") == "扫码 3 次，同行 2 人"  # typed
    with translation.override("zh-hans"):
        assert case_rules.note_words(stored) == "扫码 3 次"


# --- the case page and its contacts section ---------------------------------------------------


@pytest.fixture
def crowded_case(tree: Any, settings: Any) -> Any:
    """A case with five contacts found by co-presence: three close, two co-presence."""
    venue = areas.place(tree.community_a, "venue", "乌镇面馆", venue_kind="restaurant")
    case = tracing.case(people.person(tree.community_a, "王芳"))
    tracing.stop(case, venue, at(4, 10), at(4, 12), confirmed=True)
    for i, minute in enumerate([0, 5, 10]):
        near = people.person(tree.community_a, f"甲{i}")
        tracing.scans(near, [(venue, at(4, 10, minute)), (venue, at(4, 11, minute))])
    for i in range(2):
        tracing.scan(people.person(tree.community_b, f"乙{i}"), venue, at(4, 12, 10))
    from fangkong.tracing.services.contacts import contacts_find_for_case

    contacts_find_for_case(actor=actor_or_admin(None), case=case)
    return case


def test_case_page_puts_push_chain_map_before_itinerary_and_contacts_last(
    investigator: Any, crowded_case: Any
) -> None:
    html = (
        client_for(investigator)
        .get(reverse("tracing:case_detail", args=[crowded_case.pk]))
        .content.decode()
    )
    order = [
        html.index('data-testid="case-section-case_pushes"'),
        html.index('data-testid="case-section-case_chain"'),
        html.index('id="case-itinerary"'),
        html.index('id="case-timeline"'),
        html.index('data-testid="case-section-case_contacts"'),
    ]
    assert order == sorted(order)
    assert "{#" not in html and "#}" not in html


def test_contacts_section_pages_counts_and_filters(
    investigator: Any, crowded_case: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(contact_views, "CASE_CONTACTS_PAGE", 2)
    client = client_for(investigator)
    url = reverse("tracing:case_contacts", args=[crowded_case.pk])
    first = client.get(url).content.decode()
    assert first.count('data-testid="contact-row"') == 2
    assert "共 5 人" in first
    assert "密切接触者 3" in first and "时空伴随者（风险人员） 2" in first
    cursor = first.split("?cursor=")[1].split('"')[0].split("&")[0]
    rows = client.get(f"{url}?cursor={cursor}", HTTP_HX_REQUEST="true").content.decode()
    assert rows.count('data-testid="contact-row"') == 2
    assert "<section" not in rows  # only the next rows, swapped in place
    assert 'data-testid="contacts-more"' in rows
    close = client.get(f"{url}?classification=co_presence").content.decode()
    assert close.count('data-testid="contact-row"') == 2
    table = close.split('data-testid="contact-table"')[1].split("</table>")[0]
    assert "badge-contact-close" not in table
    bad = client.get(f"{url}?classification=nope")
    assert bad.status_code == 400


def test_filter_links_open_the_case_page_filtered(investigator: Any, crowded_case: Any) -> None:
    """A filter link's plain href is the whole case page (a new tab gets a styled page),
    whose contacts section then loads filtered; htmx still swaps the section in place."""
    client = client_for(investigator)
    page = reverse("tracing:case_detail", args=[crowded_case.pk])
    section = reverse("tracing:case_contacts", args=[crowded_case.pk])
    html = client.get(section).content.decode()
    link = html.split('data-testid="contact-filter-close"')[0].rsplit("<a ", 1)[1]
    assert f'href="{page}?contacts=close#case-section-case_contacts"' in link
    assert f'hx-get="{section}?classification=close"' in link
    filtered = client.get(f"{page}?contacts=close").content.decode()
    assert f'hx-get="{section}?classification=close"' in filtered
    ignored = client.get(f"{page}?contacts=nope")
    assert ignored.status_code == 200
    assert f'hx-get="{section}"' in ignored.content.decode()


def test_basis_is_words_on_rows_and_detail(investigator: Any, crowded_case: Any) -> None:
    client = client_for(investigator)
    rows = client.get(reverse("tracing:case_contacts", args=[crowded_case.pk])).content.decode()
    assert "乌镇面馆，07-04 10:" in rows and "重叠" in rows
    contact = Contact.objects.filter(classification="close").first()
    detail = client.get(reverse("tracing:contact_detail", args=[contact.pk])).content.decode()
    basis = detail.split('data-testid="exposure-basis"')[1].split("</td>")[0]
    assert "乌镇面馆" in basis and "{" not in basis and "+00:00" not in basis
    api = client.get(f"/api/tracing/contacts/{contact.pk}").json()
    assert any("乌镇面馆" in line for e in api["exposures"] for line in e["basis"])


# --- companions ------------------------------------------------------------------------------


def test_companions_become_close_contacts_when_the_stop_is_confirmed(
    tree: Any, investigator: Any
) -> None:
    home = people.household(tree.community_a)
    venue = areas.place(tree.community_a, "venue", "濮院超市")
    case_person = people.person(tree.community_a, "陈一", household=home)
    sister = people.person(tree.community_a, "陈二", household=home)
    people.person(tree.community_b, "陈二")  # the same name elsewhere: the household wins
    case = tracing.case(case_person)
    tracing.stop(case, venue, at(4, 9), companions="陈二、无名氏（朋友）")
    assert not Contact.objects.filter(person=sister).exists()  # not before confirmation
    from fangkong.tracing.services.itinerary import itinerary_confirm

    itinerary_confirm(actor=investigator, case=case)
    contact = Contact.objects.get(person=sister)
    assert contact.classification == "close"
    exposure = contact.exposures.get()
    assert exposure.kind == ExposureKind.COMPANION and exposure.source_case == case
    page = client_for(investigator).get(reverse("tracing:case_detail", args=[case.pk]))
    html = page.content.decode()
    assert 'data-testid="companion-unmatched"' in html and "无名氏" in html
    assert 'data-testid="companions-unresolved"' in html
    detail = client_for(investigator).get(reverse("tracing:contact_detail", args=[contact.pk]))
    assert "同行：陈*，濮院超市" in detail.content.decode()  # masked like every name
    overlap = detail.content.decode().split('data-testid="exposure-overlap">')[1].split("<")[0]
    assert overlap == "—"  # a companion has no overlap minutes, not 0


# --- contact → case --------------------------------------------------------------------------


@pytest.fixture
def known_contact(tree: Any) -> Any:
    source = tracing.case(people.person(tree.community_a, "周源"))
    contact = tracing.contact(people.person(tree.community_b, "吴接"), case=source)
    return source, contact


def test_contact_to_case_prefills_and_links_to_the_source_case(
    investigator: Any, known_contact: Any
) -> None:
    source, contact = known_contact
    client = client_for(investigator)
    detail = client.get(reverse("tracing:contact_detail", args=[contact.pk])).content.decode()
    link = f"{reverse('tracing:case_create')}?contact={contact.pk}"
    assert link in detail
    form = client.get(link).content.decode()
    assert 'data-testid="case-from-contact"' in form and source.number in form
    assert f'name="person" value="{contact.person_id}" data-testid="case-person-fixed-id"' in form
    assert 'data-testid="case-person-results"' not in form  # shown, not chosen again
    # The person comes from the contact: no search box above it, a link to choose another.
    assert 'data-testid="case-person-search"' not in form
    change = form.split('data-testid="case-change-person"')[0].rsplit("<a ", 1)[1]
    assert f'href="{reverse("tracing:case_create")}"' in change
    plain = client.get(reverse("tracing:case_create")).content.decode()
    assert 'data-testid="case-person-search"' in plain
    assert 'data-testid="case-change-person"' not in plain
    answer = client.post(
        reverse("tracing:case_create"),
        {
            "person": contact.person_id,
            "kind": "asymptomatic",
            "origin": "local",
            "first_positive_sampled_on": "2022-07-05",
        },
    )
    assert answer.status_code == 302
    contact.refresh_from_db()
    assert contact.status == ContactStatus.BECAME_CASE
    link_row = CaseLink.objects.get(infector=source)
    assert link_row.infectee.person_id == contact.person_id
    assert source.number in link_row.evidence
    # The automatic basis is built from the exposures when shown, in the reader's language.
    chain_url = reverse("tracing:case_chain", args=[link_row.infectee_id])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(chain_url).content.decode()
    evidence = english.split('data-testid="link-evidence">')[1].split("</div>")[0]
    assert "Automatic evidence:" in evidence and source.number in evidence
    assert "自动依据" not in evidence
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    chinese = client.get(chain_url).content.decode()
    assert "的密切接触者" in chinese.split('data-testid="link-evidence">')[1]


def test_contact_to_case_wrong_role_and_wrong_jurisdiction(
    tree: Any, make_user: Any, known_contact: Any
) -> None:
    _source, contact = known_contact
    url = f"{reverse('tracing:case_create')}?contact={contact.pk}"
    town_b = make_user(Role.TOWN_STAFF, tree.town_b)  # sees the contact, may not report cases
    assert client_for(town_b).get(url).status_code == 403
    detail = client_for(town_b).get(reverse("tracing:contact_detail", args=[contact.pk]))
    assert (
        detail.status_code == 200 and 'data-testid="contact-to-case"' not in detail.content.decode()
    )
    town_a_investigator = make_user(Role.INVESTIGATOR, tree.town_a)  # the contact lives in b
    assert client_for(town_a_investigator).get(url).status_code == 404
    assert (
        client_for(town_a_investigator)
        .get(f"{reverse('tracing:case_create')}?contact=x")
        .status_code
        == 400
    )


def test_contacts_section_costs_the_same_queries_for_3_or_9_contacts(
    tree: Any, investigator: Any, settings: Any
) -> None:
    """Rows, persons, exposures and the place names of their basis: a fixed number of
    queries whatever the page holds."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangkong.tracing.services.contacts import contacts_find_for_case

    client = client_for(investigator)

    def fragment_queries(n: int, name: str) -> int:
        venue = areas.place(tree.community_a, "venue", f"{name}面馆", venue_kind="restaurant")
        case = tracing.case(people.person(tree.community_a, name))
        tracing.stop(case, venue, at(4, 10), at(4, 12), confirmed=True)
        for i in range(n):
            tracing.scan(people.person(tree.community_a, f"{name}{i}"), venue, at(4, 10, i))
        contacts_find_for_case(actor=actor_or_admin(None), case=case)
        url = reverse("tracing:case_contacts", args=[case.pk])
        client.get(url)  # the session and the user's caches
        with CaptureQueriesContext(connection) as captured:
            body = client.get(url).content.decode()
        assert body.count('data-testid="contact-row"') == n
        return len(captured.captured_queries)

    assert fragment_queries(3, "孙") == fragment_queries(9, "钱")


def test_a_contact_turned_case_is_linked_to_the_case_it_was_closest_to(tree: Any) -> None:
    close_to = tracing.case(people.person(tree.community_a, "郑近"))
    passed_by = tracing.case(people.person(tree.community_a, "冯远"))
    person = people.person(tree.community_b, "陈转")
    tracing.contact(person, case=close_to, classification="close")
    tracing.contact(person, case=passed_by, classification="co_presence")
    new_case = tracing.case(person)
    infectors = set(CaseLink.objects.filter(infectee=new_case).values_list("infector", flat=True))
    assert infectors == {close_to.pk}
