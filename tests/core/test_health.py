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
