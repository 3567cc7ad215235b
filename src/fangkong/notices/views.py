"""Pages of the inbox (消息通知): the user's own notifications, newest first, unread
marked; marking one or all read (POST); opening one (marks it read and goes to its page).
Every signed-in user has an inbox; another user's notification is not found (404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fangkong.accounts.types import AuthedRequest
from fangkong.core.pagination import keyset_page
from fangkong.notices import selectors, services
from fangkong.notices.choices import URGENT_KINDS, NoticeKind
from fangkong.notices.forms import InboxFilterForm, MarkReadForm

PAGE_SIZE = 30


def _back(request: AuthedRequest) -> str:
    """The inbox page the form was sent from (its filter and page), else the inbox."""
    inbox = reverse("notices:inbox")
    nxt = MarkReadForm(request.POST).lenient()["next"] or ""
    return nxt if nxt.startswith(inbox + "?") or nxt == inbox else inbox


@require_GET
@login_required
def inbox(request: AuthedRequest) -> HttpResponse:
    user = request.user
    filters = InboxFilterForm(request.GET).lenient()
    unread_only = bool(filters["unread"])
    page = keyset_page(
        selectors.inbox(user=user, unread_only=unread_only),
        cursor=filters["cursor"] or None,
        size=PAGE_SIZE,
        order=selectors.INBOX_ORDER,
    )
    labels = dict(NoticeKind.choices)
    rows = [
        {
            "notice": n,
            "kind_label": labels.get(n.kind, _("通知")),
            "urgent": n.kind in URGENT_KINDS,
        }
        for n in page.items
    ]
    return render(
        request,
        "notices/inbox.html",
        {
            "page": page,
            "rows": rows,
            "unread_only": unread_only,
            "unread": selectors.unread_count(user=user),
        },
    )


@require_GET
@login_required
def notification_open(request: AuthedRequest, pk: int) -> HttpResponse:
    """Mark the notification read and go to its page (the inbox when it has none)."""
    notice = selectors.notification_get(user=request.user, pk=pk)
    services.notification_mark_read(actor=request.user, notification=notice)
    target = services.site_relative(notice.url) or reverse("notices:inbox")
    return HttpResponseRedirect(target)


@require_POST
@login_required
def notification_mark_read(request: AuthedRequest, pk: int) -> HttpResponse:
    notice = selectors.notification_get(user=request.user, pk=pk)
    services.notification_mark_read(actor=request.user, notification=notice)
    return redirect(_back(request))


@require_POST
@login_required
def notifications_mark_all_read(request: AuthedRequest) -> HttpResponse:
    marked = services.notifications_mark_all_read(actor=request.user)
    if marked:
        messages.success(request, _("已将 %(n)s 条通知标为已读") % {"n": marked})
    return redirect(_back(request))


urlpatterns: list[URLPattern] = [
    path("", inbox, name="inbox"),
    path("<int:pk>/open/", notification_open, name="open"),
    path("<int:pk>/read/", notification_mark_read, name="mark_read"),
    path("read-all/", notifications_mark_all_read, name="mark_all_read"),
]
