from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tessera.tickets.queries import visible_tickets


def home(request: HttpRequest) -> HttpResponse:
    tickets = []
    if request.user.is_authenticated:
        tickets = list(visible_tickets(request.user).select_related("priority", "department")[:20])
    return render(request, "portal/home.html", {"tickets": tickets})
