"""Notification commands: create in-app notifications (with email copies), read them, and the user's
email preferences. Other apps call `notify` / `notify_many` inside their own transaction."""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core import clock
from tessera.core.errors import NotFound, ValidationFailed
from tessera.notifications import live
from tessera.notifications.addresses import addresses_for
from tessera.notifications.models import (
    EmailCategory,
    EmailPreferences,
    MessageKind,
    Notification,
    NotificationKind,
)
from tessera.tickets import access
from tessera.tickets.models import Ticket

if TYPE_CHECKING:
    from tessera.mail.outbound import Rendered

logger = logging.getLogger("tessera.notifications")

TITLE_MAX = 300
BODY_MAX = 20_000
BATCH = 1000

# Which switch in the settings controls the email copy of each kind of notification.
CATEGORY_OF_KIND: dict[str, str] = {
    NotificationKind.TICKET_CREATED: EmailCategory.TICKET_UPDATES,
    NotificationKind.TICKET_STATUS: EmailCategory.TICKET_UPDATES,
    NotificationKind.TICKET_PRIORITY: EmailCategory.TICKET_UPDATES,
    NotificationKind.TICKET_REPLY: EmailCategory.TICKET_UPDATES,
    NotificationKind.TICKET_ASSIGNED: EmailCategory.ASSIGNMENTS,
    NotificationKind.TICKET_MENTION: EmailCategory.MENTIONS,
    NotificationKind.SLA_WARNING: EmailCategory.SLA,
    NotificationKind.SLA_BREACHED: EmailCategory.SLA,
    NotificationKind.INCIDENT: EmailCategory.ANNOUNCEMENTS,
    NotificationKind.MAINTENANCE: EmailCategory.ANNOUNCEMENTS,
    NotificationKind.ANNOUNCEMENT: EmailCategory.ANNOUNCEMENTS,
}
# The seeds promise an email on every status change (opening, accepted for work, closing), every priority
# change by a specialist and every request for more information: that minimum cannot be switched off.
LOCKED_CATEGORIES = frozenset({EmailCategory.TICKET_UPDATES})
CUSTOMER_CATEGORIES = (EmailCategory.TICKET_UPDATES, EmailCategory.ANNOUNCEMENTS)
AGENT_CATEGORIES = (
    EmailCategory.TICKET_UPDATES,
    EmailCategory.ANNOUNCEMENTS,
    EmailCategory.ASSIGNMENTS,
    EmailCategory.MENTIONS,
    EmailCategory.SLA,
)


# Creating notifications ------------------------------------------------------------------------------------


def notify(
    user: User,
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    ticket: Ticket | None = None,
    dedupe_key: str,
    email: bool = True,
    message_kind: str = MessageKind.SUPPORT,
) -> Notification | None:
    """One in-app notification for `user`, created in the caller's transaction, exactly once per
    (user, dedupe_key); plus, when `email` and the user's preferences allow, one email copy to
    address_for(user, message_kind), queued through tessera.mail.outbound.queue_template_email and
    rendered by the delivery task (`render_email`) in the user's language. Title/body are already
    rendered in the user's language by the caller. Returns None when it already existed."""
    _check_kind(kind, message_kind, dedupe_key)
    if not user.is_active:
        return None
    notification = _new_notification(user, kind, title, body, url, dedupe_key, clock.now(), ticket=ticket)
    # Joins the caller's transaction (or opens one): the notification and its email copy commit together.
    with transaction.atomic(savepoint=False):
        try:
            with transaction.atomic():  # a savepoint: a refused INSERT leaves the caller's transaction usable
                notification.save(force_insert=True)
        except IntegrityError:
            if Notification.objects.filter(user=user, dedupe_key=dedupe_key).exists():
                return None  # already notified for this key: exactly once
            raise
        live.publish_after_commit([user.pk])
        if email and email_allowed(user, kind):
            outbound_module().queue_template_email(
                template="notification/notification",
                recipient=user,
                kind=message_kind,
                inputs={
                    "language": user.language,
                    "notification": {
                        "title": notification.title,
                        "body": notification.body,
                        "url": notification.url,
                    },
                },
                ticket=ticket,
                auto_submitted=True,
                dedupe_key=email_dedupe_key(user, dedupe_key),
            )
    return notification


