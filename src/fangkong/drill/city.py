"""The drill city (演练城市): a synthetic Tongxiang-like city, deterministic for a seed.

`drill_city_build` lays jurisdictions with geometry, places, households, persons and
`days` of venue scans through the set-based bulk paths (areas.bulk, people.bulk,
scans.services.scans_bulk_insert). Every random choice comes from a `random.Random`
seeded by (seed, stage), and ids are allocated explicitly from the first free id, so
the same parameters on an empty database give the same rows with the same ids.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fangkong.areas.bulk import (
    areas_delete_under,
    geometry_bulk_create,
    jurisdiction_bulk_create,
    next_free_id,
    place_bulk_create,
    sequences_reset,
)
from fangkong.areas.choices import VenueKind
from fangkong.areas.models import Jurisdiction, JurisdictionGeometry, Place, PlaceKind
from fangkong.command.services.town_reports import command_town_reports_delete_under
from fangkong.core.errors import Conflict, DomainError
from fangkong.core.paths import path_upper_bound
from fangkong.drill import geometry as geo
from fangkong.drill import identities as ids
from fangkong.drill.models import DrillCity
from fangkong.drill.progress import Progress
from fangkong.people.bulk import (
    HouseholdImportRow,
    PersonImportRow,
    household_bulk_create,
    people_delete_under,
    person_bulk_import,
)
from fangkong.people.models import Household, Person
from fangkong.protocol.rules import Protocol
from fangkong.protocol.selectors import ruleset_for
from fangkong.quarantine.bulk import room_bulk_create, site_bulk_create
from fangkong.quarantine.choices import RoomKind
from fangkong.quarantine.models import Room, Site
from fangkong.quarantine.services import quarantine_delete_under
from fangkong.scans.models import VenueScan
from fangkong.scans.services import scan_indexes_suspended, scans_bulk_insert, scans_delete_under
from fangkong.testing.bulk import testing_delete_under
from fangkong.testing.models import SamplingPoint, SupplyStock
from fangkong.testing.services.points import points_create_for_places

ROOT_PATH = "330483"
ROOT_NAME = "桐乡市"
DEFAULT_START = dt.date(2022, 7, 4)
LOCAL = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


@dataclass(frozen=True)
class TownSpec:
    suffix: str
    name: str
    lat: float
    lon: float
    weight: float  # share of the population
    area: float  # relative size of its territory
    industry: str  # typical workplaces


TOWNS: list[TownSpec] = [
    TownSpec("001", "梧桐街道", 30.635, 120.565, 16, 0.62, "商贸"),
    TownSpec("002", "凤鸣街道", 30.605, 120.525, 9, 0.60, "商贸"),
    TownSpec("003", "龙翔街道", 30.668, 120.548, 5, 0.55, "电子"),
    TownSpec("004", "高桥街道", 30.592, 120.600, 5, 0.62, "物流"),
    TownSpec("101", "濮院镇", 30.675, 120.630, 13, 1.00, "羊毛衫"),
    TownSpec("102", "乌镇镇", 30.745, 120.490, 8, 1.10, "旅游"),
    TownSpec("103", "崇福镇", 30.530, 120.430, 12, 1.10, "皮草"),
    TownSpec("104", "洲泉镇", 30.575, 120.350, 9, 1.05, "化纤"),
    TownSpec("105", "大麻镇", 30.500, 120.375, 4, 0.90, "家具"),
    TownSpec("106", "河山镇", 30.690, 120.415, 5, 1.00, "机械"),
    TownSpec("107", "石门镇", 30.615, 120.450, 6, 1.00, "纺织"),
    TownSpec("108", "屠甸镇", 30.560, 120.650, 5, 0.90, "电器"),
]
WUZHEN = "102"
PERSONS_PER_COMMUNITY = 5000
MIN_COMMUNITIES_PER_TOWN = 4
PERSONS_PER_GRID = 600
PERSONS_PER_SAMPLING_POINT = 3000
PERSONS_PER_VENUE = 120
HOUSEHOLD_SIZES = [1, 2, 3, 4, 5, 6]
HOUSEHOLD_SIZE_CUM = list(accumulate([18, 28, 25, 17, 8, 4]))  # mean ≈ 2.8

VENUE_TYPES = [
    ("超市", 10),
    ("便利店", 12),
    ("农贸市场", 3),
    ("餐馆", 14),
    ("小吃店", 8),
    ("药店", 5),
    ("理发店", 5),
    ("银行网点", 3),
    ("快递驿站", 5),
    ("棋牌室", 3),
    ("菜场", 4),
    ("面馆", 6),
]
VENUE_TYPE_CUM = list(accumulate(w for _, w in VENUE_TYPES))
WORKPLACE_KINDS = {
    "default": [("有限公司", 6), ("商店", 3), ("酒店", 1), ("饭店", 2)],
    "旅游": [("酒店", 6), ("民宿", 3), ("景区服务有限公司", 2), ("商店", 3), ("饭店", 3)],
}
BRANDS = ["联华", "华润万家", "世纪联华", "老百姓", "天天", "好又多", "永辉", "三江"]
# The venue kind (VenueKind: what the rule set classifies co-presence by) of a venue, by
# how its name ends once its number ("3号") or branch ("(乌镇店)") is cut off.
VENUE_KIND_BY_SUFFIX: tuple[tuple[str, str], ...] = (
    ("汽车客运站", VenueKind.STATION),
    ("桐乡站", VenueKind.STATION),
    ("景区", VenueKind.SCENIC_AREA),
    ("古镇", VenueKind.SCENIC_AREA),
    ("羊毛衫市场", VenueKind.MARKET),
    ("皮草城", VenueKind.MARKET),
    ("农贸市场", VenueKind.MARKET),
    ("菜场", VenueKind.MARKET),
    ("吾悦广场", VenueKind.MALL),
    ("超市", VenueKind.SUPERMARKET),
    ("便利店", VenueKind.SHOP),
    ("餐馆", VenueKind.RESTAURANT),
    ("小吃店", VenueKind.RESTAURANT),
    ("面馆", VenueKind.RESTAURANT),
    ("饭店", VenueKind.RESTAURANT),
    ("棋牌室", VenueKind.CHESS_ROOM),
    ("药店", VenueKind.SHOP),
    ("理发店", VenueKind.SHOP),
    ("银行网点", VenueKind.OFFICE),
    ("快递驿站", VenueKind.OFFICE),
    ("居民委员会", VenueKind.OFFICE),
    ("村民委员会", VenueKind.OFFICE),
)
_VENUE_NAME_TAIL = re.compile(r"(\d+号|\([^()]*\))$")


def venue_kind_of(kind: str, name: str) -> str:
    """The venue kind of a drill place from its kind and name (no random draw): hospitals
    (and community health centres) are hospital halls; a venue by its name's ending
    (other venues: `other`); any other place none ("")."""
    if kind == PlaceKind.HOSPITAL:
        return VenueKind.HOSPITAL_HALL.value
    if kind != PlaceKind.VENUE:
        return ""
    base = _VENUE_NAME_TAIL.sub("", name)
    for suffix, venue_kind in VENUE_KIND_BY_SUFFIX:
        if base.endswith(suffix):
            return str(venue_kind)
    return VenueKind.OTHER.value


@dataclass
class Community:
    index: int
    id: int
    code: str
    name: str
    town: int
    population: int
    urban: bool
    cells: list[geo.Cell] = field(default_factory=list)
    grids: list[tuple[int, str]] = field(default_factory=list)  # (id, path)
    venues: list[tuple[int, str]] = field(default_factory=list)  # (place id, path)


@dataclass
class BuildResult:
    built: bool
    drill_city: DrillCity
    counts: dict[str, int]
    seconds: float
    timings: dict[str, float]


# --- the public entry point ----------------------------------------------------------


def drill_city_build(
    *,
    population: int,
    days: int,
    seed: int,
    start: dt.date | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> BuildResult:
    """Build the drill city, or report that this exact build is already there."""
    if population < 100 or population > 20_000_000:
        raise DomainError("drill_bad_population", _("人口须在 100 到 20,000,000 之间"))
    if days < 0 or days > 60:
        raise DomainError("drill_bad_days", _("扫码天数须在 0 到 60 之间"))
    start = start or DEFAULT_START
    progress = progress or Progress(enabled=False)
    existing = DrillCity.objects.filter(root_path=ROOT_PATH).first()
    same = existing is not None and (
        (existing.seed, existing.population, existing.days, existing.start)
        == (seed, population, days, start)
    )
    if existing is not None and same and not force:
        return BuildResult(False, existing, dict(existing.counts), 0.0, {})
    if (existing or _has_city_data()) and not force:
        raise Conflict(
            "drill_city_exists",
            _("数据库中已有不同参数的演练城市或辖区数据；加 --force 删除演练数据后重建"),
            existing=str(existing) if existing else "jurisdiction data",
        )
    started = time.perf_counter()
    if existing or _has_city_data():
        progress.stage("delete")
        drill_city_delete()
    builder = _CityBuilder(population=population, days=days, seed=seed, start=start)
    counts = builder.build(progress)
    progress.finish()
    seconds = time.perf_counter() - started
    record = DrillCity.objects.create(
        seed=seed,
        population=population,
        days=days,
        start=start,
        root_path=ROOT_PATH,
        counts=counts,
        seconds=round(seconds, 2),
    )
    timings = dict(progress.timings)
    timings.update(builder.timings)
    return BuildResult(True, record, counts, seconds, timings)


def drill_city_current() -> DrillCity | None:
    """The drill city built in this database, if any."""
    return DrillCity.objects.filter(root_path=ROOT_PATH).first()


def _has_city_data() -> bool:
    return (
        Jurisdiction.objects.filter(path__gte=ROOT_PATH, path__lt=path_upper_bound(ROOT_PATH))
        .only("pk")
        .exists()
    )


_DRILL_MODELS = (
    Jurisdiction,
    JurisdictionGeometry,
    Place,
    Household,
    Person,
    SamplingPoint,
    SupplyStock,
    Site,
    Room,
)


def _referencing_rows(low: str, high: str) -> list[str]:
    """Models outside the drill data whose rows point at the city's jurisdictions/places."""
    found: list[str] = []
    for target, key in ((Jurisdiction, "path"), (Place, "jurisdiction_path")):
        for rel in target._meta.related_objects:
            model = rel.related_model
            if model in _DRILL_MODELS or not rel.field.concrete:
                continue
            lookup = {
                f"{rel.field.name}__{key}__gte": low,
                f"{rel.field.name}__{key}__lt": high,
            }
            if model._default_manager.filter(**lookup).exists():
                found.append(model._meta.label)
    return sorted(set(found))


