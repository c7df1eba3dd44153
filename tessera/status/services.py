"""Status page commands: component states, incidents and their updates, planned maintenance, announcements,
and tickets linked to incidents.

Each command validates first, then writes its rows, the component state history, the page revision and
(when customers are told) an Announcement with its fan-out task, all in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core import clock
from tessera.core.errors import DomainError, IllegalTransition, PermissionDenied, ValidationFailed
from tessera.core.ids import ID_RANGE, parse_id
from tessera.core.text import clean_text
from tessera.status.models import (
    Announcement,
    Component,
    ComponentGroup,
    ComponentState,
    Incident,
    IncidentImpact,
    IncidentStatus,
    IncidentTicket,
    IncidentUpdate,
    Maintenance,
    MaintenanceStatus,
    Revision,
    StateChange,
)
from tessera.tickets.models import Status as TicketStatus
from tessera.tickets.models import Ticket

TITLE_MAX = 200
BODY_MAX = 20_000


def _check_staff(actor: User) -> None:
    if not actor.is_agent:
        raise PermissionDenied(_("Only agents and administrators can change the status page."))


def _check_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_("Only administrators can change the status page's components."))


REVISION_KEY = "status:revision"
# How long a process may trust its cached copy of the revision. With a shared cache (Redis) the key is
# deleted on every change, so all hosts see it at once; with the per-process memory cache other processes
# notice within this many seconds. It spares the page a database round trip on every hit.
REVISION_TTL = 2


def bump_revision() -> None:
    """Count a change to the status page; every cached copy keyed on the old count is now stale. Call it
    inside the transaction of the change, so readers never see new data under an old revision."""
    if not Revision.objects.filter(pk=1).update(value=F("value") + 1):
        try:
            with transaction.atomic():
                Revision.objects.create(pk=1, value=1)
        except IntegrityError:  # created concurrently: count on it
            Revision.objects.filter(pk=1).update(value=F("value") + 1)
    # Now and after commit: a reader between the two may cache the old value again; the second delete
    # removes it.
    cache.delete(REVISION_KEY)
    transaction.on_commit(lambda: cache.delete(REVISION_KEY))


def current_revision() -> int:
    value: int | None = cache.get(REVISION_KEY)
    if value is None:
        value = Revision.objects.filter(pk=1).values_list("value", flat=True).first() or 0
        cache.set(REVISION_KEY, value, REVISION_TTL)
    return value


# --------------------------------------------------------------------------------------------------
# Components
# --------------------------------------------------------------------------------------------------


def create_component(
    *, actor: User, group: str, name: str, description: str = "", order: int = 0
) -> Component:
    """Add a component to a group (created when new)."""
    _check_admin(actor)
    group_name = clean_text(group, field="group", max_length=100, required=True, single_line=True)
    name = clean_text(name, field="name", max_length=100, required=True, single_line=True)
    description = clean_text(description, field="description", max_length=300, single_line=True)
    if "/" in group_name or "/" in name:
        # "Group / Component" is how CSV files and the API name a component.
        raise ValidationFailed(_("Names cannot contain “/”."), field="name")
    with transaction.atomic():
        group_obj, _created = ComponentGroup.objects.get_or_create(name=group_name)
        if Component.objects.filter(group=group_obj, name=name).exists():
            raise ValidationFailed(_("This group already has a component with this name."), field="name")
        component = Component.objects.create(
            group=group_obj, name=name, description=description, order=order, created_at=clock.now()
        )
        StateChange.objects.create(component=component, state=component.state, at=component.created_at)
        bump_revision()
    return component


def set_component_state(*, actor: User, component: Component, state: str) -> Component:
    """Change a component's state by hand (outside an incident); records the history."""
    _check_staff(actor)
    state = _clean_state(state)
    with transaction.atomic():
        _set_states([component], state, clock.now())
        bump_revision()
    component.state = state
    return component


def _clean_state(state: str, field: str = "state") -> str:
    if state not in ComponentState.values:
        raise ValidationFailed(
            _("Unknown state “%(value)s”.") % {"value": str(state)[:32]},
            field=field,
        )
    return state


