"""The task backend: django-tasks-db's database backend, writing the task row with one prepared INSERT.

An enqueue is part of the transaction of the change that caused it (a new ticket queues its emails'
delivery), so its cost counts in every such request; `DBTaskResult.objects.create` spent about twice the
Python of the row it writes on building the query."""

from __future__ import annotations

from typing import Any

from django_tasks_db import DatabaseBackend as LibraryBackend
from django_tasks_db.compat import normalize_json, task_enqueued
from django_tasks_db.models import DBTaskResult, get_date_max

from tessera.core import rows


class DatabaseBackend(LibraryBackend):
    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        # The library's enqueue, building the result once: `task_result` makes a new one (and resolves
        # the task by its path again) on every access, and the library reads it twice.
        self.validate_task(task)
        result = self._task_to_db_task(task, args, kwargs).task_result
        task_enqueued.send(type(self), task_result=result)
        return result

    def _task_to_db_task(self, task: Any, args: Any, kwargs: Any) -> DBTaskResult[Any, Any]:
        # The row the library's create() writes, with what its pre_save receiver adds (no signals here):
        # "no run_after" is stored as the latest date.
        row: DBTaskResult[Any, Any] = rows.new(
            DBTaskResult,
            id=self._get_id(),
            args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after or get_date_max(),
            backend_name=self.alias,
        )
        rows.insert(row)
        return row
