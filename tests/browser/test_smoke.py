from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_home_page_renders_in_the_browser_language(page_for: Any) -> None:
    page = page_for(locale="it-IT")
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "it"
    assert page.get_by_role("link", name="Accedi").is_visible()
