from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "tessera" / "locale"


@pytest.mark.parametrize("language", ["it", "pl", "fr"])
def test_catalogue_has_no_untranslated_or_fuzzy_entries(language: str) -> None:
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    for flag in ("--untranslated", "--only-fuzzy"):
        result = subprocess.run(
            ["msgattrib", flag, "--no-obsolete", str(po)],  # noqa: S607 - gettext tool from PATH
            capture_output=True,
            text=True,
            check=True,
        )
        entries = [
            line for line in result.stdout.splitlines() if line.startswith('msgid "') and line != 'msgid ""'
        ]
        assert entries == [], f"{language} {flag}: {entries[:5]}"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("it", "Ticket non trovato."), ("pl", "Nie znaleziono zgłoszenia."), ("fr", "Ticket introuvable.")],
)
def test_messages_are_served_in_the_users_language(language: str, expected: str) -> None:
    with translation.override(language):
        assert translation.gettext("Ticket not found.") == expected


@pytest.mark.django_db
def test_browser_language_is_picked_on_first_visit() -> None:
    page = Client().get("/", headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"})
    assert 'lang="pl"' in page.content.decode()
