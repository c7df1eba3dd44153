"""The full original of an inbound message, one click from the ticket (agents who can see the ticket)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from tessera.mail.inbound.store import read_raw
from tessera.mail.models import InboundMessage
from tessera.tickets import access


@require_GET
@login_required
def original(request: HttpRequest, pk: int) -> HttpResponse:
    """The raw .eml as text/plain (never rendered as HTML), for admins or agents of the ticket."""
    row = InboundMessage.objects.select_related("ticket").filter(pk=pk).first()
    user = request.user
    if row is None or not getattr(user, "is_agent", False):
        raise Http404
    if not user.is_admin and (row.ticket is None or not access.can_work_on(user, row.ticket)):  # type: ignore[union-attr,arg-type]
        raise Http404
    response = HttpResponse(read_raw(row), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="message-{row.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