def notify_many(
    users: Iterable[User],
    *,
    kind: str,
    render: Callable[[User], tuple[str, str]],
    url: str = "",
    dedupe_key: str,
    email: bool = True,
    message_kind: str = MessageKind.SUPPORT,
    incident_id: int | None = None,
) -> int:
    """Bulk variant for announcements (bulk_create with ignore_conflicts on (user, dedupe_key), email copies
    through tessera.mail.outbound.queue_emails); returns how many were new.

    `render(user)` returns (title, body); it is called with the user's language active. Users are handled
    in batches of 1,000 so memory stays flat; call it inside a transaction to make the whole run atomic."""
    _check_kind(kind, message_kind, dedupe_key)
    if isinstance(users, QuerySet):
        users = users.filter(is_active=True).iterator(chunk_size=BATCH)
    created = 0
    rendered: dict[tuple[str, str, str, str], tuple[str, str]] = {}
    for chunk in itertools.batched(users, BATCH):
        batch = [user for user in chunk if user.is_active]
        created += _notify_batch(
            batch,
            kind=kind,
            render=render,
            url=url,
            dedupe_key=dedupe_key,
            email=email,
            message_kind=message_kind,
            incident_id=incident_id,
            rendered=rendered,
        )
    return created


def _notify_batch(
    users: list[User],
    *,
    kind: str,
    render: Callable[[User], tuple[str, str]],
    url: str,
    dedupe_key: str,
    email: bool,
    message_kind: str,
    incident_id: int | None,
    rendered: dict[tuple[str, str, str, str], tuple[str, str]],
) -> int:
    with transaction.atomic():
        ids = [user.pk for user in users]
        existing = set(
            Notification.objects.filter(user_id__in=ids, dedupe_key=dedupe_key).values_list(
                "user_id", flat=True
            )
        )
        fresh = [user for user in users if user.pk not in existing]
        now = clock.now()
        created = []
        for user in fresh:
            with translation.override(user.language):
                title, body = render(user)
            created.append(
                _new_notification(user, kind, title, body, url, dedupe_key, now, incident_id=incident_id)
            )
        # ignore_conflicts: a concurrent run that inserted the same key first wins, without an error.
        Notification.objects.bulk_create(created, ignore_conflicts=True)
        live.publish_after_commit(row.user_id for row in created)
        if email and created:
            muted = _muted_users([user.pk for user in fresh], CATEGORY_OF_KIND[kind])
            recipients = [user for user in fresh if user.pk not in muted]
            to = addresses_for(recipients, message_kind)
            by_user = {row.user_id: row for row in created}
            specs = [_email_spec(user, by_user[user.pk], to[user.pk], rendered) for user in recipients]
            if specs:
                outbound = outbound_module()
                outbound.queue_emails([outbound.EmailSpec(**spec) for spec in specs])
    return len(created)


def _new_notification(
    user: User, kind: str, title: str, body: str, url: str, dedupe_key: str, now: datetime, **subject: Any
) -> Notification:
    """An unsaved notification, its texts cut to what the columns hold; `subject` names what it is about
    (ticket= or incident_id=)."""
    return Notification(
        user=user,
        kind=kind,
        title=_clip(title, TITLE_MAX),
        body=_clip(body, BODY_MAX),
        url=url[:500],
        dedupe_key=dedupe_key,
        created_at=now,
        **subject,
    )


def outbound_module() -> Any:
    """The mail app's outbound module, imported at call time: it imports tickets, which import us."""
    from tessera.mail import outbound

    return outbound


def _check_kind(kind: str, message_kind: str, dedupe_key: str) -> None:
    # Programming errors, not user input: fail loudly so a typo cannot create unroutable rows.
    if kind not in CATEGORY_OF_KIND:
        raise ValueError(f"Unknown notification kind {kind!r}; use one of {sorted(CATEGORY_OF_KIND)}")
    if message_kind not in MessageKind.values:
        raise ValueError(f"Unknown message kind {message_kind!r}; use one of {MessageKind.values}")
    if not dedupe_key or len(dedupe_key) > 200:
        raise ValueError("dedupe_key must be 1-200 characters")


