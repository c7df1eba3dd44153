"""A streaming limit on uploaded files: bytes past the attachment limit are never stored, so a huge
upload costs neither memory nor disk. The file keeps its true size, and check_file refuses it as too
large with the usual message."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler


class LimitedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.stored = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        limit = settings.TESSERA_MAX_ATTACHMENT_BYTES
        if self.stored > limit:
            return None  # past the limit: read (the form's other fields follow) but dropped
        room = limit + 1 - self.stored
        kept = raw_data[:room]
        self.stored += len(kept)
        super().receive_data_chunk(kept, start)
        return None
