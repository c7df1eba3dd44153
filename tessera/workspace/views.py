"""Agent workspace pages. Each view: parse → fetch through the queries → one service call → page or
partial. htmx requests get the same page; the templates mark which part they swap."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models import Q, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tessera.accounts.models import Department, User
from tessera.accounts.preferences import request_language, time_zone_names
from tessera.accounts.queries import (
    get_contact_for,
    get_department_for,
    visible_contacts,
    visible_organisations,
)
from tessera.accounts.services import clean_email, create_contact
from tessera.core import clock
from tessera.core.errors import DomainError, NotFound, ValidationFailed
from tessera.core.ids import parse_id
from tessera.core.pagination import paginate
from tessera.mail.tracking import delivery_problems
from tessera.search.services import named_ticket, search_tickets
from tessera.sla import queries as sla
from tessera.tickets import access
from tessera.tickets import services as tickets
from tessera.tickets.access import visible_tickets
from tessera.tickets.models import Channel, Priority, Status, Ticket
from tessera.tickets.queries import get_ticket_for
from tessera.workspace import queries, services
from tessera.workspace.models import CannedResponse
from tessera.workspace.timeline import entries_for

PAGE_SIZE = 25
View = Callable[..., HttpResponse]


def agent_required(view: View) -> View:
    """Signed-in agents only: others are sent to sign in, customers get 403. An invisible ticket is 404."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_agent:
            return HttpResponseForbidden(_("The agent workspace is for agents only."))
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(str(error.message)) from None

    return wrapped


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _sidebar(user: User, current: str, *, counts: bool = False) -> dict[str, Any]:
    """The queue list. Pages leave the counts out and the sidebar fetches them from `counts` as soon as
    it loads: six bounded counts were a third of a page's time (measured at 100,000 tickets)."""
    counted = queries.queue_counts(user) if counts else {}
    groups: dict[str, list[dict[str, Any]]] = {"main": [], "departments": []}
    for queue in queries.queues_for(user):
        groups[queue.group].append(
            {
                "key": queue.key,
                "label": queue.label,
                "count": counted.get(queue.key),
                "current": queue.key == current,
            }
        )
    return {
        "queues": groups["main"],
        "department_queues": groups["departments"],
        "current_queue": current,
        "counted": counts,
    }


# Queues ------------------------------------------------------------------------------------------------


@agent_required
@require_GET
def queue(request: HttpRequest, key: str = "mine") -> HttpResponse:
    user = _actor(request)
    filters = queries.Filters.from_query(request.GET)
    base = queries.queue_tickets(user, key)
    error: DomainError | None = None
    try:
        selected = queries.apply_filters(user, base, filters)
        # The page's rows first, their related rows after: joined before the LIMIT, PostgreSQL hashed
        # every user to serve a deep page (12 ms at 300,000 tickets, growing with the customers).
        page = paginate(
            selected,
            ordering=queries.ordering(filters),
            cursor=request.GET.get("cursor") or None,
            limit=PAGE_SIZE,
        )
        rows, next_cursor = page.items, page.next_cursor
        prefetch_related_objects(rows, "priority", "department", "requester", "assignee")
    except ValidationFailed as failure:
        error, rows, next_cursor = failure, [], None
    title = next((q.label for q in queries.queues_for(user) if q.key == key), key)
    params = request.GET.copy()
    params.pop("cursor", None)
    next_params = params.copy()
    if next_cursor:
        next_params["cursor"] = next_cursor
    context = {
        **_sidebar(user, key),
        "title": title,
        "rows": rows,
        "sla": sla.time_left(rows, clock.now()),
        "filters": filters,
        "error": error,
        "next_url": f"?{next_params.urlencode()}" if next_cursor else "",
        "first_url": f"?{params.urlencode()}" if request.GET.get("cursor") else "",
        "query_string": request.GET.urlencode(),
        "sorts": [(k, label) for k, (label, _o) in queries.SORTS.items()],
        **_choices(user),
    }
    return render(request, "workspace/queue.html", context, status=422 if error else 200)


def _choices(user: User) -> dict[str, Any]:
    departments = list(queries.departments_of(user))
    return {
        "statuses": Status.choices,
        "priorities": list(Priority.objects.all()),
        "departments": departments,
        "channels": Channel.choices,
        "agents": list(
            User.objects.filter(memberships__department__in=departments, is_active=True)
            .distinct()
            .order_by("full_name")
        ),
    }