def drill_city_delete() -> None:
    """Delete everything under the drill city's root: quarantine sites and rooms,
    sampling points and supplies,
    scans, persons, households, places, geometry, jurisdictions (each by its app's
    `*_delete_under`, set-based DELETEs) and the build record, in one transaction.

    Rows of other domains that still point at them (e.g. demo users bound to a town)
    make it fail with `drill_city_referenced` and nothing is deleted.
    """
    low, high = ROOT_PATH, path_upper_bound(ROOT_PATH)
    referencing = _referencing_rows(low, high)
    if referencing:
        raise Conflict(
            "drill_city_referenced",
            _("其他数据（如演示用户）仍引用演练城市的辖区或场所，请先删除这些数据或使用新数据库"),
            referenced_by=referencing,
        )
    try:
        with transaction.atomic():
            # Each app deletes its own rows; dependents first (stocks and sampling
            # points hang on places, scans and persons on places and jurisdictions).
            command_town_reports_delete_under(ROOT_PATH)
            quarantine_delete_under(ROOT_PATH)
            testing_delete_under(ROOT_PATH)
            scans_delete_under(ROOT_PATH)
            people_delete_under(ROOT_PATH)
            areas_delete_under(ROOT_PATH)
            DrillCity.objects.filter(root_path=ROOT_PATH).delete()
    except IntegrityError as exc:
        raise Conflict(
            "drill_city_referenced",
            _("其他数据（如演示用户）仍引用演练城市的辖区或场所，请先删除这些数据或使用新数据库"),
            error=str(exc)[:200],
        ) from exc


