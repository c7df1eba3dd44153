"""The staff's status pages at /status/manage/: where agents post incidents, updates and maintenance,
link tickets and answer them. Views validate forms, call one service and redirect; domain errors are
shown next to the field."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tessera.accounts.models import User
from tessera.core.errors import DomainError, NotFound
from tessera.status import forms as status_forms
from tessera.status import services
from tessera.status.models import (
    Component,
    ComponentState,
    Incident,
    IncidentStatus,
    Maintenance,
    MaintenanceStatus,
)
from tessera.tickets.queries import get_ticket_for

View = Callable[..., HttpResponse]


def agent_required(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_agent:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _attach(form: forms.Form, error: DomainError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))


@agent_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = status_forms.ComponentStateForm(request.POST)
        if form.is_valid():
            try:
                services.set_component_state(
                    actor=_actor(request),
                    component=form.cleaned_data["component"],
                    state=form.cleaned_data["state"],
                )
                messages.success(request, _("The component's state was changed."))
            except DomainError as error:
                messages.error(request, str(error.message))
        else:
            messages.error(request, _("Choose a component and a state."))
        return redirect("status:manage")
    return render(
        request,
        "status/manage/dashboard.html",
        {
            "incidents": Incident.objects.exclude(status=IncidentStatus.RESOLVED).prefetch_related(
                "components__group"
            ),
            "recent": Incident.objects.filter(status=IncidentStatus.RESOLVED)[:10],
            "maintenance": Maintenance.objects.exclude(status=MaintenanceStatus.COMPLETED).prefetch_related(
                "components__group"
            ),
            "components": Component.objects.select_related("group"),
            "states": ComponentState.choices,
        },
    )


@agent_required
def new_incident(request: HttpRequest) -> HttpResponse:
    form = status_forms.IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.post_incident(
                actor=_actor(request),
                title=data["title"],
                body=data["body"],
                components=list(data["components"]),
                impact=data["impact"],
                status=data["status"],
                component_state=data["component_state"] or None,
                notify=data["notify"],
            )
        except DomainError as error:
            _attach(form, error)
        else:
            messages.success(request, _("The incident is posted."))
            return redirect("status:manage_incident", incident.pk)
    return render(
        request, "status/manage/incident_form.html", {"form": form}, status=422 if form.errors else 200
    )


@agent_required
def incident(request: HttpRequest, incident_id: int) -> HttpResponse:
    found = Incident.objects.filter(pk=incident_id).prefetch_related("updates", "components__group").first()
    if found is None:
        raise Http404
    actor = _actor(request)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    update_form = status_forms.UpdateForm(request.POST if action == "update" else None)
    link_form = status_forms.LinkTicketForm(request.POST if action == "link" else None)
    answer_form = status_forms.AnswerTicketsForm(request.POST if action == "answer" else None)
    outcomes: list[services.TicketOutcome] = []
    try:
        if action == "update" and update_form.is_valid():
            data = update_form.cleaned_data
            services.post_incident_update(
                actor=actor,
                incident=found,
                status=data["status"],
                body=data["body"],
                component_state=data["component_state"] or None,
                notify=data["notify"],
            )
            messages.success(request, _("The update is posted."))
            return redirect("status:manage_incident", found.pk)
        if action == "link" and link_form.is_valid():
            try:
                ticket = get_ticket_for(actor, link_form.cleaned_data["ticket"])
            except NotFound:
                link_form.add_error("ticket", _("No ticket with this number that you can see."))
            else:
                services.link_ticket(actor=actor, incident=found, ticket=ticket)
                messages.success(request, _("Ticket %(ref)s is linked.") % {"ref": ticket.reference})
                return redirect("status:manage_incident", found.pk)
        if action == "unlink":
            link = found.ticket_links.filter(ticket_id=request.POST.get("ticket_id", "0")[:12] or 0).first()
            if link is not None:
                services.unlink_ticket(actor=actor, incident=found, ticket=link.ticket)
                messages.success(request, _("The ticket is no longer linked."))
            return redirect("status:manage_incident", found.pk)
        if action == "answer" and answer_form.is_valid():
            outcomes = services.answer_linked_tickets(
                actor=actor,
                incident=found,
                body=answer_form.cleaned_data["body"],
                resolve=answer_form.cleaned_data["resolve"],
            )
            failed = [o for o in outcomes if not o.ok]
            if failed:
                messages.warning(
                    request,
                    ngettext(
                        "%(count)d ticket could not be answered; see below.",
                        "%(count)d tickets could not be answered; see below.",
                        len(failed),
                    )
                    % {"count": len(failed)},
                )
            else:
                messages.success(request, _("Every linked ticket is answered."))
    except DomainError as error:
        target = {"update": update_form, "link": link_form, "answer": answer_form}.get(action)
        if target is not None:
            _attach(target, error)
        else:
            messages.error(request, str(error.message))
    links = found.ticket_links.select_related("ticket").order_by("ticket_id")
    return render(
        request,
        "status/manage/incident.html",
        {
            "incident": found,
            "update_form": update_form,
            "link_form": link_form,
            "answer_form": answer_form,
            "links": links,
            "outcomes": outcomes,
        },
        status=422 if (update_form.errors or link_form.errors or answer_form.errors) else 200,
    )


@agent_required
def new_maintenance(request: HttpRequest) -> HttpResponse:
    form = status_forms.MaintenanceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            window = services.schedule_maintenance(
                actor=_actor(request),
                title=data["title"],
                description=data["description"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                components=list(data["components"]),
                notify=data["notify"],
            )
        except DomainError as error:
            _attach(form, error)
        else:
            messages.success(request, _("The maintenance is scheduled."))
            return redirect("status:manage_maintenance", window.pk)
    return render(
        request, "status/manage/maintenance_form.html", {"form": form}, status=422 if form.errors else 200
    )


@agent_required
def maintenance(request: HttpRequest, maintenance_id: int) -> HttpResponse:
    window = Maintenance.objects.filter(pk=maintenance_id).prefetch_related("components__group").first()
    if window is None:
        raise Http404
    action = request.POST.get("action", "") if request.method == "POST" else ""
    form = status_forms.RescheduleForm(
        request.POST if action == "reschedule" else None,
        initial={"starts_at": window.starts_at, "ends_at": window.ends_at},
    )
    try:
        if action == "reschedule" and form.is_valid():
            services.reschedule_maintenance(
                actor=_actor(request),
                maintenance=window,
                starts_at=form.cleaned_data["starts_at"],
                ends_at=form.cleaned_data["ends_at"],
                notify=form.cleaned_data["notify"],
            )
            messages.success(request, _("The window is moved."))
            return redirect("status:manage_maintenance", window.pk)
        if action == "complete":
            services.complete_maintenance(actor=_actor(request), maintenance=window, notify=True)
            messages.success(request, _("The maintenance is completed."))
            return redirect("status:manage_maintenance", window.pk)
    except DomainError as error:
        if action == "reschedule":
            _attach(form, error)
        else:
            messages.error(request, str(error.message))
    return render(
        request,
        "status/manage/maintenance.html",
        {"maintenance": window, "form": form},
        status=422 if form.errors else 200,
    )
