"""A calendar per priority within a policy, and the calendar each ticket's clocks count on."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_ticket_calendars(apps: Any, schema_editor: Any) -> None:
    # Until now every ticket counted on its policy's calendar.
    TicketSla = apps.get_model("sla", "TicketSla")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    TicketSla.objects.filter(policy__isnull=False).update(
        calendar_id=Subquery(SlaPolicy.objects.filter(pk=OuterRef("policy_id")).values("calendar_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0003_fewer_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="slatarget",
            name="calendar",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="Empty: the policy's calendar.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="sla.businesscalendar",
                verbose_name="calendar",
            ),
        ),
        migrations.AddField(
            model_name="ticketsla",
            name="calendar",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="sla.businesscalendar",
            ),
        ),
        migrations.AddField(
            model_name="ticketsla",
            name="acknowledge_minutes",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.RunPython(fill_ticket_calendars, migrations.RunPython.noop),
    ]