# --- the builder ---------------------------------------------------------------------


class _CityBuilder:
    def __init__(self, *, population: int, days: int, seed: int, start: dt.date) -> None:
        self.population = population
        self.days = days
        self.seed = seed
        self.start = start
        self.timings: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def rnd(self, stage: str) -> random.Random:
        return random.Random(f"fangkong-drill:{self.seed}:{stage}")  # noqa: S311 - synthetic data, reproducible by design

    def build(self, progress: Progress) -> dict[str, int]:
        self.j_next = next_free_id(Jurisdiction)
        self.place_next = next_free_id(Place)
        self.household_next = next_free_id(Household)
        self.person_base = next_free_id(Person)
        progress.stage("jurisdictions")
        self._jurisdictions()
        progress.stage("places")
        self._places()
        progress.stage("sampling points")
        self._testing()
        progress.stage("quarantine sites")
        self._quarantine()
        progress.stage("persons", self.population)
        self._persons(progress)
        n_scans = self.population * self.days * 10
        progress.stage("scans", n_scans)
        self._scans(progress)
        sequences_reset(Jurisdiction, Place, Household, Person, VenueScan, Site, Room)
        return self.counts

    def _new_jid(self) -> int:
        self.j_next += 1
        return self.j_next - 1

    # jurisdictions and geometry ------------------------------------------------------

    def _jurisdictions(self) -> None:
        rnd = self.rnd("jurisdictions")
        total_w = sum(t.weight for t in TOWNS)
        town_pops = [int(self.population * t.weight / total_w) for t in TOWNS]
        town_pops[0] += self.population - sum(town_pops)
        self.town_pops = town_pops
        # At least a few communities a town, so that even a small drill city has a
        # sealed community with controlled neighbours and a precaution rest (day 0).
        n_communities = [
            max(MIN_COMMUNITIES_PER_TOWN, round(p / PERSONS_PER_COMMUNITY)) for p in town_pops
        ]
        grid = geo.city_cells(min_cells=sum(n_communities) * 6)
        self.grid = grid
        town_cells = geo.assign_nearest(
            grid.cells, grid, [(t.lat, t.lon) for t in TOWNS], [t.area for t in TOWNS]
        )
        rows: list[dict[str, Any]] = []
        geoms: list[dict[str, Any]] = []
        city_id = self._new_jid()
        rows.append(_jrow(city_id, "city", ROOT_PATH, ROOT_NAME, None, 0, self.population))
        lat, lon = geo.cells_centroid(grid.cells, grid)
        geoms.append(_grow(city_id, geo.outline_geojson(grid.cells, grid), lat, lon))
        self.city_id = city_id
        self.town_ids: list[int] = []
        self.town_paths: list[str] = []
        self.communities: list[Community] = []
        used_names: set[str] = set()
        for t_index, town in enumerate(TOWNS):
            tid = self._new_jid()
            tpath = ROOT_PATH + town.suffix
            self.town_ids.append(tid)
            self.town_paths.append(tpath)
            rows.append(_jrow(tid, "town", tpath, town.name, city_id, 1, town_pops[t_index]))
            cells = town_cells[t_index]
            lat, lon = geo.cells_centroid(cells, grid)
            geoms.append(_grow(tid, geo.outline_geojson(cells, grid), lat, lon))
            k = min(n_communities[t_index], len(cells))
            parts = geo.partition(cells, grid, k, rnd)
            # Communities nearest the town centre are its urban 社区; the rest are 村.
            parts.sort(
                key=lambda p: (
                    (
                        (geo.cells_centroid(p, grid)[0] - town.lat) ** 2
                        + (geo.cells_centroid(p, grid)[1] - town.lon) ** 2
                    )
                    if p
                    else 9.0
                )
            )
            weights = [rnd.uniform(0.6, 1.4) for _ in parts]
            pops = [int(town_pops[t_index] * w / sum(weights)) for w in weights]
            pops[0] += town_pops[t_index] - sum(pops)
            street = town.name.endswith("街道")
            n_urban = len(parts) if street else max(1, len(parts) // 5)
            fixed = list(ids.COMMUNITY_NAMES.get(town.name, []))
            for c_index, part in enumerate(parts):
                urban = c_index < n_urban
                name = _community_name(rnd, fixed, urban, used_names)
                cid = self._new_jid()
                code = f"{tpath}{c_index + 1:03d}"
                community = Community(
                    index=len(self.communities),
                    id=cid,
                    code=code,
                    name=name,
                    town=t_index,
                    population=pops[c_index],
                    urban=urban,
                    cells=part,
                )
                self.communities.append(community)
                rows.append(_jrow(cid, "community", code, name, tid, 2, pops[c_index]))
                if part:
                    lat, lon = geo.cells_centroid(part, grid)
                    geoms.append(_grow(cid, geo.outline_geojson(part, grid), lat, lon))
                n_grids = max(1, round(pops[c_index] / PERSONS_PER_GRID))
                for g in range(n_grids):
                    gid = self._new_jid()
                    gcode = f"{code}{g + 1:03d}"
                    gname = f"{name}第{g + 1}网格"
                    rows.append(_jrow(gid, "grid", gcode, gname, cid, 3, pops[c_index] // n_grids))
                    community.grids.append((gid, gcode))
        self.counts["jurisdictions"] = jurisdiction_bulk_create(rows=rows)
        self.counts["geometries"] = geometry_bulk_create(rows=geoms)

    # places ----------------------------------------------------------------------------

    def _place(
        self,
        rows: list[dict[str, Any]],
        rnd: random.Random,
        kind: str,
        name: str,
        community: Community,
        address: str = "",
    ) -> tuple[int, str]:
        pid = self.place_next
        self.place_next += 1
        cells = community.cells or self.grid.cells[:1]
        lat, lon = self.grid.random_point(rnd.choice(cells), rnd)
        town = TOWNS[community.town].name
        rows.append(
            {
                "id": pid,
                "kind": kind,
                "name": name,
                "venue_kind": venue_kind_of(kind, name),
                "venue_code": f"TX{pid:08d}",
                "jurisdiction_id": community.id,
                "jurisdiction_path": community.code,
                "address": address or f"浙江省桐乡市{town}{community.name}",
                "lat": lat,
                "lon": lon,
            }
        )
        return pid, community.code

    def _places(self) -> None:
        rnd = self.rnd("places")
        rows: list[dict[str, Any]] = []
        by_town: list[list[Community]] = [[] for _ in TOWNS]
        for c in self.communities:
            by_town[c.town].append(c)
        self.town_venues: list[list[tuple[int, str]]] = [[] for _ in TOWNS]
        self.workplaces: list[list[tuple[int, str]]] = [[] for _ in TOWNS]
        self.workplace_cum: list[list[float]] = [[] for _ in TOWNS]
        self.schools: list[dict[str, list[tuple[int, str]]]] = [{} for _ in TOWNS]
        self.places_by_kind: dict[str, int] = {}

        def add(kind: str, name: str, c: Community, address: str = "") -> tuple[int, str]:
            self.places_by_kind[kind] = self.places_by_kind.get(kind, 0) + 1
            return self._place(rows, rnd, kind, name, c, address)

        for t_index, town in enumerate(TOWNS):
            comms = by_town[t_index]
            centre = comms[0]
            short = town.name.removesuffix("街道").removesuffix("镇")
            tv = self.town_venues[t_index]
            # Town-level venues: bus station, health centre, big market, big supermarket.
            tv.append(add(PlaceKind.VENUE, f"{short}汽车客运站", centre))
            tv.append(add(PlaceKind.HOSPITAL, f"{town.name}社区卫生服务中心", centre))
            tv.append(add(PlaceKind.VENUE, f"{short}农贸市场", centre))
            tv.append(add(PlaceKind.VENUE, f"{rnd.choice(BRANDS)}超市({short}店)", centre))
            for c in comms:
                c.venues.append(
                    add(
                        PlaceKind.VENUE,
                        f"{c.name}{'居民委员会' if c.urban else '村民委员会'}",
                        c,
                    )
                )
                for n in range(max(2, c.population // PERSONS_PER_VENUE)):
                    vtype = rnd.choices(VENUE_TYPES, cum_weights=VENUE_TYPE_CUM)[0][0]
                    c.venues.append(add(PlaceKind.VENUE, f"{c.name}{vtype}{n + 1}号", c))
                tv.extend(c.venues[1:4])
            # Workplaces sized so that about 45% of residents work in their own town.
            kinds = WORKPLACE_KINDS["旅游" if town.industry == "旅游" else "default"]
            n_work = max(3, int(self.town_pops[t_index] * 0.45 / 30))
            cum: list[float] = []
            total = 0.0
            for n in range(n_work):
                kname = rnd.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
                c = rnd.choice(comms)
                label = f"{town.industry}" if kname == "有限公司" else ""
                if town.suffix == WUZHEN and n < 3:
                    kname = "酒店"  # the reference outbreak starts with hotel staff
                pname = f"桐乡市{short}{ids.NAME_HEAD[n % len(ids.NAME_HEAD)]}{label}{kname}"
                if kname in {"酒店", "民宿"}:
                    pname = f"{short}{rnd.choice(ids.NAME_HEAD)}{rnd.choice(ids.NAME_TAIL)}{kname}"
                pname += f"({n + 1})" if n >= len(ids.NAME_HEAD) else ""
                self.workplaces[t_index].append(add(PlaceKind.WORKPLACE, pname, c))
                total += rnd.paretovariate(1.6)
                cum.append(total)
            self.workplace_cum[t_index] = cum
            kids = self.town_pops[t_index] * 0.16
            for stage, label, per in (
                ("kindergarten", "幼儿园", 250),
                ("primary", "小学", 900),
                ("middle", "中学", 900),
            ):
                self.schools[t_index][stage] = [
                    add(
                        PlaceKind.SCHOOL,
                        f"桐乡市{short}{'第' + str(n + 1) if n else ''}{label}",
                        rnd.choice(comms),
                    )
                    for n in range(
                        max(
                            1,
                            int(
                                kids
                                * {"kindergarten": 0.2, "primary": 0.4, "middle": 0.2}[stage]
                                / per
                            ),
                        )
                    )
                ]
            n_points = max(1, round(self.town_pops[t_index] / PERSONS_PER_SAMPLING_POINT))
            for n in range(n_points):
                c = comms[n % len(comms)]
                add(PlaceKind.SAMPLING_POINT, f"{c.name}核酸采样点{n // len(comms) + 1}号", c)
        # City-level places.
        wutong = by_town[0][0]
        gaoqiao = by_town[3][0]
        wuzhen = by_town[5]
        self.city_venues = [
            add(PlaceKind.HOSPITAL, "桐乡市第一人民医院", wutong),
            add(PlaceKind.HOSPITAL, "桐乡市中医医院", by_town[1][0]),
            add(PlaceKind.VENUE, "桐乡站", gaoqiao),
            add(PlaceKind.VENUE, "乌镇东栅景区", wuzhen[0]),
            add(PlaceKind.VENUE, "乌镇西栅景区", wuzhen[-1]),
            add(PlaceKind.VENUE, "濮院时尚古镇", by_town[4][0]),
            add(PlaceKind.VENUE, "濮院羊毛衫市场", by_town[4][0]),
            add(PlaceKind.VENUE, "崇福皮草城", by_town[6][0]),
            add(PlaceKind.VENUE, "桐乡吾悦广场", by_town[1][0]),
        ]
        self.high_schools = [
            add(PlaceKind.SCHOOL, "桐乡市第一中学", wutong),
            add(PlaceKind.SCHOOL, "桐乡市高级中学", by_town[1][0]),
            add(PlaceKind.SCHOOL, "桐乡市茅盾中学", wuzhen[0]),
            add(PlaceKind.SCHOOL, "桐乡市崇福中学", by_town[6][0]),
        ]
        n_sites = min(10, 3 + self.population // 150_000)
        site_towns = [0, 3, 6, 2, 4, 7, 9, 10, 11, 8]
        for n in range(n_sites):
            c = rnd.choice(by_town[site_towns[n]])
            add(
                PlaceKind.QUARANTINE_SITE,
                f"{rnd.choice(ids.NAME_HEAD)}{rnd.choice(ids.NAME_TAIL)}宾馆(集中隔离点)",
                c,
            )
        labs = ["桐乡市疾病预防控制中心实验室", "桐乡市第一人民医院检验科", "桐乡市中医医院检验科"]
        if self.population >= 50_000:
            labs.append("桐乡第三方医学检验实验室")
        for n, name in enumerate(labs):
            add(PlaceKind.LAB, name, by_town[n % 2][0])
        for name, t_index in (
            ("沪杭高速桐乡出口卡口", 3),
            ("沪杭高速崇福出口卡口", 6),
            ("申嘉湖高速乌镇出口卡口", 5),
            ("申嘉湖高速濮院出口卡口", 4),
            ("320国道屠甸卡口", 11),
            ("07省道河山卡口", 9),
            ("洲泉湘溪卡口", 7),
            ("大麻海华卡口", 8),
            ("桐乡站出站口", 3),
        ):
            add(PlaceKind.CHECKPOINT, name, by_town[t_index][-1])
        # One supplies warehouse per town (appended last: the other places keep their ids).
        self.warehouses: list[tuple[int, str]] = [
            add(PlaceKind.WAREHOUSE, f"{town.name}防疫物资仓库", by_town[t_index][0])
            for t_index, town in enumerate(TOWNS)
        ]
        self.counts["places"] = place_bulk_create(rows=rows)

    # sampling points and supplies -----------------------------------------------------

    def _testing(self) -> None:
        """A SamplingPoint for every sampling_point place (one INSERT ... SELECT) and each
        town's warehouse stocked for one round of its population (one bulk insert)."""
        self.counts["sampling_points"] = points_create_for_places(
            path=ROOT_PATH, tables=2, samplers=4, opens_at=dt.time(7), closes_at=dt.time(21)
        )
        counted_at = dt.datetime.combine(self.start, dt.time(0), tzinfo=LOCAL)
        stocks = []
        for t_index, (place_id, path) in enumerate(self.warehouses):
            for kind, quantity in drill_warehouse_stock(self.town_pops[t_index]).items():
                stocks.append(
                    SupplyStock(
                        place_id=place_id,
                        jurisdiction_path=path,
                        kind=kind,
                        counted_quantity=quantity,
                        counted_at=counted_at,
                        low_threshold=quantity // 5,
                    )
                )
        self.counts["supply_stocks"] = len(SupplyStock.objects.bulk_create(stocks))

    # quarantine sites and rooms -------------------------------------------------------

    def _quarantine(self) -> None:
        """A quarantine Site for every quarantine_site place, with buildings, floors and
        rooms (mostly single, a few multi-person for households, accessible ones on the
        lower floors), sized so that the city's rooms meet the rule set's reserve and
        hold the reference outbreak's close contacts (`drill_quarantine_rooms`)."""
        rnd = self.rnd("quarantine")
        places = list(
            Place.objects.filter(
                jurisdiction_path__gte=ROOT_PATH,
                jurisdiction_path__lt=path_upper_bound(ROOT_PATH),
                kind=PlaceKind.QUARANTINE_SITE,
            )
            .order_by("pk")
            .values_list("pk", "name", "jurisdiction_path")
        )
        if not places:
            self.counts["quarantine_sites"] = self.counts["quarantine_rooms"] = 0
            return
        total = drill_quarantine_rooms(self.population, _rooms_per_10k(self.start))
        weights = [rnd.uniform(0.8, 1.2) for _ in places]
        shares = [int(total * w / sum(weights)) for w in weights]
        shares[0] += total - sum(shares)
        site_next, room_next = next_free_id(Site), next_free_id(Room)
        sites: list[dict[str, Any]] = []
        rooms: list[dict[str, Any]] = []
        for (place_id, name, path), share in zip(places, shares, strict=True):
            sites.append(
                {
                    "id": site_next,
                    "place_id": place_id,
                    "jurisdiction_path": path,
                    "name": name,
                    "doctor_name": ids.person_name(rnd, rnd.random() < 0.5),
                }
            )
            for building, floor, number, kind, beds, accessible in drill_site_layout(share):
                rooms.append(
                    {
                        "id": room_next,
                        "site_id": site_next,
                        "building": building,
                        "floor": floor,
                        "number": number,
                        "kind": kind,
                        "beds": beds,
                        "accessible": accessible,
                    }
                )
                room_next += 1
            site_next += 1
        self.counts["quarantine_sites"] = site_bulk_create(rows=sites)
        self.counts["quarantine_rooms"] = room_bulk_create(rows=rooms)

    # households and persons ------------------------------------------------------------

    def _persons(self, progress: Progress) -> None:
        rnd = self.rnd("persons")
        pool = ids.IdentityPool(self.rnd("identities"))
        self.p_comm: list[int] = []
        self.p_work: list[tuple[int, str] | None] = []
        households: list[HouseholdImportRow] = []
        persons: list[PersonImportRow] = []
        n_households = n_persons = 0

        def flush() -> None:
            nonlocal n_households, n_persons
            n_households += len(household_bulk_create(rows=households))
            n_persons += len(person_bulk_import(rows=persons, validate=False))
            progress.advance(len(persons))
            households.clear()
            persons.clear()

        all_towns = list(range(len(TOWNS)))
        town_cum = list(accumulate(self.town_pops))
        for c in self.communities:
            town = TOWNS[c.town]
            remaining = c.population
            number = 0
            while remaining > 0:
                size = min(
                    remaining, rnd.choices(HOUSEHOLD_SIZES, cum_weights=HOUSEHOLD_SIZE_CUM)[0]
                )
                remaining -= size
                number += 1
                gid, gpath = c.grids[rnd.randrange(len(c.grids))]
                hid = self.household_next
                self.household_next += 1
                households.append(
                    HouseholdImportRow(
                        id=hid,
                        address=_address(rnd, town.name, c, number),
                        community_id=c.id,
                        jurisdiction_path=gpath,
                    )
                )
                migrant_share = 0.25 if town.suffix == "101" else 0.08
                migrant = rnd.choice(ids.OTHER_PROVINCES) if rnd.random() < migrant_share else None
                foreign = rnd.random() < 0.002 and town.suffix in {WUZHEN, "101", "001"}
                head_male = rnd.random() < 0.5
                for member, age in enumerate(_household_ages(rnd, size, migrant is not None)):
                    if member < 2:
                        male = head_male if member == 0 else not head_male
                    else:
                        male = rnd.random() < 0.52
                    birth = ids.birth_date_for(rnd, age, self.start)
                    if foreign:
                        name = rnd.choice(ids.FOREIGN_NAMES)
                        id_kind, number_text = "passport", pool.passport()
                    else:
                        name = ids.person_name(rnd, male)
                        region = ids.region_for(rnd, birth.year, migrant)
                        id_kind, number_text = "ric", pool.ric(region, birth, male)
                    phone = pool.phone() if age >= 12 and rnd.random() < 0.97 else ""
                    work: tuple[int, str] | None = None
                    if 3 <= age <= 17:
                        work = self._school(rnd, c.town, age)
                    elif 18 <= age <= 60 and (migrant or rnd.random() < 0.8):
                        wt = (
                            c.town
                            if rnd.random() < 0.85
                            else rnd.choices(all_towns, cum_weights=town_cum)[0]
                        )
                        work = self.workplaces[wt][_pick(rnd, self.workplace_cum[wt])]
                    pid = self.person_base + len(self.p_comm)
                    self.p_comm.append(c.index)
                    self.p_work.append(work)
                    persons.append(
                        PersonImportRow(
                            id=pid,
                            name=name,
                            id_kind=id_kind,
                            id_number=number_text,
                            phone=phone,
                            birth_year=birth.year,
                            sex="M" if male else "F",
                            household_id=hid,
                            jurisdiction_id=gid,
                            jurisdiction_path=gpath,
                            workplace_id=work[0] if work else None,
                        )
                    )
                if len(persons) >= 20_000:
                    flush()
        flush()
        self.counts["households"] = n_households
        self.counts["persons"] = n_persons

    def _school(self, rnd: random.Random, town: int, age: int) -> tuple[int, str]:
        if age >= 15:
            return rnd.choice(self.high_schools)
        stage = "kindergarten" if age <= 5 else "primary" if age <= 11 else "middle"
        return rnd.choice(self.schools[town][stage])

    # venue scans -----------------------------------------------------------------------

    def _scan_rows(self, progress: Progress) -> Iterator[tuple[int, int, str, str, str]]:
        rnd = self.rnd("scans")
        r = rnd.random
        secs = [f"{s:02d}" for s in range(60)]
        town_of = [c.town for c in self.communities]
        home = [c.venues for c in self.communities]
        town_v = self.town_venues
        all_v = [v for c in self.communities for v in c.venues] + self.city_venues
        n_all = len(all_v)
        p_comm, p_work = self.p_comm, self.p_work
        base = self.person_base
        for d in range(self.days):
            day = self.start + dt.timedelta(days=d)
            midnight = dt.datetime.combine(day, dt.time(), tzinfo=LOCAL).astimezone(UTC)
            pref = [
                (midnight + dt.timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M:")
                for m in range(1440)
            ]
            day_s = day.isoformat()
            for i, ci in enumerate(p_comm):
                pid = base + i
                hv = home[ci]
                nh = len(hv)
                tv = town_v[town_of[ci]]
                nt = len(tv)
                k = 7 + int(r() * 7)
                w = p_work[i]
                if w is not None:
                    yield (pid, w[0], pref[420 + int(r() * 110)] + secs[int(r() * 60)], day_s, w[1])
                    yield (pid, w[0], pref[750 + int(r() * 60)] + secs[int(r() * 60)], day_s, w[1])
                    k -= 2
                for _n in range(k):
                    x = r()
                    if x < 0.6:
                        v = hv[int(r() * nh)]
                    elif x < 0.92:
                        v = tv[int(r() * nt)]
                    else:
                        v = all_v[int(r() * n_all)]
                    yield (pid, v[0], pref[390 + int(r() * 900)] + secs[int(r() * 60)], day_s, v[1])

    def _scans(self, progress: Progress) -> None:
        expected = self.population * self.days * 10
        suspend = expected >= 500_000
        n = 0
        insert_s = 0.0
        t0 = time.perf_counter()
        with scan_indexes_suspended(enabled=suspend):
            chunk: list[tuple[int, int, str, str, str]] = []
            for row in self._scan_rows(progress):
                chunk.append(row)
                if len(chunk) >= 200_000:
                    t = time.perf_counter()
                    n += scans_bulk_insert(chunk, preformatted=True)
                    insert_s += time.perf_counter() - t
                    progress.advance(len(chunk))
                    chunk = []
            t = time.perf_counter()
            n += scans_bulk_insert(chunk, preformatted=True)
            insert_s += time.perf_counter() - t
            progress.advance(len(chunk))
            if suspend:
                progress.stage("scan indexes")
        self.timings["scan_insert_s"] = round(insert_s, 3)
        self.timings["scans_total_s"] = round(time.perf_counter() - t0, 3)
        self.counts["scans"] = n


# --- small pure helpers --------------------------------------------------------------

# Rooms the reference outbreak's close contacts take at its peak (both cases' contacts at
# once, before the first are released), with spare; a small city needs fewer.
DRILL_OUTBREAK_ROOMS = 1600
OUTBREAK_ROOMS_PER_PERSON = 0.1
FLOORS_PER_BUILDING = 8
MAX_ROOMS_PER_FLOOR = 20


def drill_quarantine_rooms(population: int, rooms_per_10k: int) -> int:
    """The drill city's quarantine rooms: the rule set's reserve (rooms per 10,000
    residents) and at least what the reference outbreak needs (a share of a small city,
    `DRILL_OUTBREAK_ROOMS` in a large one)."""
    reserve = math.ceil(population * rooms_per_10k / 10_000)
    outbreak = min(DRILL_OUTBREAK_ROOMS, math.ceil(population * OUTBREAK_ROOMS_PER_PERSON))
    return max(reserve, outbreak)


def drill_site_layout(rooms: int) -> list[tuple[str, int, str, str, int, bool]]:
    """A site's rooms as (building, floor, number, kind, beds, accessible): floors of
    5–20 rooms, 8 floors a building ("1", "2" ...: 1号楼, 2号楼 on the pages); room 01
    of floors 1–2 accessible, the last room or two of each full floor multi-person (2–3
    beds, for a household), the rest single. Numbers as the services number them: floor
    and two digits (305)."""
    per_floor = min(MAX_ROOMS_PER_FLOOR, max(5, math.ceil(rooms / 6)))
    multi = max(1, per_floor // 8)
    out: list[tuple[str, int, str, str, int, bool]] = []
    left = rooms
    level = 0
    while left > 0:
        building = str(level // FLOORS_PER_BUILDING + 1)  # shown as 1号楼
        floor = level % FLOORS_PER_BUILDING + 1
        for i in range(1, min(per_floor, left) + 1):
            number = f"{floor}{i:02d}"
            if i == 1 and floor <= 2:
                out.append((building, floor, number, RoomKind.ACCESSIBLE, 1, True))
            elif i > per_floor - multi:
                beds = 3 if i == per_floor else 2
                out.append((building, floor, number, RoomKind.MULTI, beds, False))
            else:
                out.append((building, floor, number, RoomKind.SINGLE, 1, False))
        left -= per_floor
        level += 1
    return out


def _rooms_per_10k(on_date: dt.date) -> int:
    """The reserve of the rule set in force for the city on its first day."""
    try:
        ruleset = ruleset_for(on_date=on_date, path=ROOT_PATH)
    except DomainError:
        return Protocol.quarantine_rooms_per_10k
    return Protocol.from_ruleset(ruleset).quarantine_rooms_per_10k


def drill_warehouse_stock(population: int) -> dict[str, int]:
    """A town warehouse's first stock: one round of its population with the planner's
    spares (swabs +20 %; 20-in-1 tubes for everyone, 10-in-1 for 30 %, singles for 5 %)
    and protective equipment for its samplers (population ÷ 360) over a day of 4-hour
    shifts."""
    samplers = math.ceil(population / 360)
    shifts = samplers * 6
    return {
        "swab": math.ceil(population * 1.2),
        "tube_1": math.ceil(population * 0.05),
        "tube_10": math.ceil(population * 0.3 / 10),
        "tube_20": math.ceil(population * 1.2 / 20),
        "protective_suit": shifts,
        "n95_mask": shifts,
        "face_shield": shifts,
        "gloves": shifts * 8,
    }


def _pick(rnd: random.Random, cum: list[float]) -> int:
    from bisect import bisect_right

    return min(bisect_right(cum, rnd.random() * cum[-1]), len(cum) - 1)


def _jrow(
    jid: int, level: str, path: str, name: str, parent: int | None, depth: int, pop: int
) -> dict[str, Any]:
    return {
        "id": jid,
        "level": level,
        "code": path,
        "name": name,
        "parent_id": parent,
        "path": path,
        "depth": depth,
        "population": pop,
    }


def _grow(jid: int, geojson: dict, lat: float, lon: float) -> dict[str, Any]:
    return {"jurisdiction_id": jid, "geojson": geojson, "centroid_lat": lat, "centroid_lon": lon}


def _community_name(rnd: random.Random, fixed: list[str], urban: bool, used: set[str]) -> str:
    while fixed:
        name = fixed.pop(0)
        if name not in used and name.endswith("社区") == urban:
            used.add(name)
            return name
    for _attempt in range(1000):
        name = rnd.choice(ids.NAME_HEAD) + rnd.choice(ids.NAME_TAIL) + ("社区" if urban else "村")
        if name not in used:
            used.add(name)
            return name
    name = f"第{len(used) + 1}{'社区' if urban else '村'}"
    used.add(name)
    return name


def _address(rnd: random.Random, town: str, c: Community, number: int) -> str:
    if c.urban:
        estate = ids.ESTATES[(c.index + number // 400) % len(ids.ESTATES)]
        building = 1 + (number // 24) % 30
        unit = 1 + (number // 12) % 2
        room = (1 + (number % 12) // 2) * 100 + 1 + number % 2
        return f"{town}{c.name}{estate}{building}幢{unit}单元{room}室"
    return f"{town}{c.name}{1 + number // 40}组{1 + number % 40}号"


def _household_ages(rnd: random.Random, size: int, migrant: bool) -> list[int]:
    """Ages of a household: a head, a spouse, then children or (sometimes) grandparents;
    migrant households are young."""
    head = ids.random_age(rnd, 20, 50 if migrant else 89)
    ages = [head]
    if size >= 2:
        ages.append(max(18, min(92, head + rnd.randint(-4, 4))))
    for member in range(size - 2):
        if member >= 1 and head <= 50 and not migrant and rnd.random() < 0.5:
            ages.append(min(92, head + rnd.randint(24, 32)))  # a grandparent
        else:
            ages.append(max(0, head - rnd.randint(22, 36)))  # a child
    return ages
