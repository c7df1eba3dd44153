"""During a database outage pages answer 503 with Retry-After, not a 500 with a traceback."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db


def test_a_page_during_a_database_outage_is_503_with_retry_after(monkeypatch: Any) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(factories.customer("carla"))

    def down(self: SessionStore) -> dict[str, Any]:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(SessionStore, "load", down)
    response = client.get("/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "Temporarily unavailable" in response.content.decode()


def test_other_errors_stay_500(monkeypatch: Any) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(factories.customer("carla"))

    def broken(self: SessionStore) -> dict[str, Any]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(SessionStore, "load", broken)
    assert client.get("/").status_code == 500
