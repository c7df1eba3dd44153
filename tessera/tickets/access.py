"""Who may see and do what with a ticket and everything inside it.

Each rule is written twice, side by side: a queryset form (what the lists, the API, search and counts
filter with) and an instance form (what services, downloads and websocket pushes ask about one object).
tests/tickets/test_access_agreement.py builds random people and tickets and checks that both forms agree.

The rules:
- A deactivated account sees nothing.
- An admin sees every ticket; an agent the tickets of their departments and those assigned to them. An
  agent who sees a ticket works on it: they see its internal notes, every event and every file.
- A customer sees the tickets they requested, filed or are copied on, and an organisation manager every
  ticket requested by someone of their organisation. Inside one, a customer sees its public conversation
  (replies and the files on them or on the ticket itself) and the changes they are told about
  (CUSTOMER_EVENT_KINDS): never internal notes, their files, assignments or other internal details. A
  reply later turned into a note disappears with its files and events.
- A message or file that a merge moved from a ticket of another requester (`merged_from`) is shown to
  customers under that ticket and to those who may see it, as before the merge, and not under its new
  ticket, until an agent makes it public there. Agents see it where it now is.
- A notification that points at a ticket is shown only while its user may see that ticket.
- Mail held for review (quarantined: unauthenticated, a storm…) is reviewed by admins, and by the agents
  of the department it was addressed to; only an admin may vouch that it comes from the address it claims
  (release as the claimed sender). The mail security log is for admins.
"""

from __future__ import annotations

from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from tessera.accounts.models import Membership, User
from tessera.mail.models import InboundMessage
from tessera.notifications.models import Notification
from tessera.tickets.models import Attachment, Message, Ticket, TimelineEvent

Kind = TimelineEvent.Kind

# The timeline events a customer is shown (when public, and when their message, if any, is a reply).
CUSTOMER_EVENT_KINDS = frozenset(
    {
        Kind.CREATED,
        Kind.REPLIED,
        Kind.STATUS_CHANGED,
        Kind.PRIORITY_CHANGED,
        Kind.DEPARTMENT_CHANGED,
        Kind.ATTACHMENT_ADDED,
        Kind.MERGED,
        Kind.MERGED_FROM,
    }
)
# What happened to a ticket's email (content refused or dropped, a bounce, an email not sent): for agents
# only; the customer hears about refused files in their acknowledgement instead.
AGENT_ONLY_MAIL_EVENT_KINDS = frozenset({Kind.MAIL_CONTENT_DROPPED, Kind.EMAIL_BOUNCED, Kind.EMAIL_NOT_SENT})


# Tickets ---------------------------------------------------------------------------------------------------


def _ticket_condition(user: User, to_ticket: str = "") -> Q | None:
    """The condition on a ticket (reached from the queried model through `to_ticket`, such as "ticket__")
    that `user` may see it; None when they see no ticket at all."""
    if not user.is_active:
        return None
    if user.is_admin:
        return Q()
    if user.is_agent:
        # EXISTS instead of a join keeps one row per ticket and lets the planner use the queue index.
        member = Membership.objects.filter(
            agent_id=user.pk, department_id=OuterRef(f"{to_ticket}department_id")
        )
        return Q(Exists(member)) | Q(**{f"{to_ticket}assignee_id": user.pk})
    # A UNION of the indexed paths (requester, submitted_by, CC, organisation), as `id IN (…)`: with an OR
    # of the same conditions PostgreSQL walked the whole ticket table instead of the customer's few rows.
    own = Ticket.objects.filter(requester_id=user.pk).values("pk")
    paths = [
        Ticket.objects.filter(submitted_by_id=user.pk).values("pk"),
        Ticket.cc.through.objects.filter(user_id=user.pk).values("ticket_id"),
    ]
    if user.is_org_manager and user.organisation_id:
        paths.append(Ticket.objects.filter(requester__organisation_id=user.organisation_id).values("pk"))
    return Q(**{f"{to_ticket}pk__in": own.union(*paths)})


def _where[M: Model](objects: QuerySet[M], user: User, to_ticket: str) -> QuerySet[M]:
    condition = _ticket_condition(user, to_ticket)
    return objects.none() if condition is None else objects.filter(condition)


