"""The drill city: builds, is deterministic, idempotent, and its identities are valid."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from fangkong.areas.models import Jurisdiction, JurisdictionGeometry, Place
from fangkong.core.crypto import decrypt
from fangkong.core.errors import Conflict, DomainError
from fangkong.drill.city import TOWNS, drill_city_build, drill_city_delete
from fangkong.drill.models import DrillCity
from fangkong.people.models import Household, Person
from fangkong.people.rules import normalize_phone, validate_ric
from fangkong.scans.models import VenueScan

SMALL = {"population": 600, "days": 1, "seed": 7}


def city_fingerprint() -> tuple[str, int]:
    rows = Person.objects.order_by("id").values_list("name", "id_masked", "jurisdiction_path")
    digest = hashlib.sha256(repr(list(rows)).encode()).hexdigest()
    return digest, VenueScan.objects.count()


@pytest.fixture
def small_city(db: None) -> DrillCity:
    return drill_city_build(**SMALL).drill_city


def test_small_city_builds_every_level_and_kind(small_city: DrillCity) -> None:
    assert Person.objects.count() == 600
    assert small_city.counts["persons"] == 600
    assert VenueScan.objects.count() == small_city.counts["scans"] > 600 * 7
    towns = Jurisdiction.objects.filter(level="town")
    assert sorted(t.path[-3:] for t in towns) == sorted(t.suffix for t in TOWNS)
    assert Jurisdiction.objects.get(path="330483").name == "桐乡市"
    assert Jurisdiction.objects.get(path="330483102").name == "乌镇镇"
    assert Jurisdiction.objects.filter(level="grid").exists()
    for level in ("town", "community"):
        missing = Jurisdiction.objects.filter(level=level, geometry__isnull=True)
        assert not missing.exists(), f"{level} without geometry"
    geometry = JurisdictionGeometry.objects.get(jurisdiction__path="330483102")
    assert geometry.geojson["type"] in {"Polygon", "MultiPolygon"}
    assert 30.4 < geometry.centroid_lat < 30.9 and 120.2 < geometry.centroid_lon < 120.8
    kinds = set(Place.objects.values_list("kind", flat=True))
    assert {
        "venue",
        "workplace",
        "school",
        "sampling_point",
        "quarantine_site",
        "lab",
        "hospital",
        "checkpoint",
    } <= kinds
    assert Place.objects.filter(kind="lab").count() in {3, 4}
    codes = list(Place.objects.values_list("venue_code", flat=True))
    assert None not in codes and len(codes) == len(set(codes))
    wuzhen_hotels = Place.objects.filter(
        kind="workplace", name__contains="酒店", jurisdiction_path__startswith="330483102"
    )
    assert Person.objects.filter(workplace__in=wuzhen_hotels).exists()
    assert Person.objects.filter(workplace__kind="school").exists()
    assert Household.objects.count() == small_city.counts["households"]
    assert 2.2 < 600 / Household.objects.count() < 3.4


def test_every_venue_and_hospital_has_a_venue_kind(small_city: DrillCity) -> None:
    """The rule set classifies co-presence by venue kind: the drill city names one for
    every venue and hospital, from its name, and none for the other places."""
    assert not Place.objects.filter(kind__in=["venue", "hospital"], venue_kind="").exists()
    assert not Place.objects.exclude(kind__in=["venue", "hospital"]).exclude(venue_kind="").exists()
    assert set(Place.objects.filter(kind="hospital").values_list("venue_kind", flat=True)) == {
        "hospital_hall"
    }
    by_name = dict(Place.objects.filter(kind="venue").values_list("name", "venue_kind"))
    assert by_name["桐乡站"] == "station"
    assert by_name["乌镇东栅景区"] == "scenic_area"
    assert by_name["濮院羊毛衫市场"] == "market"
    assert by_name["桐乡吾悦广场"] == "mall"
    assert by_name["乌镇汽车客运站"] == "station"
    assert by_name["乌镇农贸市场"] == "market"
    kinds = set(by_name.values())
    assert {"restaurant", "supermarket", "shop", "office", "market", "station"} <= kinds
    assert "other" not in kinds


def test_identities_are_valid_unique_and_consistent(small_city: DrillCity) -> None:
    numbers, phones = set(), set()
    for person in Person.objects.all():
        number = decrypt(person.id_cipher, purpose="id_number")
        numbers.add(number)
        if person.id_kind == "ric":
            facts = validate_ric(number)
            assert facts.sex == person.sex
            assert facts.birth_date.year == person.birth_year
            assert person.id_tail == number[-4:]
            if person.birth_year >= 1993 and not number.startswith("330483"):
                assert not number.startswith("3304")  # only migrants come from elsewhere
        if person.phone_cipher is not None:
            phone = decrypt(person.phone_cipher, purpose="phone")
            assert normalize_phone(phone) == phone
            phones.add(phone)
    assert len(numbers) == 600
    assert len(phones) == Person.objects.exclude(phone_cipher=None).count()
    assert Person.objects.filter(sex="M").count() > 200
    assert Person.objects.filter(sex="F").count() > 200


def test_scans_reference_existing_persons_and_places(small_city: DrillCity) -> None:
    scans = VenueScan._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {scans} s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {Person._meta.db_table} p WHERE p.id = s.person_id) OR NOT EXISTS "
            f"(SELECT 1 FROM {Place._meta.db_table} pl WHERE pl.id = s.place_id "
            "AND pl.jurisdiction_path = s.jurisdiction_path)"
        )
        assert cursor.fetchone()[0] == 0
    assert set(VenueScan.objects.values_list("scan_day", flat=True)) == {small_city.start}
    first = VenueScan.objects.order_by("scanned_at").first()
    local = first.scanned_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert local.date() == small_city.start


def test_same_seed_same_city_and_other_seed_differs(small_city: DrillCity) -> None:
    first = city_fingerprint()
    drill_city_delete()
    assert Person.objects.count() == 0 and not Jurisdiction.objects.exists()
    drill_city_build(**SMALL)
    assert city_fingerprint() == first
    drill_city_build(**{**SMALL, "seed": 8}, force=True)
    assert city_fingerprint()[0] != first[0]


def test_rerun_with_same_parameters_adds_nothing(db: None) -> None:
    out = io.StringIO()
    args = ["drill", "city", "--population", "600", "--days", "1", "--seed", "7", "--quiet"]
    call_command(*args, stdout=out)
    before = (Person.objects.count(), VenueScan.objects.count(), Place.objects.count())
    out = io.StringIO()
    call_command(*args, stdout=out)
    assert "already built" in out.getvalue()
    assert (Person.objects.count(), VenueScan.objects.count(), Place.objects.count()) == before
    assert DrillCity.objects.count() == 1


def test_other_parameters_need_force_then_rebuild(small_city: DrillCity) -> None:
    with pytest.raises(CommandError, match="drill_city_exists"):
        call_command("drill", "city", "--population", "700", "--days", "1", "--quiet")
    assert Person.objects.count() == 600
    out = io.StringIO()
    call_command(
        "drill",
        "city",
        "--population",
        "700",
        "--days",
        "0",
        "--force",
        "--quiet",
        "--summary-json",
        stdout=out,
    )
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["built"] is True and summary["counts"]["persons"] == 700
    assert Person.objects.count() == 700 and VenueScan.objects.count() == 0
    record = DrillCity.objects.get()
    assert (record.population, record.days) == (700, 0)


def test_foreign_jurisdictions_refuse_without_force(tree: object) -> None:
    with pytest.raises(Conflict) as err:
        drill_city_build(**SMALL)
    assert err.value.code == "drill_city_exists"
    assert Person.objects.count() == 0


def test_force_refuses_when_users_point_at_the_city(small_city: DrillCity, make_user) -> None:
    make_user("town_staff", Jurisdiction.objects.get(path="330483102"))
    with pytest.raises(Conflict) as err:
        drill_city_build(**{**SMALL, "seed": 9}, force=True)
    assert err.value.code == "drill_city_referenced"
    assert Person.objects.count() == 600  # nothing deleted


@pytest.mark.parametrize(("population", "days"), [(10, 1), (600, -1), (600, 61)])
def test_bad_parameters_are_refused(db: None, population: int, days: int) -> None:
    with pytest.raises(DomainError):
        drill_city_build(population=population, days=days, seed=1)
    assert not Jurisdiction.objects.exists()
