"""The email channel's setup pages in a real browser: an admin finds verified contacts from the admin home,
checks a CSV file (preview, nothing written), imports it, registers one contact, and trusts a receiving
server; a file with a bad row shows the row and offers no import (in Italian)."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.accounts.models import User
from tessera.mail.models import TrustedMailServer
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)

CSV = (
    "email,full_name,language,organisation\n"
    "anna@example.com,Anna Rossi,it,Rossi SRL\n"
    "piotr@example.com,Piotr Nowak,pl,\n"
)


def _admin(language: str = "en") -> User:
    user = f.admin()
    user.language = language
    user.save(update_fields=["language"])
    return user


def test_an_admin_previews_and_imports_contacts_then_registers_one_and_trusts_a_server(
    page_for: Any, shoot: Any
) -> None:
    page = page_for(user=_admin())
    page.set_default_timeout(60_000)  # the machine running the suite may be busy
    page.goto("/admin/")
    page.get_by_role("link", name="Verified contacts").first.click()
    page.get_by_role("link", name="Import CSV").click()
    page.set_input_files(
        'input[type="file"]', files=[{"name": "c.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    page.get_by_role("button", name="Check the file").click()
    preview = page.locator("#contact-preview")
    assert "2 rows checked" in preview.inner_text()
    assert "new organisation “Rossi SRL”" in preview.inner_text()
    assert not User.objects.filter(email="anna@example.com").exists()
    shoot(page, "mail-contact-import-preview")
    page.get_by_role("button", name="Import").click()
    assert (
        "Verified contacts imported: 2 new contacts, 0 contacts updated."
        in page.locator(".messagelist").inner_text()
    )
    assert "piotr@example.com" in page.locator("#result_list").inner_text()
    assert (
        User.objects.filter(email__in=["anna@example.com", "piotr@example.com"], is_verified=True).count()
        == 2
    )

    page.get_by_role("link", name="Register a verified contact").click()
    page.get_by_label("Email address").fill("carla@example.com")
    page.get_by_label("Name").fill("Carla Bianchi")
    page.get_by_role("button", name="Register").click()
    assert (
        "carla@example.com is registered as a verified contact."
        in page.locator(".messagelist").inner_text().lower()
    )
    assert User.objects.get(email="carla@example.com").is_verified

    page.goto("/admin/mail/trustedmailserver/add/")
    page.get_by_label("authserv-id").fill("MX.Example.com")
    page.get_by_role("button", name="Save", exact=True).click()
    assert TrustedMailServer.objects.get().authserv_id == "mx.example.com"


def test_a_file_with_a_bad_row_shows_it_and_offers_no_import_in_italian(page_for: Any, shoot: Any) -> None:
    page = page_for(user=_admin("it"), locale="it-IT")
    page.set_default_timeout(60_000)
    page.goto("/admin/mail/verifiedcontact/import/")
    assert page.locator("h1").inner_text() == "Importa contatti verificati"
    bad = "email,language\nok@example.com,it\nnon-un-indirizzo,it\nok2@example.com,de\n"
    page.set_input_files(
        'input[type="file"]', files=[{"name": "c.csv", "mimeType": "text/csv", "buffer": bad.encode()}]
    )
    page.get_by_role("button", name="Controlla il file").click()
    preview = page.locator("#contact-preview")
    text = preview.inner_text()
    assert "Righe con errori" in text
    assert "Scrivi en, it, pl o fr." in text
    assert page.locator('input[name="import"]').count() == 0
    shoot(page, "mail-contact-import-errors-it")
    assert not User.objects.filter(email__startswith="ok").exists()