def _set_states(components: Iterable[Component], state: str, at: datetime) -> None:
    changed = [c for c in components if c.state != state]
    if not changed:
        return
    Component.objects.filter(pk__in=[c.pk for c in changed]).update(state=state)
    StateChange.objects.bulk_create([StateChange(component=c, state=state, at=at) for c in changed])
    for component in changed:
        component.state = state


def resolve_components(values: Iterable[int | str], field: str = "components") -> list[Component]:
    """Components by id or by "Group / Component"; any unknown one is a ValidationFailed naming it."""
    ids: list[int] = []
    labels: list[str] = []
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool):
            if value not in ID_RANGE:  # beyond the primary key's range: the database would refuse it
                raise ValidationFailed(_("Unknown component %(value)s.") % {"value": value}, field=field)
            ids.append(value)
        elif (pk := parse_id(value)) is not None:
            ids.append(pk)
        else:
            labels.append(" / ".join(p.strip() for p in str(value).split("/")).casefold())
    found = list(Component.objects.select_related("group").filter(pk__in=ids)) if ids else []
    known_ids = {c.pk for c in found}
    for pk in ids:
        if pk not in known_ids:
            raise ValidationFailed(_("Unknown component %(value)s.") % {"value": pk}, field=field)
    if labels:
        by_label = {
            f"{c.group.name} / {c.name}".casefold(): c for c in Component.objects.select_related("group")
        }
        for label in labels:
            if label not in by_label:
                raise ValidationFailed(
                    _("Unknown component “%(value)s”.") % {"value": label[:200]}, field=field
                )
            found.append(by_label[label])
    unique: dict[int, Component] = {c.pk: c for c in found}
    return list(unique.values())


# --------------------------------------------------------------------------------------------------
# Incidents
# --------------------------------------------------------------------------------------------------


def post_incident(
    *,
    actor: User,
    title: str,
    body: str,
    components: list[Component],
    impact: str = IncidentImpact.MINOR,
    status: str = IncidentStatus.INVESTIGATING,
    component_state: str | None = ComponentState.MAJOR_OUTAGE,
    notify: bool = True,
) -> Incident:
    """Open an incident with its first update, put the affected components in `component_state`, and
    (when `notify`) announce it to the customers whose services run on them."""
    _check_staff(actor)
    title = clean_text(title, field="title", max_length=TITLE_MAX, required=True, single_line=True)
    body = clean_text(body, field="body", max_length=BODY_MAX, required=True)
    if impact not in IncidentImpact.values:
        raise ValidationFailed(_("Unknown impact."), field="impact")
    if status not in IncidentStatus.values or status == IncidentStatus.RESOLVED:
        raise ValidationFailed(_("A new incident cannot already be resolved."), field="status")
    if not components:
        raise ValidationFailed(_("Choose at least one affected component."), field="components")
    if component_state is not None:
        _clean_state(component_state, "component_state")
    now = clock.now()
    with transaction.atomic():
        incident = Incident.objects.create(
            title=title, impact=impact, status=status, created_by=actor, started_at=now, updated_at=now
        )
        incident.components.set(components)
        update = IncidentUpdate.objects.create(
            incident=incident, status=status, body=body, created_by=actor, created_at=now
        )
        if component_state is not None:
            _set_states(components, component_state, now)
        bump_revision()
        if notify:
            _announce(Announcement.Subject.INCIDENT, components, incident=incident, update=update)
    return incident


