"""People pages: search list, detail with audited reveal, registration, household, export.

Views are thin: selectors read (scoped, masked), services write. A DomainError becomes a
403/404 page or an inline message; nothing here queries person tables directly.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import (
    HttpResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.permissions import has_capability, require
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.core.http import client_address
from fangkong.core.spreadsheet import formula_safe
from fangkong.people import rules, selectors, services
from fangkong.people.forms import PersonCreateForm, PersonSearchForm, RevealForm
from fangkong.people.lookups import lookup_policy
from fangkong.people.models import IdKind, Person

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.areas.models import Jurisdiction


class _Echo:
    """A file-like object whose write returns the line (csv.writer into a stream)."""

    def write(self, value: str) -> str:
        return value


def _jurisdiction_filter(request: AuthedRequest, pk: int | None) -> Jurisdiction | None:
    if pk is None:
        return None
    return selectors.jurisdiction_for_person(user=request.user, pk=pk)


def _filter_label(q: str) -> dict[str, str]:
    """The search as the audit log keeps it: never an ID number or phone in clear."""
    key = rules.search_key(q)
    if key.kind in {"ric", "document"}:
        return {"kind": key.kind, "value": rules.mask_id(key.value)}
    if key.kind == "phone":
        return {"kind": key.kind, "value": rules.mask_phone(key.value)}
    return {"kind": key.kind, "value": key.value}


@require_http_methods(["GET", "POST"])
@login_required
def person_list(request: AuthedRequest) -> HttpResponse:
    """Search (GET: names, initials, ID tails) and exact lookup (POST: a full ID number,
    document number or phone, audited and budgeted; by GET it is refused, so that no
    number lands in a URL, a history or an access log)."""
    data = PersonSearchForm(request.POST if request.method == "POST" else request.GET).lenient()
    q = data["q"] or ""
    jurisdiction = _jurisdiction_filter(request, data["jurisdiction"])
    error = ""
    status = 200
    page = None
    persons: list[Person] = []
    try:
        if request.method == "POST" and rules.search_key(q).exact:
            persons = services.person_lookup(
                actor=request.user, query=q, ip=client_address(request)
            )
        else:
            page = selectors.person_search(
                user=request.user,
                q=q,
                jurisdiction=jurisdiction,
                cursor=data["cursor"] or None,
                with_total=True,
            )
            persons = page.items
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:  # a malformed cursor, a number by GET, a spent budget
        error = exc.message
        status = exc.status
    context = {
        "q": q,
        "jurisdiction": jurisdiction,
        "page": page,
        "rows": [{"person": p, "name_masked": rules.mask_name(p.name)} for p in persons],
        "error": error,
        "can_create": has_capability(request.user, Capability.PERSON_CREATE),
        "can_export": has_capability(request.user, Capability.PERSON_EXPORT),
    }
    partial = bool(request.headers.get("HX-Request"))
    context["partial"] = partial
    template = "people/_results.html" if partial else "people/list.html"
    response = render(request, template, context, status=status)
    if partial and request.method == "POST" and not error:
        response["HX-Push-Url"] = _search_url(q, jurisdiction, exact=page is None)
    return response


def _search_url(q: str, jurisdiction: Jurisdiction | None, *, exact: bool) -> str:
    """The address of a search, pushed into the history so that Back and reload show it
    again: the query and the jurisdiction of a search; the bare list for an exact lookup
    (a full number never lands in a URL, and a reload must not spend the lookup budget)."""
    params = {"q": q} if q and not exact else {}
    if jurisdiction is not None:
        params["jurisdiction"] = str(jurisdiction.pk)
    base = reverse("people:list")
    return f"{base}?{urlencode(params)}" if params else base


@require_GET
@login_required
def person_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    members: list[Person] = []
    if person.household is not None:
        members = selectors.household_members(user=request.user, household=person.household)
    return render(
        request,
        "people/detail.html",
        {
            "person": person,
            "members": [{"person": m, "name_masked": rules.mask_name(m.name)} for m in members],
            "can_reveal": has_capability(request.user, Capability.PERSON_REVEAL),
        },
    )


@require_POST
@login_required
def person_reveal(request: AuthedRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    field = RevealForm(request.POST).lenient()["field"] or ""
    try:
        value = services.person_reveal(
            actor=request.user, person=person, field=field, ip=client_address(request)
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        return render(
            request, "people/_reveal_error.html", {"field": field, "error": exc.message}, status=400
        )
    return render(request, "people/_revealed.html", {"field": field, "value": value})


@require_http_methods(["GET", "POST"])
@login_required
def person_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, Capability.PERSON_CREATE)
    form = {
        "name": "",
        "id_kind": IdKind.RIC.value,
        "id_number": "",
        "phone": "",
        "jurisdiction": "",
    }
    error: DomainError | None = None
    existing_id: int | None = None
    if request.method == "POST":
        create_form = PersonCreateForm(request.POST)
        form = {key: str(create_form.data.get(key, ""))[:300] for key in form}
        try:
            data = create_form.cleaned()
            jurisdiction = selectors.jurisdiction_for_person(
                user=request.user, pk=data["jurisdiction"]
            )
            person = services.person_create(
                actor=request.user,
                name=data["name"],
                id_kind=data["id_kind"],
                id_number=data["id_number"],
                phone=data["phone"],
                jurisdiction=jurisdiction,
                ip=client_address(request),
            )
        except PermissionDenied:
            raise
        except DomainError as exc:
            error = exc
            existing_id = exc.detail.get("person") if exc.code == "person_exists" else None
        else:
            return redirect("people:detail", pk=person.pk)
    return render(
        request,
        "people/create.html",
        {
            "form": form,
            "error": error,
            "existing_id": existing_id,
            "id_kinds": IdKind.choices,
            "jurisdictions": selectors.jurisdiction_choices(user=request.user),
        },
        status=400 if error else 200,
    )


@require_GET
@login_required
def household_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    household = selectors.household_get(user=request.user, pk=pk)
    members = selectors.household_members(user=request.user, household=household)
    return render(
        request,
        "people/household.html",
        {
            "household": household,
            "members": [{"person": m, "name_masked": rules.mask_name(m.name)} for m in members],
        },
    )


EXPORT_HEADER = [
    gettext_noop("编号"),
    gettext_noop("姓名"),
    gettext_noop("证件类型"),
    gettext_noop("证件号码"),
    gettext_noop("手机号码"),
    gettext_noop("性别"),
    gettext_noop("所属辖区"),
]


def _export_watermark(user: User) -> str:
    """The first line of every export: who exported it, when, and that it is internal."""
    jurisdiction = getattr(user, "jurisdiction", None)
    place = jurisdiction.name if jurisdiction is not None else getattr(user, "scope_path", "")
    return _(
        "内部资料 · 导出人：%(user)s（%(place)s） 导出时间：%(when)s · 脱敏 · "
        "仅限疫情防控使用，严禁外传"
    ) % {
        "user": user.username,
        "place": place,
        "when": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    }


def _export_lines(
    rows: Iterator[Person], truncated: bool, cap: int, watermark: str
) -> Iterator[str]:
    """The CSV lines; every cell through formula_safe (a name or a jurisdiction typed as
    `=HYPERLINK(...)` stays text in Excel, WPS and LibreOffice)."""
    writer = csv.writer(_Echo())

    def line(cells: list[Any]) -> str:
        return str(writer.writerow([formula_safe(cell) for cell in cells]))

    yield "\ufeff" + line([watermark])
    yield line([_(h) for h in EXPORT_HEADER])
    for person in rows:
        yield line(
            [
                person.pk,
                rules.mask_name(person.name),
                person.get_id_kind_display(),
                person.id_masked,
                person.phone_masked,
                person.get_sex_display(),
                person.jurisdiction.name,
            ]
        )
    if truncated:
        yield line([_("导出已截断：仅导出前%(cap)d条，请缩小查询范围后再导出") % {"cap": cap}])


@require_POST
@login_required
def person_export(request: AuthedRequest) -> HttpResponseBase:
    """CSV of the current search (POST: an export writes an audit record), masked and
    scoped, watermarked, streamed in keyset batches."""
    data = PersonSearchForm(request.POST).lenient()
    q = data["q"] or ""
    jurisdiction = _jurisdiction_filter(request, data["jurisdiction"])
    cap = selectors.export_max_rows()
    try:
        found = selectors.person_export_size(
            user=request.user, q=q, jurisdiction=jurisdiction, limit=cap
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:  # a full number: a lookup, not an export filter
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
    rows = min(found, cap)
    truncated = found > cap
    services.person_export_record(
        actor=request.user,
        filters={
            "q": _filter_label(q),
            "jurisdiction": jurisdiction.path if jurisdiction else None,
        },
        rows=rows,
        truncated=truncated,
        ip=client_address(request),
    )
    lines = _export_lines(
        selectors.person_export_rows(user=request.user, q=q, jurisdiction=jurisdiction, limit=rows),
        truncated,
        cap,
        _export_watermark(request.user),
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="persons-{stamp}.csv"'
    response["X-Export-Rows"] = str(rows)
    response["X-Export-Truncated"] = "1" if truncated else "0"
    return response


@require_GET
@login_required
def lookup_alerts(request: AuthedRequest) -> HttpResponse:
    """For administrators (audit.view): users whose exact lookups missed too often; each
    is stopped from further lookups for the window (people.lookups)."""
    alerts = selectors.lookup_alerts(user=request.user)
    return render(
        request,
        "people/lookup_alerts.html",
        {
            "alerts": alerts,
            "window_minutes": int(lookup_policy(request.user).window.total_seconds() // 60),
        },
    )
