"""The page edge kit: a form's refusal has a stable code, bad values never raise anything
but InvalidInput, and the middleware answers InvalidInput with a 400 page."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import pytest
from django import forms
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from fangkong.core.pages import (
    PK_MAX,
    DigitsField,
    FlagField,
    IsoDateField,
    LocalDateTimeField,
    PageForm,
    PkField,
    PkListField,
    TriStateField,
    TruncatingForm,
    refusal_message,
)

BAD = ["²", "\x00", "-1", "9" * 40, "abc", "１２", " ", "1e5", "0x10", "2022-13-45"]


class Sample(PageForm):
    pk = PkField(required=False)
    count = DigitsField(max_digits=4, empty=0)
    when = LocalDateTimeField(required=False)
    day = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    flag = FlagField()
    either = TriStateField()
    ids = PkListField(limit=3)
    codes: ClassVar[dict[str, str]] = {"count": "count_invalid", "day.invalid": "day_invalid"}


def test_valid_input_is_parsed() -> None:
    data = Sample({"pk": "7", "count": "12", "when": "2022-04-01T09:30", "day": "2022-04-01"})
    cleaned = data.cleaned()
    assert cleaned["pk"] == 7 and cleaned["count"] == 12
    assert cleaned["when"].utcoffset() == dt.timedelta(hours=8)  # Asia/Shanghai
    assert cleaned["day"] == dt.date(2022, 4, 1)
    assert cleaned["flag"] is False and cleaned["either"] is None and cleaned["ids"] == []


def test_blank_values_take_their_defaults() -> None:
    cleaned = Sample({"count": ""}).cleaned()
    assert cleaned["count"] == 0 and cleaned["pk"] is None


@pytest.mark.parametrize("field", ["pk", "count", "when", "day", "flag", "either"])
@pytest.mark.parametrize("value", BAD)
def test_bad_values_are_a_refusal_or_a_value_never_an_exception(field: str, value: str) -> None:
    form = Sample({field: value})
    try:
        form.cleaned()
    except InvalidInput as exc:
        assert exc.status == 400
        assert exc.code in {"invalid_input", "count_invalid", "day_invalid"}
        assert exc.detail["field"] == field
    assert isinstance(form.lenient(), dict)


def test_codes_per_field_and_per_error_kind() -> None:
    with pytest.raises(InvalidInput) as count:
        Sample({"count": "１２"}).cleaned()  # full-width digits are not ASCII digits
    assert count.value.code == "count_invalid"
    with pytest.raises(InvalidInput) as day:
        Sample({"day": "2022-13-45"}).cleaned()
    assert day.value.code == "day_invalid"
    with pytest.raises(InvalidInput) as pk:
        Sample({"pk": str(PK_MAX + 1)}).cleaned()
    assert pk.value.code == "invalid_input" and pk.value.detail == {"field": "pk"}


def test_a_validation_error_with_its_own_code_keeps_it() -> None:
    class Own(PageForm):
        town = forms.CharField()

        def clean_town(self) -> str:
            raise forms.ValidationError("no such town", code="unknown_jurisdiction")

    with pytest.raises(InvalidInput) as exc:
        Own({"town": "x"}).cleaned()
    assert exc.value.code == "unknown_jurisdiction" and exc.value.message == "no such town"


def test_lenient_drops_only_the_bad_values() -> None:
    data = Sample({"pk": "abc", "count": "3", "flag": "1", "either": "0"}).lenient()
    assert data["pk"] is None and data["count"] == 3
    assert data["flag"] is True and data["either"] is False


def test_flag_is_true_only_for_one() -> None:
    for value in ("true", "on", "yes", "0", ""):
        assert Sample({"flag": value}).lenient()["flag"] is False


def test_pk_list_refuses_a_bad_id_and_keeps_at_most_its_limit() -> None:
    from django.http import QueryDict

    assert Sample(QueryDict("ids=1&ids=2&ids=3&ids=4")).cleaned()["ids"] == [1, 2, 3]
    with pytest.raises(InvalidInput):
        Sample(QueryDict("ids=1&ids=²")).cleaned()


def test_truncating_form_cuts_instead_of_refusing() -> None:
    class Short(TruncatingForm):
        name = forms.CharField(max_length=5)

    assert Short({"name": "abcdefgh"}).cleaned()["name"] == "abcde"


def _request() -> Any:
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_refusal_message_flashes_what_the_user_can_fix_and_reraises_role_and_scope() -> None:
    request = _request()
    refusal_message(request, DomainError("barcode_invalid", "条码无效"))
    assert [m.message for m in request._messages] == ["条码无效"]
    with pytest.raises(PermissionDenied):
        refusal_message(_request(), PermissionDenied("permission_denied", "no"))
    with pytest.raises(NotFound):
        refusal_message(_request(), NotFound("not_found", "no"))


@pytest.mark.django_db
def test_the_middleware_answers_invalid_input_with_a_400(
    client: Any, tree: Any, make_user: Any
) -> None:
    client.force_login(make_user(Role.INVESTIGATOR, tree.city))
    url = reverse("tracing:case_person_search")
    page = client.post(url, {"q": "王\x00"})
    assert page.status_code == 400
    assert 'data-error-code="invalid_input"' in page.content.decode()
    fragment = client.post(url, {"q": "王\x00"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 400
    assert fragment.content.decode().startswith('<div class="flash flash-error"')
    as_json = client.post(url, {"q": "王\x00"}, HTTP_ACCEPT="application/json")
    assert as_json.status_code == 400
    assert as_json.json()["code"] == "invalid_input"
    assert as_json.json()["detail"] == {"field": "q"}


def test_ids_dates_and_times_are_ascii_only() -> None:
    class Typed(PageForm):
        pk = PkField(required=False)
        day = IsoDateField(required=False)
        when = LocalDateTimeField(required=False)

    for data in ({"pk": "１２"}, {"day": "２０２２-01-01"}, {"when": "２０２２-01-01T08:00"}):
        with pytest.raises(InvalidInput):
            Typed(data).cleaned()
    assert Typed({"day": "2022-01-01"}).cleaned()["day"] == dt.date(2022, 1, 1)


class Labelled(PageForm):
    name = forms.CharField(label="名称", max_length=5)
    level = forms.ChoiceField(label="等级", choices=[("a", "A")])
    day = IsoDateField(label="划定日期", required=False)
    count = DigitsField(label="数量", max_digits=3, required=False)
    own = forms.CharField(label="自定", error_messages={"required": "自己的话"})
    bare = forms.CharField(max_length=2, required=False)


def test_a_labelled_field_says_what_is_wrong_in_the_house_words_naming_it() -> None:
    form = Labelled({"name": "x" * 9, "level": "", "day": "2022-02-30", "count": "12345"})

    assert form.messages() == {
        "name": "名称不能超过 5 字",
        "level": "请选择等级",
        "day": "划定日期格式无效，应为 YYYY-MM-DD",
        "count": "数量过大，最大为 999",
        "own": "自己的话",
    }
    assert Labelled({"name": ""}).messages()["name"] == "请填写名称"
    # The code stays generic (no `codes` entry): invalid_input.
    refusal = Labelled({"name": "a", "level": "a", "own": "x", "count": "12345"}).refusal()
    assert (refusal.code, refusal.message) == ("invalid_input", "数量过大，最大为 999")
    # An unlabelled field keeps Django's message (there is no name to give).
    assert "bare" in Labelled({"bare": "xyz"}).messages()
