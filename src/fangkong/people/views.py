"""People pages: search list, detail with audited reveal, registration, household, export.

Views are thin: selectors read (scoped, masked), services write. A DomainError becomes a
403/404 page or an inline message; nothing here queries person tables directly.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable, Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.permissions import has_capability, require
from fangkong.accounts.roles import Capability
from fangkong.areas.models import Jurisdiction
from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.core.http import client_address
from fangkong.people import rules, selectors, services
from fangkong.people.models import IdKind, Person

View = Callable[..., HttpResponseBase]


def domain_errors(view: View) -> View:
    """403 page for a role refusal, 404 for anything absent or outside the scope."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return HttpResponseForbidden(exc.message)
        except NotFound as exc:
            raise Http404(exc.message) from exc

    return wrapper


class _Echo:
    """A file-like object whose write returns the line (csv.writer into a stream)."""

    def write(self, value: str) -> str:
        return value


def _jurisdiction_filter(request: HttpRequest) -> Jurisdiction | None:
    raw = request.GET.get("jurisdiction", "")
    if not raw.isdigit():
        return None
    return selectors.jurisdiction_for_person(user=request.user, pk=int(raw))


def _filter_label(q: str) -> dict[str, str]:
    """The search as the audit log keeps it: never an ID number or phone in clear."""
    key = rules.search_key(q)
    if key.kind in {"ric", "document"}:
        return {"kind": key.kind, "value": rules.mask_id(key.value)}
    if key.kind == "phone":
        return {"kind": key.kind, "value": rules.mask_phone(key.value)}
    return {"kind": key.kind, "value": key.value}


@require_GET
@login_required
@domain_errors
def person_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    jurisdiction = _jurisdiction_filter(request)
    error = ""
    try:
        page = selectors.person_search(
            user=request.user,
            q=q,
            jurisdiction=jurisdiction,
            cursor=request.GET.get("cursor") or None,
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:  # a malformed cursor
        page = None
        error = exc.message
    context = {
        "q": q,
        "jurisdiction": jurisdiction,
        "page": page,
        "rows": [
            {"person": p, "name_masked": rules.mask_name(p.name)}
            for p in (page.items if page else [])
        ],
        "error": error,
        "can_create": has_capability(request.user, Capability.PERSON_CREATE),
        "can_export": has_capability(request.user, Capability.PERSON_EXPORT),
    }
    template = "people/_results.html" if request.headers.get("HX-Request") else "people/list.html"
    return render(request, template, context)


@require_GET
@login_required
@domain_errors
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
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
@domain_errors
def person_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    field = request.POST.get("field", "")
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
@domain_errors
def person_create(request: HttpRequest) -> HttpResponse:
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
        form = {key: request.POST.get(key, "")[:300] for key in form}
        try:
            if not form["jurisdiction"].isdigit():
                raise DomainError("jurisdiction_required", _("请选择所属辖区"))
            jurisdiction = selectors.jurisdiction_for_person(
                user=request.user, pk=int(form["jurisdiction"])
            )
            person = services.person_create(
                actor=request.user,
                name=form["name"],
                id_kind=form["id_kind"],
                id_number=form["id_number"],
                phone=form["phone"],
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
@domain_errors
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
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


def _export_lines(rows: Iterator[Person], truncated: bool, cap: int) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([_(h) for h in EXPORT_HEADER])
    for person in rows:
        yield writer.writerow(
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
        yield writer.writerow(
            [_("导出已截断：仅导出前%(cap)d条，请缩小查询范围后再导出") % {"cap": cap}]
        )


@require_GET
@login_required
@domain_errors
def person_export(request: HttpRequest) -> StreamingHttpResponse:
    """CSV of the current search, masked and scoped, streamed in keyset batches, audited."""
    q = request.GET.get("q", "").strip()[:100]
    jurisdiction = _jurisdiction_filter(request)
    cap = selectors.export_max_rows()
    found = selectors.person_export_size(
        user=request.user, q=q, jurisdiction=jurisdiction, limit=cap
    )
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
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="persons-{stamp}.csv"'
    response["X-Export-Rows"] = str(rows)
    response["X-Export-Truncated"] = "1" if truncated else "0"
    return response
