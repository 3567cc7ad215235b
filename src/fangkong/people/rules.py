"""Pure rules for personal identity: validation, derivation, masking, search keys.

No ORM here: values in, values out, tested exhaustively without a database.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

from fangkong.core.errors import DomainError

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
PASSPORT_RE = re.compile(r"^[A-Z0-9]{5,20}$")
NAME_MAX = 64


@dataclass(frozen=True)
class RicFacts:
    number: str  # normalised: 18 characters, upper-case X
    birth_date: dt.date
    sex: str  # "M" / "F"


def normalize_ric(value: str) -> str:
    return re.sub(r"\s", "", value or "").upper()


def validate_ric(value: str) -> RicFacts:
    """Validate a mainland resident ID number (居民身份证) and derive birth date and sex.

    Distinct codes: id_wrong_length, id_bad_characters, id_bad_birth_date, id_bad_checksum.
    """
    number = normalize_ric(value)
    if len(number) != 18:
        raise DomainError("id_wrong_length", "身份证号码应为18位", length=len(number))
    if not (number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        raise DomainError("id_bad_characters", "身份证号码含有非法字符")
    try:
        birth = ric.get_birth_date(number)
    except (InvalidComponent, ValueError) as exc:
        raise DomainError("id_bad_birth_date", "身份证号码中的出生日期不合法") from exc
    if number[17] != ric.calc_check_digit(number):
        raise DomainError("id_bad_checksum", "身份证号码校验位错误")
    # The region code is not checked against stdnum's table: codes change over the
    # years and a real person must never be refused because a table is incomplete.
    if birth > dt.date.today():  # noqa: DTZ011 - a calendar date, not an instant
        raise DomainError("id_bad_birth_date", "身份证号码中的出生日期晚于今天")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return RicFacts(number=number, birth_date=birth, sex=sex)


def ric_checksum(first17: str) -> str:
    """The 18th character for a 17-digit body (used by the drill to make valid numbers)."""
    return ric.calc_check_digit(first17 + "0")  # stdnum expects the full 18


def normalize_phone(value: str) -> str:
    digits = re.sub(r"[\s\-]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    if not MOBILE_RE.match(digits):
        raise DomainError("phone_invalid", "手机号码应为11位且以1开头")
    return digits


def normalize_passport(value: str) -> str:
    number = re.sub(r"\s", "", value or "").upper()
    if not PASSPORT_RE.match(number):
        raise DomainError("passport_invalid", "护照号码应为5到20位字母或数字")
    return number


def validate_name(value: str) -> str:
    name = (value or "").strip()
    if not name:
        raise DomainError("name_required", "姓名不能为空")
    if len(name) > NAME_MAX:
        raise DomainError("name_too_long", f"姓名不能超过{NAME_MAX}个字符", max=NAME_MAX)
    return name


def mask_name(name: str) -> str:
    """张三 → 张*; 张小三 → 张*三; 欧阳小明 → 欧**明."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id(number: str) -> str:
    """330483199001011234 → 330483********1234 (region shown, birth date hidden)."""
    if len(number) <= 4:
        return "*" * len(number)
    if len(number) == 18:
        return number[:6] + "*" * 8 + number[-4:]
    keep = max(1, len(number) // 4)
    return number[:keep] + "*" * (len(number) - 2 * keep) + number[-keep:]


def mask_phone(phone: str) -> str:
    """13812345678 → 138****5678."""
    if len(phone) != 11:
        return "*" * len(phone)
    return phone[:3] + "****" + phone[-4:]


def name_initials(name: str) -> str:
    """Pinyin initials for search: 张三 → zs; non-Han letters kept, lower-cased."""
    parts = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")
    return "".join(p[:1] for p in parts if p and p[:1].isalnum()).lower()
