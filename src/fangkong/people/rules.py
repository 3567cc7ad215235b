"""Pure rules for personal identity: validation, derivation, masking, search keys.

No ORM here: values in, values out, tested exhaustively without a database.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

from fangkong.core.errors import DomainError

MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")  # ASCII only: \d would match any script's digits
RIC_RE = re.compile(r"^[0-9]{17}[0-9X]$")
PASSPORT_RE = re.compile(r"^[A-Z0-9]{5,20}$")
NAME_MAX = 64


@dataclass(frozen=True)
class RicFacts:
    number: str  # normalised: 18 characters, upper-case X
    birth_date: dt.date
    sex: str  # "M" / "F"


def _ascii_form(value: str) -> str:
    """Full-width digits and letters (typed with a Chinese IME) become ASCII (NFKC)."""
    return unicodedata.normalize("NFKC", value or "")


def normalize_ric(value: str) -> str:
    return re.sub(r"\s", "", _ascii_form(value)).upper()


def validate_ric(value: str) -> RicFacts:
    """Validate a mainland resident ID number (居民身份证) and derive birth date and sex.

    Distinct codes: id_wrong_length, id_bad_characters, id_bad_birth_date, id_bad_checksum.
    """
    number = normalize_ric(value)
    if len(number) != 18:
        raise DomainError("id_wrong_length", _("身份证号码应为18位"), length=len(number))
    if not RIC_RE.match(number):
        raise DomainError("id_bad_characters", _("身份证号码含有非法字符"))
    try:
        birth = ric.get_birth_date(number)
    except (InvalidComponent, ValueError) as exc:
        raise DomainError("id_bad_birth_date", _("身份证号码中的出生日期不合法")) from exc
    if number[17] != ric.calc_check_digit(number):
        raise DomainError("id_bad_checksum", _("身份证号码校验位错误"))
    # The region code is not checked against stdnum's table: codes change over the
    # years and a real person must never be refused because a table is incomplete.
    if birth > dt.date.today():  # noqa: DTZ011 - a calendar date, not an instant
        raise DomainError("id_bad_birth_date", _("身份证号码中的出生日期晚于今天"))
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return RicFacts(number=number, birth_date=birth, sex=sex)


def ric_checksum(first17: str) -> str:
    """The 18th character for a 17-digit body (used by the drill to make valid numbers)."""
    return ric.calc_check_digit(first17 + "0")  # stdnum expects the full 18


def normalize_phone(value: str) -> str:
    digits = re.sub(r"[\s\-]", "", _ascii_form(value))
    if digits.startswith("+86"):
        digits = digits[3:]
    if not MOBILE_RE.match(digits):
        raise DomainError("phone_invalid", _("手机号码应为11位且以1开头"))
    return digits


def normalize_passport(value: str) -> str:
    number = re.sub(r"\s", "", _ascii_form(value)).upper()
    if not PASSPORT_RE.match(number):
        raise DomainError("passport_invalid", _("护照号码应为5到20位字母或数字"))
    return number


def validate_name(value: str) -> str:
    name = (value or "").strip()
    if not name:
        raise DomainError("name_required", _("姓名不能为空"))
    if len(name) > NAME_MAX:
        raise DomainError(
            "name_too_long", _("姓名不能超过%(max)d个字符") % {"max": NAME_MAX}, max=NAME_MAX
        )
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


# --- Identity documents of every kind ------------------------------------------------

ID_KINDS = ("ric", "passport", "other", "none")
OTHER_ID_MAX = 40


@dataclass(frozen=True)
class IdentityFacts:
    """A validated identity document: what is stored (encrypted, hashed, masked)."""

    kind: str
    number: str  # normalised; "" for kind "none"
    birth_date: dt.date | None = None
    sex: str = "U"

    @property
    def lookup_key(self) -> str:
        """The value hashed into Person.id_hmac: the kind is part of it (a passport and
        an 'other' document with the same characters are different documents)."""
        return f"{self.kind}:{self.number}" if self.number else ""

    @property
    def birth_year(self) -> int | None:
        """The only part of the birth date that is stored in clear: the full date is what
        the ID mask hides (kept here for validation, never written to a column)."""
        return self.birth_date.year if self.birth_date else None

    @property
    def tail(self) -> str:
        return id_tail(self.number)

    @property
    def masked(self) -> str:
        return mask_id(self.number) if self.number else ""


def normalize_other_id(value: str) -> str:
    """Any other document (港澳通行证, 军官证 ...): trimmed, 1 to 40 characters."""
    number = (value or "").strip()
    if not number:
        raise DomainError("id_required", _("请填写证件号码"))
    if len(number) > OTHER_ID_MAX:
        raise DomainError(
            "id_too_long",
            _("证件号码不能超过%(max)d个字符") % {"max": OTHER_ID_MAX},
            max=OTHER_ID_MAX,
        )
    return number


def validate_identity(kind: str, number: str) -> IdentityFacts:
    """Validate a document of any kind; codes: id_kind_invalid, id_required, id_*, passport_*."""
    if kind == "ric":
        facts = validate_ric(number)
        return IdentityFacts("ric", facts.number, facts.birth_date, facts.sex)
    if kind == "passport":
        return IdentityFacts("passport", normalize_passport(number))
    if kind == "other":
        return IdentityFacts("other", normalize_other_id(number))
    if kind == "none":
        if (number or "").strip():
            raise DomainError("id_number_unexpected", _("无证件人员不应填写证件号码"))
        return IdentityFacts("none", "")
    raise DomainError("id_kind_invalid", _("证件类型不合法"), kind=kind)


def id_tail(number: str) -> str:
    """Last four characters of a document number, upper-cased (search key)."""
    return number[-4:].upper() if number else ""


# --- Search keys ---------------------------------------------------------------------

RIC_QUERY_RE = re.compile(r"^[0-9]{17}[0-9Xx]$")
TAIL_QUERY_RE = re.compile(r"^[0-9]{3}[0-9Xx]$")
INITIALS_QUERY_RE = re.compile(r"^[A-Za-z]{1,32}$")
DOCUMENT_QUERY_RE = re.compile(r"^[A-Za-z0-9]{5,40}$")


# Search keys that name one person exactly (a full ID number, document number or phone):
# answering them says whether that person exists, so they are lookups, sent by POST,
# audited and budgeted (people.lookups), never a plain search by GET.
EXACT_LOOKUP_KINDS = frozenset({"ric", "phone", "document"})


@dataclass(frozen=True)
class SearchKey:
    """How a free-text query is matched: by which column, with which value."""

    kind: str  # "all" | "ric" | "phone" | "tail" | "initials" | "document" | "name"
    value: str

    @property
    def exact(self) -> bool:
        return self.kind in EXACT_LOOKUP_KINDS


def search_key(query: str) -> SearchKey:
    """Dispatch a search box entry to the one indexed column that answers it.

    18 characters of digits (last may be X) → the ID's keyed hash; an 11-digit mobile →
    the phone's keyed hash; 4 digits (or 3 digits and X) → the ID tail; ASCII letters →
    the pinyin initials prefix ("zs" finds 张三); other letters/digits of 5+ characters →
    a passport or other document's keyed hash; anything else → the name (prefix).
    """
    q = re.sub(r"\s", "", _ascii_form(query))
    if not q:
        return SearchKey("all", "")
    if RIC_QUERY_RE.match(q):
        return SearchKey("ric", q.upper())
    if MOBILE_RE.match(q):
        return SearchKey("phone", q)
    if TAIL_QUERY_RE.match(q):
        return SearchKey("tail", q.upper())
    if INITIALS_QUERY_RE.match(q):
        return SearchKey("initials", q.lower())
    if DOCUMENT_QUERY_RE.match(q):
        return SearchKey("document", q.upper())
    return SearchKey("name", (query or "").strip()[:NAME_MAX])
