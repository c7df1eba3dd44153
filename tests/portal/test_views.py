"""Client-area views through Django's test client: permissions, bad input, CSRF, preferences, MFA."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tessera.accounts.models import User
from tessera.portal.models import PendingUpload
from tessera.tickets import services
from tessera.tickets.models import Attachment, Message, Status, Ticket, TimelineEvent
from tests import factories

pytestmark = pytest.mark.django_db


def signed_in(user: User, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def ticket_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "department": factories.department("billing").pk,
        "subject": "Wrong VAT number",
        "description": "The invoice shows an old VAT number.",
        "priority": factories.priority("medium").pk,
        "upload_token": "",
    }
    data.update(overrides)
    return data


def test_anonymous_visitor_is_sent_to_sign_in() -> None:
    response = Client().get("/tickets/new")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_home_lists_own_open_tickets_not_other_customers() -> None:
    carla = factories.customer("carla")
    mine = factories.ticket(carla, subject="Mine")
    factories.ticket(factories.customer("other"), subject="Someone else's")
    response = signed_in(carla).get("/")
    assert response.status_code == 200
    assert mine.subject in response.text
    assert "Someone else" not in response.text


def test_closed_tickets_are_behind_the_filter() -> None:
    carla = factories.customer("carla")
    done = factories.ticket(carla, subject="Finished business")
    services.transition_ticket(actor=carla, ticket=done, status=Status.CLOSED)
    client = signed_in(carla)
    assert "Finished business" not in client.get("/").text
    assert "Finished business" in client.get("/?state=closed").text


def test_organisation_manager_sees_colleagues_tickets() -> None:
    acme = factories.organisation("ACME")
    manager = factories.customer("manager", org=acme, manager=True)
    colleague = factories.customer("colleague", org=acme)
    factories.ticket(colleague, subject="Colleague's printer")
    client = signed_in(manager)
    assert "Colleague&#x27;s printer" not in client.get("/").text
    assert "Colleague&#x27;s printer" in client.get("/?scope=organisation").text
    # A plain colleague cannot widen the scope.
    assert "Colleague" not in signed_in(factories.customer("peer", org=acme)).get("/?scope=organisation").text


def test_home_cursor_pages_through_tickets() -> None:
    carla = factories.customer("carla")
    for n in range(27):
        factories.ticket(carla, subject=f"Ticket number {n:02d}")
    client = signed_in(carla)
    first = client.get("/")
    assert first.text.count('class="row-link"') == 25
    cursor = first.context["page"].next_cursor
    second = client.get("/", {"after": cursor})
    assert second.text.count('class="row-link"') == 2
    assert client.get("/", {"after": "not-a-cursor"}).status_code == 302


def test_new_ticket_is_created_with_attachments_in_one_go() -> None:
    carla = factories.customer("carla")
    upload = SimpleUploadedFile("shot.png", factories.PNG, "image/png")
    response = signed_in(carla).post("/tickets/new", {**ticket_form(), "attachments": [upload]})
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.reference}"
    assert ticket.requester == carla
    assert list(ticket.attachments.values_list("filename", flat=True)) == ["shot.png"]


def test_missing_required_details_are_all_reported_and_nothing_is_saved() -> None:
    carla = factories.customer("carla")
    response = signed_in(carla).post(
        "/tickets/new",
        ticket_form(
            department=factories.department("technical").pk, priority=factories.priority("critical").pk
        ),
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert {"affected_service", "server_ip", "problem_started_at"} <= set(errors)
    assert 'aria-invalid="true"' in response.text
    assert Ticket.objects.count() == 0
    assert TimelineEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("department", "999999"),
        ("priority", "not-a-number"),
        ("server_ip", "300.1.1.1"),
        ("frequency", "sometimes-maybe"),
        ("problem_started_at", "yesterday-ish"),
        ("subject", "x" * 300),
    ],
)
def test_bad_input_gets_an_error_next_to_the_field_and_saves_nothing(field: str, value: str) -> None:
    carla = factories.customer("carla")
    response = signed_in(carla).post("/tickets/new", ticket_form(**{field: value}))
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert f'id="id_{field}-error"' in response.text
    assert Ticket.objects.count() == 0


def test_a_refused_file_is_reported_and_the_good_one_is_kept_for_the_retry() -> None:
    carla = factories.customer("carla")
    client = signed_in(carla)
    good = SimpleUploadedFile("log.txt", b"line 1\n", "text/plain")
    # A program is refused (an HTML page is kept, as a download only).
    evil = SimpleUploadedFile("setup.exe", b"MZ\x90\x00" + bytes(120), "application/octet-stream")
    response = client.post("/tickets/new", {**ticket_form(subject=""), "attachments": [good, evil]})
    assert response.status_code == 422
    assert "attachments" in response.context["form"].errors
    token = response.context["form"].data["upload_token"]
    assert [u.filename for u in PendingUpload.objects.filter(owner=carla, token=token)] == ["log.txt"]
    # The retry sends only the token; the kept file goes onto the ticket and the pending row is gone.
    response = client.post("/tickets/new", ticket_form(upload_token=token))
    assert response.status_code == 302
    assert list(Attachment.objects.values_list("filename", flat=True)) == ["log.txt"]
    assert not PendingUpload.objects.exists()


def test_pending_uploads_belong_to_their_owner() -> None:
    carla = factories.customer("carla")
    thief = factories.customer("thief")
    response = signed_in(carla).post(
        "/tickets/new",
        {**ticket_form(subject=""), "attachments": [SimpleUploadedFile("secret.txt", b"secret\n")]},
    )
    token = response.context["form"].data["upload_token"]
    signed_in(thief).post("/tickets/new", ticket_form(upload_token=token))
    stolen = Ticket.objects.get(requester=thief)
    assert not stolen.attachments.exists()
    assert PendingUpload.objects.filter(owner=carla).count() == 1


def test_filing_for_a_colleague_and_not_for_a_stranger() -> None:
    acme = factories.organisation("ACME")
    carla = factories.customer("carla", org=acme)
    colleague = factories.customer("colleague", org=acme)
    stranger = factories.customer("stranger")
    client = signed_in(carla)
    assert client.post("/tickets/new", ticket_form(requester=colleague.pk)).status_code == 302
    assert Ticket.objects.get().requester == colleague
    response = client.post("/tickets/new", ticket_form(requester=stranger.pk))
    assert response.status_code == 422
    assert "requester" in response.context["form"].errors
    assert Ticket.objects.count() == 1


def test_required_details_refresh_for_department_and_priority() -> None:
    carla = factories.customer("carla")
    client = signed_in(carla)
    critical = {
        "department": factories.department("technical").pk,
        "priority": factories.priority("critical").pk,
    }
    response = client.post("/tickets/new/fields", critical, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="id_affected_service" aria-required="true"' in response.text or (
        'aria-required="true" id="id_affected_service"' in response.text
    )
    assert "field-error" not in response.text  # a half-filled form is not scolded
    low = {**critical, "priority": factories.priority("low").pk}
    assert 'aria-required="true" id="id_affected_service"' not in client.post("/tickets/new/fields", low).text


def test_ticket_page_shows_public_replies_only() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla)
    services.add_reply(actor=agent, ticket=ticket, body="Public answer")
    services.add_note(
        actor=agent,
        ticket=ticket,
        body="Internal remark",
        files=[SimpleUploadedFile("internal.txt", b"private\n")],
    )
    response = signed_in(carla).get(f"/tickets/{ticket.reference}")
    assert response.status_code == 200
    assert "Public answer" in response.text
    assert "Internal remark" not in response.text
    assert "internal.txt" not in response.text
    note_file = Attachment.objects.get(filename="internal.txt")
    assert signed_in(carla).get(f"/files/{note_file.pk}").status_code == 404


def test_portal_and_api_show_the_same_history_and_a_reply_made_internal_leaves_both(api_as: Any) -> None:
    carla = factories.customer("carla")
    agent, admin = factories.agent("technical"), factories.admin()
    ticket = factories.ticket(carla)
    other = factories.ticket(carla)
    reply = services.add_reply(
        actor=agent, ticket=ticket, body="Try this", files=[SimpleUploadedFile("fix.txt", b"fix\n")]
    )
    services.change_department(actor=admin, ticket=ticket, department=factories.department("billing"))
    services.merge_tickets(actor=admin, source=other, target=ticket)
    api = api_as(carla)

    def shown() -> tuple[dict[str, Any], str]:
        return api.get(f"/tickets/{ticket.pk}").json(), signed_in(carla).get(
            f"/tickets/{ticket.reference}"
        ).text

    data, html = shown()
    kinds = {e["kind"] for e in data["timeline"]}
    assert {"created", "replied", "attachment_added", "department_changed", "merged_from"} <= kinds
    assert "assigned" not in kinds and "cc_changed" not in kinds
    assert f"Ticket {other.reference} was merged into this one" in html and "Try this" in html
    for event in data["timeline"]:
        if event["kind"] in ("department_changed", "merged_from"):
            assert f'id="event-{event["id"]}"' in html
    file_id = data["attachments"][0]["id"]
    assert f"/files/{file_id}" in html
    assert signed_in(carla).get(f"/files/{file_id}").status_code == 200

    reply.kind = Message.Kind.NOTE  # made internal afterwards (as an admin can)
    reply.save(update_fields=["kind"])
    data, html = shown()
    assert data["messages"] == [] and data["attachments"] == []
    assert {e["kind"] for e in data["timeline"]} & {"replied", "attachment_added"} == set()
    assert "Try this" not in html and "fix.txt" not in html
    assert signed_in(carla).get(f"/files/{file_id}").status_code == 404
    assert api.get(f"/attachments/{file_id}").status_code == 404
    assert api_as(admin).get(f"/attachments/{file_id}").status_code == 200  # staff still have it


def test_outsider_gets_404_for_ticket_and_its_actions() -> None:
    ticket = factories.ticket(factories.customer("owner"))
    outsider = signed_in(factories.customer("outsider"))
    assert outsider.get(f"/tickets/{ticket.reference}").status_code == 404
    assert outsider.get(f"/tickets/{ticket.pk}").status_code == 404
    assert outsider.get("/tickets/TS-99999999").status_code == 404
    assert outsider.get("/tickets/nonsense").status_code == 404
    assert outsider.post(f"/tickets/{ticket.reference}/reply", {"body": "hi"}).status_code == 404
    assert outsider.post(f"/tickets/{ticket.reference}/status", {"status": "closed"}).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert not Message.objects.exists()


def test_customer_replies_closes_and_reopens() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla)
    client = signed_in(carla)
    upload = SimpleUploadedFile("more.txt", b"details\n")
    response = client.post(
        f"/tickets/{ticket.reference}/reply", {"body": "More details", "attachments": [upload]}
    )
    assert response.status_code == 302
    message = Message.objects.get(body="More details")
    assert message.author == carla and list(message.attachments.values_list("filename", flat=True)) == [
        "more.txt"
    ]

    response = client.post(f"/tickets/{ticket.reference}/reply", {"body": "   "})
    assert response.status_code == 422
    assert Message.objects.count() == 1

    ticket.refresh_from_db()
    services.transition_ticket(actor=agent, ticket=ticket, status=Status.RESOLVED)
    page = client.get(f"/tickets/{ticket.reference}")
    assert "Reopen this ticket" in page.text
    assert client.post(f"/tickets/{ticket.reference}/status", {"status": "open"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    client.post(f"/tickets/{ticket.reference}/status", {"status": "closed"})
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    closed = client.get(f"/tickets/{ticket.reference}")
    assert "Send reply" not in closed.text
    # A customer cannot pick agent-only statuses.
    assert client.post(f"/tickets/{ticket.reference}/status", {"status": "waiting"}).status_code == 404


def test_waiting_ticket_shows_what_the_agent_asked_for() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla)
    services.add_reply(actor=agent, ticket=ticket, body="Could you send the traceroute output?")
    ticket.refresh_from_db()
    services.transition_ticket(
        actor=agent, ticket=ticket, status=Status.WAITING, reason="We need the traceroute to 203.0.113.10."
    )
    client = signed_in(carla)
    response = client.get(f"/tickets/{ticket.reference}")
    assert 'id="waiting-prompt"' in response.text
    assert "We need the traceroute to 203.0.113.10." in response.text
    assert "Could you send the traceroute output?" in response.text
    assert "waiting for your answer" in client.get("/").text
    client.post(f"/tickets/{ticket.reference}/reply", {"body": "Here it is."})
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_priority_change_and_its_reason_are_shown_to_the_customer() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla)
    services.change_priority(
        actor=agent, ticket=ticket, priority=factories.priority("high"), reason="Several users are affected."
    )
    response = signed_in(carla).get(f"/tickets/{ticket.reference}")
    assert "Priority changed to High" in response.text
    assert "Several users are affected." in response.text


def test_forms_refuse_posts_without_the_csrf_token() -> None:
    carla = factories.customer("carla")
    strict = signed_in(carla, enforce_csrf_checks=True)
    assert strict.post("/tickets/new", ticket_form()).status_code == 403
    ticket = factories.ticket(carla)
    assert strict.post(f"/tickets/{ticket.reference}/reply", {"body": "x"}).status_code == 403
    assert Ticket.objects.count() == 1
    assert not Message.objects.exists()


def test_language_switcher_saves_the_choice_for_a_signed_in_person() -> None:
    carla = factories.customer("carla")
    client = signed_in(carla)
    response = client.post("/language", {"language": "pl", "next": "/"})
    assert response.status_code == 302
    carla.refresh_from_db()
    assert carla.language == "pl"
    assert client.get("/").text.count('lang="pl"') >= 1
    client.post("/language", {"language": "xx", "next": "/"})
    carla.refresh_from_db()
    assert carla.language == "pl"


def test_saved_language_wins_over_the_browser() -> None:
    carla = factories.customer("carla", language="fr")
    response = signed_in(carla).get("/", headers={"Accept-Language": "it"})
    assert '<html lang="fr">' in response.text


def test_preferences_save_time_zone_and_refuse_unknown_zones() -> None:
    carla = factories.customer("carla")
    client = signed_in(carla)
    ok = client.post(
        "/account/profile", {"full_name": "Carla B", "language": "it", "time_zone": "Europe/Warsaw"}
    )
    assert ok.status_code == 302 and ok["Location"] == "/account/"
    carla.refresh_from_db()
    assert (carla.full_name, carla.language, carla.time_zone) == ("Carla B", "it", "Europe/Warsaw")
    bad = client.post("/account/profile", {"full_name": "", "language": "it", "time_zone": "Mars/Olympus"})
    assert bad.status_code == 422
    carla.refresh_from_db()
    assert (carla.full_name, carla.time_zone) == ("Carla B", "Europe/Warsaw")  # nothing half-saved
    assert "Europe/Warsaw" in client.get("/").text  # times are labelled with the zone


def test_the_old_profile_page_moved_permanently_to_the_account_settings() -> None:
    client = signed_in(factories.customer("carla"))
    response = client.get("/profile")
    assert response.status_code == 301 and response["Location"] == "/account/"
    home = client.get("/").text
    assert 'href="/account/#profile"' in home  # "Times are shown in …. Change"
    assert 'href="/account/" title="Your account"' in home  # the top bar
    assert "/profile" not in home


def test_agents_must_set_up_totp_when_required(settings: Any) -> None:
    agent = factories.agent("technical")
    client = signed_in(agent)
    settings.TESSERA_AGENT_MFA_REQUIRED = False
    assert client.get("/").status_code == 200
    settings.TESSERA_AGENT_MFA_REQUIRED = True
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    assert client.get("/accounts/2fa/").status_code == 200  # the setup pages stay reachable
    # Customers are not affected.
    assert signed_in(factories.customer("carla")).get("/").status_code == 200


def test_agent_with_totp_passes(settings: Any) -> None:
    from allauth.mfa.models import Authenticator

    settings.TESSERA_AGENT_MFA_REQUIRED = True
    agent = factories.agent("technical")
    Authenticator.objects.create(user=agent, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert signed_in(agent).get("/").status_code == 200
