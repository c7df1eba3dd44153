"""Turning a ticket's timeline events into what the ticket view shows: who did what, when."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from tessera.accounts.models import Department, User
from tessera.tickets import access
from tessera.tickets.models import Attachment, Message, Priority, Status, Ticket, TimelineEvent

Kind = TimelineEvent.Kind


@dataclass
class Entry:
    event: TimelineEvent
    style: str  # "reply", "note", "created" or "change"
    text: str = ""
    message: Message | None = None
    attachments: list[Attachment] = field(default_factory=list)


def entries_for(user: User, ticket: Ticket) -> list[Entry]:
    """Every event of the ticket that `user` may see (tessera.tickets.access), oldest first. Attachments
    are shown with their message, so their own events are folded into it; files attached to the ticket
    itself keep an entry."""
    events = list(
        access.visible_events(user, ticket).select_related("actor", "message__author").order_by("id")
    )
    # Messages merged in from another ticket carry their events on that ticket: show them here too.
    shown = {e.message_id for e in events if e.message_id}
    merged_in = [
        m for m in access.visible_messages(user, ticket).select_related("author") if m.pk not in shown
    ]
    attachments: dict[int | None, list[Attachment]] = {}
    for attachment in access.visible_attachments(user, ticket).order_by("id"):
        attachments.setdefault(attachment.message_id, []).append(attachment)
    by_id = {a.pk: a for group in attachments.values() for a in group}
    names = _names(events)
    result: list[Entry] = []
    for event in events:
        if event.kind in (Kind.REPLIED, Kind.NOTE_ADDED) and event.message is not None:
            style = "reply" if event.kind == Kind.REPLIED else "note"
            result.append(
                Entry(event, style, message=event.message, attachments=attachments.get(event.message_id, []))
            )
        elif event.kind == Kind.ATTACHMENT_ADDED:
            if event.message_id:
                continue  # shown with its message
            found = by_id.get((event.new or {}).get("id", 0))
            result.append(
                Entry(event, "change", describe(event, names), attachments=[found] if found else [])
            )
        elif event.kind == Kind.CREATED:
            result.append(Entry(event, "created", describe(event, names)))
        else:
            result.append(Entry(event, "change", describe(event, names)))
    for message in merged_in:
        result.append(
            Entry(
                TimelineEvent(
                    ticket=ticket,
                    actor=message.author,
                    channel=message.channel,
                    kind=Kind.REPLIED if message.is_public else Kind.NOTE_ADDED,
                    created_at=message.created_at,
                ),
                "reply" if message.is_public else "note",
                message=message,
                attachments=attachments.get(message.pk, []),
            )
        )
    result.sort(key=lambda entry: (entry.event.created_at, entry.event.pk or 0))
    return result


def _names(events: list[TimelineEvent]) -> dict[str, dict[Any, str]]:
    user_ids: set[int] = set()
    for event in events:
        if event.kind == Kind.ASSIGNED:
            user_ids |= {value for value in (event.old, event.new) if isinstance(value, int)}
    return {
        "priority": dict(Priority.objects.values_list("slug", "name")),
        "department": dict(Department.objects.values_list("slug", "name")),
        "user": {u.pk: u.display_name for u in User.objects.filter(pk__in=user_ids)},
        "status": {value: str(label) for value, label in Status.choices},
    }


def describe(event: TimelineEvent, names: dict[str, dict[Any, str]]) -> str:
    old, new = event.old, event.new

    def name(kind: str, value: Any) -> str:
        return str(names[kind].get(value, value)) if value is not None else _("nobody")

    if event.kind == Kind.CREATED:
        return _("opened the ticket")
    if event.kind == Kind.STATUS_CHANGED:
        return _("changed the status from %(old)s to %(new)s") % {
            "old": name("status", old),
            "new": name("status", new),
        }
    if event.kind == Kind.PRIORITY_CHANGED:
        return _("changed the priority from %(old)s to %(new)s") % {
            "old": name("priority", old),
            "new": name("priority", new),
        }
    if event.kind == Kind.DEPARTMENT_CHANGED:
        return _("moved the ticket from %(old)s to %(new)s") % {
            "old": name("department", old),
            "new": name("department", new),
        }
    if event.kind == Kind.ASSIGNED:
        if new is None:
            return _("unassigned the ticket (was %(old)s)") % {"old": name("user", old)}
        return _("assigned the ticket to %(new)s") % {"new": name("user", new)}
    if event.kind == Kind.TAGS_CHANGED:
        return _("set the tags to %(tags)s") % {"tags": ", ".join(new or []) or _("none")}
    if event.kind == Kind.ATTACHMENT_ADDED:
        return _("attached %(file)s") % {"file": (new or {}).get("filename", "")}
    if event.kind == Kind.MERGED:
        return _("merged this ticket into #%(id)s") % {"id": (new or {}).get("into", "?")}
    if event.kind == Kind.MERGED_FROM:
        return _("merged ticket #%(id)s into this one") % {"id": (new or {}).get("from", "?")}
    if event.kind == Kind.MESSAGE_PUBLISHED:
        return _("made a message merged in from #%(id)s public") % {"id": (new or {}).get("from", "?")}
    if event.kind == Kind.FIELDS_CHANGED:
        return _("changed %(fields)s") % {"fields": ", ".join(sorted((new or {}).keys()))}
    if event.kind == Kind.CC_CHANGED:
        return _("changed who is copied")
    return str(event.get_kind_display()).lower()
