"""Pure identity rules: ID validation, masks, initials, phone, search dispatch."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core.errors import DomainError
from fangkong.people import rules

from .conftest import make_ric

VALID = "11010519491231002X"  # the standard's own example


@pytest.mark.parametrize(
    "number",
    [
        VALID,
        VALID.lower(),
        " 110105 19491231 002X ",
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width, as a Chinese IME types it
        make_ric(1),
        make_ric(998, "20000229"),
    ],
)
def test_valid_ric_is_accepted_and_normalised(number: str) -> None:
    facts = rules.validate_ric(number)
    assert len(facts.number) == 18
    assert facts.number == rules.normalize_ric(number)
    assert facts.number.isascii() and facts.number == facts.number.upper()


def test_ric_derives_birth_date_and_sex() -> None:
    facts = rules.validate_ric(VALID)
    assert facts.birth_date == dt.date(1949, 12, 31)
    assert facts.sex == "F"  # 17th digit 2 is even
    male = rules.validate_ric(make_ric(11, "19850315"))  # sequence 011: odd
    assert (male.birth_date, male.sex) == (dt.date(1985, 3, 15), "M")


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105194912310021", "id_bad_checksum"),
        (make_ric(5)[:-1] + ("0" if make_ric(5)[-1] != "0" else "1"), "id_bad_checksum"),
        ("330483199002300011", "id_bad_birth_date"),  # 30 Feb 1990
        ("330483199013010011", "id_bad_birth_date"),  # month 13
        ("11010519491231002", "id_wrong_length"),
        ("11010519491231002XX", "id_wrong_length"),
        ("", "id_wrong_length"),
        ("11010519491231002Y", "id_bad_characters"),
        ("1101051949123100X2", "id_bad_characters"),
        ("11010519491231\u0660\u06602X", "id_bad_characters"),  # Arabic-Indic digits
    ],
)
def test_bad_ric_is_refused_with_a_distinct_code(number: str, code: str) -> None:
    with pytest.raises(DomainError) as err:
        rules.validate_ric(number)
    assert err.value.code == code


def test_ric_born_in_the_future_is_refused() -> None:
    year = dt.datetime.now(dt.UTC).year + 1
    with pytest.raises(DomainError) as err:
        rules.validate_ric(make_ric(3, f"{year}0101"))
    assert err.value.code == "id_bad_birth_date"


def test_ric_checksum_makes_valid_numbers() -> None:
    for seq in range(0, 1000, 37):
        assert rules.validate_ric(make_ric(seq)).number == make_ric(seq)


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("张小三", "张*三"), ("欧阳小明", "欧**明"), ("王", "王"), ("", "")],
)
def test_mask_name(name: str, masked: str) -> None:
    assert rules.mask_name(name) == masked


def test_mask_id_and_phone() -> None:
    assert rules.mask_id("330483199001011234") == "330483********1234"
    assert rules.mask_id("E12345678") == "E1*****78"
    assert rules.mask_id("123") == "***"
    assert rules.mask_phone("13812345678") == "138****5678"
    assert rules.mask_phone("12345") == "*****"


@pytest.mark.parametrize(
    ("name", "initials"), [("张三", "zs"), ("欧阳小明", "oyxm"), ("李Tom", "lt"), ("王 五", "ww")]
)
def test_name_initials(name: str, initials: str) -> None:
    assert rules.name_initials(name) == initials


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("13812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        (" 19912345678 ", "19912345678"),
    ],
)
def test_phone_normalised(value: str, normalised: str) -> None:
    assert rules.normalize_phone(value) == normalised


@pytest.mark.parametrize(
    "value", ["12812345678", "1381234567", "138123456789", "1381234567a", "", "1381234567\u0668"]
)
def test_bad_phone_refused(value: str) -> None:
    with pytest.raises(DomainError) as err:
        rules.normalize_phone(value)
    assert err.value.code == "phone_invalid"


def test_passport_and_other_documents() -> None:
    assert rules.normalize_passport(" e1234 5678 ") == "E12345678"
    with pytest.raises(DomainError) as err:
        rules.normalize_passport("E12")
    assert err.value.code == "passport_invalid"
    assert rules.normalize_other_id("  港澳通行证 C123  ") == "港澳通行证 C123"
    for value, code in (("   ", "id_required"), ("x" * 41, "id_too_long")):
        with pytest.raises(DomainError) as err:
            rules.normalize_other_id(value)
        assert err.value.code == code


def test_validate_identity_by_kind() -> None:
    ric = rules.validate_identity("ric", VALID)
    assert (ric.kind, ric.tail, ric.masked) == ("ric", "002X", "110105********002X")
    assert ric.lookup_key == f"ric:{VALID}"
    assert rules.validate_identity("passport", "e1234567").lookup_key == "passport:E1234567"
    none = rules.validate_identity("none", "")
    assert (none.number, none.lookup_key, none.tail) == ("", "", "")
    for kind, number, code in (
        ("none", "123", "id_number_unexpected"),
        ("visa", "123", "id_kind_invalid"),
        ("ric", "123", "id_wrong_length"),
    ):
        with pytest.raises(DomainError) as err:
            rules.validate_identity(kind, number)
        assert err.value.code == code


def test_validate_name() -> None:
    assert rules.validate_name("  张三 ") == "张三"
    for value, code in (
        ("", "name_required"),
        ("  ", "name_required"),
        ("张" * 65, "name_too_long"),
    ):
        with pytest.raises(DomainError) as err:
            rules.validate_name(value)
        assert err.value.code == code


@pytest.mark.parametrize(
    ("query", "kind", "value"),
    [
        ("", "all", ""),
        ("  ", "all", ""),
        (VALID.lower(), "ric", VALID),
        ("13812345678", "phone", "13812345678"),
        ("1234", "tail", "1234"),
        ("002x", "tail", "002X"),
        ("zs", "initials", "zs"),
        ("ZS", "initials", "zs"),
        ("E1234567", "document", "E1234567"),
        ("123456", "document", "123456"),
        ("张三", "name", "张三"),
        ("张", "name", "张"),
        ("123", "name", "123"),
    ],
)
def test_search_key_dispatch(query: str, kind: str, value: str) -> None:
    key = rules.search_key(query)
    assert (key.kind, key.value) == (kind, value)
