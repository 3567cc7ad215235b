"""Synthetic identities for the drill city: names, ID numbers, phones, passports.

Everything here is deterministic for a `random.Random` and format-valid: ID numbers
carry correct checksums (people.rules.ric_checksum), birth dates and sex digits agree.
"""

from __future__ import annotations

import datetime as dt
import random
from itertools import accumulate

from fangkong.people.rules import ric_checksum

# Common surnames, weighted roughly by frequency in northern Zhejiang.
_SURNAMES = (
    "王14 李10 张10 陈12 沈8 徐8 朱7 周7 吴7 钱5 陆6 顾5 杨6 刘6 黄5 孙5 胡5 姚4 金4 "
    "蒋3 沈3 俞3 褚2 许4 何3 高3 林3 郑3 冯3 范3 叶3 施3 费2 马3 赵4 宋2 唐2 韩2 曹2 "
    "邱2 严3 潘3 屠2 濮1 章2 曾1 肖1 袁2 董2 邵2 汪2 方2 孔1 卢2 夏2 钟1 姜2 余2 杜1 "
    "程2 魏1 吕2 丁2 任1 戴2 贾1 谢2 邹1 孟1 秦1 江2 薛1 傅2 毛2 倪2"
)
SURNAMES: list[str] = []
SURNAME_WEIGHTS: list[int] = []
for _token in _SURNAMES.split():
    _name, _w = _token.rstrip("0123456789"), int(_token[len(_token.rstrip("0123456789")) :])
    if _w and _name not in SURNAMES:
        SURNAMES.append(_name)
        SURNAME_WEIGHTS.append(_w)
SURNAMES += ["欧阳", "司马", "诸葛", "上官"]
SURNAME_WEIGHTS += [1, 1, 1, 1]
SURNAME_CUM = list(accumulate(SURNAME_WEIGHTS))

GIVEN_MALE = list(
    "伟强军磊洋勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建国峰亮成志"
    "海文斌晨昊博睿哲轩宏伦家豪嘉毅振良栋彬德浩然子晓东荣"
)
GIVEN_FEMALE = list(
    "芳娜敏静丽艳娟霞秀玲燕红琴颖慧婷雪梅琳晶欣悦诗雨萱涵妍怡佳倩菲蕾莉萍瑶洁月"
    "晓莹露薇琪蓉凤兰美丹嘉彤楠思"
)
GIVEN_NEUTRAL = list("文明晓春秋云海永立新小志建一子")

FOREIGN_NAMES = [
    "KIM MINJUN",
    "LEE SEOYEON",
    "NGUYEN VAN AN",
    "TANAKA HIROSHI",
    "JOHN SMITH",
    "MARIA GARCIA",
    "ANNA MULLER",
    "PARK JIHOON",
]

# Region codes (first six digits of an ID number).
TONGXIANG = "330483"  # 桐乡市 since 1993
OLD_TONGXIANG = "330423"  # 桐乡县 before 1993
NEARBY = ["330402", "330411", "330481", "330421", "330424", "330482", "330521", "330522"]
OTHER_PROVINCES = [
    "341222",  # 安徽 太和
    "412726",  # 河南 郸城
    "522401",  # 贵州 毕节
    "513021",  # 四川 达县
    "362330",  # 江西 鄱阳
    "432524",  # 湖南 新化
    "450881",  # 广西 桂平
    "342422",  # 安徽 寿县
]

PHONE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "198",
    "199",
]


def person_name(rnd: random.Random, male: bool) -> str:
    surname = rnd.choices(SURNAMES, cum_weights=SURNAME_CUM)[0]
    pool = GIVEN_MALE if male else GIVEN_FEMALE
    if rnd.random() < 0.2:
        return surname + rnd.choice(pool)
    first = rnd.choice(GIVEN_NEUTRAL) if rnd.random() < 0.25 else rnd.choice(pool)
    return surname + first + rnd.choice(pool)


def region_for(rnd: random.Random, birth_year: int, migrant_region: str | None) -> str:
    if migrant_region:
        return migrant_region
    if birth_year >= 1993:
        return TONGXIANG
    return OLD_TONGXIANG if rnd.random() < 0.85 else rnd.choice(NEARBY)


class IdentityPool:
    """Hands out unique ID numbers, phones and passport numbers."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self._rics: set[str] = set()
        self._phones: set[str] = set()
        self._passports: set[str] = set()

    def ric(self, region: str, birth: dt.date, male: bool) -> str:
        date = birth.strftime("%Y%m%d")
        while True:
            seq = self.rnd.randrange(500) * 2 + (1 if male else 0)
            body = f"{region}{date}{seq:03d}"
            if body not in self._rics:
                self._rics.add(body)
                return body + ric_checksum(body)

    def phone(self) -> str:
        while True:
            number = self.rnd.choice(PHONE_PREFIXES) + f"{self.rnd.randrange(10**8):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    def passport(self) -> str:
        while True:
            letters = "".join(self.rnd.choice("EGKMPS") for _ in range(self.rnd.randint(1, 2)))
            number = letters + f"{self.rnd.randrange(10**7):07d}"
            if number not in self._passports:
                self._passports.add(number)
                return number


# Age pyramid (years) of a Zhejiang county-level city, in 5-year bands from 0.
AGE_BANDS = [
    4.2,
    4.8,
    4.9,
    4.4,
    4.9,
    7.2,
    8.6,
    8.0,
    7.9,
    8.7,
    8.4,
    7.2,
    6.4,
    5.6,
    3.8,
    2.4,
    1.6,
    1.0,
]
AGE_BAND_CUM = list(accumulate(AGE_BANDS))


def random_age(rnd: random.Random, low: int = 0, high: int = 89) -> int:
    while True:
        band = rnd.choices(range(len(AGE_BANDS)), cum_weights=AGE_BAND_CUM)[0]
        age = band * 5 + rnd.randrange(5)
        if low <= age <= high:
            return age


def birth_date_for(rnd: random.Random, age: int, on: dt.date) -> dt.date:
    """A birth date making the person `age` years old on `on`."""
    latest = dt.date(on.year - age, on.month, min(on.day, 28))
    return latest - dt.timedelta(days=rnd.randrange(365))


# Community name parts: villages (村) and urban communities (社区).
NAME_HEAD = list("东西南北新永庆丰虹兴民和平金银龙凤梅桃荷竹石湖河港塘溪安福华长乐胜利光明晓联")
NAME_TAIL = list("桥栅浜港塘湾泾庄溪圩兜埭漾荡家田园林村星丰安华新河湖阳明圣乐")
COMMUNITY_NAMES: dict[str, list[str]] = {
    # The first communities of a few towns are real names (the test tree uses 虹桥村, 永越村).
    "乌镇镇": ["虹桥村", "东栅社区", "西栅社区", "北栅社区", "南栅社区", "植材社区"],
    "濮院镇": ["永越村", "濮院社区", "新联村"],
    "梧桐街道": ["庆丰社区", "环城社区", "茅盾社区", "凤鸣社区"],
    "崇福镇": ["御驾桥社区", "南门社区", "崇德社区"],
}
ESTATES = [
    "锦绣华府",
    "金色家园",
    "阳光花苑",
    "凤凰城",
    "世纪新城",
    "梧桐雅苑",
    "运河人家",
    "紫荆花园",
    "香樟苑",
    "碧水湾",
]
