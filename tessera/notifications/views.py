"""Notification centre pages. Views validate, call one service and render; they never write to the ORM."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from tessera.accounts.models import User
from tessera.core.errors import DomainError, NotFound
from tessera.core.pagination import paginate
from tessera.notifications import services
from tessera.notifications.models import Notification
from tessera.notifications.ticket_events import ticket_url

PAGE_SIZE = 25


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    show = "unread" if request.GET.get("show") == "unread" else "all"
    notifications = services.visible_notifications(user).select_related("ticket")
    if show == "unread":
        notifications = notifications.filter(read_at__isnull=True)
    try:
        page = paginate(notifications, ordering=("-id",), cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    except DomainError:
        return redirect("notifications:list")
    context = {
        "page": page,
        "show": show,
        "unread": services.unread_count(user),
        "poll_seconds": services.poll_seconds(),
    }
    if request.htmx and request.GET.get("fragment") == "list":  # type: ignore[attr-defined]
        return render(request, "notifications/partials/_list.html", context)
    return render(request, "notifications/list.html", context)


@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The bell with the unread count, re-fetched by htmx every POLL_SECONDS while the websocket is closed."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    response = render(
        request,
        "notifications/partials/_bell.html",
        {
            "show": True,
            "unread": services.unread_count(_user(request)),
            "poll_seconds": services.poll_seconds(),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification = _mark_read(request, notification_id)
    if request.htmx:  # type: ignore[attr-defined]
        response = render(
            request,
            "notifications/partials/_item.html",
            {"notification": notification},
        )
        response["HX-Trigger"] = "notifications-changed"
        return response
    return _back(request)


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    services.mark_all_read(actor=_user(request))
    return _back(request)


@login_required
@require_POST
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark as read and go where the notification points (the ticket is linked afresh for the viewer)."""
    user = _user(request)
    notification = _mark_read(request, notification_id)
    target = ticket_url(user, notification.ticket) if notification.ticket else notification.url
    hosts = {request.get_host(), urlsplit(settings.BASE_URL).netloc}
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts=hosts):
        return HttpResponseRedirect(target)
    return redirect("notifications:list")  # no link, or one to a foreign site: never an open redirect


def _mark_read(request: HttpRequest, notification_id: int) -> Notification:
    try:
        return services.mark_read(actor=_user(request), notification_id=notification_id)
    except NotFound:
        raise Http404 from None  # someone else's notification: it does not exist for this user


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(target)
    return redirect("notifications:list")
