"""Client-area pages. Each view: form validation (no writes) → access through tickets.queries → one
service call → redirect or re-render. Who sees what is decided in tessera.tickets.access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from tessera.accounts import preferences
from tessera.accounts.models import Department, User
from tessera.core import clock
from tessera.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from tessera.core.ids import parse_id
from tessera.core.pagination import paginate
from tessera.portal import services
from tessera.portal.forms import NewTicketForm, ReplyForm
from tessera.tickets import access
from tessera.tickets import services as ticket_services
from tessera.tickets.access import visible_tickets
from tessera.tickets.attachments import CheckedFile, attachment_response, check_file
from tessera.tickets.events import Kind
from tessera.tickets.models import Attachment, Message, Priority, Status, Ticket, TimelineEvent
from tessera.tickets.queries import get_attachment_for, get_ticket_for

PAGE_SIZE = 25
CLASSIFYING = ("department", "priority", "impact", "urgency")
DETAIL_NAMES = (
    "affected_service",
    "server_ip",
    "order_number",
    "problem_started_at",
    "problem_started_tz",
    "frequency",
    "location",
    "error_message",
    "others_affected",
    "recent_changes",
    "diagnostics",
)


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required ran first; this only narrows the type
        raise Http404
    return user


# Home ------------------------------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "portal/welcome.html")
    user = _user(request)
    state = request.GET.get("state", "open")
    if state not in ("open", "closed", "all"):
        state = "open"
    scope = "organisation" if request.GET.get("scope") == "organisation" and user.is_org_manager else "mine"
    tickets = visible_tickets(user).select_related("priority", "department", "requester")
    if scope == "mine":
        copied = Ticket.cc.through.objects.filter(ticket_id=OuterRef("pk"), user_id=user.pk)
        tickets = tickets.filter(Q(requester=user) | Q(submitted_by=user) | Exists(copied))
    if state == "open":
        tickets = tickets.filter(status__in=[Status.NEW, Status.OPEN, Status.WAITING])
    elif state == "closed":
        tickets = tickets.filter(status__in=[Status.RESOLVED, Status.CLOSED])
    try:
        page = paginate(
            tickets, ordering=("-updated_at", "-id"), cursor=request.GET.get("after"), limit=PAGE_SIZE
        )
    except ValidationFailed:
        return HttpResponseRedirect(reverse("home"))
    waiting = (
        visible_tickets(user).filter(Q(requester=user) | Q(submitted_by=user), status=Status.WAITING).count()
        if state != "closed"
        else 0
    )
    context = {
        "page": page,
        "state": state,
        "scope": scope,
        "waiting_count": waiting,
        "filters": [
            ("open", pgettext("ticket filter", "Open")),
            ("closed", _("Resolved and closed")),
            ("all", pgettext("ticket filter", "All")),
        ],
    }
    return render(request, "portal/home.html", context)


# New ticket ------------------------------------------------------------------------------------------------


def _customer_services(user: User) -> list[Any]:
    try:
        from tessera.catalog.queries import services_for
    except ImportError:  # the catalog is optional
        return []
    return list(services_for(user))


@dataclass
class Classification:
    department: Department | None
    matrix: bool
    priority: Priority | None
    requirements: services.Requirements


def _classify(form: NewTicketForm) -> Classification:
    """Department, how the priority is chosen and which details are required, from the raw input."""
    data = form.data

    def pick(model: type[Any], key: str) -> Any:
        value = data.get(key) if form.is_bound else form.fields[key].initial
        if value in (None, ""):
            return None
        try:
            return model.objects.filter(pk=int(value)).first()
        except (TypeError, ValueError):
            return None

    department = pick(Department, "department")
    if department is not None and not department.is_active:
        department = None
    matrix = services.uses_matrix(department)
    if matrix:
        from tessera.sla.services import priority_for

        priority = priority_for(str(data.get("impact", "")), str(data.get("urgency", "")))
    else:
        priority = pick(Priority, "priority") or Priority.objects.filter(is_default=True).first()
    return Classification(department, matrix, priority, services.requirements(department, priority))


def _missing_required(form: NewTicketForm, c: Classification, has_files: bool) -> None:
    """Put every missing required detail on its field at once (create_ticket stops at the first)."""
    data = form.cleaned_data
    names = {
        "priority": c.priority.name if c.priority else "",
        "department": c.department.name if c.department else "",
    }
    required_message = _("This field is required for a %(priority)s %(department)s ticket.") % names
    for name in (
        "affected_service",
        "problem_started_at",
        "frequency",
        "location",
        "error_message",
        "others_affected",
        "recent_changes",
        "diagnostics",
    ):
        if c.requirements.needs(name) and not data.get(name) and name not in form.errors:
            form.add_error(name, required_message)
    missing_ip_or_order = not (data.get("server_ip") or data.get("order_number"))
    if c.requirements.ip_or_order and missing_ip_or_order and "server_ip" not in form.errors:
        form.add_error(
            "server_ip",
            _("Give the server IP or the order number for a %(priority)s %(department)s ticket.") % names,
        )
    if c.requirements.needs("attachments") and not has_files:
        form.add_error("attachments", _("Attach at least one file (a screenshot or a log)."))
    if c.matrix:
        for name in ("impact", "urgency"):
            if not data.get(name):
                form.add_error(name, _("Please answer this question."))
    elif not data.get("priority"):
        form.add_error("priority", _("This field is required."))


def _fill_from_service(form: NewTicketForm) -> None:
    """Picking one of their services gives agents its order number (or address) without retyping."""
    data = form.cleaned_data
    chosen = next((s for s in form.services if s.name == data.get("affected_service")), None)
    if chosen is None or data.get("server_ip") or data.get("order_number"):
        return
    if chosen.order_number:
        data["order_number"] = chosen.order_number
    elif chosen.ip_addresses:
        data["server_ip"] = str(chosen.ip_addresses[0])


@login_required
def new_ticket(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    customer_services = _customer_services(user)
    if request.method != "POST":
        initial: dict[str, Any] = {"upload_token": services.new_upload_token()}
        wanted = Department.objects.filter(slug=request.GET.get("department", ""), is_active=True).first()
        if wanted:
            initial["department"] = wanted.pk
        form = NewTicketForm(initial=initial, user=user, services=customer_services)
        return _render_new(request, form, [])

    form = NewTicketForm(request.POST, request.FILES, user=user, services=customer_services)
    token = str(request.POST.get("upload_token", ""))[:43] or services.new_upload_token()
    removed = set(request.POST.getlist("remove_upload"))
    kept = services.pending_uploads(user, token)
    services.discard_uploads([u for u in kept if str(u.pk) in removed])
    kept = [u for u in kept if str(u.pk) not in removed]
    uploads = request.FILES.getlist("attachments")
    checked: list[CheckedFile] = []
    file_errors: list[str] = []
    for upload in uploads:
        try:
            checked.append(check_file(upload))
        except ValidationFailed as error:
            file_errors.append(str(error.message))

    if form.is_valid():
        classification = _classify(form)
        _fill_from_service(form)
        _missing_required(form, classification, has_files=bool(kept or checked))
        for message in file_errors:
            form.add_error("attachments", message)
        if not form.errors:
            ticket = _create(form, user, classification, kept, uploads)
            if ticket is not None:
                messages.success(
                    request,
                    _("Thank you: ticket %(ref)s is open. We will reply here and by email.")
                    % {"ref": ticket.reference},
                )
                return redirect("portal_ticket", reference=ticket.reference)
    else:
        for message in file_errors:
            form.add_error("attachments", message)
    # The form goes back for corrections: keep the good files so they need not be chosen again.
    try:
        kept += services.keep_uploads(user, token, checked)
    except ValidationFailed as error:  # over the daily quota: the files are not kept
        if str(error.message) not in form.errors.get("attachments", []):  # said once, if creating said it
            form.add_error("attachments", str(error.message))
    data = request.POST.copy()
    data["upload_token"] = token
    form.data = data
    return _render_new(request, form, kept, status=422)


def _create(
    form: NewTicketForm, user: User, c: Classification, kept: list[Any], uploads: list[Any]
) -> Ticket | None:
    data = form.cleaned_data
    values: dict[str, Any] = {name: data.get(name) or "" for name in DETAIL_NAMES}
    values["problem_started_at"] = data.get("problem_started_at") or None
    values["server_ip"] = data.get("server_ip") or None
    details = ticket_services.IncidentDetails(**values)
    try:
        with transaction.atomic():
            ticket = ticket_services.create_ticket(
                actor=user,
                data=ticket_services.NewTicket(
                    subject=data["subject"],
                    description=data["description"],
                    department=data["department"],
                    requester=data.get("requester") or None,
                    priority=None if c.matrix else data.get("priority"),
                    impact=data.get("impact", "") if c.matrix else "",
                    urgency=data.get("urgency", "") if c.matrix else "",
                    details=details,
                    files=[*services.as_files(kept), *uploads],
                ),
            )
            services.discard_uploads(kept)
    except DomainError as error:
        field = error.field if error.field in form.fields else None
        if isinstance(error, PermissionDenied) and "requester" in form.fields:
            field = "requester"
        form.add_error(field, str(error.message))
        return None
    return ticket


@login_required
@require_POST
def new_ticket_fields(request: HttpRequest) -> HttpResponse:
    """htmx: the priority questions and incident details for the department and priority just chosen."""
    user = _user(request)
    form = NewTicketForm(request.POST, user=user, services=_customer_services(user))
    from django.forms.utils import ErrorDict

    form._errors = ErrorDict()  # type: ignore[attr-defined]  # show what was typed, not "required" errors for a half-filled form
    return render(request, "portal/partials/_ticket_fields.html", _new_context(form, []))


def _new_context(form: NewTicketForm, kept: list[Any]) -> dict[str, Any]:
    c = _classify(form)
    required = {name: c.requirements.needs(name) for name in (*DETAIL_NAMES, "attachments")}
    required_labels = [str(label) for name, label in _requirement_labels() if name in c.requirements.fields]
    return {
        "form": form,
        "classification": c,
        "required": required,
        "required_labels": required_labels,
        "kept": kept,
        "zone": preferences.valid_time_zone(getattr(form, "initial_zone", "")) or None,
    }


def _requirement_labels() -> list[tuple[str, Any]]:
    from tessera.tickets.models import RequiredFields

    return list(RequiredFields.FIELD_CHOICES)


def _render_new(
    request: HttpRequest, form: NewTicketForm, kept: list[Any], status: int = 200
) -> HttpResponse:
    return render(request, "portal/new_ticket.html", _new_context(form, kept), status=status)


# Ticket page -----------------------------------------------------------------------------------------------


def _ticket(request: HttpRequest, reference: str) -> Ticket:
    """The ticket named by `TS-123` or `123`, if this person may see it; otherwise 404."""
    number = parse_id(reference.rsplit("-", 1)[-1])
    if number is None:
        raise Http404
    try:
        return get_ticket_for(_user(request), number)
    except NotFound:
        raise Http404 from None


@dataclass
class Entry:
    """One item of the customer's conversation: a public reply, or a change they are told about."""

    kind: str
    at: datetime
    message: Message | None = None
    event: TimelineEvent | None = None
    text: str = ""


