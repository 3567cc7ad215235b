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

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
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
from fangkong.people.choices import IdKind
from fangkong.people.rules import mask_name
from fangkong.tracing.forms import (
    AddContactForm,
    ContactFilterForm,
    FindContactsForm,
    FoundForm,
    ReclassifyForm,
)
from fangkong.tracing.models import Case, Contact, ContactClass, ContactStatus, ExposureKind
from fangkong.tracing.selectors import contacts as selectors
from fangkong.tracing.services import contacts as services

MANUAL_CLASS_CHOICES = [(c.value, c.label) for c in services.MANUAL_CLASSES]
MANUAL_KIND_CHOICES = [(k.value, k.label) for k in services.MANUAL_KINDS]
RECLASSIFY_CHOICES = [(c.value, c.label) for c in services.RECLASSIFY_CLASSES]


CASE_CONTACTS_PAGE = 50


def _fragment(
    request: AuthedRequest,
    case: Case,
    *,
    message: str = "",
    error: str = "",
    error_code: str = "",
    form: dict[str, str] | None = None,
    tolerance: str = "",
    status: int = 200,
    classification: str = "",
    cursor: str = "",
) -> HttpResponse:
    """The contacts section: counts by class (links that filter), one keyset page of rows
    and a "more" row that loads the next page in place (as the user scrolls to it).
    With a cursor, an htmx request gets only the next rows."""
    page = selectors.contacts_of_case_page(
        user=request.user,
        case=case,
        classification=classification or None,
        cursor=cursor or None,
        size=CASE_CONTACTS_PAGE,
    )
    rows_context = {
        "case": case,
        "contacts": page.items,
        "page": page,
        "cursor": cursor,
        "classification": classification,
        "can_create_case": has_capability(request.user, Capability.CASE_MANAGE),
    }
    if cursor and request.headers.get("HX-Request"):
        return render(request, "tracing/_case_contact_rows.html", rows_context, status=status)
    counts = selectors.contact_counts_of_case(user=request.user, case=case)
    return render(
        request,
        "tracing/_case_contacts.html",
        {
            **rows_context,
            "counts": counts,
            "total": sum(counts.values()),
            "class_counts": [(v, label, counts.get(v, 0)) for v, label in ContactClass.choices],
            "can_manage": has_capability(request.user, Capability.CONTACT_MANAGE),
            "message": message,
            "error": error,
            "error_code": error_code,
            "tolerance": tolerance,
            "form": form or {"id_kind": IdKind.RIC.value, "kind": ExposureKind.MANUAL.value},
            "id_kinds": IdKind.choices,
            "classes": MANUAL_CLASS_CHOICES,
            "kinds": MANUAL_KIND_CHOICES,
            "jurisdictions": (
                people_selectors.jurisdiction_choices(user=request.user)
                if has_capability(request.user, Capability.CONTACT_MANAGE)
                else []
            ),
        },
        status=status,
    )


@require_GET
@login_required
def case_contacts(request: AuthedRequest, pk: int) -> HttpResponse:
    case = selectors.case_for_contacts(user=request.user, pk=pk)
    filters = ContactFilterForm(request.GET).cleaned()
    return _fragment(
        request, case, classification=filters["classification"], cursor=filters["cursor"]
    )


