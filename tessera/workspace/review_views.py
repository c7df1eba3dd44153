"""The mail review queue and the mail security log in the workspace (tessera.mail.review, .security).
Who sees and does what is tessera.tickets.access; every action is a service call recorded in the log."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tessera.core.errors import DomainError, ValidationFailed
from tessera.core.ids import parse_id
from tessera.mail import review, security
from tessera.mail.models import InboundMessage, SecurityEvent
from tessera.tickets import access
from tessera.workspace.views import _actor, _sidebar, agent_required

LOG_ROWS = 200


@require_GET
@agent_required
def mail_review(request: HttpRequest) -> HttpResponse:
    user = _actor(request)
    rows = list(review.held_for(user)[:200])
    return render(
        request,
        "workspace/mail_review.html",
        {
            **_sidebar(user, "mail-review"),
            "rows": rows,
            "can_read_log": access.can_view_security_log(user),
        },
    )


def _ticket_number(text: str) -> int:
    """A ticket number as agents type it: 42, #42 or TS-42."""
    value = text.strip().lstrip("#")
    prefix = f"{settings.TESSERA_TICKET_PREFIX}-"
    if value.upper().startswith(prefix.upper()):
        value = value[len(prefix) :]
    number = parse_id(value)
    if number is None:
        raise ValidationFailed(_("Enter a ticket number, such as %(example)s.") % {"example": f"{prefix}42"})
    return number


@require_http_methods(["GET", "POST"])
@agent_required
def mail_held(request: HttpRequest, message_id: int) -> HttpResponse:
    user = _actor(request)
    row = review.get_held(user, message_id)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in InboundMessage.Release.values:
                done = review.release(actor=user, pk=row.pk, how=action)
                if done.status == InboundMessage.Status.PROCESSED and done.ticket_id:
                    messages.success(
                        request, _("Released: the message is now on ticket #%(id)s.") % {"id": done.ticket_id}
                    )
                else:
                    messages.warning(
                        request,
                        _("Released, but it was not added to a ticket: %(reason)s")
                        % {"reason": done.error or done.get_status_display()},
                    )
            elif action == "attach":
                ticket_id = _ticket_number(request.POST.get("ticket", ""))
                review.attach(actor=user, pk=row.pk, ticket_id=ticket_id)
                messages.success(
                    request, _("Attached to ticket #%(id)s as an internal note.") % {"id": ticket_id}
                )
            elif action == "reject":
                review.reject(actor=user, pk=row.pk)
                messages.success(request, _("Rejected. Nothing was created and nobody was mailed."))
            else:
                raise ValidationFailed(_("Choose an action."))
            return redirect(reverse("workspace:mail_review"))
        except DomainError as failure:
            error = str(failure.message)
    return render(
        request,
        "workspace/mail_held.html",
        {
            **_sidebar(user, "mail-review"),
            "row": row,
            "shown": review.shown_raw(row),
            "can_release_as_sender": access.can_release_as_sender(user, row),
            "events": row.security_events.order_by("created_at", "id"),
            "error": error,
            "ticket_value": request.POST.get("ticket", ""),
        },
        status=400 if error else 200,
    )


@require_GET
@agent_required
def security_log(request: HttpRequest) -> HttpResponse:
    user = _actor(request)
    if not access.can_view_security_log(user):
        return HttpResponseForbidden(_("Only administrators can read the security log."))
    kind = request.GET.get("kind", "")
    if kind and kind not in SecurityEvent.Kind.values:
        raise Http404
    days = parse_id(request.GET.get("days", "30")) or 30
    filters = security.LogFilters(kind=kind, sender=request.GET.get("sender", "")[:320], days=min(days, 366))
    if request.GET.get("format") == "csv":
        response = HttpResponse(security.export_csv(user, filters), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="mail-security-log.csv"'
        return response
    labels = dict(SecurityEvent.Kind.choices)
    return render(
        request,
        "workspace/security_log.html",
        {
            **_sidebar(user, "security-log"),
            "filters": filters,
            "kinds": SecurityEvent.Kind.choices,
            "daily": [
                (day, sender, labels.get(code, code), count)
                for day, sender, code, count in security.daily_counts(user, filters)
            ],
            "events": list(security.events(user, filters)[:LOG_ROWS]),
            "query": request.GET.urlencode(),
        },
    )