# What the conversation shows as a line of its own; the customer's other events are shown by what they
# point at (CREATED by the first bubble, REPLIED by the reply, ATTACHMENT_ADDED by the file).
PUBLIC_CHANGES = (
    Kind.STATUS_CHANGED,
    Kind.PRIORITY_CHANGED,
    Kind.DEPARTMENT_CHANGED,
    Kind.MERGED,
    Kind.MERGED_FROM,
)


def _conversation(user: User, ticket: Ticket) -> tuple[list[Entry], list[Attachment]]:
    """The replies, changes and files `user` may see, as the API shows them (tessera.tickets.access)."""
    files = access.visible_attachments(user, ticket).order_by("id")
    replies = list(
        access.visible_messages(user, ticket)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=files))
    )
    events = list(access.visible_events(user, ticket).filter(kind__in=PUBLIC_CHANGES).select_related("actor"))
    entries = [Entry("message", m.created_at, message=m) for m in replies]
    entries += [Entry("event", e.created_at, event=e, text=_describe(e)) for e in events]
    entries.sort(key=lambda e: e.at)
    ticket_files = list(files.filter(message__isnull=True))
    return entries, ticket_files


def _describe(event: TimelineEvent) -> str:
    """A change as the customer reads it."""
    if event.kind == Kind.STATUS_CHANGED:
        label = dict(Status.choices).get(str(event.new), str(event.new))
        return _("Status changed to %(status)s") % {"status": label}
    if event.kind == Kind.PRIORITY_CHANGED:
        name = Priority.objects.filter(slug=str(event.new)).values_list("name", flat=True).first()
        return _("Priority changed to %(priority)s") % {"priority": name or event.new}
    if event.kind == Kind.MERGED:
        into = (event.new or {}).get("into", "?")
        return _("Merged into ticket %(reference)s") % {
            "reference": f"{settings.TESSERA_TICKET_PREFIX}-{into}"
        }
    if event.kind == Kind.MERGED_FROM:
        source = (event.new or {}).get("from", "?")
        return _("Ticket %(reference)s was merged into this one") % {
            "reference": f"{settings.TESSERA_TICKET_PREFIX}-{source}"
        }
    name = Department.objects.filter(slug=str(event.new)).values_list("name", flat=True).first()
    return _("Moved to the %(department)s department") % {"department": name or event.new}


