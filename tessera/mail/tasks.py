"""Mail tasks: IDs in, one service call inside; safe to run twice.

Queues and priorities: delivery runs on its own queue ("mail-out") at a high priority, so an email waits
neither behind a backlog of inbound processing ("mail-in") nor behind slower periodic work, whether one
worker takes every queue (it picks the highest priority first) or a worker runs per queue."""

from __future__ import annotations

from django.tasks import task

# django.tasks priorities run from -100 to 100 (default 0); the worker takes the highest first.
DELIVERY_PRIORITY = 50


@task(queue_name="mail-out", priority=DELIVERY_PRIORITY)
def deliver_emails(email_ids: list[int]) -> dict[str, int]:
    """Send queued outbound emails (claimed first, so a duplicate task sends nothing)."""
    from tessera.mail.outbound import deliver

    return deliver(email_ids)


@task(queue_name="mail-in")
def process_inbound(message_id: int) -> str:
    """Turn one stored inbound message into a ticket or a reply (does nothing unless it is pending)."""
    from tessera.mail.inbound.pipeline import process

    return process(message_id)


@task
def sweep_mail() -> dict[str, int]:
    """Every minute: recover outbound and inbound work whose task was lost in a crash."""
    from tessera.mail.inbound.store import sweep_inbound
    from tessera.mail.outbound import sweep_outbox

    return {"outbound": sweep_outbox(), "inbound": sweep_inbound()}


@task
def fetch_mailboxes() -> int:
    """Poll every IMAP mailbox once (for deployments that do not run `tessera mail fetch`)."""
    from tessera.mail.inbound.imap import fetch_all

    return fetch_all()