def visible_tickets(user: User) -> QuerySet[Ticket]:
    return _where(Ticket.objects.all(), user, "")


def can_view_ticket(user: User, ticket: Ticket) -> bool:
    if not user.is_active:
        return False
    if user.is_admin:
        return True
    if user.is_agent:
        return (
            ticket.assignee_id == user.pk
            or Membership.objects.filter(agent_id=user.pk, department_id=ticket.department_id).exists()
        )
    if user.pk in (ticket.requester_id, ticket.submitted_by_id):
        return True
    if (
        user.is_org_manager
        and user.organisation_id
        and ticket.requester.organisation_id == user.organisation_id
    ):
        return True
    return Ticket.cc.through.objects.filter(ticket_id=ticket.pk, user_id=user.pk).exists()


def can_work_on(user: User, ticket: Ticket) -> bool:
    """Agent actions: internal notes, assignment, priority, department, status beyond close/reopen."""
    return user.is_agent and can_view_ticket(user, ticket)


def staff_for(ticket: Ticket) -> QuerySet[User]:
    """The people who work on `ticket` (can_work_on from the ticket's side): active admins, and active
    agents of its department or assigned to it."""
    members = Membership.objects.filter(department_id=ticket.department_id).values("agent_id")
    return User.objects.filter(
        Q(role=User.Role.ADMIN)
        | Q(role=User.Role.AGENT, pk__in=members)
        | Q(role=User.Role.AGENT, pk=ticket.assignee_id or 0),
        is_active=True,
    )


def can_work_in_department(user: User, department_id: int) -> bool:
    """Whether `user` may be given the department's tickets (as assignee, or by moving one there)."""
    if not (user.is_active and user.is_agent):
        return False
    return user.is_admin or Membership.objects.filter(agent_id=user.pk, department_id=department_id).exists()


# Messages (replies, notes, phone logs) ---------------------------------------------------------------------


def reads_internal_messages(user: User) -> bool:
    """Staff read (and search) every message of a ticket they see; customers only what is shown to them."""
    return user.is_agent


def shown_to_customers(kind: str, merged_from_id: int | None = None) -> bool:
    """The instance form of _public_message: a reply, not a note. Search splits a ticket's document by it,
    passing `merged_from_id`: a message a merge moved in is shown to customers only under the ticket it came
    from (listed_under), so it does not count as the new ticket's public text."""
    return kind == Message.Kind.REPLY and merged_from_id is None


def _public_message(to_message: str) -> Q:
    """A message (reached through `to_message`) a customer may see: a reply, not a note."""
    return Q(**{f"{to_message}kind": Message.Kind.REPLY})


def _listed_under_condition(user: User, ticket_id: int | None, to_item: str = "") -> Q | None:
    """The condition that an item (a message or attachment, reached through `to_item`) is listed for `user`
    under the ticket `ticket_id` (any ticket: None) and `user` may see that ticket: under its own ticket,
    or for a customer, under the ticket a merge moved it from."""
    here = _ticket_condition(user, f"{to_item}ticket__")
    if here is None:
        return None
    if user.is_agent:
        return here if ticket_id is None else here & Q(**{f"{to_item}ticket_id": ticket_id})
    moved_from = _ticket_condition(user, f"{to_item}merged_from__")
    if moved_from is None:  # never: the same user as for `here`
        return None
    own = Q(**{f"{to_item}merged_from__isnull": True}) & here
    moved = Q(**{f"{to_item}merged_from__isnull": False}) & moved_from
    if ticket_id is not None:
        own &= Q(**{f"{to_item}ticket_id": ticket_id})
        moved &= Q(**{f"{to_item}merged_from_id": ticket_id})
    return own | moved


def listed_under(user: User, item: Message | Attachment) -> int:
    """The instance form of the placement above: the id of the ticket `item` is listed under for `user`."""
    if not user.is_agent and item.merged_from_id is not None:
        return item.merged_from_id
    return item.ticket_id


def _seen_through(user: User, item: Message | Attachment) -> Ticket:
    moved_from = None if user.is_agent else item.merged_from
    return moved_from if moved_from is not None else item.ticket