def _ticket_context(
    request: HttpRequest, ticket: Ticket, reply_form: ReplyForm | None = None
) -> dict[str, Any]:
    from tessera.sla.queries import expected_response

    entries, ticket_files = _conversation(_user(request), ticket)
    now = clock.now()
    prompt = None
    if ticket.status == Status.WAITING:
        asked = (
            access.visible_events(_user(request), ticket)
            .filter(kind=Kind.STATUS_CHANGED, new=Status.WAITING)
            .order_by("-id")
            .first()
        )
        latest = next((e.message for e in reversed(entries) if e.message and e.message.author.is_agent), None)
        prompt = {"reason": asked.reason if asked else "", "message": latest}
    window_open = ticket.status == Status.RESOLVED and (
        now - (ticket.resolved_at or ticket.updated_at)
        <= timedelta(days=ticket.department.reopen_window_days)
    )
    return {
        "ticket": ticket,
        "entries": entries,
        "ticket_files": ticket_files,
        "prompt": prompt,
        "expected": expected_response([ticket], now).get(ticket.pk),
        "can_reply": ticket.status != Status.CLOSED,
        "can_close": ticket.status != Status.CLOSED,
        "can_reopen": window_open,
        "reply_form": reply_form or ReplyForm(initial={"version": ticket.version}),
    }


