"""Form rendering for every page: `{% load tessera_forms %}{% field form.subject %}`.

Each control gets its label above, help text, and its error text right after it, tied together with
`aria-describedby`, and `aria-invalid` when the value was refused — so screen readers announce them.
"""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

register = template.Library()

CHOICE_GROUPS = (forms.RadioSelect, forms.CheckboxSelectMultiple)


@register.simple_tag
def field(
    bound: forms.BoundField, required: bool | None = None, label: str = "", help: str = "", css: str = ""
) -> SafeString:
    """Render one bound field; `required` overrides the marker (fields required only for some choices)."""
    auto_id = bound.auto_id or f"id_{bound.html_name}"
    help_text = help or bound.help_text
    described = []
    if help_text:
        described.append(f"{auto_id}-help")
    if bound.errors:
        described.append(f"{auto_id}-error")
    attrs: dict[str, Any] = {}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if bound.errors:
        attrs["aria-invalid"] = "true"
    is_required = bound.field.required if required is None else required
    widget = bound.field.widget
    if is_required and not isinstance(widget, (forms.CheckboxInput, *CHOICE_GROUPS, forms.FileInput)):
        attrs["aria-required"] = "true"
    return render_to_string(
        "components/field.html",
        {
            "field": bound,
            "id": auto_id,
            "widget": bound.as_widget(attrs=attrs),
            "label": label or bound.label,
            "help_text": help_text,
            "required": is_required,
            "is_checkbox": isinstance(widget, forms.CheckboxInput),
            "is_group": isinstance(widget, CHOICE_GROUPS),
            "css": css,
        },
    )


@register.simple_tag
def fields(form: forms.BaseForm) -> SafeString:
    """Every visible field of a form, then its hidden ones."""
    parts: list[str] = [field(bound) for bound in form.visible_fields()]
    parts += [str(bound) for bound in form.hidden_fields()]
    return SafeString("".join(parts))
