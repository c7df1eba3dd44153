"""Uploads: a too-large request is refused before it is read, a too-large file is never stored past the
limit, and zip containers are told apart by their content (shared by web uploads and mail)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tessera.portal.models import PendingUpload
from tessera.tickets.attachments import check_file, sniff
from tessera.tickets.models import Attachment, Ticket
from tessera.tickets.uploads import LimitedTemporaryFileUploadHandler
from tests import factories

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    return buffer.getvalue()


def _ooxml(part: str) -> bytes:
    return _zip({"[Content_Types].xml": b"<Types/>", "_rels/.rels": b"<Relationships/>", part: b"<x/>"})


def _odf(mime: str) -> bytes:
    return _zip({"mimetype": mime.encode(), "content.xml": b"<office:document-content/>"})


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("archive.zip", _zip({"notes.txt": b"hello", "logs/app.log": b"x" * 100}), "application/zip"),
        ("letter.docx", _ooxml("word/document.xml"), DOCX),
        ("budget.xlsx", _ooxml("xl/workbook.xml"), XLSX),
        ("slides.pptx", _ooxml("ppt/presentation.xml"), PPTX),
        ("letter.odt", _odf(ODT), ODT),
        ("budget.ods", _odf(ODS), ODS),
    ],
)
def test_each_zip_container_is_recognised_by_its_parts(name: str, content: bytes, expected: str) -> None:
    assert sniff(content) == expected
    assert check_file(SimpleUploadedFile(name, content)).content_type == expected


@pytest.mark.parametrize(
    ("name", "content", "program"),
    [
        (
            "tool.jar",
            _zip({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n", "Main.class": b"x"}),
            "java-archive",
        ),
        ("app.apk", _zip({"AndroidManifest.xml": b"\x03\x00", "classes.dex": b"dex\n035"}), "android"),
        ("tool.zip", _zip({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n"}), "java-archive"),
    ],
)
def test_java_and_android_programs_are_refused_as_programs_not_as_misnamed(
    name: str, content: bytes, program: str
) -> None:
    from tessera.tickets.attachments import FileRefused

    with pytest.raises(FileRefused) as refused:
        check_file(SimpleUploadedFile(name, content))
    assert refused.value.reason == "executable" and program in str(refused.value.params["type"])
    assert "is a program" in str(refused.value.message)


@pytest.mark.django_db
def test_each_zip_based_format_through_a_web_upload(api_as: Any) -> None:
    customer = factories.customer()
    ticket = factories.ticket(customer)
    files = {
        "archive.zip": _zip({"notes.txt": b"hello"}),
        "letter.docx": _ooxml("word/document.xml"),
        "budget.xlsx": _ooxml("xl/workbook.xml"),
        "letter.odt": _odf(ODT),
        "tool.jar": _zip({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n"}),
        "app.apk": _zip({"AndroidManifest.xml": b"\x03\x00"}),
    }
    outcome = {}
    for name, content in files.items():
        response = api_as(customer).upload(f"/tickets/{ticket.pk}/attachments", [(name, content)])
        outcome[name] = (
            response.json()[0]["content_type"] if response.status_code == 201 else response.status_code
        )
    assert outcome == {
        "archive.zip": "application/zip",
        "letter.docx": DOCX,
        "budget.xlsx": XLSX,
        "letter.odt": ODT,
        "tool.jar": 422,
        "app.apk": 422,
    }
    assert sorted(Attachment.objects.values_list("filename", flat=True)) == sorted(
        ["archive.zip", "letter.docx", "budget.xlsx", "letter.odt"]
    )


def test_a_zip_named_as_a_document_is_refused() -> None:
    from tessera.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        check_file(SimpleUploadedFile("letter.docx", _zip({"notes.txt": b"hello"})))


def test_the_streaming_handler_never_stores_more_than_the_limit(settings: Any) -> None:
    settings.TESSERA_MAX_ATTACHMENT_BYTES = 1024 * 1024
    handler = LimitedTemporaryFileUploadHandler()
    handler.new_file("attachments", "huge.bin", "application/octet-stream", None)
    chunk = b"\0" * 65536
    total = 0
    for _ in range(80):  # 5 MB arrive
        assert handler.receive_data_chunk(chunk, total) is None
        total += len(chunk)
    uploaded = handler.file_complete(total)
    assert uploaded is not None
    uploaded.file.seek(0, io.SEEK_END)
    assert uploaded.file.tell() == settings.TESSERA_MAX_ATTACHMENT_BYTES + 1  # on disk: the limit, no more
    assert uploaded.size == total  # the true size, so the check says "too large"
    uploaded.close()


@pytest.mark.django_db
def test_a_request_declaring_more_than_the_limit_is_refused_before_it_is_read(settings: Any) -> None:
    carla = factories.customer("carla")
    client = Client()
    client.force_login(carla)
    response = client.post(
        "/tickets/new", {"subject": "x"}, CONTENT_LENGTH=str(settings.TESSERA_MAX_REQUEST_BYTES + 1)
    )
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_a_too_large_file_is_refused_and_nothing_is_kept(settings: Any) -> None:
    settings.TESSERA_MAX_ATTACHMENT_BYTES = 1024 * 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # through the streaming handler, as a real large upload
    carla = factories.customer("carla")
    client = Client()
    client.force_login(carla)
    big = SimpleUploadedFile("big.log", b"line\n" * (3 * 1024 * 1024 // 5))
    response = client.post(
        "/tickets/new",
        {
            "department": factories.department("billing").pk,
            "subject": "Logs",
            "description": "See the file.",
            "priority": factories.priority("medium").pk,
            "upload_token": "",
            "attachments": [big],
        },
    )
    assert response.status_code == 422
    assert "too large" in response.content.decode()
    assert not Ticket.objects.exists() and not Attachment.objects.exists()
    assert not PendingUpload.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_files_kept_for_a_refused_form_are_deleted_once_stale(settings: Any) -> None:
    from datetime import timedelta

    from tessera.core import clock
    from tessera.portal.services import keep_uploads, purge_pending_uploads

    carla = factories.customer("carla")
    [kept] = keep_uploads(carla, "form-token", [check_file(SimpleUploadedFile("log.txt", b"a log\n"))])
    storage, name = kept.file.storage, kept.file.name
    assert storage.exists(name)
    assert purge_pending_uploads() == 0  # still within TESSERA_PENDING_UPLOAD_HOURS
    PendingUpload.objects.filter(pk=kept.pk).update(
        created_at=clock.now() - timedelta(hours=settings.TESSERA_PENDING_UPLOAD_HOURS, minutes=1)
    )
    assert purge_pending_uploads() == 1
    assert not PendingUpload.objects.exists() and not storage.exists(name)
