from __future__ import annotations

from datetime import timedelta

from tessera.core import clock
from tessera.workspace.templatetags.workspace_tags import ago


def test_ago_never_says_zero_minutes() -> None:
    now = clock.now()
    assert ago(now - timedelta(seconds=10)) == "just now"
    # timesince keeps the number with its unit (a no-break space)
    assert ago(now - timedelta(minutes=5, seconds=3)) == "5\xa0minutes ago"
    assert ago(now - timedelta(days=3, hours=4)) == "3\xa0days ago"
    assert ago(None) == ""