def _clip(text: str, limit: int) -> str:
    text = str(text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def absolute_url(url: str) -> str:
    return f"{settings.BASE_URL}{url}" if url.startswith("/") else url


def email_dedupe_key(user: User, dedupe_key: str) -> str:
    """The outbox key of a notification's email copy (the outbox allows 200 characters)."""
    key = f"notification:{user.pk}:{dedupe_key}"
    return key if len(key) <= 200 else f"notification:{user.pk}:#" + hashlib.sha256(key.encode()).hexdigest()


def _email_spec(
    user: User,
    notification: Notification,
    to: str,
    rendered: dict[tuple[str, str, str, str], tuple[str, str]],
) -> dict[str, Any]:
    """The email copy of a notification, rendered in the recipient's language. The text depends only on
    the language and the notification's content, so a bulk run passes `rendered` to render each once."""
    key = (user.language, notification.title, notification.body, notification.url)
    if key not in rendered:
        rendered[key] = _render_copy(notification, user.language)
    text, html = rendered[key]
    return {
        "to": to,
        "subject": notification.title,
        "text": text,
        "html": html,
        "ticket": notification.ticket,
        "auto_submitted": True,
        "dedupe_key": email_dedupe_key(user, notification.dedupe_key),
    }


def _render_copy(notification: Notification | dict[str, str], language: str) -> tuple[str, str]:
    """Text and HTML of a notification's email copy (the notification or its title, body and url)."""
    url = notification["url"] if isinstance(notification, dict) else notification.url
    context = {
        "notification": notification,
        "link": absolute_url(url),
        "centre_link": absolute_url(reverse("notifications:list")),
        "settings_link": absolute_url(reverse("account:settings")),
    }
    with translation.override(language):
        return (
            str(render_to_string("notifications/emails/notification/body.txt", context)),
            str(render_to_string("notifications/emails/notification/body.html", context)),
        )


def render_email(template: str, inputs: dict[str, Any]) -> Rendered:
    """The email copy `notify` queued, rendered by the mail app's delivery task in the language the
    notification was written in."""
    from tessera.mail.outbound import Rendered  # the mail app builds on this one

    notification = inputs["notification"]
    text, html = _render_copy(notification, inputs.get("language") or settings.LANGUAGE_CODE)
    return Rendered(subject=notification["title"], text=text, html=html)


# Email preferences ------------------------------------------------------------------------------------------


def categories_for(user: User) -> tuple[str, ...]:
    return AGENT_CATEGORIES if user.is_agent else CUSTOMER_CATEGORIES


def muted_categories(user: User) -> set[str]:
    # Read afresh: the preferences may have changed since `user` was loaded.
    prefs: list[str] | None = (
        EmailPreferences.objects.filter(user_id=user.pk).values_list("muted", flat=True).first()
    )
    return set(prefs or []) - LOCKED_CATEGORIES


def email_allowed(user: User, kind: str) -> bool:
    """Whether `user` wants an email copy of a notification of `kind` (locked categories always do).
    The mail app can ask this too, e.g. before sending a ticket update by email."""
    category = CATEGORY_OF_KIND.get(kind, EmailCategory.ANNOUNCEMENTS)
    return category in LOCKED_CATEGORIES or category not in muted_categories(user)


def _muted_users(user_ids: Sequence[int], category: str) -> set[int]:
    if category in LOCKED_CATEGORIES:
        return set()
    rows = EmailPreferences.objects.filter(user_id__in=user_ids).values_list("user_id", "muted")
    return {user_id for user_id, muted in rows if category in (muted or [])}


def set_email_preferences(*, actor: User, muted: Iterable[str]) -> EmailPreferences:
    """Store which categories `actor` receives no email copies of. Locked categories cannot be muted."""
    chosen = sorted(set(muted))
    allowed = set(categories_for(actor))
    for category in chosen:
        if category in LOCKED_CATEGORIES:
            raise ValidationFailed(
                _("Emails about your tickets' status, priority and questions cannot be switched off."),
                field="muted",
            )
        if category not in allowed:
            raise ValidationFailed(
                _("“%(value)s” is not a kind of notification you receive.") % {"value": str(category)[:40]},
                field="muted",
            )
    prefs, _created = EmailPreferences.objects.update_or_create(
        user=actor, defaults={"muted": chosen, "updated_at": clock.now()}
    )
    return prefs


# Reading ---------------------------------------------------------------------------------------------------


def visible_notifications(user: User) -> QuerySet[Notification]:
    """A user's own notifications (nobody sees anyone else's), less those about a ticket they can no
    longer see: the rule is tessera.tickets.access's."""
    return access.visible_notifications(user)


def get_notification_for(user: User, notification_id: int) -> Notification:
    notification = visible_notifications(user).filter(pk=notification_id).first()
    if notification is None:
        raise NotFound(_("Notification not found."))
    return notification


def unread_count(user: User) -> int:
    return visible_notifications(user).filter(read_at__isnull=True).count()


def mark_read(*, actor: User, notification_id: int) -> Notification:
    """Mark one of the actor's notifications as read (idempotent); another user's is a 404."""
    notification = get_notification_for(actor, notification_id)
    if notification.read_at is None:
        with transaction.atomic():
            # Conditional: of two concurrent clicks the first time stamp is kept.
            unread = Notification.objects.filter(pk=notification.pk, read_at__isnull=True)
            if unread.update(read_at=clock.now()):
                live.publish_after_commit([actor.pk])  # the user's other open pages follow
        notification.refresh_from_db(fields=["read_at"])
    return notification


def mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of the actor as read; returns how many changed."""
    with transaction.atomic():
        changed = visible_notifications(actor).filter(read_at__isnull=True).update(read_at=clock.now())
        if changed:
            live.publish_after_commit([actor.pk])
    return changed


def poll_seconds() -> int:
    """How often open pages ask for the unread count while their websocket is closed
    (settings.NOTIFICATIONS_POLL_SECONDS, default 20)."""
    return max(1, int(getattr(settings, "NOTIFICATIONS_POLL_SECONDS", 20)))
