"""Tracing pages: contacts.

- `tracing:case_contacts` (pk): the contacts section of a case page, an HTML fragment
  the case page loads with htmx; it holds the find-contacts button (POST
  `tracing:case_find_contacts`, which answers with the re-rendered fragment) and the
  add-contact form (POST `tracing:case_add_contact`).
- `tracing:contact_list`: the contacts in the user's scope, keyset-paginated.
- `tracing:contact_detail` (pk): one contact with its exposures and evidence, the dates
  with the rule set that produced them, the upgrade history; find secondary contacts.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fangkong.accounts.permissions import has_capability
from fangkong.accounts.roles import Capability
from fangkong.accounts.types import AuthedRequest
from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.core.http import client_address
from fangkong.people import selectors as people_selectors
from fangkong.people.models import IdKind
from fangkong.people.rules import mask_name
from fangkong.tracing.models import Case, ContactClass, ContactStatus
from fangkong.tracing.selectors import contacts as selectors
from fangkong.tracing.services import contacts as services

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


MANUAL_CLASS_CHOICES = [(c.value, c.label) for c in services.MANUAL_CLASSES]


def _fragment(
    request: AuthedRequest,
    case: Case,
    *,
    message: str = "",
    error: str = "",
    form: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    contacts = selectors.contacts_of_case(user=request.user, case=case)
    return render(
        request,
        "tracing/_case_contacts.html",
        {
            "case": case,
            "contacts": contacts,
            "counts": selectors.contact_counts_of_case(user=request.user, case=case),
            "can_manage": has_capability(request.user, Capability.CONTACT_MANAGE),
            "message": message,
            "error": error,
            "form": form or {"id_kind": IdKind.RIC.value, "classification": "close"},
            "id_kinds": IdKind.choices,
            "classes": MANUAL_CLASS_CHOICES,
            "jurisdictions": (
                people_selectors.jurisdiction_choices(user=request.user)
                if has_capability(request.user, Capability.CONTACT_MANAGE)
                else []
            ),
            "limit": selectors.CASE_CONTACTS_MAX,
        },
        status=status,
    )


@require_GET
@login_required
@domain_errors
def case_contacts(request: AuthedRequest, pk: int) -> HttpResponse:
    case = selectors.case_for_contacts(user=request.user, pk=pk)
    return _fragment(request, case)


@require_POST
@login_required
@domain_errors
def case_find_contacts(request: AuthedRequest, pk: int) -> HttpResponse:
    case = selectors.case_for_contact_management(user=request.user, pk=pk)
    raw = request.POST.get("tolerance_minutes", "").strip()
    try:
        if raw and not raw.isdigit():
            raise DomainError("invalid_tolerance", _("时间容差须在 0 到 1440 分钟之间"))
        result = services.contacts_find_for_case(
            actor=request.user,
            case=case,
            tolerance_minutes=int(raw) if raw else None,
            ip=client_address(request),
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        return _fragment(request, case, error=exc.message, status=400)
    message = _("找到接触者 %(found)s 人，其中新增 %(created)s 人") % {
        "found": result.found,
        "created": result.created,
    }
    if not request.headers.get("HX-Request"):
        return redirect("tracing:contact_list")
    response = _fragment(request, case, message=message)
    response["HX-Trigger"] = "case-contacts-changed"  # the case page's pushes section reloads
    return response


@require_POST
@login_required
@domain_errors
def case_add_contact(request: AuthedRequest, pk: int) -> HttpResponse:
    case = selectors.case_for_contact_management(user=request.user, pk=pk)
    keys = ("name", "id_kind", "id_number", "phone", "jurisdiction", "classification")
    form = {key: request.POST.get(key, "")[:100] for key in (*keys, "exposed_on", "note")}
    form["note"] = request.POST.get("note", "")[:400]
    try:
        if not form["jurisdiction"].isdigit():
            raise DomainError("jurisdiction_required", _("请选择所属辖区"))
        try:
            exposed_on = dt.date.fromisoformat(form["exposed_on"])
        except ValueError as exc:
            raise DomainError("invalid_exposure_date", _("请填写正确的暴露日期")) from exc
        jurisdiction = people_selectors.jurisdiction_for_person(
            user=request.user, pk=int(form["jurisdiction"])
        )
        contact = services.contact_add_manual(
            actor=request.user,
            case=case,
            name=form["name"],
            id_kind=form["id_kind"] or "ric",
            id_number=form["id_number"],
            phone=form["phone"],
            jurisdiction=jurisdiction,
            classification=form["classification"] or ContactClass.CLOSE,
            exposed_on=exposed_on,
            note=form["note"],
            ip=client_address(request),
        )
    except PermissionDenied:
        raise
    except DomainError as exc:
        return _fragment(request, case, error=exc.message, form=form, status=400)
    message = _("已添加接触者 %(name)s") % {"name": mask_name(contact.person.name)}
    return _fragment(request, case, message=message)


@require_GET
@login_required
@domain_errors
def contact_list(request: AuthedRequest) -> HttpResponse:
    classification = request.GET.get("classification", "") or None
    status = request.GET.get("status", "") or None
    error = ""
    try:
        page = selectors.contacts(
            user=request.user,
            classification=classification,
            status=status,
            cursor=request.GET.get("cursor") or None,
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        page = None
        error = exc.message
    return render(
        request,
        "tracing/contact_list.html",
        {
            "page": page,
            "rows": page.items if page else [],
            "error": error,
            "classification": classification or "",
            "status": status or "",
            "classes": ContactClass.choices,
            "statuses": ContactStatus.choices,
        },
        status=400 if error else 200,
    )


@require_GET
@login_required
@domain_errors
def contact_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_get(user=request.user, pk=pk)
    return render(
        request,
        "tracing/contact_detail.html",
        {
            "contact": contact,
            "exposures": list(contact.exposures.all()),
            "secondary": selectors.secondary_contacts_of(user=request.user, contact=contact),
            "can_find_secondary": (
                has_capability(request.user, Capability.CONTACT_MANAGE)
                and contact.classification == ContactClass.CLOSE
            ),
            "message": request.GET.get("found", ""),
        },
    )


@require_POST
@login_required
@domain_errors
def contact_find_secondary(request: AuthedRequest, pk: int) -> HttpResponseBase:
    contact = selectors.contact_get(user=request.user, pk=pk)
    try:
        result = services.secondary_contacts_find(
            actor=request.user, contact=contact, ip=client_address(request)
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        return HttpResponse(exc.message, status=exc.status)
    return redirect(f"{reverse('tracing:contact_detail', args=[contact.pk])}?found={result.found}")


urlpatterns: list[URLPattern] = [
    path("cases/<int:pk>/contacts/", case_contacts, name="case_contacts"),
    path("cases/<int:pk>/contacts/find/", case_find_contacts, name="case_find_contacts"),
    path("cases/<int:pk>/contacts/add/", case_add_contact, name="case_add_contact"),
    path("contacts/", contact_list, name="contact_list"),
    path("contacts/<int:pk>/", contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/secondary/", contact_find_secondary, name="contact_find_secondary"),
]
