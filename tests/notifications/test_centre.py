"""The notification centre pages and API: list, unread count, mark read, and nobody else's."""

from __future__ import annotations

import pytest
from django.test import Client

from tessera.notifications import services
from tessera.notifications.models import Notification, NotificationKind
from tests import factories

pytestmark = pytest.mark.django_db


def _note(user, key: str, **extra) -> Notification:
    notification = services.notify(
        user, kind=NotificationKind.ANNOUNCEMENT, title=f"Title {key}", dedupe_key=key, email=False, **extra
    )
    assert notification is not None
    return notification


def _client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _csrf(client: Client) -> str:
    client.get("/notifications/")
    return client.cookies["csrftoken"].value


def test_list_shows_own_notifications_escaped_with_unread_count() -> None:
    user, other = factories.customer(), factories.customer()
    services.notify(
        user, kind=NotificationKind.INCIDENT, title="<script>alert(1)</script>", dedupe_key="x", email=False
    )
    _note(user, "b")
    _note(other, "secret")
    response = _client(user).get("/notifications/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "Title b" in html and "Title secret" not in html
    assert "2 unread" in html


def test_anonymous_visitors_are_sent_to_sign_in() -> None:
    response = Client().get("/notifications/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Client().get("/notifications/bell").status_code == 204


def test_bell_shows_the_unread_count_and_polls() -> None:
    user = factories.customer()
    for key in "abc":
        _note(user, key)
    html = _client(user).get("/notifications/bell").content.decode()
    assert 'data-count="3"' in html
    assert 'hx-trigger="every 20s' in html


def test_mark_one_read_needs_csrf_and_post() -> None:
    user = factories.customer()
    notification = _note(user, "a")
    client = _client(user)
    assert client.post(f"/notifications/{notification.pk}/read").status_code == 403  # no CSRF token
    assert client.get(f"/notifications/{notification.pk}/read").status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None
    token = _csrf(client)
    response = client.post(f"/notifications/{notification.pk}/read", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert services.unread_count(user) == 0


def test_htmx_mark_read_returns_the_item_and_triggers_the_bell() -> None:
    user = factories.customer()
    notification = _note(user, "a")
    client = _client(user)
    token = _csrf(client)
    response = client.post(
        f"/notifications/{notification.pk}/read", headers={"HX-Request": "true", "X-CSRFToken": token}
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "notifications-changed"
    assert "is-unread" not in response.content.decode()


def test_a_user_cannot_mark_someone_elses_notification() -> None:
    owner, intruder = factories.customer(), factories.customer()
    notification = _note(owner, "a")
    client = _client(intruder)
    token = _csrf(client)
    for action in ("read", "open"):
        response = client.post(f"/notifications/{notification.pk}/{action}", {"csrfmiddlewaretoken": token})
        assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_read_touches_only_the_actors_notifications() -> None:
    user, other = factories.customer(), factories.customer()
    for key in "abc":
        _note(user, key)
    _note(other, "z")
    client = _client(user)
    token = _csrf(client)
    client.post("/notifications/read-all", {"csrfmiddlewaretoken": token})
    assert services.unread_count(user) == 0
    assert services.unread_count(other) == 1


def test_open_marks_read_and_follows_only_local_links() -> None:
    user = factories.customer()
    local = _note(user, "a", url="/status/incidents/4")
    foreign = _note(user, "b", url="https://evil.example.com/phish")
    client = _client(user)
    token = _csrf(client)
    response = client.post(f"/notifications/{local.pk}/open", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/status/incidents/4"
    response = client.post(f"/notifications/{foreign.pk}/open", {"csrfmiddlewaretoken": token})
    assert response["Location"] == "/notifications/"
    assert services.unread_count(user) == 0


def test_a_bad_cursor_goes_back_to_the_first_page() -> None:
    user = factories.customer()
    response = _client(user).get("/notifications/?cursor=%%%")
    assert response.status_code == 302


# API ----------------------------------------------------------------------------------------------------


def test_api_lists_counts_and_marks_read(api_as) -> None:
    user, other = factories.customer(), factories.customer()
    first, second = _note(user, "a"), _note(user, "b")
    _note(other, "z")
    api = api_as(user)
    body = api.get("/notifications").json()
    assert [item["id"] for item in body["items"]] == [second.pk, first.pk]
    assert body["unread"] == 2
    assert api.get("/notifications/unread-count").json() == {"unread": 2}
    response = api.post(f"/notifications/{first.pk}/read")
    assert response.status_code == 200 and response.json()["read_at"] is not None
    assert api.get("/notifications", unread="true").json()["items"][0]["id"] == second.pk
    assert api.post("/notifications/read-all").json() == {"marked": 1, "unread": 0}


def test_api_paginates_with_a_cursor(api_as) -> None:
    user = factories.customer()
    for key in range(5):
        _note(user, str(key))
    api = api_as(user)
    page = api.get("/notifications", limit=2).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = api.get("/notifications", limit=10, cursor=page["next_cursor"]).json()
    assert len(rest["items"]) == 3 and rest["next_cursor"] is None
    assert api.get("/notifications", cursor="garbage!").status_code == 422


def test_api_refuses_someone_elses_notification_and_anonymous(api_as) -> None:
    owner, intruder = factories.customer(), factories.customer()
    notification = _note(owner, "a")
    response = api_as(intruder).post(f"/notifications/{notification.pk}/read")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert api_as(None).get("/notifications").status_code == 401
    notification.refresh_from_db()
    assert notification.read_at is None


def test_a_notification_about_a_ticket_no_longer_visible_is_not_shown(api_as) -> None:
    from tessera.tickets import services as tickets

    requester, copied, agent = factories.customer(), factories.customer(), factories.agent("technical")
    ticket = factories.ticket(requester, cc=[copied])
    about = _note(copied, "reply", ticket=ticket)
    _note(copied, "other")
    before = set(services.visible_notifications(copied).values_list("title", flat=True))
    assert {"Title reply", "Title other"} < before  # and the ticket's own "opened" notification
    tickets.set_cc(actor=agent, ticket=ticket, contacts=[])  # no longer copied: the ticket is invisible

    assert services.unread_count(copied) == 1
    html = _client(copied).get("/notifications/").content.decode()
    assert "Title other" in html and "Title reply" not in html and "1 unread" in html
    api = api_as(copied)
    assert [n["title"] for n in api.get("/notifications").json()["items"]] == ["Title other"]
    assert api.post(f"/notifications/{about.pk}/read").status_code == 404
    assert services.mark_all_read(actor=copied) == 1
    assert Notification.objects.get(pk=about.pk).read_at is None


def test_a_deactivated_account_sees_no_notifications(api_as) -> None:
    user = factories.customer()
    _note(user, "a")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert services.unread_count(user) == 0
    assert not services.visible_notifications(user).exists()