def post_incident_update(
    *,
    actor: User,
    incident: Incident,
    status: str,
    body: str,
    component_state: str | None = None,
    notify: bool = True,
) -> IncidentUpdate:
    """Add an update to the incident's timeline. Resolving it restores its components to operational
    (unless another open incident or running maintenance still holds them)."""
    _check_staff(actor)
    body = clean_text(body, field="body", max_length=BODY_MAX, required=True)
    if status not in IncidentStatus.values:
        raise ValidationFailed(_("Unknown status."), field="status")
    if incident.is_resolved:
        raise IllegalTransition(_("This incident is resolved; open a new one."), field="status")
    if component_state is not None:
        _clean_state(component_state, "component_state")
    now = clock.now()
    with transaction.atomic():
        # Lock the incident so two agents resolving it at once cannot both run the resolution.
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if locked.is_resolved:
            raise IllegalTransition(_("This incident is resolved; open a new one."), field="status")
        update = IncidentUpdate.objects.create(
            incident=incident, status=status, body=body, created_by=actor, created_at=now
        )
        changes: dict[str, Any] = {"status": status, "updated_at": now}
        if status == IncidentStatus.RESOLVED:
            changes["resolved_at"] = now
        Incident.objects.filter(pk=incident.pk).update(**changes)
        for key, value in changes.items():
            setattr(incident, key, value)
        components = list(incident.components.all())
        if status == IncidentStatus.RESOLVED:
            _restore_components(components, now, except_incident=incident.pk)
        elif component_state is not None:
            _set_states(components, component_state, now)
        bump_revision()
        if notify and components:
            _announce(Announcement.Subject.INCIDENT_UPDATE, components, incident=incident, update=update)
    return update


def _restore_components(components: list[Component], at: datetime, *, except_incident: int) -> None:
    """Back to operational, except components another open incident or running maintenance still holds."""
    ids = [c.pk for c in components]
    held = set(
        Incident.objects.filter(components__in=ids)
        .exclude(status=IncidentStatus.RESOLVED)
        .exclude(pk=except_incident)
        .values_list("components", flat=True)
    )
    in_maintenance = set(
        Maintenance.objects.filter(components__in=ids, status=MaintenanceStatus.IN_PROGRESS).values_list(
            "components", flat=True
        )
    )
    _set_states(
        [c for c in components if c.pk not in held and c.pk not in in_maintenance],
        ComponentState.OPERATIONAL,
        at,
    )
    maintenance_only = [c for c in components if c.pk in in_maintenance and c.pk not in held]
    _set_states(maintenance_only, ComponentState.MAINTENANCE, at)


# --------------------------------------------------------------------------------------------------
# Planned maintenance
# --------------------------------------------------------------------------------------------------


def _clean_window(starts_at: datetime | None, ends_at: datetime | None) -> tuple[datetime, datetime]:
    if starts_at is None:
        raise ValidationFailed(_("Give the start of the window."), field="starts_at")
    if ends_at is None:
        raise ValidationFailed(_("Give the end of the window."), field="ends_at")
    for value, name in ((starts_at, "starts_at"), (ends_at, "ends_at")):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationFailed(_("Give the time with its time zone."), field=name)
    if ends_at <= starts_at:
        raise ValidationFailed(_("The maintenance window must end after it starts."), field="ends_at")
    if ends_at <= clock.now():
        raise ValidationFailed(_("This window has already ended."), field="ends_at")
    return starts_at, ends_at