@agent_required
@require_GET
def counts(request: HttpRequest) -> HttpResponse:
    """The sidebar alone, polled by htmx so counts stay current without reloading the page."""
    return render(
        request,
        "workspace/_sidebar.html",
        _sidebar(_actor(request), request.GET.get("current", ""), counts=True),
    )


@agent_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    user = _actor(request)
    text = request.GET.get("q", "")
    error = None
    rows: list[Ticket] = []
    next_cursor = None
    try:
        # A ticket number the agent may see opens that ticket, as in every help desk's search box.
        if not request.GET.get("cursor") and (named := named_ticket(user, text)) is not None:
            return redirect("workspace:ticket", ticket_id=named.pk)
        page = search_tickets(user, text, request.GET.get("cursor") or None)
        rows, next_cursor = page.items, page.next_cursor
    except ValidationFailed as failure:
        error = failure
    params = QueryDict(mutable=True)
    params["q"] = text
    if next_cursor:
        params["cursor"] = next_cursor
    context = {
        **_sidebar(user, ""),
        "title": _("Search"),
        "q": text,
        "rows": rows,
        "sla": sla.time_left(rows, clock.now()),
        "error": error,
        "next_url": f"?{params.urlencode()}" if next_cursor else "",
    }
    return render(request, "workspace/search.html", context, status=422 if error else 200)


# Bulk actions -------------------------------------------------------------------------------------------


@agent_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    user = _actor(request)
    post = request.POST
    error = None
    outcomes: list[services.BulkOutcome] = []
    try:
        ids = [pk for value in post.getlist("ids") if (pk := parse_id(value)) is not None]
        assignee = None
        if post.get("action") == "assign" and post.get("assignee") not in ("", "none", None):
            assignee = _agent(user, post.get("assignee", ""))
        target = None
        if post.get("action") == "merge":
            target = _ticket_by_reference(user, post.get("target", ""), field="target")
        outcomes = services.bulk_update(
            actor=user,
            request=services.BulkRequest(
                action=post.get("action", ""),
                ticket_ids=ids,
                assignee=assignee,
                status=post.get("status", ""),
                reason=post.get("reason", ""),
                tag=post.get("tag", ""),
                target=target,
            ),
        )
    except DomainError as failure:
        error = failure
    back = post.get("back", "")
    context = {
        **({} if request.htmx else _sidebar(user, "")),  # type: ignore[attr-defined]
        "outcomes": outcomes,
        "failed": [o for o in outcomes if not o.ok],
        "error": error,
        "back": back if back.startswith("/agent/") else reverse("workspace:home"),
    }
    template = "workspace/_bulk_result.html" if request.htmx else "workspace/bulk.html"  # type: ignore[attr-defined]
    response = render(request, template, context, status=422 if error else 200)
    if outcomes:
        response["HX-Trigger"] = "queue-changed"
    return response


def _agent(user: User, value: str) -> User:
    if value == "me":
        return user
    pk = parse_id(value)
    agent = User.objects.filter(pk=pk, is_active=True).first() if pk is not None else None
    if agent is None or not agent.is_agent:
        raise ValidationFailed(_("Choose an agent."), field="assignee")
    return agent


def _ticket_by_reference(user: User, value: str, *, field: str) -> Ticket:
    """A ticket from what an agent types: "T-123", "#123" or "123"; 404 message if not visible."""
    found = re.fullmatch(
        rf"\s*(?:{re.escape(settings.TESSERA_TICKET_PREFIX)}-|#)?(\d{{1,12}})\s*", value, re.I
    )
    if not found:
        raise ValidationFailed(_("Give a ticket number, like %(example)s.") % {"example": "#42"}, field=field)
    try:
        return get_ticket_for(user, int(found.group(1)))
    except NotFound:
        raise ValidationFailed(_("There is no such ticket."), field=field) from None


# Ticket view --------------------------------------------------------------------------------------------


@agent_required
@require_GET
def ticket_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = get_ticket_for(_actor(request), ticket_id)
    return _ticket_page(request, ticket, notice=request.GET.get("done", ""))


