"""A per-person quota of files stored per day (TESSERA_DAILY_UPLOAD_FILES / _MB): over it, the API, the
portal and the workspace refuse the files with a clear error and store nothing; mail keeps the message,
drops the files over the quota and notes each."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tessera.core.errors import ValidationFailed
from tessera.core.worker import run_pending_tasks
from tessera.mail.inbound.store import store_raw
from tessera.mail.models import InboundMessage
from tessera.portal.models import PendingUpload
from tessera.tickets import services
from tessera.tickets.models import Attachment, Message, Ticket, TimelineEvent
from tests import factories
from tests.mail import corpus

LIMIT = "Daily upload limit reached"


@pytest.fixture
def quota(settings: Any) -> None:
    settings.TESSERA_DAILY_UPLOAD_FILES = 2
    settings.TESSERA_DAILY_UPLOAD_BYTES = 10 * 1024 * 1024


def _log(name: str, size: int = 100) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"x" * (size - 1) + b"\n")


@pytest.mark.django_db
def test_the_api_refuses_files_past_the_daily_quota_and_stores_nothing(quota: None) -> None:
    carla = factories.customer("carla")
    ticket = factories.ticket(carla)
    token = factories.token_for(carla)
    url = f"/api/v1/tickets/{ticket.pk}/attachments"
    headers = {"Authorization": f"Bearer {token}"}
    assert Client().post(url, {"files": [_log("a.log"), _log("b.log")]}, headers=headers).status_code == 201
    refused = Client().post(url, {"files": [_log("c.log")]}, headers=headers)
    assert refused.status_code == 422
    problem = refused.json()
    assert LIMIT in problem["detail"] and problem["errors"][0]["field"] == "attachments"
    assert sorted(Attachment.objects.values_list("filename", flat=True)) == ["a.log", "b.log"]
    # Another person has their own quota.
    services.add_attachments(actor=factories.agent(name="anna"), ticket=ticket, files=[_log("d.log")])


@pytest.mark.django_db
def test_the_quota_counts_bytes_too(settings: Any) -> None:
    settings.TESSERA_DAILY_UPLOAD_FILES = 0  # no limit on the number
    settings.TESSERA_DAILY_UPLOAD_BYTES = 1000
    carla = factories.customer("carla")
    ticket = factories.ticket(carla)
    services.add_attachments(actor=carla, ticket=ticket, files=[_log("a.log", 600)])
    with pytest.raises(ValidationFailed) as refused:
        services.add_reply(actor=carla, ticket=ticket, body="More", files=[_log("b.log", 600)])
    assert LIMIT in str(refused.value.message)
    assert not Message.objects.filter(body="More").exists()  # the whole reply is refused, as for a bad file


@pytest.mark.django_db
def test_the_portal_form_says_so_and_keeps_no_file_past_the_quota(quota: None) -> None:
    carla = factories.customer("carla")
    services.add_attachments(
        actor=carla, ticket=factories.ticket(carla), files=[_log("a.log"), _log("b.log")]
    )
    client = Client()
    client.force_login(carla)
    form = {
        "department": factories.department("billing").pk,
        "subject": "Logs",
        "description": "See the file.",
        "priority": factories.priority("medium").pk,
        "upload_token": "",
        "attachments": [_log("c.log")],
    }
    response = client.post("/tickets/new", form)
    assert response.status_code == 422 and response.content.decode().count(LIMIT) == 1
    assert Ticket.objects.count() == 1 and Attachment.objects.count() == 2
    assert not PendingUpload.objects.exists()
    # A refused form (a missing subject) keeps its files pending only within the quota.
    response = client.post("/tickets/new", {**form, "subject": "", "attachments": [_log("d.log")]})
    assert response.status_code == 422 and LIMIT in response.content.decode()
    assert not PendingUpload.objects.exists()


@pytest.mark.django_db
def test_the_workspace_reply_says_so_and_sends_nothing(quota: None) -> None:
    anna = factories.agent(name="anna")
    ticket = factories.ticket(factories.customer("carla"))
    services.add_note(actor=anna, ticket=ticket, body="Logs", files=[_log("a.log"), _log("b.log")])
    desk = Client()
    desk.force_login(anna)
    response = desk.post(
        f"/agent/tickets/{ticket.pk}/reply",
        {
            "body": "Here you go",
            "version": Ticket.objects.get(pk=ticket.pk).version,
            "files": [_log("c.log")],
        },
    )
    assert response.status_code == 422 and LIMIT in response.content.decode()
    assert not Message.objects.filter(body="Here you go").exists()


@pytest.mark.django_db(transaction=True)
def test_mail_keeps_the_message_and_notes_each_file_past_the_quota(settings: Any) -> None:
    settings.TESSERA_DAILY_UPLOAD_FILES = 1
    carla = factories.customer("carla")
    services.add_attachments(
        actor=carla, ticket=factories.ticket(carla), files=[ContentFile(factories.PNG, name="old.png")]
    )
    settings.TESSERA_DAILY_UPLOAD_FILES = 2  # one more file today: the inline image, not the PDF
    row, _created = store_raw(corpus.with_attachments(sender=carla.email), source="test")
    run_pending_tasks()
    row.refresh_from_db()
    assert row.status == InboundMessage.Status.PROCESSED, row.error
    assert row.ticket is not None
    stored = list(Attachment.objects.filter(ticket=row.ticket).values_list("filename", flat=True))
    assert len(stored) == 1 and stored[0].endswith(".png")
    notes = " ".join(row.notes)
    assert "“fattura-è-ł.pdf” was not stored: the daily upload limit is" in notes
    # The agents see it on the ticket, not only on the inbound record.
    dropped = TimelineEvent.objects.get(ticket=row.ticket, kind=TimelineEvent.Kind.MAIL_CONTENT_DROPPED)
    assert "fattura-è-ł.pdf" in dropped.reason and not dropped.is_public