def schedule_maintenance(
    *,
    actor: User,
    title: str,
    description: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    components: list[Component],
    notify: bool = True,
) -> Maintenance:
    """Plan a maintenance window on some components and announce it to their customers."""
    _check_staff(actor)
    title = clean_text(title, field="title", max_length=TITLE_MAX, required=True, single_line=True)
    description = clean_text(description, field="description", max_length=BODY_MAX)
    starts_at, ends_at = _clean_window(starts_at, ends_at)
    if not components:
        raise ValidationFailed(_("Choose at least one affected component."), field="components")
    now = clock.now()
    with transaction.atomic():
        maintenance = Maintenance.objects.create(
            title=title,
            description=description,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        maintenance.components.set(components)
        bump_revision()
        if notify:
            _announce(Announcement.Subject.MAINTENANCE, components, maintenance=maintenance)
    if starts_at <= now:
        start_due_maintenance(now)
    return maintenance


def reschedule_maintenance(
    *,
    actor: User,
    maintenance: Maintenance,
    starts_at: datetime | None,
    ends_at: datetime | None,
    notify: bool = True,
) -> Maintenance:
    """Move a window that has not completed; its customers are told the new times."""
    _check_staff(actor)
    if maintenance.status == MaintenanceStatus.COMPLETED:
        raise IllegalTransition(_("This maintenance is completed."), field="status")
    if maintenance.status == MaintenanceStatus.IN_PROGRESS and starts_at != maintenance.starts_at:
        raise IllegalTransition(_("This maintenance has started; only its end can move."), field="starts_at")
    starts_at, ends_at = _clean_window(starts_at, ends_at)
    now = clock.now()
    with transaction.atomic():
        Maintenance.objects.filter(pk=maintenance.pk).update(
            starts_at=starts_at, ends_at=ends_at, updated_at=now, sequence=F("sequence") + 1
        )
        maintenance.refresh_from_db()
        bump_revision()
        components = list(maintenance.components.all())
        if notify and components:
            _announce(Announcement.Subject.MAINTENANCE_UPDATE, components, maintenance=maintenance)
    return maintenance


def complete_maintenance(
    *, actor: User | None, maintenance: Maintenance, notify: bool = False
) -> Maintenance:
    """End a window (early, or on time from the sweep); its components return to operational."""
    if actor is not None:
        _check_staff(actor)
    now = clock.now()
    if maintenance.starts_at > now:
        raise IllegalTransition(
            _("This maintenance has not started yet; move its window instead."), field="status"
        )
    with transaction.atomic():
        claimed = (
            Maintenance.objects.filter(pk=maintenance.pk)
            .exclude(status=MaintenanceStatus.COMPLETED)
            .update(
                status=MaintenanceStatus.COMPLETED,
                updated_at=now,
                ends_at=_min(maintenance.ends_at, now),
                sequence=F("sequence") + 1,
            )
        )
        if not claimed:
            raise IllegalTransition(_("This maintenance is already completed."), field="status")
        maintenance.refresh_from_db()
        components = list(maintenance.components.all())
        _restore_components_after_maintenance(components, now, maintenance.pk)
        bump_revision()
        if notify and components:
            _announce(Announcement.Subject.MAINTENANCE_UPDATE, components, maintenance=maintenance)
    return maintenance


def _min(a: datetime, b: datetime) -> datetime:
    return a if a <= b else b


def _restore_components_after_maintenance(
    components: list[Component], at: datetime, maintenance_id: int
) -> None:
    ids = [c.pk for c in components]
    in_incident = set(
        Incident.objects.filter(components__in=ids)
        .exclude(status=IncidentStatus.RESOLVED)
        .values_list("components", flat=True)
    )
    other_windows = set(
        Maintenance.objects.filter(components__in=ids, status=MaintenanceStatus.IN_PROGRESS)
        .exclude(pk=maintenance_id)
        .values_list("components", flat=True)
    )
    # A component still in an incident keeps the incident's state.
    _set_states(
        [
            c
            for c in components
            if c.pk not in in_incident and c.pk not in other_windows and c.state == ComponentState.MAINTENANCE
        ],
        ComponentState.OPERATIONAL,
        at,
    )


def start_due_maintenance(now: datetime | None = None) -> int:
    """Windows whose start has come go in progress (components: under maintenance); those whose end has
    passed complete. Run by the worker every minute; each step is claimed by a conditional UPDATE."""
    now = now or clock.now()
    changed = 0
    for maintenance in Maintenance.objects.filter(status=MaintenanceStatus.SCHEDULED, starts_at__lte=now):
        with transaction.atomic():
            if not Maintenance.objects.filter(pk=maintenance.pk, status=MaintenanceStatus.SCHEDULED).update(
                status=MaintenanceStatus.IN_PROGRESS, updated_at=now, sequence=F("sequence") + 1
            ):
                continue
            components = list(maintenance.components.all())
            busy = set(
                Incident.objects.filter(components__in=[c.pk for c in components])
                .exclude(status=IncidentStatus.RESOLVED)
                .values_list("components", flat=True)
            )
            _set_states([c for c in components if c.pk not in busy], ComponentState.MAINTENANCE, now)
            bump_revision()
            changed += 1
    for maintenance in Maintenance.objects.filter(status=MaintenanceStatus.IN_PROGRESS, ends_at__lte=now):
        try:
            complete_maintenance(actor=None, maintenance=maintenance)
        except IllegalTransition:  # completed by someone else meanwhile
            continue
        changed += 1
    return changed


# --------------------------------------------------------------------------------------------------
# Announcements
# --------------------------------------------------------------------------------------------------


def _announce(
    subject: str,
    components: list[Component],
    *,
    incident: Incident | None = None,
    update: IncidentUpdate | None = None,
    maintenance: Maintenance | None = None,
) -> Announcement:
    """Write the announcement and enqueue its fan-out in the caller's transaction: if the post commits,
    the customers will be told (even across a crash); if it rolls back, nobody is."""
    from tessera.status.tasks import fan_out_announcement

    announcement = Announcement.objects.create(
        subject=subject,
        incident=incident,
        update=update,
        maintenance=maintenance,
        component_ids=sorted(c.pk for c in components),
        created_at=clock.now(),
    )
    fan_out_announcement.enqueue(announcement.pk)
    return announcement


def recipient_ids(component_ids: list[int]) -> list[int]:
    """Active customers holding an active service on one of the components, directly or through their
    organisation; each once, in id order."""
    from tessera.catalog.models import CustomerService

    services = CustomerService.objects.filter(component_id__in=component_ids, is_active=True)
    direct = services.filter(user__isnull=False).values("user_id")
    organisations = services.filter(organisation__isnull=False).values("organisation_id")
    return list(
        User.objects.filter(Q(pk__in=direct) | Q(organisation_id__in=organisations))
        .filter(is_active=True, role=User.Role.CUSTOMER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --------------------------------------------------------------------------------------------------
# Tickets linked to incidents
# --------------------------------------------------------------------------------------------------


def link_ticket(*, actor: User, incident: Incident, ticket: Ticket) -> IncidentTicket:
    """Link a ticket the agent can see to an incident (idempotent)."""
    from tessera.tickets.access import can_work_on

    _check_staff(actor)
    if not can_work_on(actor, ticket):
        raise PermissionDenied(_("You cannot work on this ticket."), field="ticket_id")
    link, _created = IncidentTicket.objects.get_or_create(
        incident=incident, ticket=ticket, defaults={"linked_by": actor, "linked_at": clock.now()}
    )
    return link


def unlink_ticket(*, actor: User, incident: Incident, ticket: Ticket) -> None:
    """Remove the link between a ticket and an incident."""
    _check_staff(actor)
    IncidentTicket.objects.filter(incident=incident, ticket=ticket).delete()


@dataclass
class TicketOutcome:
    ticket_id: int
    reference: str
    ok: bool
    replied: bool = False
    resolved: bool = False
    error: str = ""


def answer_linked_tickets(
    *, actor: User, incident: Incident, body: str, resolve: bool = True
) -> list[TicketOutcome]:
    """Post one public reply to every open linked ticket and (when `resolve`) resolve it. Each ticket is
    its own transaction (through the ticket services), so one refused ticket does not stop the others;
    the outcome of each is returned."""
    from tessera.tickets.services import add_reply, transition_ticket

    _check_staff(actor)
    body = clean_text(body, field="body", max_length=BODY_MAX, required=True)
    outcomes: list[TicketOutcome] = []
    links = IncidentTicket.objects.filter(incident=incident).select_related("ticket").order_by("ticket_id")
    for link in links:
        ticket = link.ticket
        outcome = TicketOutcome(ticket_id=ticket.pk, reference=ticket.reference, ok=False)
        outcomes.append(outcome)
        if ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            outcome.ok = True  # already answered and done: nothing to say twice
            continue
        try:
            add_reply(actor=actor, ticket=ticket, body=body)
            outcome.replied = True
            if resolve:
                ticket.refresh_from_db()
                transition_ticket(actor=actor, ticket=ticket, status=TicketStatus.RESOLVED)
                outcome.resolved = True
            outcome.ok = True
        except DomainError as exc:
            outcome.error = str(exc.message)
    return outcomes
