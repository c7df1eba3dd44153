from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from tessera.core import clock
from tessera.core.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_health_is_503_without_a_live_worker() -> None:
    response = Client().get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["database"]["status"] == "ok" and body["worker"]["status"] == "down"


def test_health_is_ok_with_a_recent_heartbeat_and_stale_with_an_old_one() -> None:
    now = clock.now()
    beat = WorkerHeartbeat.objects.create(worker_id="w1", hostname="h", pid=1, started_at=now, last_seen=now)
    response = Client().get("/health")
    assert response.status_code == 200 and response.json()["worker"]["workers"] == 1
    WorkerHeartbeat.objects.filter(pk=beat.pk).update(last_seen=now - timedelta(minutes=5))
    assert Client().get("/health").status_code == 503


def test_admin_pages_work_for_the_demo_admin_and_are_refused_to_agents() -> None:
    from tessera.accounts.models import Department
    from tessera.demo import load_demo
    from tessera.sla.models import SlaPolicy
    from tests import factories as f

    load_demo()
    client = Client()
    assert client.login(email="admin@tessera.localhost", password="tessera-demo")
    for path in (
        "/admin/",
        "/admin/tickets/ticket/",
        f"/admin/accounts/department/{Department.objects.get(slug='technical').pk}/change/",
        "/admin/tickets/requiredfields/",
        "/admin/accounts/user/",
        "/admin/sla/slapolicy/",
        f"/admin/sla/slapolicy/{SlaPolicy.objects.first().pk}/change/",  # type: ignore[union-attr]
        "/admin/sla/businesscalendar/",
        "/admin/sla/prioritymatrix/",
    ):
        assert client.get(path).status_code == 200, path
    agent_client = Client()
    agent_client.force_login(f.agent())
    assert agent_client.get("/admin/").status_code == 302  # to the admin login: agents are not staff


def test_home_shows_times_in_the_users_time_zone_with_its_name() -> None:
    from tests import factories as f

    customer = f.customer()
    customer.time_zone = "Europe/Warsaw"
    customer.save()
    ticket = f.ticket(customer, subject="<script>alert('x')</script>")
    client = Client()
    client.force_login(customer)
    page = client.get("/").content.decode()
    assert "Europe/Warsaw" in page and ticket.reference in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_health_names_a_mailbox_that_cannot_log_in() -> None:
    from tessera.accounts.models import Department
    from tessera.mail.models import Mailbox

    now = clock.now()
    WorkerHeartbeat.objects.create(worker_id="w1", hostname="h", pid=1, started_at=now, last_seen=now)
    mailbox = Mailbox.objects.create(
        address="support@example.com",
        department=Department.objects.get(slug="technical"),
        imap_host="127.0.0.1",
        imap_username="support",
    )
    assert Client().get("/health").json()["mailboxes"]["status"] == "ok"
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_error="LOGIN failed: authentication failed", last_error_at=now
    )
    response = Client().get("/health")
    assert response.status_code == 503
    problems = response.json()["mailboxes"]["problems"]
    assert problems[0]["mailbox"] == "support@example.com" and "LOGIN failed" in problems[0]["error"]