@require_POST
@login_required
def case_find_contacts(request: AuthedRequest, pk: int) -> HttpResponse:
    case = selectors.case_for_contact_management(user=request.user, pk=pk)
    find_form = FindContactsForm(request.POST)
    try:
        data = find_form.cleaned()
        result = services.contacts_find_for_case(
            actor=request.user,
            case=case,
            tolerance_minutes=data["tolerance_minutes"],
            ip=client_address(request),
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        tolerance = find_form.echo(limit=20)["tolerance_minutes"]
        return _fragment(
            request, case, error=exc.message, error_code=exc.code, tolerance=tolerance, status=400
        )
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
def case_add_contact(request: AuthedRequest, pk: int) -> HttpResponse:
    case = selectors.case_for_contact_management(user=request.user, pk=pk)
    add_form = AddContactForm(request.POST)
    form = add_form.echo(limit=400)
    try:
        data = add_form.cleaned()
        jurisdiction = people_selectors.jurisdiction_for_person(
            user=request.user, pk=data["jurisdiction"]
        )
        contact = services.contact_add_manual(
            actor=request.user,
            case=case,
            name=data["name"],
            id_kind=data["id_kind"] or "ric",
            id_number=data["id_number"],
            phone=data["phone"],
            jurisdiction=jurisdiction,
            classification=data["classification"] or None,
            kind=data["kind"] or ExposureKind.MANUAL,
            exposed_on=data["exposed_on"],
            note=data["note"],
            ip=client_address(request),
        )
    except PermissionDenied:
        raise
    except DomainError as exc:
        return _fragment(
            request, case, error=exc.message, error_code=exc.code, form=form, status=400
        )
    message = _("已添加接触者 %(name)s") % {"name": mask_name(contact.person.name)}
    return _fragment(request, case, message=message)


@require_GET
@login_required
def contact_list(request: AuthedRequest) -> HttpResponse:
    filters = ContactFilterForm(request.GET).lenient()
    classification = filters["classification"] or None
    status = filters["status"] or None
    error = ""
    try:
        page = selectors.contacts(
            user=request.user,
            classification=classification,
            status=status,
            cursor=filters["cursor"] or None,
            with_total=True,
            pushed=bool(filters["pushed"]),
            controlled_24h=bool(filters["controlled_24h"]),
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
            "pushed": bool(filters["pushed"]),
            "controlled_24h": bool(filters["controlled_24h"]),
            "classes": ContactClass.choices,
            "statuses": ContactStatus.choices,
            "can_create_case": has_capability(request.user, Capability.CASE_MANAGE),
        },
        status=400 if error else 200,
    )


def _detail_page(
    request: AuthedRequest,
    contact: Contact,
    *,
    error: str = "",
    error_code: str = "",
    form: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    query = FoundForm(request.GET).lenient()
    found = query["found"]
    can_manage = has_capability(request.user, Capability.CONTACT_MANAGE)
    return render(
        request,
        "tracing/contact_detail.html",
        {
            "reclassified": bool(query["reclassified"]) and not error,
            "error": error,
            "error_code": error_code,
            "form": form or {},
            "can_reclassify": can_manage and contact.status != ContactStatus.BECAME_CASE,
            "reclassify_classes": [
                (v, label) for v, label in RECLASSIFY_CHOICES if v != contact.classification
            ],
            "contact": contact,
            "exposures": list(contact.exposures.all()),
            "secondary": selectors.secondary_contacts_of(user=request.user, contact=contact),
            "can_find_secondary": (
                has_capability(request.user, Capability.CONTACT_MANAGE)
                and contact.classification == ContactClass.CLOSE
            ),
            "message": "" if found is None else str(found),
            "can_create_case": (
                has_capability(request.user, Capability.CASE_MANAGE)
                and contact.status != ContactStatus.BECAME_CASE
            ),
            "became_case": selectors.case_of_contact(user=request.user, contact=contact),
        },
        status=status,
    )


@require_GET
@login_required
def contact_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_get(user=request.user, pk=pk)
    return _detail_page(request, contact)


@require_POST
@login_required
def contact_reclassify(request: AuthedRequest, pk: int) -> HttpResponseBase:
    """Promote or demote the contact (a reason required): back to its page, which says
    what changed, or the page again with the refusal and what was typed."""
    contact = selectors.contact_get(user=request.user, pk=pk)
    reclassify_form = ReclassifyForm(request.POST)
    form = reclassify_form.echo(limit=600)
    try:
        data = reclassify_form.cleaned()
        services.contact_reclassify(
            actor=request.user,
            contact=contact,
            classification=data["classification"],
            reason=data["reason"],
            ip=client_address(request),
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        contact = selectors.contact_get(user=request.user, pk=pk)
        return _detail_page(
            request,
            contact,
            error=exc.message,
            error_code=exc.code,
            form=form,
            status=exc.status,
        )
    return redirect(f"{reverse('tracing:contact_detail', args=[contact.pk])}?reclassified=1")


@require_POST
@login_required
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
    path("contacts/<int:pk>/reclassify/", contact_reclassify, name="contact_reclassify"),
]
