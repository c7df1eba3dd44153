"""GET /health for load balancers and monitors: the database, the task worker and the mailboxes."""

from __future__ import annotations

from django.db import connection
from django.db.models import Min
from django.http import HttpRequest, JsonResponse
from django_tasks_db.models import DBTaskResult

from tessera.core import clock
from tessera.core.models import WorkerHeartbeat
from tessera.core.worker import stale_after
from tessera.mail.inbound.auth import trusted_authserv_ids
from tessera.mail.inbound.imap import mailbox_problems


def health(request: HttpRequest) -> JsonResponse:
    """Database reachable, a worker alive, every mailbox fetching: 200; otherwise 503 with what is wrong."""
    report: dict[str, object] = {}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = {"status": "ok", "vendor": connection.vendor}
    except Exception as exc:  # the point is to report any failure, not to crash
        return JsonResponse(
            {"status": "error", "database": {"status": "error", "error": str(exc)[:200]}}, status=503
        )
    now = clock.now()
    stale = stale_after()
    latest = WorkerHeartbeat.objects.order_by("-last_seen").first()
    pending = DBTaskResult.objects.ready()
    oldest = pending.aggregate(oldest=Min("enqueued_at"))["oldest"]
    worker: dict[str, object] = {
        "status": "ok",
        "workers": WorkerHeartbeat.objects.filter(last_seen__gte=now - stale).count(),
        "last_seen": latest.last_seen.isoformat() if latest else None,
        "pending_tasks": pending.count(),
        "oldest_pending_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0,
    }
    if latest is None or now - latest.last_seen > stale:
        worker["status"] = "down"
        healthy = False
    report["worker"] = worker
    problems = mailbox_problems()
    report["mailboxes"] = {"status": "error" if problems else "ok", "problems": problems}
    healthy = healthy and not problems
    # Reported, not a failure: the service works, but inbound senders are not authenticated.
    trusted = sorted(trusted_authserv_ids())
    if trusted:
        report["mail_authentication"] = {"status": "ok", "authserv_ids": trusted}
    else:
        report["mail_authentication"] = {
            "status": "unchecked",
            "detail": "TESSERA_MAIL_AUTHSERV_ID is not set and no trusted receiving server is configured: "
            "inbound senders are not authenticated.",
        }
    report["status"] = "ok" if healthy else "degraded"
    return JsonResponse(report, status=200 if healthy else 503)
