"""Attachment checks: limits, and the file's type decided by its content, never by its name; and the
download response (who may download is tessera.tickets.access.can_download/downloadable_attachments)."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import puremagic
from django.conf import settings
from django.core.files import File
from django.db.models import Count, Sum
from django.http import FileResponse
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core import clock
from tessera.core.errors import ValidationFailed
from tessera.tickets.models import Attachment

# Types we accept, by sniffed MIME type. HTML, SVG and executables are never accepted: they could
# run script in a browser or on an agent's machine.
ALLOWED_BINARY = {
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/tiff",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "application/x-7z-compressed",
    "application/x-tar",
    "application/x-xz",
    "application/x-bzip2",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-tnef",
}
# Extensions that promise a particular binary type: the content must agree.
EXTENSION_FAMILIES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
}
# Zip containers are told apart by what is inside, not by their first bytes (which are the same for all).
_OOXML_PARTS = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_ODF_TYPES = {"application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet"}
TEXT_EXTENSIONS = {
    ".txt",
    ".log",
    ".csv",
    ".json",
    ".eml",
    ".conf",
    ".cfg",
    ".ini",
    ".yaml",
    ".yml",
    ".md",
    "",
}
_MARKUP_MARKERS = (b"<html", b"<!doctype", b"<script", b"<svg", b"<?xml", b"<iframe", b"<body", b"<head")


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content: bytes
    content_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def check_files(files: list[File[bytes]] | None) -> list[CheckedFile]:
    """Read and check every file before anything is saved, so one bad file refuses the whole request."""
    files = files or []
    if len(files) > settings.TESSERA_MAX_ATTACHMENTS:
        raise ValidationFailed(
            _("Too many attachments: at most %(max)d per message.")
            % {"max": settings.TESSERA_MAX_ATTACHMENTS},
            field="attachments",
        )
    return [check_file(upload) for upload in files]


def check_daily_quota(user: User | None, files: Sequence[CheckedFile], *, held: Sequence[int] = ()) -> None:
    """Refuse `files` (raise a 422 naming the limit) when storing them would take `user` past their quota
    of files stored in the last 24 hours (TESSERA_DAILY_UPLOAD_FILES / _MB; 0: no limit). `held`: sizes
    of files of theirs stored elsewhere meanwhile (the portal's pending uploads). The web, API and mail
    all call this; mail calls it per file, so a refused file is noted and the message kept."""
    if user is None or user.pk is None or not files:
        return
    max_files, max_bytes = settings.TESSERA_DAILY_UPLOAD_FILES, settings.TESSERA_DAILY_UPLOAD_BYTES
    if not max_files and not max_bytes:
        return
    stored = Attachment.objects.filter(
        uploaded_by=user, created_at__gte=clock.now() - timedelta(hours=24)
    ).aggregate(count=Count("id"), size=Sum("size"))
    count = stored["count"] + len(held) + len(files)
    size = (stored["size"] or 0) + sum(held) + sum(f.size for f in files)
    if (max_files and count > max_files) or (max_bytes and size > max_bytes):
        raise ValidationFailed(
            _(
                "Daily upload limit reached: at most %(files)d files and %(megabytes)d MB in 24 hours. "
                "Send fewer or smaller files, or try again later."
            )
            % {"files": max_files, "megabytes": max_bytes // (1024 * 1024)},
            field="attachments",
        )


def check_file(upload: File[bytes]) -> CheckedFile:
    filename = os.path.basename((upload.name or "attachment").replace("\\", "/"))[:255] or "attachment"
    limit = settings.TESSERA_MAX_ATTACHMENT_BYTES
    if upload.size is not None and upload.size > limit:
        raise _too_large(filename, limit)
    upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise _too_large(filename, limit)
    if not content:
        raise ValidationFailed(_("“%(name)s” is empty.") % {"name": filename}, field="attachments")
    content_type = sniff(content)
    extension = os.path.splitext(filename)[1].lower()
    if content_type is None:
        raise ValidationFailed(
            _(
                "“%(name)s” is not a file type we accept "
                "(images, PDF, text, logs, office documents, archives)."
            )
            % {"name": filename},
            field="attachments",
        )
    promised = EXTENSION_FAMILIES.get(extension)
    if (promised and promised != content_type) or (
        content_type == "text/plain" and extension not in TEXT_EXTENSIONS
    ):
        raise ValidationFailed(
            _("“%(name)s” is not what its name says: its content is %(type)s.")
            % {"name": filename, "type": content_type},
            field="attachments",
        )
    return CheckedFile(filename, content, content_type, hashlib.sha256(content).hexdigest())


def sniff(content: bytes) -> str | None:
    """The MIME type the content really has, or None when it is not one we accept."""
    head = content[:2048].lstrip().lower()
    if any(marker in head for marker in _MARKUP_MARKERS):
        return None
    if content.startswith(b"PK\x03\x04"):
        return zip_container_type(content)
    try:
        matches = puremagic.magic_string(content[:8192])
    except (puremagic.PureError, ValueError):
        matches = []
    for match in matches:
        mime = (match.mime_type or "").lower()
        if mime in ALLOWED_BINARY:
            return mime
    if matches and any(
        (m.mime_type or "").startswith(
            ("text/html", "image/svg", "application/x-executable", "application/x-msdownload")
        )
        for m in matches
    ):
        return None
    # Unrecognised content is text (logs, configs in any 8-bit encoding) unless it holds NUL bytes,
    # which only binary formats do.
    return None if b"\x00" in content[:8192] else "text/plain"


def zip_container_type(content: bytes) -> str:
    """An office document when its parts say so (OOXML: [Content_Types].xml and word/, xl/ or ppt/; ODF:
    its `mimetype` entry), otherwise a plain zip archive. Only the directory and the few bytes of the
    `mimetype` entry are read, never the compressed content."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            if "[Content_Types].xml" in names:
                for prefix, mime in _OOXML_PARTS.items():
                    if any(name.startswith(prefix) for name in names):
                        return mime
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 100:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                if declared in _ODF_TYPES:
                    return declared
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, NotImplementedError, OSError):
        pass  # a damaged or unusual archive is still just a zip
    return "application/zip"


def _too_large(filename: str, limit: int) -> ValidationFailed:
    return ValidationFailed(
        _("“%(name)s” is too large: at most %(mb)d MB.") % {"name": filename, "mb": limit // (1024 * 1024)},
        field="attachments",
    )


def attachment_response(attachment: Attachment) -> FileResponse:
    """The file, always as a download, never rendered or sniffed by the browser."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