def visible_messages(user: User, ticket: Ticket) -> QuerySet[Message]:
    condition = _listed_under_condition(user, ticket.pk)
    if condition is None:
        return Message.objects.none()
    messages = Message.objects.filter(condition)
    return messages if reads_internal_messages(user) else messages.filter(_public_message(""))


def can_view_message(user: User, message: Message) -> bool:
    if not can_view_ticket(user, _seen_through(user, message)):
        return False
    return reads_internal_messages(user) or shown_to_customers(message.kind)


# Timeline events -------------------------------------------------------------------------------------------


def visible_events(user: User, ticket: Ticket) -> QuerySet[TimelineEvent]:
    events = _where(TimelineEvent.objects.filter(ticket_id=ticket.pk), user, "ticket__")
    if user.is_agent:
        return events
    return events.filter(
        Q(message__isnull=True) | _public_message("message__"),
        is_public=True,
        kind__in=CUSTOMER_EVENT_KINDS,
    )


def can_view_event(user: User, event: TimelineEvent) -> bool:
    return can_view_ticket(user, event.ticket) and shown_inside(user, event)


def shown_inside(user: User, event: TimelineEvent) -> bool:
    """The inner half of can_view_event, for a ticket `user` may see (it reads the database only for an
    event with a message, to know whether it is still a reply)."""
    if not user.is_active:
        return False
    if user.is_agent:
        return True
    return (
        event.is_public
        and event.kind in CUSTOMER_EVENT_KINDS
        and (event.message_id is None or event.message.kind == Message.Kind.REPLY)  # type: ignore[union-attr]
    )


# Attachments -----------------------------------------------------------------------------------------------


def _attachments(user: User, ticket_id: int | None) -> QuerySet[Attachment]:
    condition = _listed_under_condition(user, ticket_id)
    if condition is None:
        return Attachment.objects.none()
    attachments = Attachment.objects.filter(condition)
    if user.is_agent:
        return attachments
    return attachments.filter(Q(message__isnull=True) | _public_message("message__"))


def downloadable_attachments(user: User) -> QuerySet[Attachment]:
    return _attachments(user, None)


def visible_attachments(user: User, ticket: Ticket) -> QuerySet[Attachment]:
    return _attachments(user, ticket.pk)


def can_download(user: User, attachment: Attachment) -> bool:
    if not can_view_ticket(user, _seen_through(user, attachment)):
        return False
    if user.is_agent or attachment.message_id is None:
        return True
    return attachment.message.kind == Message.Kind.REPLY  # type: ignore[union-attr]


# Notifications that point at a ticket ----------------------------------------------------------------------


def visible_notifications(user: User) -> QuerySet[Notification]:
    """A user's own notifications, less those about a ticket they can no longer see."""
    condition = _ticket_condition(user, "ticket__")
    if condition is None:
        return Notification.objects.none()
    own = Notification.objects.filter(user_id=user.pk)
    return own if condition == Q() else own.filter(Q(ticket__isnull=True) | condition)


def can_view_notification(user: User, notification: Notification) -> bool:
    if not user.is_active or notification.user_id != user.pk:
        return False
    return notification.ticket_id is None or can_view_ticket(user, notification.ticket)  # type: ignore[arg-type]


# Mail held for review, the mail security log ----------------------------------------------------------------


def held_mail(user: User) -> QuerySet[InboundMessage]:
    held = InboundMessage.objects.filter(status=InboundMessage.Status.QUARANTINED)
    if not (user.is_active and user.is_agent):
        return held.none()
    if user.is_admin:
        return held
    return held.filter(department_id__in=Membership.objects.filter(agent_id=user.pk).values("department_id"))


def can_review_mail(user: User, row: InboundMessage) -> bool:
    if not (user.is_active and user.is_agent) or row.status != InboundMessage.Status.QUARANTINED:
        return False
    if user.is_admin:
        return True
    return row.department_id is not None and can_work_in_department(user, row.department_id)


def can_release_as_sender(user: User, row: InboundMessage) -> bool:
    """Vouching for a sender's identity lets mail act as their account: an admin's decision."""
    return user.is_admin and can_review_mail(user, row)


def can_view_security_log(user: User) -> bool:
    return user.is_active and user.is_admin
