from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from tessera.core import clock

register = template.Library()


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key) if mapping else None


@register.filter
def listed(value: Any) -> list[Any]:
    return [value]


@register.filter
def ago(moment: datetime | None) -> str:
    """Say "just now" or "5 minutes ago": a bare "0 minutes" under "Updated" reads like a fault."""
    if moment is None:
        return ""
    if clock.now() - moment < timedelta(minutes=1):
        return _("just now")
    return _("%(time)s ago") % {"time": timesince(moment, clock.now(), depth=1)}


def duration(minutes: float) -> str:
    minutes = abs(int(minutes))
    if minutes >= 60 * 24:
        return _("%(d)dd %(h)dh") % {"d": minutes // (60 * 24), "h": minutes % (60 * 24) // 60}
    if minutes >= 60:
        return _("%(h)dh %(m)dm") % {"h": minutes // 60, "m": minutes % 60}
    return _("%(m)dm") % {"m": minutes}


@register.simple_tag
def sla_badge(states: list[Any] | None) -> SafeString:
    """The most urgent running SLA target of a ticket, in business time: left, overdue, or paused."""
    running = [s for s in states or [] if s.minutes_left is not None]
    if running:
        state = min(running, key=lambda s: s.minutes_left)
        if state.minutes_left < 0:
            return format_html(
                '<span class="ws-sla ws-sla-late" title="{}">{}</span>',
                state.label,
                _("%(time)s overdue") % {"time": duration(state.minutes_left)},
            )
        css = "ws-sla-soon" if state.minutes_left <= 60 else "ws-sla-ok"
        return format_html(
            '<span class="ws-sla {}" title="{}">{}</span>',
            css,
            state.label,
            _("%(time)s left") % {"time": duration(state.minutes_left)},
        )
    if any(s.paused for s in states or []):
        return format_html('<span class="ws-sla ws-sla-paused">{}</span>', pgettext("SLA", "Paused"))
    if len(states or []) == 1:
        return SafeString("")  # a single finished target: the caller shows how it ended
    return format_html('<span class="muted">{}</span>', "—")
