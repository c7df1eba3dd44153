"""The SQLite backend queues write transactions on a file lock (tessera.core.sqlite_backend).

These tests open their own database files, so they run the same whichever database the suite is on."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler


def _wrapper(path: Path) -> Any:
    # SQLite's own busy timeout is 1 ms here: a writer that waited on SQLite's lock would fail at once.
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": "tessera.core.sqlite_backend",
                "NAME": str(path),
                "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 0.001},
            }
        }
    )
    return handler["default"]


def _begin(wrapper: Any) -> None:
    """What an outermost `atomic` does on SQLite."""
    wrapper.ensure_connection()
    wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def _end(wrapper: Any, *, commit: bool = True) -> None:
    if commit:
        wrapper.commit()
    else:
        wrapper.rollback()
    wrapper.set_autocommit(True)


def _lock_is_free(path: Path) -> bool:
    fd = os.open(f"{path}-txlock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops the lock if we took it
    return True


@pytest.fixture(autouse=True)
def _own_databases(django_db_blocker: Any) -> Any:
    # These wrappers open their own files, not the suite's test database.
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "queue.sqlite3"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, writer TEXT)")
    return path


def test_a_second_writer_waits_for_the_first_to_commit_instead_of_failing(database: Path) -> None:
    holding, timeline, errors = threading.Event(), [], []

    def write_first() -> None:
        first = _wrapper(database)  # a connection per thread, as Django has
        _begin(first)
        first.cursor().execute("INSERT INTO t (writer) VALUES ('first')")
        holding.set()
        time.sleep(0.3)  # longer than SQLite's 1 ms busy timeout by far
        timeline.append("first committed")
        _end(first)
        first.close()

    def write_second() -> None:
        holding.wait()
        second = _wrapper(database)
        try:
            _begin(second)
            timeline.append("second began")
            second.cursor().execute("INSERT INTO t (writer) VALUES ('second')")
            _end(second)
        except Exception as error:  # pragma: no cover - the failure this test exists to catch
            errors.append(error)
        finally:
            second.close()

    threads = [threading.Thread(target=write_first), threading.Thread(target=write_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert timeline == ["first committed", "second began"]
    with sqlite3.connect(database) as check:
        assert [row[0] for row in check.execute("SELECT writer FROM t ORDER BY id")] == ["first", "second"]


def test_commit_rollback_and_close_each_release_the_lock(database: Path) -> None:
    wrapper = _wrapper(database)
    _begin(wrapper)
    assert not _lock_is_free(database)
    _end(wrapper)
    assert _lock_is_free(database)

    _begin(wrapper)
    wrapper.cursor().execute("INSERT INTO t (writer) VALUES ('rolled back')")
    _end(wrapper, commit=False)
    assert _lock_is_free(database)

    _begin(wrapper)
    wrapper.close()  # e.g. a broken connection in the middle of a transaction
    assert _lock_is_free(database)
    with sqlite3.connect(database) as check:
        assert check.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_a_begin_that_fails_releases_the_lock(database: Path) -> None:
    # A writer outside Django's transactions holds SQLite's own lock, so BEGIN IMMEDIATE times out.
    outsider = sqlite3.connect(database, isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    wrapper = _wrapper(database)
    wrapper.ensure_connection()
    with pytest.raises(OperationalError, match="locked"):
        wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    assert _lock_is_free(database)
    outsider.execute("ROLLBACK")
    outsider.close()
    wrapper.close()


def test_an_in_memory_database_takes_no_lock(tmp_path: Path) -> None:
    wrapper = _wrapper(Path(":memory:"))
    _begin(wrapper)
    _end(wrapper)
    assert wrapper._write_lock_fd is None
    wrapper.close()
