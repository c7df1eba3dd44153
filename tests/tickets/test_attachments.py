from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tessera.core.errors import ValidationFailed
from tessera.tickets import services
from tessera.tickets.models import Attachment, Ticket, TimelineEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def test_screenshot_and_log_are_stored_with_sniffed_types(api_as: Any) -> None:
    customer = f.customer()
    ticket = f.ticket(customer)
    response = api_as(customer).upload(
        f"/tickets/{ticket.pk}/attachments", [("screen.png", f.PNG), ("app.log", b"ERROR 42 at boot\n")]
    )
    assert response.status_code == 201, response.content
    stored = {a["filename"]: a["content_type"] for a in response.json()}
    assert stored == {"screen.png": "image/png", "app.log": "text/plain"}
    assert TimelineEvent.objects.filter(ticket=ticket, kind="attachment_added").count() == 2


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("screenshot.png", b"<html><script>alert(1)</script></html>"),
        ("image.svg", f.PNG),
        ("report.html", PDF),
        ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("report.pdf", f.PNG),
        ("photo.jpg", PDF),
        ("program.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(64)),
        ("empty.txt", b""),
    ],
)
def test_files_whose_content_is_not_acceptable_are_refused(api_as: Any, name: str, content: bytes) -> None:
    customer = f.customer()
    ticket = f.ticket(customer)
    before = TimelineEvent.objects.count()
    response = api_as(customer).upload(f"/tickets/{ticket.pk}/attachments", [(name, content)])
    assert response.status_code == 422, (name, response.content)
    assert response.json()["errors"][0]["field"] == "attachments"
    assert Attachment.objects.count() == 0 and TimelineEvent.objects.count() == before


@pytest.mark.parametrize(
    ("name", "content", "stored_type"),
    [
        ("report.html", b"<!DOCTYPE html><html><body><script>alert(1)</script>Q3</body></html>", "text/html"),
        (
            "chart.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image/svg+xml",
        ),
        # Markup inside a file named as text is kept as the text it says it is.
        ("notes.txt", b"<!DOCTYPE html><html><body>hi</body></html>", "text/plain"),
    ],
)
def test_html_and_svg_are_kept_and_only_ever_downloaded(
    api_as: Any, name: str, content: bytes, stored_type: str
) -> None:
    customer, agent = f.customer(), f.agent()
    ticket = f.ticket(customer)
    response = api_as(customer).upload(f"/tickets/{ticket.pk}/attachments", [(name, content)])
    assert response.status_code == 201, response.content
    [stored] = response.json()
    assert stored["content_type"] == stored_type
    download = api_as(agent).get(f"/attachments/{stored['id']}")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert (
        "sandbox" in download["Content-Security-Policy"]
        and "default-src 'none'" in download["Content-Security-Policy"]
    )
    assert b"".join(download.streaming_content) == content


def test_one_bad_file_refuses_the_whole_ticket(settings: Any) -> None:
    customer = f.customer()
    with pytest.raises(ValidationFailed):
        services.create_ticket(
            actor=customer,
            data=services.NewTicket(
                subject="s",
                description="d",
                department=f.department("technical"),
                files=[_upload("ok.png", f.PNG), _upload("bad.png", b"<html>")],
            ),
        )
    assert Ticket.objects.count() == 0 and Attachment.objects.count() == 0


def test_size_and_count_limits(settings: Any) -> None:
    settings.TESSERA_MAX_ATTACHMENT_BYTES = 1024
    settings.TESSERA_MAX_ATTACHMENTS = 2
    customer = f.customer()
    ticket = f.ticket(customer)
    with pytest.raises(ValidationFailed, match="too large"):
        services.add_attachments(actor=customer, ticket=ticket, files=[_upload("big.log", b"x" * 1025)])
    with pytest.raises(ValidationFailed, match="Too many"):
        services.add_attachments(
            actor=customer, ticket=ticket, files=[_upload(f"{i}.log", b"x") for i in range(3)]
        )
    assert Attachment.objects.count() == 0


def test_download_is_always_an_attachment_and_only_for_people_who_see_the_ticket(api_as: Any) -> None:
    customer = f.customer()
    ticket = f.ticket(customer)
    attachment = services.add_attachments(actor=customer, ticket=ticket, files=[_upload("a.png", f.PNG)])[0]
    response = api_as(customer).get(f"/attachments/{attachment.pk}")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == f.PNG
    assert api_as(f.customer()).get(f"/attachments/{attachment.pk}").status_code == 404
    assert api_as(f.agent("billing")).get(f"/attachments/{attachment.pk}").status_code == 404


def test_note_attachments_are_hidden_from_the_customer(api_as: Any) -> None:
    customer, agent = f.customer(), f.agent()
    ticket = f.ticket(customer)
    services.add_note(actor=agent, ticket=ticket, body="internal log", files=[_upload("trace.log", b"trace")])
    attachment = Attachment.objects.get()
    assert api_as(customer).get(f"/attachments/{attachment.pk}").status_code == 404
    assert api_as(agent).get(f"/attachments/{attachment.pk}").status_code == 200
    assert api_as(customer).get(f"/tickets/{ticket.pk}").json()["attachments"] == []


def test_file_names_cannot_traverse_paths() -> None:
    customer = f.customer()
    ticket = f.ticket(customer)
    stored = services.add_attachments(
        actor=customer, ticket=ticket, files=[_upload("../../etc/passwd.log", b"root:x:0:0")]
    )[0]
    assert stored.filename == "passwd.log"
    assert stored.file.name == f"attachments/{stored.sha256[:2]}/{stored.sha256}"