def _ticket_page(
    request: HttpRequest,
    ticket: Ticket,
    *,
    errors: dict[str, DomainError] | None = None,
    draft: QueryDict | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    user = _actor(request)
    ticket.refresh_from_db()
    entries = entries_for(user, ticket)
    last_event_id = max((e.event.pk or 0 for e in entries), default=0)
    others = (
        visible_tickets(user)
        .filter(requester_id=ticket.requester_id)
        .exclude(pk=ticket.pk)
        .select_related("priority")
        .order_by("-id")[:8]
    )
    details = [
        (getattr(Ticket._meta.get_field(name), "verbose_name", name), _detail(ticket, name))
        for name in tickets.DETAIL_FIELDS
        if name != "problem_started_tz" and getattr(ticket, name) not in ("", None)
    ]
    notices = {
        "reply": _("Your reply was sent."),
        "note": _("Internal note added."),
        "status": _("Status changed."),
        "priority": _("Priority changed; the customer sees the reason."),
        "department": _("Ticket moved."),
        "assignee": _("Assignee changed."),
        "tags": _("Tags saved."),
        "merge": _("Ticket merged."),
        "split": _("New ticket created from the message."),
        "publish": _("The message and its files are now shown to the customer."),
        "phone": _("Phone call logged: the caller sees this ticket in their portal."),
    }
    context = {
        **_sidebar(user, ""),
        "ticket": ticket,
        "entries": entries,
        "last_event_id": last_event_id,
        "others": others,
        "details": details,
        "tags": ", ".join(ticket.tags.values_list("name", flat=True)),
        "sla_states": sla.time_left([ticket], clock.now()).get(ticket.pk, []),
        "next_statuses": [
            (s, label) for s, label in Status.choices if s in tickets.TRANSITIONS[ticket.status]
        ],
        "priorities": Priority.objects.all(),
        "departments": Department.objects.filter(is_active=True),
        "assignable": User.objects.filter(memberships__department=ticket.department_id, is_active=True)
        .distinct()
        .order_by("full_name"),
        "canned": services.canned_for(user, ticket),
        "errors": errors or {},
        "compose_error": (errors or {}).get("reply") or (errors or {}).get("note"),
        "draft": draft or {},
        "notice": notices.get(notice, ""),
        "merged_into": ticket.merged_into,
        "delivery_problems": delivery_problems(ticket.requester),
    }
    return render(request, "workspace/ticket.html", context, status=status)


def _detail(ticket: Ticket, name: str) -> Any:
    value = getattr(ticket, name)
    display = getattr(ticket, f"get_{name}_display", None)
    if display is not None:
        return display()
    if name == "problem_started_at" and ticket.problem_started_tz:
        return f"{value:%Y-%m-%d %H:%M} ({ticket.problem_started_tz})"
    return value


def _version(post: QueryDict) -> int | None:
    version = parse_id(post.get("version", ""), minimum=0)
    if version is None:
        raise ValidationFailed(
            _("The form is out of date. Reload the ticket and try again."), field="version"
        )
    return version


@agent_required
@require_POST
def ticket_action(request: HttpRequest, ticket_id: int, action: str) -> HttpResponse:
    user = _actor(request)
    ticket = get_ticket_for(user, ticket_id)
    post = request.POST
    try:
        result = _perform(user, ticket, action, request)
    except DomainError as error:
        return _ticket_page(request, ticket, errors={action: error}, draft=post, status=error.status)
    if isinstance(result, Ticket) and result.pk != ticket.pk:
        return redirect(reverse("workspace:ticket", args=[result.pk]) + f"?done={action}")
    return redirect(reverse("workspace:ticket", args=[ticket.pk]) + f"?done={action}")


def _perform(user: User, ticket: Ticket, action: str, request: HttpRequest) -> Any:
    post = request.POST
    if action == "reply":
        return tickets.add_reply(
            actor=user,
            ticket=ticket,
            body=post.get("body", ""),
            files=list(request.FILES.getlist("files")),
            expected_version=_version(post),
        )
    if action == "note":
        return tickets.add_note(
            actor=user, ticket=ticket, body=post.get("body", ""), files=list(request.FILES.getlist("files"))
        )
    if action == "status":
        return tickets.transition_ticket(
            actor=user,
            ticket=ticket,
            status=post.get("status", ""),
            reason=post.get("reason", ""),
            expected_version=_version(post),
        )
    if action == "priority":
        priority = Priority.objects.filter(slug=post.get("priority", "")).first()
        if priority is None:
            raise ValidationFailed(_("Choose a priority."), field="priority")
        return tickets.change_priority(
            actor=user,
            ticket=ticket,
            priority=priority,
            reason=post.get("reason", ""),
            expected_version=_version(post),
        )
    if action == "department":
        return tickets.change_department(
            actor=user,
            ticket=ticket,
            department=get_department_for(user, post.get("department", "") or "0"),
            reason=post.get("reason", ""),
            expected_version=_version(post),
        )
    if action == "assignee":
        value = post.get("assignee", "")
        return tickets.assign_ticket(
            actor=user,
            ticket=ticket,
            assignee=None if value in ("", "none") else _agent(user, value),
            expected_version=_version(post),
        )
    if action == "tags":
        names = [name.strip() for name in post.get("tags", "").split(",") if name.strip()]
        if len(names) > 50:
            raise ValidationFailed(_("At most 50 tags."), field="tags")
        return tickets.set_tags(actor=user, ticket=ticket, tags=names)
    if action == "merge":
        target = _ticket_by_reference(user, post.get("target", ""), field="target")
        tickets.merge_tickets(
            actor=user,
            source=ticket,
            target=target,
            confirm_different_requesters=post.get("confirm_different_requesters") == "yes",
        )
        return target
    if action == "publish":
        message_id = parse_id(post.get("message", ""))
        moved = (
            access.visible_messages(user, ticket).filter(pk=message_id, ticket=ticket).first()
            if message_id is not None
            else None
        )
        if moved is None:
            raise ValidationFailed(_("Choose a message to make public."), field="message")
        tickets.publish_merged_message(actor=user, message=moved, confirm=post.get("confirm") == "yes")
        return ticket
    if action == "split":
        message_id = parse_id(post.get("message", ""))
        message = (
            access.visible_messages(user, ticket).filter(pk=message_id).first()
            if message_id is not None
            else None
        )
        if message is None:
            raise ValidationFailed(_("Choose a message to split."), field="message")
        return services.split_message(actor=user, message=message, subject=post.get("subject", ""))
    raise Http404


@agent_required
@require_GET
def canned(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The reply box with a canned response appended to what was already typed."""
    user = _actor(request)
    ticket = get_ticket_for(user, ticket_id)
    draft = request.GET.get("body", "")
    value = request.GET.get("canned", "")
    canned_id = parse_id(value)
    chosen = CannedResponse.objects.filter(pk=canned_id).first() if canned_id is not None else None
    if chosen is not None:
        text = services.render_canned(actor=user, canned=chosen, ticket=ticket)
        draft = f"{draft.rstrip()}\n\n{text}" if draft.strip() else text
    return render(request, "workspace/_reply_body.html", {"body": draft})


# Phone calls -------------------------------------------------------------------------------------------

# The new-contact form's fields, named as create_contact's arguments (prefixed "new_" in the form).
NEW_CONTACT_FIELDS = ("full_name", "email", "phone", "organisation", "language", "time_zone")


@agent_required
def phone(request: HttpRequest) -> HttpResponse:
    """Log a phone call for a contact found by search or created on the spot.

    The caller box (search, chosen contact, or new-contact form) is one part of the ticket form: htmx
    swaps that part alone (HX-Target "caller"), so what the agent already typed about the call stays.
    Without JavaScript the same buttons submit the whole form and the page comes back filled in.
    The "caller" parameter says what to do with the box: "search" or "new" shows that part, "create"
    creates the contact from the new-contact fields."""
    user = _actor(request)
    data = request.POST if request.method == "POST" else request.GET
    step = data.get("caller", "")
    errors: dict[str, str] = {}
    contact_errors: dict[str, str] = {}
    contact = None
    contact_id = parse_id(data.get("contact", ""))
    if step not in ("search", "new", "create") and contact_id is not None:
        contact = visible_contacts(user).filter(pk=contact_id).first()
    created = False
    if request.method == "POST" and step == "create":
        try:
            contact, created = _create_caller(user, data), True
        except DomainError as error:
            contact_errors[error.field or "form"] = str(error.message)
    elif request.method == "POST":
        try:
            if contact is None:
                raise ValidationFailed(_("Choose the caller."), field="contact")
            ticket = services.log_phone_call(
                actor=user,
                contact=get_contact_for(user, contact.pk),
                department=get_department_for(user, data.get("department", "") or "0"),
                priority=Priority.objects.filter(slug=data.get("priority", "")).first(),
                subject=data.get("subject", ""),
                description=data.get("description", ""),
            )
            if visible_tickets(user).filter(pk=ticket.pk).exists():
                return redirect(reverse("workspace:ticket", args=[ticket.pk]) + "?done=phone")
            # Logged for a department the agent does not work in: say where it went instead of a 404.
            messages.success(
                request,
                _("Ticket %(reference)s was created in %(department)s.")
                % {"reference": ticket.reference, "department": ticket.department.name},
            )
            return redirect("workspace:phone")
        except DomainError as error:
            errors[error.field or "form"] = str(error.message)
    mode = "chosen" if contact else "new" if step in ("new", "create") else "search"
    context: dict[str, Any] = {
        "data": data,
        "contact": contact,
        "created": created,
        "caller_mode": mode,
        "refocus": bool(step),
        "errors": errors,
        "contact_errors": contact_errors,
        "matches": _contacts(user, data.get("contact_q", "")) if mode == "search" else [],
        "searched": len(data.get("contact_q", "").strip()) >= 2,
    }
    if mode == "new":
        context |= _new_contact_form(request, data, contact_errors)
    status = 422 if errors or contact_errors else 200
    if _htmx_target(request) == "caller":
        return render(request, "workspace/_caller.html", context, status=status)
    context |= {
        **_sidebar(user, "phone"),
        "priorities": Priority.objects.all(),
        "departments": Department.objects.filter(is_active=True),
        "default_priority": Priority.objects.filter(is_default=True).first(),
        "default_department": queries.departments_of(user).order_by("name").first(),
    }
    return render(request, "workspace/phone.html", context, status=status)


def _htmx_target(request: HttpRequest) -> str:
    details = getattr(request, "htmx", None)
    return (details.target or "") if details else ""


def _create_caller(user: User, data: QueryDict) -> User:
    """The contact described by the new-contact fields, created through the accounts service (which
    checks that the actor is an agent and validates every field before writing)."""
    organisation = None
    value = data.get("new_organisation", "")
    if value:
        organisation_id = parse_id(value)
        found = (
            visible_organisations(user).filter(pk=organisation_id) if organisation_id is not None else None
        )
        organisation = found.first() if found is not None else None
        if organisation is None:
            raise ValidationFailed(_("Choose an organisation from the list."), field="organisation")
    return create_contact(
        actor=user,
        email=data.get("new_email", ""),
        full_name=data.get("new_full_name", ""),
        phone=data.get("new_phone", ""),
        language=data.get("new_language", ""),
        time_zone=data.get("new_time_zone", ""),
        organisation=organisation,
    )


def _new_contact_form(request: HttpRequest, data: QueryDict, errors: dict[str, str]) -> dict[str, Any]:
    if "new_email" in data:  # submitted before: show exactly what was typed
        new = {name: data.get(f"new_{name}", "") for name in NEW_CONTACT_FIELDS}
    else:  # first shown: start from the search text, put where it looks like it belongs
        text = data.get("contact_q", "").strip()[:200]
        number = re.fullmatch(r"\+?[\d\s().-]{4,}", text)
        guess = "email" if "@" in text else "phone" if number else "full_name"
        new = {"full_name": "", "email": "", "phone": "", "organisation": "", guess: text}
        new |= {"language": request_language(request), "time_zone": settings.TIME_ZONE}
    existing = None
    if "email" in errors:
        # When the address is taken, offer that contact instead (only contacts: agents are not callers).
        try:
            email = clean_email(new["email"])
        except ValidationFailed:
            email = ""
        existing = visible_contacts(_actor(request)).filter(email=email).first() if email else None
    return {
        "new": new,
        "existing": existing,
        "organisations": visible_organisations(_actor(request)).order_by("name"),
        "languages": settings.LANGUAGES,
        "time_zones": time_zone_names(),
    }


def _contacts(user: User, text: str) -> list[User]:
    text = text.strip()[:100]
    # Control characters never occur in a name, address or number (and PostgreSQL refuses NUL).
    if len(text) < 2 or any(ord(char) < 32 or char == "\x7f" for char in text):
        return []
    return list(
        visible_contacts(user)
        .filter(Q(email__icontains=text) | Q(full_name__icontains=text) | Q(phone__icontains=text))
        .select_related("organisation")
        .order_by("full_name", "email")[:10]
    )


@agent_required
@require_GET
def contacts(request: HttpRequest) -> HttpResponse:
    """Search as you type for the phone call form."""
    text = request.GET.get("contact_q", "")
    return render(
        request,
        "workspace/_contacts.html",
        {"matches": _contacts(_actor(request), text), "searched": len(text.strip()) >= 2, "q": text},
    )
