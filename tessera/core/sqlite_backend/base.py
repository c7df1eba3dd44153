"""SQLite with write transactions queued on a file lock instead of SQLite's busy-wait.

SQLite lets one transaction write at a time. A writer that finds the database locked sleeps in SQLite's
busy handler for 1, 2, 5, 10, 15, 20, 25… ms and tries again, so under concurrent writers (web workers,
task worker) most of a waiter's time is spent asleep after the lock was already free. Here every
transaction Django opens (`BEGIN IMMEDIATE` of an outermost `atomic`) first takes an exclusive `flock`
on a file beside the database, which the kernel hands to the next waiter as soon as the holder commits
or rolls back. The lock is tied to the open file, so a process that dies releases it.

Statements outside `atomic` are unchanged: they take SQLite's own lock, waiting in its busy handler.
"""

from __future__ import annotations

import fcntl
import os
from typing import Any

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._write_lock_fd: int | None = None
        self._write_lock_held = False

    def _lock_path(self) -> str | None:
        if self.is_in_memory_db():
            return None  # private to this connection: nobody to queue behind
        return f"{self.settings_dict['NAME']}-txlock"

    def _acquire_write_lock(self) -> None:
        path = self._lock_path()
        if path is None or self._write_lock_held:
            return
        if self._write_lock_fd is None:
            self._write_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._write_lock_fd, fcntl.LOCK_EX)  # blocks without holding the GIL
        self._write_lock_held = True

    def _release_write_lock(self) -> None:
        if self._write_lock_held and self._write_lock_fd is not None:
            fcntl.flock(self._write_lock_fd, fcntl.LOCK_UN)
        self._write_lock_held = False

    def _start_transaction_under_autocommit(self) -> None:
        self._acquire_write_lock()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # private hooks, not in the stubs
        except BaseException:
            self._release_write_lock()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]  # private hooks, not in the stubs
        finally:
            self._release_write_lock()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]  # private hooks, not in the stubs
        finally:
            self._release_write_lock()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]  # private hooks, not in the stubs
        finally:
            self._release_write_lock()
            if self._write_lock_fd is not None:
                os.close(self._write_lock_fd)
                self._write_lock_fd = None