@login_required
def ticket_detail(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    if reference != ticket.reference and request.method == "GET":
        return redirect("portal_ticket", reference=ticket.reference)
    return render(request, "portal/ticket.html", _ticket_context(request, ticket))


@login_required
@require_POST
def ticket_reply(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            ticket_services.add_reply(
                actor=_user(request),
                ticket=ticket,
                body=form.cleaned_data["body"],
                files=list(request.FILES.getlist("attachments")),
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error.message))
        else:
            messages.success(request, _("Your reply was sent."))
            return redirect("portal_ticket", reference=ticket.reference)
    return render(request, "portal/ticket.html", _ticket_context(request, ticket, form), status=422)


@login_required
@require_POST
def ticket_status(request: HttpRequest, reference: str) -> HttpResponse:
    """Close the ticket, or reopen a resolved one within the department's window."""
    ticket = _ticket(request, reference)
    target = request.POST.get("status", "")
    if target not in (Status.CLOSED, Status.OPEN):
        raise Http404
    try:
        ticket_services.transition_ticket(actor=_user(request), ticket=ticket, status=target)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("The ticket is closed. Thank you!")
            if target == Status.CLOSED
            else _("The ticket is open again."),
        )
    return redirect("portal_ticket", reference=ticket.reference)


@login_required
def attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    try:
        found = get_attachment_for(_user(request), attachment_id)
    except NotFound:
        raise Http404 from None
    return attachment_response(found)


# Language (the other preferences are on the account settings page, tessera.accounts.views) ---


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's switcher (cookie), and for a signed-in person their saved language too."""
    response = django_set_language(request)
    code = str(request.POST.get("language", ""))
    if request.user.is_authenticated:
        preferences.save_language(_user(request), code)
    return response
