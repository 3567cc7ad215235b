"""The page edge: a form parses a request's input, the one translator answers refusals.

Every view parses what the browser sends with a `PageForm` (a Django form) and hands its
cleaned data to a service; no view calls int(), strip() or fromisoformat() on request
data itself. What a form refuses becomes an `InvalidInput` (a DomainError, 400) whose
code is stable: the form's `codes` name it per field (``"field"`` or, for one kind of
error, ``"field.required"``, ``"field.invalid"``, ...); a form's own check may raise
ValidationError with a code of its own, which is kept. Otherwise the code is
``invalid_input``, with the field in the detail.

A refusal then goes where every other DomainError goes: a view that shows refusals
inline catches DomainError and re-renders with ``exc.message`` (as it does for the
services' refusals); a view that does not lets it escape to
web.middleware.DomainErrorMiddleware (a 400 page, an htmx fragment or JSON).

`refusal_message` is the one helper for pages that answer a POST with a redirect and a
flash message: a refusal the user can fix becomes the message, a role or scope refusal
(403, 404) is raised again for the middleware.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest
from django.utils import timezone

from fangkong.core.apitypes import ROW_ID_MAX
from fangkong.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied

# Django's own error codes, which say nothing stable about the domain: a form's refusal
# with one of them takes the form's `codes` entry, or `invalid_input`.
_GENERIC_CODES = frozenset(
    {
        "required",
        "invalid",
        "invalid_choice",
        "invalid_list",
        "invalid_date",
        "invalid_time",
        "max_length",
        "min_length",
        "max_value",
        "min_value",
        "step_size",
        "max_digits",
        "max_decimal_places",
        "max_whole_digits",
        "null_characters_not_allowed",
        "overflow",
        "missing",
        "empty",
        "contradiction",
    }
)

# A primary key as the database holds it: anything above is absent, not an overflow the
# database would refuse with a 500.
PK_MAX = ROW_ID_MAX


class PageForm(forms.Form):
    """A form at the page edge. `codes` maps a field (or ``field.error_code``) to the
    stable refusal code; `cleaned()` is the cleaned data or an InvalidInput."""

    codes: ClassVar[dict[str, str]] = {}

    def refusal(self) -> InvalidInput:
        """The first error of the form (in field order, then the form's own), as a refusal."""
        errors = self.errors.as_data()
        names = [name for name in self.fields if name in errors]
        names += [name for name in errors if name not in self.fields]
        for name in names:
            for error in errors[name]:
                raw = error.code or "invalid"
                field = None if name == NON_FIELD_ERRORS else name
                code = self.codes.get(f"{name}.{raw}") or self.codes.get(name)
                if code is None:
                    code = "invalid_input" if raw in _GENERIC_CODES else raw
                message = " ".join(str(m) for m in error.messages)
                if field is None:
                    return InvalidInput(code, message)
                return InvalidInput(code, message, field=field)
        return InvalidInput("invalid_input", "invalid input")

    def cleaned(self) -> dict[str, Any]:
        """The cleaned data; an InvalidInput (400, stable code) when the input is bad."""
        if not self.is_valid():
            raise self.refusal()
        return self.cleaned_data

    def lenient(self) -> dict[str, Any]:
        """The cleaned data of a filter form, a bad value dropped (None) instead of refused:
        a list page ignores a filter it does not understand."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned.get(name) for name in self.fields}

    def echo(self, limit: int = 2000) -> dict[str, str]:
        """The raw values as typed, for a page that re-renders the form with them."""
        return {name: str(self.data.get(name, "") or "").strip()[:limit] for name in self.fields}


class TruncatingForm(PageForm):
    """A form whose text fields cut an over-long value to their max_length instead of
    refusing it (as the pages did before the forms; the service refuses what is still
    wrong)."""

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None:
            data = data.copy()
            for name, field in self.base_fields.items():
                limit = getattr(field, "max_length", None)
                value = data.get(name)
                if limit and isinstance(value, str) and len(value) > limit:
                    data[name] = value[:limit]
        super().__init__(data, *args, **kwargs)


def one_message(message: Any) -> dict[str, Any]:
    """The same message for every way a field's value can be wrong (error_messages=)."""
    keys = (
        "required",
        "empty",
        "missing",
        "invalid",
        "min_value",
        "max_value",
        "max_length",
        "invalid_choice",
        "null_characters_not_allowed",
    )
    return dict.fromkeys(keys, message)


class PkField(forms.IntegerField):
    """A row id: a positive integer the database can hold, in ASCII digits."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", PK_MAX)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, str) and not value.strip().isascii():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class IsoDateField(forms.DateField):
    """A date as an <input type="date"> sends it: YYYY-MM-DD in ASCII digits (strptime
    would take full-width digits too)."""

    def to_python(self, value: Any) -> dt.date | None:
        if isinstance(value, dt.date):
            return value
        raw = str(value or "").strip()
        if not raw:
            return None
        try:
            if not raw.isascii() or len(raw) != 10:
                raise ValueError(raw)
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class DigitsField(forms.CharField):
    """A non-negative whole number typed as ASCII digits only (no sign, no spaces inside,
    no full-width digits), at most `max_digits` of them; `empty` is the value of a blank."""

    default_error_messages: ClassVar[dict[str, Any]] = {
        "invalid": forms.IntegerField.default_error_messages["invalid"]
    }

    def __init__(self, *, max_digits: int, empty: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("required", empty is None)
        super().__init__(**kwargs)
        self.max_digits = max_digits
        self.empty = empty

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        raw = str(super().to_python(value) or "")
        if not raw:
            return self.empty
        if not (raw.isascii() and raw.isdigit()) or len(raw) > self.max_digits:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(raw)

    def validate(self, value: Any) -> None:
        if value is None and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class PkListField(forms.Field):
    """Row ids sent as repeated values (a multiple select, checkboxes), at most `limit`
    of them kept (the pages cut a longer list so before the forms)."""

    widget = forms.SelectMultiple
    default_error_messages: ClassVar[dict[str, Any]] = {
        "invalid": forms.IntegerField.default_error_messages["invalid"]
    }

    def __init__(self, *, limit: int, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.limit = limit

    def to_python(self, value: Any) -> list[int]:
        out = []
        for raw in list(value or [])[: self.limit]:
            v = str(raw)
            if not (v.isascii() and v.isdigit()) or len(v) > 19 or int(v) > PK_MAX:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            out.append(int(v))
        return out


class LocalDateTimeField(forms.DateTimeField):
    """A datetime-local input read in the city's time zone (an aware datetime)."""

    def to_python(self, value: Any) -> dt.datetime | None:
        if isinstance(value, dt.datetime):
            return value
        raw = str(value or "").strip()
        if not raw:
            return None
        try:
            if not raw.isascii():
                raise ValueError(raw)
            parsed = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
        return parsed


class FlagField(forms.BooleanField):
    """A checkbox sent as value="1": "1" is True, anything else (or absent) False (read
    as text: Django's checkbox widget would take "0" or "no" for True)."""

    widget = forms.TextInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> bool:
        if isinstance(value, str):
            return value.strip() == "1"
        return value is True


class TriStateField(forms.Field):
    """A yes/no/either filter: "1" True, "0" False, anything else (or absent) None."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> bool | None:
        return {"1": True, "0": False}.get(str(value or "").strip())


class JobQueryForm(PageForm):
    """`?job=` of a page that shows a background job again (its id; anything else is no job)."""

    job = DigitsField(max_digits=12, required=False)


def refusal_message(request: HttpRequest, exc: DomainError) -> None:
    """A refusal the user can fix as a flash message on the page the view redirects to;
    a refusal of the role or the scope is raised again for the middleware (403, 404)."""
    if isinstance(exc, PermissionDenied | NotFound) and exc.code in (
        "permission_denied",
        "not_found",
    ):
        raise exc
    messages.error(request, exc.message)
