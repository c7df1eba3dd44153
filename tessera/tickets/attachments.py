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
from typing import Any

import puremagic
from django.conf import settings
from django.core.files import File
from django.db.models import Count, Sum
from django.http import FileResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tessera.accounts.models import User
from tessera.core import clock
from tessera.core.errors import ValidationFailed
from tessera.tickets.models import Attachment

# Types we accept, by sniffed MIME type. Executables are never accepted: they could run on an agent's
# machine. HTML and SVG are (a customer's exported report is data): like every file they are only ever
# served as downloads, never rendered (attachment_response).
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
    "text/html",
    "image/svg+xml",
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
    ".html": "text/html",
    ".htm": "text/html",
    ".svg": "image/svg+xml",
}
# Zip containers are told apart by what is inside, not by their first bytes (which are the same for all).
_OOXML_PARTS = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
# Zip containers that are programs: refused like other executables.
JAVA_ARCHIVE = "application/java-archive"
ANDROID_PACKAGE = "application/vnd.android.package-archive"
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
    ".xml",
    "",
}
_HTML_MARKERS = (b"<html", b"<!doctype", b"<script", b"<iframe", b"<body", b"<head")
_MARKUP = {"text/html", "image/svg+xml"}
# First bytes of programs (Windows PE, ELF, Mach-O 32/64-bit in both byte orders); of Outlook's TNEF.
_EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
)
_TNEF_MAGIC = b"\x78\x9f\x3e\x22"
EXECUTABLE_TYPES = {"application/x-msdownload", JAVA_ARCHIVE, ANDROID_PACKAGE}

# Why a file was refused, by reason code: the code and its values travel (a mail acknowledgement is
# rendered later, in the customer's language), the text is made in the language of whoever reads it.
REFUSALS = {
    "empty": gettext_lazy("“%(name)s” is empty."),
    "too_large": gettext_lazy("“%(name)s” is too large: at most %(mb)d MB."),
    "too_many": gettext_lazy("“%(name)s” was not attached: at most %(max)d attachments per message."),
    "type": gettext_lazy(
        "“%(name)s” is not a file type we accept (images, PDF, text, logs, office documents, archives)."
    ),
    "mismatch": gettext_lazy("“%(name)s” is not what its name says: its content is %(type)s."),
    "executable": gettext_lazy("“%(name)s” is a program (%(type)s); programs are not accepted."),
    "quota": gettext_lazy(
        "“%(name)s” was not stored: the daily upload limit is %(files)d files and %(megabytes)d MB "
        "in 24 hours."
    ),
}


class FileRefused(ValidationFailed):
    """A file the attachment rules refuse; `reason` (a REFUSALS key) and `params` say why."""

    def __init__(self, reason: str, **params: str | int) -> None:
        self.reason, self.params = reason, params
        super().__init__(refusal_text(reason, params), field="attachments")


def refusal_text(reason: str, params: dict[str, Any]) -> str:
    """The refusal in the active language."""
    return str(REFUSALS[reason]) % params


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
    mb = limit // (1024 * 1024)
    if upload.size is not None and upload.size > limit:
        raise FileRefused("too_large", name=filename, mb=mb)
    upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise FileRefused("too_large", name=filename, mb=mb)
    if not content:
        raise FileRefused("empty", name=filename)
    content_type = sniff(content)
    extension = os.path.splitext(filename)[1].lower()
    if content_type is None:
        raise FileRefused("type", name=filename)
    if content_type in EXECUTABLE_TYPES:
        raise FileRefused("executable", name=filename, type=content_type)
    if content_type in _MARKUP and extension in TEXT_EXTENSIONS - {""}:
        # A log or XML file that happens to hold markup is kept as the text it says it is.
        content_type = "text/plain"
    promised = EXTENSION_FAMILIES.get(extension)
    if (promised and promised != content_type) or (
        content_type == "text/plain" and extension not in TEXT_EXTENSIONS
    ):
        raise FileRefused("mismatch", name=filename, type=content_type)
    return CheckedFile(filename, content, content_type, hashlib.sha256(content).hexdigest())


def sniff(content: bytes) -> str | None:
    """The MIME type the content really has, or None when it is not one we accept."""
    if content.startswith(_EXECUTABLE_MAGIC):
        return "application/x-msdownload"
    if content.startswith(_TNEF_MAGIC):
        return "application/vnd.ms-tnef"
    if content.startswith(b"PK\x03\x04"):
        return zip_container_type(content)
    head = content[:2048].lstrip().lower()
    if b"<svg" in head:
        return "image/svg+xml"
    if any(marker in head for marker in _HTML_MARKERS):
        return "text/html"
    try:
        matches = puremagic.magic_string(content[:8192])
    except (puremagic.PureError, ValueError):
        matches = []
    for match in matches:
        mime = (match.mime_type or "").lower()
        if mime in ALLOWED_BINARY:
            return mime
    # Unrecognised content is text (logs, configs in any 8-bit encoding) unless it holds NUL bytes,
    # which only binary formats do.
    return None if b"\x00" in content[:8192] else "text/plain"


def zip_container_type(content: bytes) -> str:
    """An office document when its parts say so (OOXML: [Content_Types].xml and word/, xl/ or ppt/; ODF:
    its `mimetype` entry), a Java or Android program (their manifests), otherwise a plain zip archive.
    Only the directory and the few bytes of the `mimetype` entry are read, never the compressed content."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            if "[Content_Types].xml" in names:
                for prefix, mime in _OOXML_PARTS.items():
                    if any(name.startswith(prefix) for name in names):
                        return mime
            if "AndroidManifest.xml" in names:
                return ANDROID_PACKAGE
            if "META-INF/MANIFEST.MF" in names:
                return JAVA_ARCHIVE
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 100:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                if declared in _ODF_TYPES:
                    return declared
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, NotImplementedError, OSError):
        pass  # a damaged or unusual archive is still just a zip
    return "application/zip"


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
