"""Reads do not fail because authentication writes: the API token's last-use stamp is skipped, not
waited for or failed on, when the database cannot take it right now."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from tessera.accounts.models import ApiToken
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _read(token: str) -> int:
    return Client().get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.mark.skipif(connection.vendor != "sqlite", reason="a write lock on the SQLite file")
def test_a_read_succeeds_while_another_process_holds_the_write_lock(monkeypatch: Any) -> None:
    raw = factories.token_for(factories.customer("carla"))
    monkeypatch.setitem(connections.settings["default"]["OPTIONS"], "timeout", 0.1)
    connection.close()  # reconnect with the short busy timeout
    outsider = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    try:
        assert _read(raw) == 200
        assert ApiToken.objects.get().last_used_at is None  # the stamp was what gave way
    finally:
        outsider.execute("ROLLBACK")
        outsider.close()
    assert _read(raw) == 200
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a row lock held by another transaction")
def test_a_read_succeeds_while_another_transaction_holds_the_token_row() -> None:
    raw = factories.token_for(factories.customer("carla"))
    token = ApiToken.objects.get()
    other = connections.create_connection("default")
    other.set_autocommit(False)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT id FROM accounts_apitoken WHERE id = %s FOR UPDATE", [token.pk])
        assert _read(raw) == 200  # neither waits for the lock nor fails
        assert ApiToken.objects.get().last_used_at is None
    finally:
        other.rollback()
        other.close()
    assert _read(raw) == 200
    assert ApiToken.objects.get().last_used_at is not None
