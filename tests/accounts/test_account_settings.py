"""Account settings: language and time zone, confirmed notification addresses, email choices, API tokens."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from tessera.accounts.models import ApiToken, User
from tessera.mail.models import OutboundEmail
from tessera.notifications import address_services, services
from tessera.notifications.addresses import address_for
from tessera.notifications.models import EmailPreferences, MessageKind, NotificationAddress
from tests import factories

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _link_in_last_email() -> str:
    text = OutboundEmail.objects.latest("id").text
    start = text.index("/account/addresses/confirm/")
    return text[start:].split()[0]


def _expired_token(user: User, kind: str, email: str) -> str:
    class FourDaysAgo(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - 4 * 24 * 3600)

    return FourDaysAgo(salt=address_services.CONFIRM_SALT).sign_object({"u": user.pk, "k": kind, "e": email})


# Language and time zone ------------------------------------------------------------------------------------


def test_settings_page_renders_every_section() -> None:
    org = factories.organisation("Hosting Kraków")
    html = _client(factories.customer("carla", org=org, manager=True)).get("/account/").content.decode()
    for section in ("profile", "addresses", "email-notifications", "security", "api-tokens"):
        assert f'id="{section}"' in html
    assert "/accounts/email/" in html and "/accounts/2fa/" in html
    assert 'value="Carla"' in html  # the name, once on the client area's profile page
    assert "Hosting Kraków (manager)" in html
    assert '<a href="/account/" aria-current="page">Account settings</a>' in html  # the account tabs


def test_settings_need_sign_in() -> None:
    assert Client().get("/account/").status_code == 302


def test_profile_saves_language_and_time_zone() -> None:
    user = factories.customer()
    response = _client(user).post("/account/profile", {"language": "it", "time_zone": "Europe/Rome"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.language, user.time_zone) == ("it", "Europe/Rome")
    assert user.full_name == "Customer"  # not sent, so not changed
    assert response.cookies["django_language"].value == "it"


def test_profile_saves_the_name_too() -> None:
    user = factories.customer()
    response = _client(user).post(
        "/account/profile", {"full_name": "  Marta Nowak ", "language": "pl", "time_zone": "Europe/Warsaw"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.full_name, user.language, user.time_zone) == ("Marta Nowak", "pl", "Europe/Warsaw")


@pytest.mark.parametrize(
    ("language", "zone", "message"),
    [
        ("it", "Mars/Olympus", "is not a known time zone"),
        ("de", "UTC", "Choose English, Italian, Polish or French"),
    ],
)
def test_bad_profile_input_is_refused_and_changes_nothing(language: str, zone: str, message: str) -> None:
    user = factories.customer()
    response = _client(user).post(
        "/account/profile", {"full_name": "<b>New</b>", "language": language, "time_zone": zone}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    assert 'value="&lt;b&gt;New&lt;/b&gt;"' in html  # what was typed is kept, escaped
    user.refresh_from_db()
    assert (user.full_name, user.language, user.time_zone) == ("Customer", "en", "UTC")


# Notification addresses -----------------------------------------------------------------------------------


def test_an_address_is_used_only_after_its_link_is_opened() -> None:
    user = factories.customer()
    client = _client(user)
    response = client.post("/account/addresses", {"kind": "billing", "email": "Invoices@Example.com"})
    assert response.status_code == 302
    email = OutboundEmail.objects.get()
    assert email.to == "invoices@example.com"
    assert address_for(user, MessageKind.BILLING) == user.email  # not yet
    link = _link_in_last_email()
    assert client.get(link).status_code == 200  # shows what will be confirmed; a GET changes nothing
    assert address_for(user, MessageKind.BILLING) == user.email
    assert client.post(link).status_code == 302
    assert address_for(user, MessageKind.BILLING) == "invoices@example.com"
    assert address_for(user, MessageKind.SUPPORT) == user.email  # other kinds are untouched


def test_an_expired_link_is_refused_clearly() -> None:
    user = factories.customer()
    address_services.request_notification_address(actor=user, kind="abuse", email="abuse@example.com")
    token = _expired_token(user, "abuse", "abuse@example.com")
    response = _client(user).post(f"/account/addresses/confirm/{token}")
    assert response.status_code == 422
    assert "expired" in response.content.decode()
    assert NotificationAddress.objects.get(user=user).confirmed_at is None


def test_a_tampered_link_is_refused() -> None:
    user = factories.customer()
    address_services.request_notification_address(actor=user, kind="abuse", email="abuse@example.com")
    token = address_services.confirmation_token(user, "abuse", "abuse@example.com")
    forged = token.replace("abuse", "bbuse", 1) if "abuse" in token else token[:-2] + "xx"
    response = _client(user).post(f"/account/addresses/confirm/{forged}")
    assert response.status_code == 422
    assert "not valid" in response.content.decode()
    assert NotificationAddress.objects.get(user=user).confirmed_at is None


def test_someone_elses_link_is_refused() -> None:
    owner, intruder = factories.customer(), factories.customer()
    address_services.request_notification_address(actor=owner, kind="support", email="ops@example.com")
    link = _link_in_last_email()
    response = _client(intruder).post(link)
    assert response.status_code == 403
    assert "belongs to another account" in response.content.decode()
    assert NotificationAddress.objects.get(user=owner).confirmed_at is None
    assert not NotificationAddress.objects.filter(user=intruder).exists()


def test_the_link_of_a_replaced_address_does_nothing() -> None:
    user = factories.customer()
    address_services.request_notification_address(actor=user, kind="support", email="first@example.com")
    first_link = _link_in_last_email()
    address_services.request_notification_address(actor=user, kind="support", email="second@example.com")
    response = _client(user).post(first_link)
    assert response.status_code == 422
    assert NotificationAddress.objects.get(user=user).email == "second@example.com"
    assert address_for(user) == user.email


def test_invalid_address_or_kind_is_refused_without_email() -> None:
    user = factories.customer()
    client = _client(user)
    response = client.post("/account/addresses", {"kind": "billing", "email": "not an address"})
    assert response.status_code == 422 and "valid email" in response.content.decode()
    response = client.post("/account/addresses", {"kind": "sales", "email": "a@example.com"})
    assert response.status_code == 422
    assert not NotificationAddress.objects.exists() and not OutboundEmail.objects.exists()


def test_confirmation_emails_are_rate_limited() -> None:
    user = factories.customer()
    for number in range(address_services.SENDS_PER_USER_PER_HOUR):
        address_services.request_notification_address(
            actor=user, kind="support", email=f"a{number}@example.com"
        )
    response = _client(user).post("/account/addresses", {"kind": "support", "email": "last@example.com"})
    assert response.status_code == 429
    assert OutboundEmail.objects.count() == address_services.SENDS_PER_USER_PER_HOUR
    assert NotificationAddress.objects.get(user=user).email != "last@example.com"


def test_one_address_cannot_be_flooded_from_many_accounts() -> None:
    for _ in range(address_services.SENDS_PER_ADDRESS_PER_HOUR):
        address_services.request_notification_address(
            actor=factories.customer(), kind="support", email="victim@example.com"
        )
    with pytest.raises(address_services.RateLimited):
        address_services.request_notification_address(
            actor=factories.customer(), kind="support", email="victim@example.com"
        )


def test_choosing_the_account_address_or_removing_goes_back_to_it() -> None:
    user = factories.customer()
    address_services.request_notification_address(actor=user, kind="billing", email="b@example.com")
    _client(user).post("/account/addresses", {"kind": "billing", "email": user.email.upper()})
    assert not NotificationAddress.objects.filter(user=user).exists()
    address_services.request_notification_address(actor=user, kind="abuse", email="c@example.com")
    assert _client(user).post("/account/addresses/abuse/remove").status_code == 302
    assert not NotificationAddress.objects.filter(user=user).exists()
    assert _client(user).post("/account/addresses/abuse/remove").status_code == 404


# Email choices --------------------------------------------------------------------------------------------


def test_unticking_announcements_mutes_them_but_ticket_updates_stay_on() -> None:
    user = factories.customer()
    response = _client(user).post("/account/email-notifications", {})  # nothing ticked
    assert response.status_code == 302
    assert EmailPreferences.objects.get(user=user).muted == ["announcements"]
    assert services.email_allowed(user, "ticket_status")
    assert not services.email_allowed(user, "incident")
    _client(user).post("/account/email-notifications", {"email": ["announcements"]})
    assert services.email_allowed(user, "incident")


def test_agent_categories_are_offered_to_agents_only() -> None:
    customer, agent = factories.customer(), factories.agent()
    assert "id_email_sla" not in _client(customer).get("/account/").content.decode()
    assert "id_email_sla" in _client(agent).get("/account/").content.decode()
    response = _client(customer).post("/account/email-notifications", {"email": ["sla"]})
    assert response.status_code == 422
    assert not EmailPreferences.objects.exists()


# API tokens -----------------------------------------------------------------------------------------------


def test_token_is_shown_once_then_listed_and_revocable() -> None:
    user = factories.customer()
    client = _client(user)
    response = client.post("/account/tokens", {"name": "Monitoring"})
    html = response.content.decode()
    token = ApiToken.objects.get(user=user)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert f"tsr_{token.prefix}_" in html  # the full secret, this once
    listing = client.get("/account/").content.decode()
    assert "Monitoring" in listing and f"tsr_{token.prefix}_" not in listing
    assert client.post(f"/account/tokens/{token.pk}/revoke").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_token_without_a_name_is_refused_and_others_tokens_cannot_be_revoked() -> None:
    owner, intruder = factories.customer(), factories.customer()
    assert _client(owner).post("/account/tokens", {"name": ""}).status_code == 422
    token, _secret = factories.issue_api_token(actor=owner, name="mine")
    assert _client(intruder).post(f"/account/tokens/{token.pk}/revoke").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_an_undeliverable_chosen_address_falls_back_to_the_account_address() -> None:
    from tessera.mail.tracking import clear_undeliverable, mark_undeliverable

    user = factories.customer()
    NotificationAddress.objects.create(
        user=user, kind=MessageKind.BILLING, email="invoices@example.com", confirmed_at=timezone.now()
    )
    assert address_for(user, MessageKind.BILLING) == "invoices@example.com"

    mark_undeliverable("Invoices@Example.com", "mailgun bounced: 550 mailbox unavailable")
    assert address_for(user, MessageKind.BILLING) == user.email
    page = _client(user).get("/account/").content.decode()
    assert "Undeliverable" in page
    assert "could not be delivered" in page

    clear_undeliverable("invoices@example.com")  # they wrote to us from it: it works again
    assert address_for(user, MessageKind.BILLING) == "invoices@example.com"
